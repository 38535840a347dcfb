"""Ansible filter tls_default: one of the defaults tlsward's modules, roles and reports share."""

from __future__ import annotations

from typing import Any

from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter

DOCUMENTATION = r"""
name: tls_default
author: tlsward maintainers
version_added: 0.1.0
short_description: A default shared by tlsward's modules, roles and reports
description:
  - Returns the default named by the input, as the controller package defines it once
    (C(tlsward.defaults)), so a role default or a playbook never keeps a copy that could drift.
  - C(policy) - the default profile's name; C(fail_severity) - the severity at or above which a
    failed finding makes a run non-compliant; C(max_unit_exposure) - the highest acceptable
    C(systemd-analyze security) exposure of a service unit; C(severities) - the severity scale,
    lowest first.
options:
  _input:
    description: Name of the default.
    type: str
    choices: [policy, fail_severity, max_unit_exposure, severities]
    required: true
"""

EXAMPLES = r"""
- name: Check a unit against the shared exposure limit
  ansible.builtin.assert:
    that: measured_exposure | float <= 'max_unit_exposure' | tlsward.tls.tls_default

- name: Check a severity name
  ansible.builtin.assert:
    that: my_threshold in 'severities' | tlsward.tls.tls_default
"""

RETURN = r"""
_value:
  description: The default (a string, a number, or for C(severities) a list of strings).
  type: raw
"""


def tls_default(name: Any) -> Any:
    return call_filter("tls_default", "tlsward.defaults:collection_default", name)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"tls_default": tls_default}
