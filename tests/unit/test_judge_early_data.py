"""early_data.unsafe_method_refused on probe results, and the relay that holds the client's
Finished (tlsward.scan.judge_early_data, tlsward.scan.probe_early_data.HoldingRelay)."""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tlsward.policy import load_policy
from tlsward.scan import judge
from tlsward.scan.judge_early_data import REMEDIATION, judge_early_data
from tlsward.scan.probe_early_data import HoldingRelay

DATA = Path(__file__).resolve().parents[1] / "data" / "scan"
STRICT = load_policy("biometric-strict")
ALLOWING = copy.deepcopy(STRICT) | {"name": "biometric-strict-0rtt", "early_data": {"allowed": True}}


def early_record() -> dict[str, Any]:
    """The recorded scan of the endpoint with ``ssl_early_data on`` (sslyze saw 0-RTT accepted)."""
    record = json.loads((DATA / "early_data.json").read_text(encoding="utf-8"))["record"]
    assert record["sslyze"]["scan_result"]["tls_1_3_early_data"]["result"]["supports_early_data"] is True
    return record


def sent(
    method: str, status: int | None, *, early: str = "accepted", before_finished: bool = True
) -> dict[str, Any]:
    return {
        "method": method,
        "early_data": early,
        "resumed": True,
        "http_status": status,
        "answered_before_finished": status is not None and before_finished,
        "finished_sent_after_seconds": None if before_finished else 1.0,
        "relay_error": None,
        "error": None if status is not None else "no HTTP answer",
    }


def probed(*unsafe: dict[str, Any], replay: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    record = early_record()
    record["early_data"] = {
        "max_early_data": 16384,
        "error": None,
        "offered": True,
        "unsafe": list(unsafe),
        "replay": replay if replay is not None else [sent("GET", 200), sent("GET", 200)],
    }
    return record


def verdict(record: dict[str, Any], policy: dict[str, Any] = ALLOWING) -> Any:
    [finding] = judge_early_data(record, policy)
    assert (finding.id, finding.severity) == ("early_data.unsafe_method_refused", "high")
    return finding


def test_post_answered_425_from_early_data_passes_and_the_replay_is_reported() -> None:
    finding = verdict(probed(sent("POST", 425)))
    assert finding.status == "pass"
    assert "answered 425 Too Early" in finding.message
    assert (
        "a GET replayed with one ticket was accepted and answered twice (HTTP 200 and 200)" in finding.message
    )
    assert finding.evidence["replay"]["replayed"] is True
    assert finding.evidence["profile_allows_early_data"] is True


def test_post_served_from_early_data_fails() -> None:
    finding = verdict(probed(sent("POST", 200)))
    assert finding.status == "fail"
    assert finding.remediation == REMEDIATION
    assert "answered HTTP 200 before the handshake completed" in finding.message
    # Judged whatever the profile says about early data; early_data.state fails on its own then.
    failed = {f.id for f in judge(probed(sent("POST", 200)), STRICT, "test") if not f.passed}
    assert {"early_data.state", "early_data.unsafe_method_refused"} <= failed
    failed = {f.id for f in judge(probed(sent("POST", 425)), ALLOWING, "test") if not f.passed}
    assert "early_data.unsafe_method_refused" not in failed
    assert "early_data.state" not in failed


def test_a_server_that_waits_for_the_finished_passes() -> None:
    finding = verdict(probed(*[sent("POST", 200, before_finished=False)] * 3))
    assert finding.status == "pass"
    assert "only after the handshake completed" in finding.message


def test_one_answer_from_early_data_decides_over_earlier_waits() -> None:
    finding = verdict(probed(sent("POST", 200, before_finished=False), sent("POST", 201)))
    assert finding.status == "fail"


def test_rejected_early_data_passes() -> None:
    finding = verdict(probed(sent("POST", None, early="rejected")))
    assert finding.status == "pass"
    assert "rejected" in finding.message


def test_no_answer_is_undecided() -> None:
    assert verdict(probed(sent("POST", None))).status == "error"


def test_replay_refused_is_reported_too() -> None:
    finding = verdict(
        probed(sent("POST", 425), replay=[sent("GET", 200), sent("GET", None, early="rejected")])
    )
    assert finding.status == "pass"
    assert finding.evidence["replay"]["replayed"] is False
    assert "not answered twice" in finding.message


def test_endpoint_without_early_data_is_not_applicable() -> None:
    record = json.loads((DATA / "hardened.json").read_text(encoding="utf-8"))["record"]
    record["early_data"] = {"max_early_data": 0, "error": None, "offered": False}
    finding = verdict(record, STRICT)
    assert finding.status == "not_applicable"
    assert "tickets allow no early data" in finding.message


def test_sslyze_and_the_probe_disagreeing_is_undecided() -> None:
    record = early_record()
    record["early_data"] = {"error": "no TLS 1.3 session obtained: handshake failure"}
    assert verdict(record).status == "error"


def test_probe_error_is_not_applicable_only_when_sslyze_saw_no_early_data() -> None:
    # A TLS 1.2-only endpoint: no TLS 1.3 session to send early data with, and sslyze saw none.
    record = json.loads((DATA / "hardened.json").read_text(encoding="utf-8"))["record"]
    record["early_data"] = {"error": "no TLS 1.3 session obtained: alert protocol version"}
    assert verdict(record, STRICT).status == "not_applicable"
    # Neither could tell (an endpoint that needs a client certificate, scanned without one).
    record["sslyze"]["scan_result"]["tls_1_3_early_data"] = {
        "status": "ERROR",
        "error_reason": "CONNECTIVITY_ISSUE",
        "error_trace": "x",
        "result": None,
    }
    assert verdict(record, STRICT).status == "error"


def test_record_without_the_probe_is_not_applicable() -> None:
    finding = verdict(early_record())
    assert finding.status == "not_applicable"
    assert finding.evidence["probed"] is False


# ---------------------------------------------------------------------------------------------
# The relay


class _Server:
    """A loopback TCP server for one connection: answers at once, records when more bytes come."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.address = self.sock.getsockname()[:2]
        self.first: bytes = b""
        self.answered_at = 0.0
        self.later: list[tuple[float, bytes]] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(5)
            self.first = conn.recv(100)
            self.answered_at = time.monotonic()
            conn.sendall(b"server flight")
            while True:
                data = conn.recv(100)
                if not data:
                    break
                self.later.append((time.monotonic(), data))
        self.sock.close()


def test_relay_passes_the_first_flight_and_holds_what_follows_the_server_s_answer() -> None:
    server = _Server()
    hold = 0.4
    with (
        HoldingRelay(*server.address, hold=hold, deadline_s=5, connect_timeout=2) as relay,
        socket.create_connection(relay.address, timeout=5) as client,
    ):
        client.sendall(b"hello+early")
        assert client.recv(100) == b"server flight"
        client.sendall(b"finished")
        client.shutdown(socket.SHUT_WR)
        assert client.recv(100) == b""
    server.thread.join(5)
    assert server.first == b"hello+early"
    [(arrived, data)] = server.later
    assert data == b"finished"
    assert arrived - server.answered_at >= hold - 0.02
    assert relay.held_bytes == len(b"finished")
    assert relay.released_at is not None
    assert relay.error is None


def test_relay_reports_an_unreachable_endpoint() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        with (
            HoldingRelay("127.0.0.1", port, hold=0.1, deadline_s=2, connect_timeout=1) as relay,
            socket.create_connection(relay.address, timeout=2) as client,
        ):
            assert client.recv(10) == b""
    assert relay.error is not None
    assert "cannot connect" in relay.error


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_requests_name_the_path_and_close(method: str) -> None:
    from tlsward.scan.model import Target  # noqa: PLC0415
    from tlsward.scan.probe_early_data import _request  # noqa: PLC0415

    text = _request(method, Target(host="h", server_name="bio.scan.test", http_path="/healthz")).decode()
    assert text.startswith(f"{method} /healthz HTTP/1.1\r\nHost: bio.scan.test\r\n")
    assert text.endswith("Connection: close\r\n\r\n")
    assert ("Content-Length: 0" in text) == (method == "POST")
