"""Ansible filter tls_policy: a tlsward policy profile, loaded and checked against the schema."""

from __future__ import annotations

from typing import Any

from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter

DOCUMENTATION = r"""
name: tls_policy
author: tlsward maintainers
version_added: 0.1.0
short_description: Load a tlsward TLS policy profile
description:
  - Returns the whole profile (by name, file path or mapping), after schema validation.
extends_documentation_fragment:
  - tlsward.tls.policy.profile_input
"""

EXAMPLES = r"""
- name: Use tls_policy
  ansible.builtin.set_fact:
    session_tickets: "{{ (tlsward_policy | tlsward.tls.tls_policy).session.tickets }}"
"""

RETURN = r"""
_value:
  description: The profile as a mapping.
  type: dict
"""


def tls_policy(policy: Any) -> dict[str, Any]:
    return call_filter("tls_policy", "tlsward.policy:load_policy", policy)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"tls_policy": tls_policy}
