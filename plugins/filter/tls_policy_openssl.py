"""Ansible filter tls_policy_openssl: the system-wide OpenSSL policy, rendered from a profile."""

from __future__ import annotations

from typing import Any

from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter

DOCUMENTATION = r"""
name: tls_policy_openssl
author: tlsward maintainers
version_added: 0.1.0
short_description: Render a tlsward policy profile as system-wide OpenSSL settings
description:
  - Returns MinProtocol, CipherString, Ciphersuites and Groups for the system OpenSSL configuration.
  - Groups with a C(min_openssl) are kept only when I(openssl_version) is at least that version.
options:
  _input:
    description: Profile name, path to a profile file, or a mapping.
    type: raw
    required: true
  openssl_version:
    description: Output of C(openssl version) on the target.
    type: str
  overrides:
    description: Inventory overrides (protocols, tls12_ciphers, tls13_ciphersuites, groups).
    type: dict
"""

EXAMPLES = r"""
- name: Use tls_policy_openssl
  ansible.builtin.set_fact:
    settings: "{{ tlsward_policy | tlsward.tls.tls_policy_openssl(openssl_version=target_openssl) }}"
"""

RETURN = r"""
_value:
  description: The rendered OpenSSL values.
  type: dict
"""


def tls_policy_openssl(
    policy: Any, openssl_version: str | None = None, overrides: dict[str, Any] | None = None
) -> dict[str, str]:
    return call_filter(
        "tls_policy_openssl", "tlsward.policy:render_openssl", policy, openssl_version, overrides
    )


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"tls_policy_openssl": tls_policy_openssl}
