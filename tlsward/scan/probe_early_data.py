"""What a TLS 1.3 endpoint does with requests sent as 0-RTT early data.

sslyze only reports whether early data is accepted. This probe sends requests in early data with
``openssl s_client`` (``-sess_in``/``-early_data``; Python's ``ssl`` cannot send early data) and
decides what a replayed ClientHello would get:

- An unsafe request (``POST`` of ``Target.http_path``, empty body) must be answered 425 Too Early
  (RFC 8470) and never reach the application.
- A safe request (``GET``) is sent twice as early data with the same ticket, as an attacker
  replaying a captured ClientHello would: whether both were accepted is reported.

An attacker replaying a ClientHello with its early data cannot send the client's Finished. A
server that answers early data before the Finished arrives answers a replay the same way; one that
waits for it is not replayable. So the connection goes through a relay on the controller's
loopback (``HoldingRelay``) that passes the client's first flight (ClientHello and early data) at
once and holds what the client sends after the server's first answer (EndOfEarlyData, Finished)
for ``HOLD_SECONDS``: a response that arrives while the Finished is held was produced from early
data alone. Without the relay the verdict would depend on whether the Finished happens to arrive
in the server's same read (nginx then treats the request as a normal one).

Only when the endpoint's session ticket allows early data (``Max Early Data`` > 0 in the session
``s_client -sess_out`` saved) are requests sent as early data; otherwise the probe makes one full
handshake. Every subprocess and connection is bounded in time.
"""

from __future__ import annotations

import contextlib
import re
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tlsward.scan.model import Target

HOLD_SECONDS = 1.0
UNSAFE_ATTEMPTS = 3
MAX_OUTPUT = 1 << 20
_STATUS = re.compile(rb"HTTP/1\.[01] (\d{3})")
_MAX_EARLY = re.compile(r"Max Early Data:\s*(\d+)")
_EARLY_STATE = re.compile(r"Early data was (accepted|rejected|not sent)")


class HoldingRelay:
    """A one-connection TCP relay on 127.0.0.1 in front of ``(host, port)``.

    Client bytes go to the server at once until the server has sent something; later client bytes
    are held until ``hold`` seconds after the server's first bytes. Bounded by ``deadline_s``.
    """

    def __init__(self, host: str, port: int, hold: float, deadline_s: float, connect_timeout: float) -> None:
        self.upstream = (host, port)
        self.hold = hold
        self.deadline_s = deadline_s
        self.connect_timeout = connect_timeout
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(deadline_s)
        self.address = self.listener.getsockname()[:2]
        self.server_first_at: float | None = None
        self.released_at: float | None = None
        self.held_bytes = 0
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HoldingRelay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join(self.deadline_s + 1)
        self.listener.close()

    def _run(self) -> None:
        try:
            client, _ = self.listener.accept()
        except OSError as exc:
            self.error = f"relay: no client connection: {exc}"
            return
        try:
            server = socket.create_connection(self.upstream, timeout=self.connect_timeout)
        except OSError as exc:
            self.error = f"relay: cannot connect to the endpoint: {type(exc).__name__}: {exc}"
            client.close()
            return
        try:
            self._pump(client, server)
        except OSError as exc:
            self.error = f"relay: {type(exc).__name__}: {exc}"
        finally:
            client.close()
            server.close()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        end = time.monotonic() + self.deadline_s
        held = b""
        client_open = server_open = True
        while server_open and time.monotonic() < end:
            now = time.monotonic()
            release_at = None if self.server_first_at is None else self.server_first_at + self.hold
            if held and release_at is not None and now >= release_at:
                server.sendall(held)
                held = b""
                self.released_at = now
                if not client_open:
                    server.shutdown(socket.SHUT_WR)
            readable = [s for s, is_open in ((client, client_open), (server, server_open)) if is_open]
            wait = 0.05 if held else 0.25
            ready, _, _ = select.select(readable, [], [], wait)
            for sock in ready:
                data = sock.recv(65536)
                if sock is server:
                    if not data:
                        server_open = False
                        break
                    if self.server_first_at is None:
                        self.server_first_at = time.monotonic()
                    client.sendall(data)
                elif not data:
                    client_open = False
                    if not held:
                        server.shutdown(socket.SHUT_WR)
                elif self.server_first_at is None:
                    server.sendall(data)
                else:
                    held += data
                    self.held_bytes += len(data)


def _s_client_base(openssl: str, host: str, port: int, target: Target) -> list[str]:
    connect = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    argv = [openssl, "s_client", "-connect", connect, "-servername", target.sni, "-tls1_3", "-ign_eof"]
    if target.client is not None:
        argv += ["-cert", str(target.client.cert), "-key", str(target.client.key)]
    return argv


def _request(method: str, target: Target) -> bytes:
    head = (
        f"{method} {target.http_path} HTTP/1.1\r\nHost: {target.sni}\r\n"
        "User-Agent: tlsward-scan (0-RTT probe)\r\nAccept: */*\r\n"
    )
    if method == "POST":
        head += "Content-Length: 0\r\n"
    return (head + "Connection: close\r\n\r\n").encode("ascii")


def _run_s_client(
    argv: list[str], stdin: bytes, timeout: float
) -> tuple[bytes, list[tuple[float, int]], str]:
    """Run s_client; returns its output, (time, length so far) after each chunk, and stderr (its end)."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    assert proc.stdout is not None
    assert proc.stderr is not None
    out = b""
    marks: list[tuple[float, int]] = []
    end = time.monotonic() + timeout
    try:
        proc.stdin.write(stdin)
        proc.stdin.close()
        while time.monotonic() < end and len(out) < MAX_OUTPUT:
            ready, _, _ = select.select([proc.stdout], [], [], 0.1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            chunk = proc.stdout.read1(65536)
            if not chunk:
                break
            out += chunk
            marks.append((time.monotonic(), len(out)))
    finally:
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stdout.close()
        proc.stderr.close()
    return out, marks, err.strip()[-4000:]


def _why(err: str, out: bytes) -> str:
    """The line of s_client's output that says why it failed (an alert or an OpenSSL error)."""
    lines = [line.strip() for line in (err + "\n" + out.decode("latin-1")).splitlines() if line.strip()]
    for line in lines:
        if "alert" in line or ":error:" in line or "errno=" in line or "connect:" in line:
            return line[-200:]
    return lines[-1][-200:] if lines else "no output"


def _answer(out: bytes, marks: list[tuple[float, int]]) -> tuple[int | None, float | None]:
    """The HTTP status in s_client's output and when the chunk that completed it arrived."""
    match = _STATUS.search(out)
    if match is None:
        return None, None
    at = next((t for t, size in marks if size >= match.end()), None)
    return int(match.group(1)), at


def _max_early_data(openssl: str, session: Path, timeout: float) -> int | None:
    try:
        text = subprocess.run(
            [openssl, "sess_id", "-in", str(session), "-noout", "-text"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _MAX_EARLY.search(text)
    return int(match.group(1)) if match else None


def send_early(
    openssl: str, target: Target, request: bytes, session_in: Path, *, session_out: Path | None, work: Path
) -> dict[str, Any]:
    """One resumed connection through a ``HoldingRelay`` with ``request`` as early data."""
    early_file = work / f"early-{time.monotonic_ns()}.req"
    early_file.write_bytes(request)
    deadline = HOLD_SECONDS + 2 * target.timeout
    with HoldingRelay(target.host, target.port, HOLD_SECONDS, deadline, target.timeout) as relay:
        host, port = relay.address
        argv = _s_client_base(openssl, str(host), int(port), target)
        argv += ["-sess_in", str(session_in), "-early_data", str(early_file)]
        if session_out is not None:
            argv += ["-sess_out", str(session_out)]
        out, marks, err = _run_s_client(argv, b"", deadline)
    state = _EARLY_STATE.search(out.decode("latin-1"))
    status, at = _answer(out, marks)
    released = relay.released_at
    return {
        "method": request.split(b" ", 1)[0].decode("ascii"),
        "early_data": state.group(1) if state else None,
        "resumed": b"Reused, TLSv1.3" in out,
        "http_status": status,
        # Answered while the client's Finished was still held: produced from early data alone.
        "answered_before_finished": status is not None
        and at is not None
        and (released is None or at < released),
        # None: the Finished was never sent (the server answered and closed while it was held).
        "finished_sent_after_seconds": round(released - relay.server_first_at, 3)
        if released is not None and relay.server_first_at is not None
        else None,
        "relay_error": relay.error,
        "error": None if status is not None else f"no HTTP answer: {_why(err, out)}",
    }


def probe_early_data(target: Target) -> dict[str, Any]:
    """The record's ``early_data`` entry: whether tickets allow 0-RTT, the POST and GET attempts."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return {"error": "no openssl binary on the controller (s_client sends the early data)"}
    with tempfile.TemporaryDirectory(prefix="tlsward-early-") as tmp:
        work = Path(tmp)
        first = work / "session-0.pem"
        argv = [*_s_client_base(openssl, target.host, target.port, target), "-sess_out", str(first)]
        out, _, err = _run_s_client(argv, _request("GET", target), 2 * target.timeout)
        if not first.exists() or not first.stat().st_size:
            without = "" if target.client else " (no client identity given)"
            return {"error": f"no TLS 1.3 session obtained{without}: {_why(err, out)}"}
        max_early = _max_early_data(openssl, first, target.timeout)
        result: dict[str, Any] = {"max_early_data": max_early, "error": None}
        if not max_early:
            result["offered"] = False
            return result
        result["offered"] = True
        session = first
        unsafe: list[dict[str, Any]] = []
        for n in range(1, UNSAFE_ATTEMPTS + 1):
            fresh = work / f"session-{n}.pem"
            attempt = send_early(
                openssl, target, _request("POST", target), session, session_out=fresh, work=work
            )
            unsafe.append(attempt)
            if fresh.exists() and fresh.stat().st_size:
                session = fresh
            # Decided: answered from early data alone, or early data not taken at all.
            if attempt["answered_before_finished"] or attempt["early_data"] != "accepted":
                break
        result["unsafe"] = unsafe
        # The same ticket twice: what a replayed ClientHello carrying a GET gets.
        result["replay"] = [
            send_early(openssl, target, _request("GET", target), session, session_out=None, work=work)
            for _ in range(2)
        ]
    return result
