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
extends_documentation_fragment:
  - tlsward.tls.policy.profile_input
  - tlsward.tls.policy.openssl_version
  - tlsward.tls.policy.overrides
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
