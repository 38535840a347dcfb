"""The inventory variables that override a profile's TLS parameters, in one place.

A host may replace the profile's protocols, TLS 1.2 ciphers, TLS 1.3 suites or groups with the
inventory variable ``tlsward_<key>``. Preflight validates them, the nginx and OpenSSL renderers
apply them, the scanner judges the endpoint against them and the drift check compares the
deployed configuration with them: each takes the mapping from ``overrides_from_vars`` (through the
``tls_overrides`` filter on the Ansible side), and nothing else lists the variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tlsward.errors import TlswardError
from tlsward.policy import OVERRIDABLE

# Inventory variable -> override key (the key ``tlsward.policy.effective_tls`` takes).
OVERRIDE_VARS: dict[str, str] = {f"tlsward_{key}": key for key in OVERRIDABLE}
# Override key -> inventory variable, for messages that name what the user set.
VARIABLE_FOR: dict[str, str] = {key: var for var, key in OVERRIDE_VARS.items()}


def is_set(value: Any) -> bool:
    """An override counts only when it has a value: unset, empty string and empty list mean
    "the profile's"."""
    return value not in (None, "", [], {})


def overrides_from_vars(hostvars: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides a host's variables set, keyed by override key (unset ones left out).

    ``hostvars`` is any mapping of the host's variables (Ansible's ``vars``, one entry of
    ``hostvars``, or a plain dict); only the override variables are read from it, so variables
    that cannot be templated elsewhere in the mapping do not matter.
    """
    if not isinstance(hostvars, Mapping):
        raise TlswardError(
            "tls_overrides", f"expected a mapping of host variables, got {type(hostvars).__name__}"
        )
    out = {}
    for var, key in OVERRIDE_VARS.items():
        value = hostvars.get(var)
        if is_set(value):
            out[key] = value
    return out
