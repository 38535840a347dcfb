"""Defaults the modules, the roles and the reports share, each written once.

The Python side imports the constants; roles and playbooks read them through the ``tls_default``
filter (``'max_unit_exposure' | tlsward.tls.tls_default``), and module options that fall back to
one of them have no ``default:`` of their own. The default profile's name is
``tlsward.policy.DEFAULT_POLICY`` and the severity scale ``tlsward.severities.SEVERITIES``; both
are reachable here too. Filters import this module at their call, so it imports nothing heavy.
"""

from __future__ import annotations

from typing import Any

from tlsward.errors import TlswardError
from tlsward.policy import DEFAULT_POLICY
from tlsward.severities import SEVERITIES

# A failed finding at or above this severity makes an endpoint, a host and a compliance run
# non-compliant (the tls_scan and tls_compliance_report modules, the compliance role and the
# compliance_schedule role's alerts).
DEFAULT_FAIL_SEVERITY = "high"
# Highest acceptable ``systemd-analyze security`` exposure of a service unit (0 safest, 10 unsafe):
# what the nginx_tls role enforces when it deploys and what the compliance check applies.
MAX_UNIT_EXPOSURE = 5.0


_VALUES: dict[str, Any] = {
    "policy": lambda: DEFAULT_POLICY,
    "fail_severity": lambda: DEFAULT_FAIL_SEVERITY,
    "max_unit_exposure": lambda: MAX_UNIT_EXPOSURE,
    "severities": lambda: list(SEVERITIES),
}


def collection_default(name: str) -> Any:
    """The shared default called ``name``: ``policy``, ``fail_severity``, ``max_unit_exposure`` or
    ``severities`` (the severity scale, lowest first)."""
    if not isinstance(name, str) or name not in _VALUES:
        raise TlswardError("tls_default", f"no default named {name!r}; known: {', '.join(_VALUES)}")
    return _VALUES[name]()
