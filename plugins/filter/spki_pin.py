"""Ansible filter spki_pin: the RFC 7469 pin of the first PEM object."""

from __future__ import annotations

from typing import Any

from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter

DOCUMENTATION = r"""
name: spki_pin
author: tlsward maintainers
version_added: 0.1.0
short_description: RFC 7469 pin-sha256 (base64 SHA-256 of the SubjectPublicKeyInfo)
description:
  - Returns the pin of the first PEM object (certificate, CSR, public or private key).
  - The same key gives the same pin whether read from the key, its CSR or its certificate.
extends_documentation_fragment:
  - tlsward.tls.policy.pem
"""

EXAMPLES = r"""
- name: Use spki_pin
  ansible.builtin.set_fact:
    pin: "{{ lookup('ansible.builtin.file', 'server.csr') | tlsward.tls.spki_pin }}"
"""

RETURN = r"""
_value:
  description: Base64 pin.
  type: str
"""


def spki_pin(pem: Any, passphrase: str | None = None) -> str:
    return call_filter("spki_pin", "tlsward.pins:spki_pin", pem, passphrase)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"spki_pin": spki_pin}
