"""Timing hooks for bench/: seconds per endpoint for ``tls_scan`` and for ``testssl.sh`` on the same one.

Timing goals never live in tests; the benchmark harness calls these and records the numbers.
Both functions send traffic only to ``target.host``; testssl.sh is told the address (``--ip``)
and to make no DNS lookup (``--nodns none``), and it does not phone out (no ``--phone-out``).
Debian's testssl.sh 3.0 has no client-certificate option: time it on an endpoint whose
handshake does not require one (nginx ``ssl_verify_client on`` without ``VerifyMode Require``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tlsward.errors import TlswardError
from tlsward.scan import judge_record, scan
from tlsward.scan.model import Target


def time_tls_scan(targets: list[Target], *, concurrency: int = 20) -> dict[str, Any]:
    """Scan and judge ``targets`` concurrently; wall seconds of the whole scan and per endpoint.

    ``per_endpoint`` holds, for each target, the seconds from the start of the concurrent scan
    until its sslyze result arrived, and its number of failed findings.
    """
    started = time.monotonic()
    records = scan(targets, concurrency=concurrency)
    results = [judge_record(r, t) for r, t in zip(records, targets, strict=True)]
    wall = time.monotonic() - started
    return {
        "tool": "tls_scan",
        "endpoints": len(targets),
        "wall_seconds": round(wall, 3),
        "seconds_per_endpoint": round(wall / max(1, len(targets)), 3),
        "per_endpoint": [
            {
                "name": r["name"],
                "seconds": r["seconds"],
                "failed": sum(1 for f in r["findings"] if not f["passed"]),
                "compliant": r["compliant"],
            }
            for r in results
        ],
    }


def time_testssl(target: Target, *, testssl: str | None = None, timeout: float = 600) -> dict[str, Any]:
    """Run testssl.sh once (all default checks) against ``target``; seconds and exit status."""
    binary = testssl or shutil.which("testssl") or shutil.which("testssl.sh")
    if not binary:
        raise TlswardError("time_testssl", "testssl.sh is not installed (Debian package testssl.sh)")
    with tempfile.TemporaryDirectory(prefix="tlsward-testssl-") as tmp:
        out = Path(tmp) / "testssl.json"
        argv = [
            binary, "--quiet", "--warnings", "off", "--color", "0", "--nodns", "none",
            "--ip", target.host, "--jsonfile", str(out), f"{target.sni}:{target.port}",
        ]  # fmt: skip
        started = time.monotonic()
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        seconds = time.monotonic() - started
        findings = len(out.read_text(encoding="utf-8").splitlines()) if out.is_file() else 0
    return {
        "tool": "testssl.sh",
        "name": target.label,
        "seconds": round(seconds, 3),
        "exit_status": result.returncode,
        "json_lines": findings,
    }
