"""Ansible filter validate_cert_chain: a certificate chain, path-validated and judged against the profile."""

from __future__ import annotations

from typing import Any

from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter

DOCUMENTATION = r"""
name: validate_cert_chain
author: tlsward maintainers
version_added: 0.1.0
short_description: Validate a PEM certificate chain (and its private key) against a tlsward policy
description:
  - Builds and verifies the path with cryptography's X.509 verifier (ServerVerifier or
    ClientVerifier), then checks every certificate against the profile (validity and days left,
    SHA-1/MD5 signatures, key type and size, EKU, SAN, wildcards, leaf lifetime) and reports every
    problem in one error.
options:
  _input:
    description: PEM bundle, leaf first, then each issuer.
    type: str
    required: true
  trust:
    description: >-
      PEM trust anchors. Default - self-signed roots at the end of the bundle and the
      controller's CA store.
    type: raw
  hostname:
    description: DNS name or IP address the leaf must cover.
    type: str
  usage:
    description: C(server) (serverAuth) or C(client) (clientAuth).
    type: str
    default: server
  environment:
    description: C(production) forbids wildcard names (per the profile's C(wildcards_forbidden_in)).
    type: str
    default: production
  private_key:
    description: PEM private key that must match the leaf.
    type: str
  private_key_passphrase:
    description: Passphrase of an encrypted I(private_key).
    type: str
extends_documentation_fragment:
  - tlsward.tls.policy
  - tlsward.tls.policy.certificates
"""

EXAMPLES = r"""
- name: Use validate_cert_chain
  ansible.builtin.set_fact:
    summary: >-
      {{ tls_pki_server_fullchain | tlsward.tls.validate_cert_chain(hostname=tlsward_server_names[0],
         private_key=tls_pki_server_privkey, policy=tlsward_policy, environment=tlsward_environment) }}
"""

RETURN = r"""
_value:
  description: >-
    policy, usage, hostname, certificates (per certificate - subject, issuer, serial, not_before,
    not_after, days_left, key, signature_hash, ca, san, spki_sha256), verified_path, leaf_spki_sha256.
  type: dict
"""


def validate_cert_chain(pem_bundle: Any, **kwargs: Any) -> dict[str, Any]:
    return call_filter("validate_cert_chain", "tlsward.chain:validate_cert_chain", pem_bundle, **kwargs)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"validate_cert_chain": validate_cert_chain}
