"""Ansible filter spki_pins: the RFC 7469 pins of every PEM object, in order."""

from __future__ import annotations

from typing import Any

from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter

DOCUMENTATION = r"""
name: spki_pins
author: tlsward maintainers
version_added: 0.1.0
short_description: RFC 7469 pin-sha256 of every PEM object of a bundle
description:
  - Returns the pins of every PEM object, in order (e.g. leaf and intermediates).
extends_documentation_fragment:
  - tlsward.tls.policy.pem
"""

EXAMPLES = r"""
- name: Use spki_pins
  ansible.builtin.set_fact:
    pins: "{{ lookup('ansible.builtin.file', 'fullchain.pem') | tlsward.tls.spki_pins }}"
"""

RETURN = r"""
_value:
  description: Base64 pins, one per PEM object.
  type: list
  elements: str
"""


def spki_pins(pem: Any, passphrase: str | None = None) -> list[str]:
    return call_filter("spki_pins", "tlsward.pins:spki_pins", pem, passphrase)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"spki_pins": spki_pins}
