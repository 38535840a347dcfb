"""Protocol filter: judge a TLS protocol version list against a tlsward policy."""

from __future__ import annotations

from typing import Any

from tlsward.filtering import call_filter

DOCUMENTATION = r"""
name: validate_tls_protocols
short_description: Judge a TLS protocol version list against a tlsward policy
description:
  - SSLv2, SSLv3, TLSv1 and TLSv1.1 are always rejected; versions outside the profile's
    C(protocols.allowed) are rejected; versions in C(protocols.required) must be present.
  - Every problem is reported in one error.
options:
  _input:
    description: List of versions or a string (C(TLSv1.2 TLSv1.3)).
    type: raw
    required: true
  policy:
    description: Profile name, file path or mapping.
    type: raw
    default: biometric-strict
"""

EXAMPLES = r"""
protocols: "{{ tlsward_protocols | validate_tls_protocols(policy=tlsward_policy) }}"
"""

RETURN = r"""
_value:
  description: The versions, canonically spelled (C(TLSv1.2)), in the order given.
  type: list
  elements: str
"""


def validate_tls_protocols(value: Any, policy: Any = None) -> list[str]:
    return call_filter("validate_tls_protocols", "tlsward.protocols:validate_tls_protocols", value, policy)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"validate_tls_protocols": validate_tls_protocols}
