"""Run ``tlsward.scan.scan_endpoints`` in its own process (pinned by the caller) and print the
results plus the seconds the scan itself took, as JSON.

    python -m bench.scanrun TARGETS.json
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    from tlsward.scan import Identity, Target, scan_endpoints  # noqa: PLC0415 - import time is measured

    imported = time.monotonic()
    args = argv if argv is not None else sys.argv[1:]
    specs = json.loads(Path(args[0]).read_text())
    targets = []
    for spec in specs:
        client = (
            Identity(Path(spec["client_cert"]), Path(spec["client_key"])) if spec.get("client_cert") else None
        )
        targets.append(
            Target(
                host=spec["host"],
                port=spec["port"],
                server_name=spec["server_name"],
                name=spec["name"],
                ca_file=Path(spec["ca_file"]),
                client=client,
                environment="test",
            )
        )
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    results = scan_endpoints(targets, concurrency=len(targets))
    done = time.monotonic()
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    json.dump(
        {
            "import_seconds": imported - started,
            "scan_seconds": done - imported,
            "scan_cpu_seconds": cpu,
            "results": results,
        },
        sys.stdout,
        default=str,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
