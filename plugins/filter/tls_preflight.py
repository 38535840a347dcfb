"""Ansible filter tls_preflight: every problem in one host's TLS inputs, naming variable and rule."""

from __future__ import annotations

from typing import Any

from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import resolve

DOCUMENTATION = r"""
name: tls_preflight
author: tlsward maintainers
version_added: 0.1.0
short_description: List every problem in one host's TLS inputs (never raises)
description:
  - Judges what the host's variables would make tlsward deploy - the effective protocols, TLS 1.2
    suites (expanded by OpenSSL), TLS 1.3 suites and groups (C(tlsward_policy) plus the
    C(tlsward_protocols), C(tlsward_tls12_ciphers), C(tlsward_tls13_ciphersuites),
    C(tlsward_groups) overrides, through C(tls_effective)), server names, and in provided PKI mode
    C(tls_pki_server_fullchain), C(tls_pki_server_privkey), C(tls_pki_server_trust) and
    C(tls_pki_device_ca_bundle).
  - Returns one line per problem - C(variable <name> - <validator> - <rule>); an empty list means
    the host may be deployed. The preflight playbook prefixes the host and asserts the list is empty.
options:
  _input:
    description:
      - Mapping of the host's variables, e.g. C(vars) (missing ones mean "not set"). Only the
        variables it judges are read from it.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: List the problems of this host's inputs
  ansible.builtin.set_fact:
    problems: "{{ vars | tlsward.tls.tls_preflight }}"

- name: List the problems of a given set of inputs
  ansible.builtin.set_fact:
    problems: >-
      {{ {'tlsward_policy': 'mozilla-modern', 'tlsward_tls12_ciphers': 'HIGH'} | tlsward.tls.tls_preflight }}
"""

RETURN = r"""
_value:
  description: Problem lines, empty when the host's inputs are valid.
  type: list
  elements: str
"""


def tls_preflight(hostvars: Any) -> list[str]:
    # Never raises: the problems are the result. Imported at the call (plugin_utils/filtering.py).
    check_host = resolve("tlsward.preflight:check_host", "tls_preflight")
    problems: list[str] = check_host(hostvars)
    return problems


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"tls_preflight": tls_preflight}
