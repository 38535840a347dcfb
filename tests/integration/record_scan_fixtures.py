"""Record real scans of the integration endpoints as JSON fixtures for the unit tests.

    .venv/bin/python tests/integration/record_scan_fixtures.py [tests/data/scan]

Starts every endpoint of ``scan_endpoints.endpoints()``, scans them concurrently with
``tlsward.scan.scan`` and writes one record per endpoint (sslyze's own JSON model plus the
probes), with the expected failed finding ids next to it. Local paths are replaced by
placeholders and the lists of *rejected* suites/curves are dropped (the judge never reads them),
so a fixture is small and says nothing about the machine it was recorded on.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import scan_endpoints as se
import sslyze

from tlsward.scan import scan

SITE = str(Path(sslyze.__file__).resolve().parents[1])


def scrub(value: Any, tmp: str) -> Any:
    if isinstance(value, dict):
        out = {k: scrub(v, tmp) for k, v in value.items()}
        for key in ("rejected_cipher_suites", "rejected_curves"):
            if key in out and isinstance(out[key], list):
                out[key] = []
        return out
    if isinstance(value, list):
        return [scrub(v, tmp) for v in value]
    if isinstance(value, str):
        return value.replace(SITE, "<site-packages>").replace(tmp, "<tmp>")
    return value


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tlsward-record-") as tmp:
        base = Path(tmp)
        material = se.build_pki(base / "pki")
        started = se.start_all(base / "nginx", material)
        try:
            records = scan([se.target_for(ep, material) for ep in started])
        finally:
            se.stop_all(started)
        for ep, record in zip(started, records, strict=True):
            fixture = {
                "endpoint": ep.name,
                "environment": ep.environment,
                "expect_failed": sorted(ep.expect_failed),
                "may_fail": sorted(ep.may_fail),
                "record": scrub(record, str(base.resolve())),
            }
            path = out_dir / f"{ep.name}.json"
            path.write_text(json.dumps(fixture, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            print(f"{path}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "data" / "scan")
