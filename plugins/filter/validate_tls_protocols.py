"""Ansible filter validate_tls_protocols: the protocol versions, each judged against the profile."""

from __future__ import annotations

from typing import Any

from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter

DOCUMENTATION = r"""
name: validate_tls_protocols
author: tlsward maintainers
version_added: 0.1.0
short_description: Judge a TLS protocol version list against a tlsward policy
description:
  - SSLv2, SSLv3, TLSv1 and TLSv1.1 are always rejected; versions outside the profile's
    C(protocols.allowed) are rejected; versions in C(protocols.required) must be present.
  - Every problem is reported in one error.
options:
  _input:
    description: List of versions or a string (C(TLSv1.2 TLSv1.3)).
    type: raw
    required: true
extends_documentation_fragment:
  - tlsward.tls.policy
"""

EXAMPLES = r"""
- name: Use validate_tls_protocols
  ansible.builtin.set_fact:
    protocols: "{{ tlsward_protocols | tlsward.tls.validate_tls_protocols(policy=tlsward_policy) }}"
"""

RETURN = r"""
_value:
  description: The versions, canonically spelled (C(TLSv1.2)), in the order given.
  type: list
  elements: str
"""


def validate_tls_protocols(value: Any, policy: Any = None) -> list[str]:
    return call_filter("validate_tls_protocols", "tlsward.protocols:validate_tls_protocols", value, policy)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"validate_tls_protocols": validate_tls_protocols}
