"""Ansible filter validate_tls13_ciphersuites: the TLS 1.3 suites, each judged against the profile."""

from __future__ import annotations

from typing import Any

from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter

DOCUMENTATION = r"""
name: validate_tls13_ciphersuites
author: tlsward maintainers
version_added: 0.1.0
short_description: Judge a TLS 1.3 cipher suite list against a tlsward policy
description:
  - Checks a TLS 1.3 suite list name by name against the profile's C(tls13_ciphersuites).
  - Every problem is reported in one error.
options:
  _input:
    description: Suite string (C(TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256)) or list of names.
    type: raw
    required: true
extends_documentation_fragment:
  - tlsward.tls.policy
"""

EXAMPLES = r"""
- name: Use validate_tls13_ciphersuites
  ansible.builtin.set_fact:
    suites: "{{ 'TLS_AES_128_GCM_SHA256' | tlsward.tls.validate_tls13_ciphersuites }}"
"""

RETURN = r"""
_value:
  description: The suite names, in order.
  type: list
  elements: str
"""


def validate_tls13_ciphersuites(value: Any, policy: Any = None) -> list[str]:
    return call_filter(
        "validate_tls13_ciphersuites", "tlsward.suites:validate_tls13_ciphersuites", value, policy
    )


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"validate_tls13_ciphersuites": validate_tls13_ciphersuites}
