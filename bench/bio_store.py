"""Fill a biometric service store with N enrolled subjects, fast: the service's own keyring and
store (the same sealing and rows an enrolment over HTTP writes), many subjects per transaction.

    python -m bench.bio_store DB KEY_DIR COUNT

Subject ``s<i>`` of group ``GROUP`` gets the face-128 embedding ``vector(i)``; a probe with the
same vector matches (sent by the bench device, a verifier of that group: bench/certs.py).
"""

from __future__ import annotations

import math
import random
import sys
import time
from pathlib import Path

MODALITY = "face-128"
GROUP = "bench"
DIMENSIONS = 128
BATCH = 5000


def subject(index: int) -> str:
    return f"s{index:07d}"


def vector(index: int) -> list[float]:
    rng = random.Random(index)
    values = [rng.uniform(-1.0, 1.0) for _ in range(DIMENSIONS)]
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def populate(database: Path, key_dir: Path, count: int) -> float:
    # Imported here: the harness itself does not need the service package.
    from tlsward_biometric.settings import Settings  # noqa: PLC0415
    from tlsward_biometric.store.base import SubjectRecord  # noqa: PLC0415
    from tlsward_biometric.templates import embedding_from_values  # noqa: PLC0415
    from tlsward_biometric.wiring import build_service  # noqa: PLC0415

    started = time.monotonic()
    settings = Settings(database_path=database, key_dir=key_dir, audit_log_path=None)
    service = build_service(settings)
    spec = service.registry.get(MODALITY).spec
    now = time.time()
    try:
        for first in range(0, count, BATCH):
            with service.store.transaction() as tx:
                for index in range(first, min(count, first + BATCH)):
                    template = embedding_from_values(spec, vector(index))
                    sealed = service.keyring.seal(
                        subject(index), MODALITY, template.to_plaintext(), group=GROUP
                    )
                    record = SubjectRecord(
                        GROUP, subject(index), MODALITY, sealed, "bench-bulk-enrolment", now
                    )
                    if not tx.insert_subject(record):
                        raise RuntimeError(f"{subject(index)} was already enrolled in {database}")
    finally:
        service.store.close()
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    seconds = populate(Path(args[0]), Path(args[1]), int(args[2]))
    print(f"{int(args[2])} subjects in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
