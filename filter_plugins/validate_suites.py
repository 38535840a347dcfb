"""Cipher filters: expand and judge TLS 1.2 cipher strings and TLS 1.3 suites with the real OpenSSL."""

from __future__ import annotations

from typing import Any

from tlsward.filtering import call_filter

DOCUMENTATION = r"""
name: validate_cipher_list
short_description: Expand a cipher string with OpenSSL and judge every suite against a tlsward policy
description:
  - C(validate_cipher_list) expands an OpenSSL cipher string (TLS 1.2 and below) with the
    controller's C(openssl ciphers) and judges every resulting suite - forward secrecy, AEAD, no
    RC4/3DES/DES/NULL/aNULL/EXPORT/MD5, membership in the profile. Names that match no suite and
    an empty expansion are errors.
  - C(validate_tls13_ciphersuites) checks a TLS 1.3 suite list name by name.
  - Every problem is reported in one error, e.g. C(validate_cipher_list - ECDHE-RSA-AES128-SHA -
    CBC mode (not AEAD) is not allowed by policy biometric-strict).
options:
  _input:
    description: Cipher string (C(A:B:!C)) or list of names.
    type: raw
    required: true
  policy:
    description: Profile name, file path or mapping.
    type: raw
    default: biometric-strict
"""

EXAMPLES = r"""
- name: Validate the effective TLS 1.2 suites
  ansible.builtin.set_fact:
    suites: "{{ 'ECDHE+AESGCM' | validate_cipher_list(policy='mozilla-intermediate') }}"
"""

RETURN = r"""
_value:
  description: The expanded OpenSSL suite names (TLS 1.2) or the suite names (TLS 1.3), in order.
  type: list
  elements: str
"""


def validate_cipher_list(value: Any, policy: Any = None) -> list[str]:
    return call_filter("validate_cipher_list", "tlsward.suites:validate_cipher_list", value, policy)


def validate_tls13_ciphersuites(value: Any, policy: Any = None) -> list[str]:
    return call_filter(
        "validate_tls13_ciphersuites", "tlsward.suites:validate_tls13_ciphersuites", value, policy
    )


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "validate_cipher_list": validate_cipher_list,
            "validate_tls13_ciphersuites": validate_tls13_ciphersuites,
        }
