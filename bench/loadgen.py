"""Load generators on the client core: h2load (HTTP/1.1, one request per connection)."""

from __future__ import annotations

import re
from typing import Any

from bench.common import CLIENT_CPU, BenchError, pinned, run

_DONE = re.compile(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed")
_FINISHED = re.compile(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s")


def h2load(
    url: str, requests: int, clients: int, timeout: float, extra: list[str] | None = None
) -> dict[str, Any]:
    """Run h2load with HTTP/1.1, bounded by ``requests`` and ``timeout`` seconds."""
    argv = pinned(CLIENT_CPU, ["h2load", "--h1", "-t", "1", "-c", str(clients), "-n", str(requests)])
    argv += [*(extra or []), url]
    proc = run(argv, timeout)
    text = proc.stdout
    done = _DONE.search(text)
    finished = _FINISHED.search(text)
    if not done or not finished:
        raise BenchError(f"cannot read h2load output: {text[-1500:]}")
    seconds = float(finished.group(1)) / (1000 if finished.group(2) == "ms" else 1)
    info = dict(re.findall(r"^(TLS Protocol|Cipher|Server Temp Key|Application protocol): (.+)$", text, re.M))
    result = {
        "requests": int(done.group(1)),
        "succeeded": int(done.group(4)),
        "failed": int(done.group(5)),
        "seconds": seconds,
        "req_per_s": float(finished.group(3)),
        "tls": info,
    }
    if result["succeeded"] != requests:
        raise BenchError(
            f"h2load {url}: {result['succeeded']} of {requests} requests succeeded: {text[-800:]}"
        )
    return result
