"""Ansible filter tls_effective: the protocols, TLS 1.2 and 1.3 suites and groups after overrides."""

from __future__ import annotations

from typing import Any

from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter

DOCUMENTATION = r"""
name: tls_effective
author: tlsward maintainers
version_added: 0.1.0
short_description: Protocols, suites and groups of a profile after inventory overrides
description:
  - Applies validated inventory overrides to a profile and returns what would be deployed.
extends_documentation_fragment:
  - tlsward.tls.policy.profile_input
  - tlsward.tls.policy.openssl_version
  - tlsward.tls.policy.overrides
"""

EXAMPLES = r"""
- name: Use tls_effective
  ansible.builtin.set_fact:
    effective: "{{ tlsward_policy | tlsward.tls.tls_effective(overrides={'groups': ['X25519']}) }}"
"""

RETURN = r"""
_value:
  description: Mapping of protocols, tls12_ciphers, tls13_ciphersuites and groups (lists).
  type: dict
"""


def tls_effective(
    policy: Any, overrides: dict[str, Any] | None = None, openssl_version: str | None = None
) -> dict[str, list[str]]:
    return call_filter("tls_effective", "tlsward.policy:effective_tls", policy, overrides, openssl_version)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"tls_effective": tls_effective}
