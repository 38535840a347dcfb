"""The severity scale of every finding, lowest first: the one definition.

``tlsward.scan.model`` (findings, ``severity_rank``), the reports, the modules' ``fail_severity``
checks, the ``tls_default`` filter (``'severities'``) and the ``tlsward-scan`` command line all take
it from here. It lives outside ``tlsward.scan`` so that reading it does not import the scanner
(and sslyze with it).
"""

from __future__ import annotations

SEVERITIES = ("info", "low", "medium", "high", "critical")
