"""Ansible filter validate_ca_bundle: a CA bundle (device issuing CA and root), judged against the profile."""

from __future__ import annotations

from typing import Any

from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter

DOCUMENTATION = r"""
name: validate_ca_bundle
author: tlsward maintainers
version_added: 0.1.0
short_description: Validate a bundle of CA certificates against a tlsward policy
description:
  - Every certificate must be a CA, valid for I(min_days_left) more days, signed with an allowed
    hash (except a root's self-signature), with a key the profile allows; every non-root must be
    issued by another certificate of the bundle.
options:
  _input:
    description: PEM bundle of CA certificates.
    type: str
    required: true
  usage:
    description: What the CAs issue for - C(client) (device CAs) or C(server).
    type: str
    default: client
extends_documentation_fragment:
  - tlsward.tls.policy
  - tlsward.tls.policy.certificates
"""

EXAMPLES = r"""
- name: Use validate_ca_bundle
  ansible.builtin.set_fact:
    summary: "{{ tls_pki_device_ca_bundle | tlsward.tls.validate_ca_bundle(policy=tlsward_policy) }}"
"""

RETURN = r"""
_value:
  description: >-
    C(certificates), one summary per certificate (subject, issuer, not_after, days_left, key,
    spki_sha256).
  type: dict
"""


def validate_ca_bundle(pem_bundle: Any, **kwargs: Any) -> dict[str, Any]:
    return call_filter("validate_ca_bundle", "tlsward.chain:validate_ca_bundle", pem_bundle, **kwargs)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"validate_ca_bundle": validate_ca_bundle}
