"""Ansible filter validate_cipher_list: the TLS 1.2 suites of a cipher string, judged against the profile."""

from __future__ import annotations

from typing import Any

from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter

DOCUMENTATION = r"""
name: validate_cipher_list
author: tlsward maintainers
version_added: 0.1.0
short_description: Expand a cipher string with OpenSSL and judge every suite against a tlsward policy
description:
  - Expands an OpenSSL cipher string (TLS 1.2 and below) with the controller's C(openssl ciphers)
    and judges every resulting suite - forward secrecy, AEAD, no RC4/3DES/DES/NULL/aNULL/EXPORT/MD5,
    membership in the profile.
  - Names that match no suite and an empty expansion are errors.
  - Every problem is reported in one error, e.g. C(validate_cipher_list - ECDHE-RSA-AES128-SHA - CBC
    mode (not AEAD) is not allowed by policy biometric-strict).
options:
  _input:
    description: Cipher string (C(A:B:!C)) or list of names.
    type: raw
    required: true
extends_documentation_fragment:
  - tlsward.tls.policy
"""

EXAMPLES = r"""
- name: Use validate_cipher_list
  ansible.builtin.set_fact:
    suites: "{{ 'ECDHE+AESGCM' | tlsward.tls.validate_cipher_list(policy='mozilla-intermediate') }}"
"""

RETURN = r"""
_value:
  description: The expanded OpenSSL suite names, in order.
  type: list
  elements: str
"""


def validate_cipher_list(value: Any, policy: Any = None) -> list[str]:
    return call_filter("validate_cipher_list", "tlsward.suites:validate_cipher_list", value, policy)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"validate_cipher_list": validate_cipher_list}
