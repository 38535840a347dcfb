"""Shared plumbing: the run context, result rows, bounded subprocesses, CPU pinning, CPU time."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
RESULTS = BENCH / "results"
TEMPLATES = BENCH / "templates"
# Two cores: the server under test on one, the load generator on the other.
SERVER_CPU = 1
CLIENT_CPU = 0
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """A benchmark could not run (as opposed to running and missing its bar)."""


@dataclasses.dataclass
class Row:
    """One line of the results table: what, the bar, the measurement, pass or MISS."""

    item: str
    name: str
    bar: str
    measured: str
    ratio: float | None = None
    passed: bool | None = None  # None: a reported figure without a bar
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return "info"
        return "pass" if self.passed else "MISS"


@dataclasses.dataclass
class Context:
    """What every item gets: where to work, how hard to push, and where its rows go."""

    workdir: Path
    quick: bool = False
    rows: list[Row] = dataclasses.field(default_factory=list)
    data: dict[str, Any] = dataclasses.field(default_factory=dict)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(f"  [{row.item}] {row.name}: {row.measured} (bar {row.bar}) -> {row.verdict}", flush=True)
        return row

    def scratch(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def make_workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="tlsward-bench-"))
    path.chmod(0o711)  # nginx workers (unprivileged) traverse it to their temp dirs and sockets
    return path


def remove_workdir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def pinned(cpu: int, argv: Sequence[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *argv]


def run(
    argv: Sequence[str],
    timeout: float,
    *,
    check: bool = True,
    env: dict[str, str] | None = None,
    input_text: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion, never longer than ``timeout`` seconds."""
    try:
        proc = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
            input=input_text,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{argv[0]} did not finish within {timeout:.0f} s: {' '.join(argv)}") from exc
    if check and proc.returncode != 0:
        raise BenchError(
            f"{' '.join(argv)} exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-2000:]}"
        )
    return proc


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (``/proc/<pid>/stat`` utime + stime)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out.extend(int(p) for p in text)
    return out


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")


def terminate(proc: subprocess.Popen[Any], timeout: float = 10) -> None:
    """Stop a process this harness started (by its own handle), escalating to SIGKILL."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}"
