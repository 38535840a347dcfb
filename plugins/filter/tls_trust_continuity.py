"""Ansible filter tls_trust_continuity: the CA sets a run would take away from a host."""

from __future__ import annotations

from typing import Any

from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter

DOCUMENTATION = r"""
name: tls_trust_continuity
author: tlsward maintainers
version_added: 0.1.0
short_description: List the CA sets a run would replace on a host (never raises for a mismatch)
description:
  - Compares the CA certificates a host trusts now (its device CA bundle and the CA certificates
    of its server chain) with the CA files of the controller's PKI store, by SHA-256
    fingerprint.
  - A trust set that shares no certificate with the store would be replaced by the run, and
    every device would lose access; each such set gives one line naming both fingerprints. An
    empty list means nothing the host trusts goes away.
  - A host without a trust set yet (a new host) has nothing to keep.
options:
  _input:
    description: >-
      Mapping of trust set (C(device_ca), C(server_chain)) to the PEM text the host has, or
      none when the host has none.
    type: dict
    required: true
  store_ca_dir:
    description: The store's CA directory (C(<tls_pki_store_dir>/ca)).
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Compare what the host trusts with the store
  ansible.builtin.set_fact:
    problems: >-
      {{ {'device_ca': device_ca_pem, 'server_chain': fullchain_pem}
         | tlsward.tls.tls_trust_continuity(store_ca_dir=tls_pki_store_dir ~ '/ca') }}
"""

RETURN = r"""
_value:
  description: One problem line per trust set the run would replace, empty when there is none.
  type: list
  elements: str
"""


def tls_trust_continuity(deployed: Any, store_ca_dir: str) -> list[str]:
    return call_filter(
        "tls_trust_continuity", "tlsward.continuity:check_continuity", dict(deployed), store_ca_dir
    )


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"tls_trust_continuity": tls_trust_continuity}
