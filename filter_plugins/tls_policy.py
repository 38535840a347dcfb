"""Policy profile filters: the one place templates get TLS parameters from."""

from __future__ import annotations

from typing import Any

from tlsward.filtering import call_filter

DOCUMENTATION = r"""
name: tls_policy
short_description: Load a tlsward TLS policy profile and render it for nginx or OpenSSL
description:
  - C(tls_policy) returns the whole profile (by name, file path or mapping).
  - C(tls_effective) returns protocols, suites and groups after inventory overrides.
  - C(tls_policy_nginx) returns the values the nginx templates write.
  - C(tls_policy_openssl) returns the values of the system-wide OpenSSL policy.
  - Groups with a C(min_openssl) are kept only when I(openssl_version) is at least that version.
options:
  _input:
    description: Profile name (e.g. C(biometric-strict)), path to a profile file, or a mapping.
    type: raw
    required: true
  openssl_version:
    description: Output of C(openssl version) on the target.
    type: str
  overrides:
    description: Inventory overrides (protocols, tls12_ciphers, tls13_ciphersuites, groups).
    type: dict
"""

EXAMPLES = r"""
ssl_ciphers: "{{ (tlsward_policy | tls_policy_nginx(openssl_version=target_openssl)).ssl_ciphers }}"
"""

RETURN = r"""
_value:
  description: The profile (tls_policy) or the rendered values (tls_policy_nginx, tls_policy_openssl).
  type: dict
"""


def tls_policy(policy: Any) -> dict[str, Any]:
    return call_filter("tls_policy", "tlsward.policy:load_policy", policy)


def tls_effective(
    policy: Any, overrides: dict[str, Any] | None = None, openssl_version: str | None = None
) -> dict[str, list[str]]:
    return call_filter("tls_effective", "tlsward.policy:effective_tls", policy, overrides, openssl_version)


def tls_policy_nginx(
    policy: Any, openssl_version: str | None = None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    return call_filter("tls_policy_nginx", "tlsward.policy:render_nginx", policy, openssl_version, overrides)


def tls_policy_openssl(
    policy: Any, openssl_version: str | None = None, overrides: dict[str, Any] | None = None
) -> dict[str, str]:
    return call_filter(
        "tls_policy_openssl", "tlsward.policy:render_openssl", policy, openssl_version, overrides
    )


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "tls_policy": tls_policy,
            "tls_effective": tls_effective,
            "tls_policy_nginx": tls_policy_nginx,
            "tls_policy_openssl": tls_policy_openssl,
        }
