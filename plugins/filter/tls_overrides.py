"""Ansible filter tls_overrides: the TLS overrides a host's variables set, keyed for tls_effective."""

from __future__ import annotations

from typing import Any

from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter

DOCUMENTATION = r"""
name: tls_overrides
author: tlsward maintainers
version_added: 0.1.0
short_description: The profile overrides a host's inventory variables set
description:
  - Reads the override variables (C(tlsward_<key>) for each key that C(tls_effective) accepts -
    protocols, TLS 1.2 ciphers, TLS 1.3 suites, groups) from a mapping of the host's variables and
    returns the ones that are set, keyed by override key. Unset and empty variables are left out
    (they mean "the profile's").
  - The mapping of variable names to keys lives in the controller package (C(tlsward.overrides)),
    so preflight, the renderers, the scanner and the drift check all read the same variables.
  - Only the override variables are read from the input; other variables in it are not templated.
options:
  _input:
    description: The host's variables, e.g. C(vars) in a role or play, or C(hostvars[inventory_hostname]).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Render the profile with this host's overrides
  ansible.builtin.set_fact:
    nginx_values: >-
      {{ tlsward_policy | default(none)
         | tlsward.tls.tls_policy_nginx(overrides=vars | tlsward.tls.tls_overrides) }}
"""

RETURN = r"""
_value:
  description: Override key (protocols, tls12_ciphers, tls13_ciphersuites, groups) to the variable's value.
  type: dict
"""


def tls_overrides(hostvars: Any) -> dict[str, Any]:
    return call_filter("tls_overrides", "tlsward.overrides:overrides_from_vars", hostvars)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"tls_overrides": tls_overrides}
