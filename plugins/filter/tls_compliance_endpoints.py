"""Ansible filter tls_compliance_endpoints: the endpoints of the inventory, for the tls_scan module."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter

DOCUMENTATION = r"""
name: tls_compliance_endpoints
author: tlsward maintainers
version_added: 0.1.0
short_description: Turn host variables into tls_scan endpoints
description:
  - Every host with C(tlsward_listen_address) becomes one endpoint (name, host, port, server_name,
    policy, environment, overrides) built from the tlsward_* inventory variables.
  - Hosts without a listen address are left out (their host-side checks still run).
options:
  _input:
    description:
      - A list of host variable mappings, e.g. C(groups['frontends'] | map('extract', hostvars) | list).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: The front ends' endpoints
  ansible.builtin.set_fact:
    endpoints: >-
      {{ groups['frontends'] | map('extract', hostvars) | list | tlsward.tls.tls_compliance_endpoints }}
"""

RETURN = r"""
_value:
  description: One mapping per endpoint, the keys tls_scan's endpoints option takes.
  type: list
  elements: dict
"""


def tls_compliance_endpoints(hosts: Any) -> list[dict[str, Any]]:
    if not isinstance(hosts, list | tuple):
        kind = type(hosts).__name__
        raise AnsibleFilterError(
            f"tls_compliance_endpoints: input must be a list of host variable mappings, got {kind}"
        )
    plain = [dict(h) if hasattr(h, "keys") else h for h in hosts]
    return call_filter("tls_compliance_endpoints", "tlsward.scan.inventory:endpoints_from_hosts", plain)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"tls_compliance_endpoints": tls_compliance_endpoints}
