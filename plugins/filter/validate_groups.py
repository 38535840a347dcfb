"""Ansible filter validate_groups: the key-exchange groups, each judged against the profile."""

from __future__ import annotations

from typing import Any

from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter

DOCUMENTATION = r"""
name: validate_groups
author: tlsward maintainers
version_added: 0.1.0
short_description: Judge a key-exchange group list against a tlsward policy
description:
  - Every group must be in the profile's C(groups); profile C(deviations) with a C(reject) rule
    (NIST and BSI reject X25519) give their own reason.
  - Groups with C(min_openssl) (hybrid post-quantum) are optional; with I(openssl_version) they must
    be supported by the target's OpenSSL, and one group must work without them.
options:
  _input:
    description: List of group names or a string (C(X25519:prime256v1)).
    type: raw
    required: true
extends_documentation_fragment:
  - tlsward.tls.policy
  - tlsward.tls.policy.openssl_version
"""

EXAMPLES = r"""
- name: Use validate_groups
  ansible.builtin.set_fact:
    groups: "{{ 'X25519:prime256v1:secp384r1' | tlsward.tls.validate_groups(policy='mozilla-intermediate') }}"
"""

RETURN = r"""
_value:
  description: The groups, spelled as in the profile, in the order given.
  type: list
  elements: str
"""


def validate_groups(value: Any, policy: Any = None, openssl_version: str | None = None) -> list[str]:
    return call_filter("validate_groups", "tlsward.groups:validate_groups", value, policy, openssl_version)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"validate_groups": validate_groups}
