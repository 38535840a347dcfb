"""The session checks against real nginx: cross-listener resumption, requests in 0-RTT early data
and the lifetime calendar, each with an endpoint it flags and one it passes."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import scan_endpoints as se
import session_endpoints as sess

from tlsward.policy import load_policy
from tlsward.scan import judge, scan
from tlsward.scan.probe_resumption import UNCONFIGURED_NAME

pytestmark = pytest.mark.integration

STRICT = load_policy("biometric-strict")
# The good 0-RTT endpoint is judged under a profile that allows early data: none of the shipped ones do.
ALLOWING = copy.deepcopy(STRICT) | {"name": "biometric-strict-0rtt", "early_data": {"allowed": True}}


@pytest.fixture(scope="module")
def upstream() -> Iterator[sess.Upstream]:
    with sess.Upstream() as server:
        yield server


@pytest.fixture(scope="module")
def session_records(
    tmp_path_factory: pytest.TempPathFactory, scan_material: se.Pki, upstream: sess.Upstream
) -> Iterator[dict[str, dict[str, Any]]]:
    """Every layout of ``session_endpoints`` running and scanned once (concurrently)."""
    started = sess.start(tmp_path_factory.mktemp("session-nginx"), scan_material, sess.layouts())
    try:
        targets = [sess.target_for(layout, scan_material) for layout in started]
        yield {layout.name: record for layout, record in zip(started, scan(targets), strict=True)}
    finally:
        sess.stop(started)


def failed(record: dict[str, Any], policy: dict[str, Any] = STRICT) -> dict[str, Any]:
    return {f.id: f for f in judge(record, policy, "test") if not f.passed}


def finding(record: dict[str, Any], fid: str, policy: dict[str, Any] = STRICT) -> Any:
    return next(f for f in judge(record, policy, "test") if f.id == fid)


# ---------------------------------------------------------------------------------------------
# Cross-listener resumption


def test_shared_ticket_key_with_a_laxer_listener_is_flagged(session_records: dict[str, Any]) -> None:
    record = session_records["resumption_shared"]
    got = failed(record)
    assert set(got) == {"session.cross_listener_resumption"}, {k: v.message for k, v in got.items()}
    bad = got["session.cross_listener_resumption"]
    assert bad.severity == "critical"
    assert bad.remediation
    # The revoked device: refused by :8443 itself, but its session from :8444 is served there.
    assert record["probes"]["revoked"]["http_status"] == 400
    bypasses = bad.evidence["bypasses"]
    assert {(b["identity"], b["peer"], b["answer"]) for b in bypasses} == {
        ("revoked", f"{se.SERVER_NAME} at 127.0.2.60:{sess.LAX_PORT}", 200)
    }
    assert {b["version"] for b in bypasses} == {"TLSv1.2", "TLSv1.3"}


def test_separate_ticket_keys_pass(session_records: dict[str, Any]) -> None:
    record = session_records["resumption_separate"]
    assert failed(record) == {}
    check = finding(record, "session.cross_listener_resumption")
    assert check.status == "pass"
    lax = [a for a in record["resumption"]["attempts"] if a["peer"]["port"] == sess.LAX_PORT]
    # The laxer listener did hand out sessions (the revoked device is served there) ...
    revoked = [a for a in lax if a["identity"] == "revoked"]
    assert revoked
    assert all(a["origin"]["http_status"] == 200 and a["session_obtained"] for a in revoked)
    # ... but :8443 never resumed one: full handshakes, the revoked device refused.
    assert all(a["offered"]["resumed"] is False for a in lax if a["offered"])
    assert all(a["offered"]["http_status"] == 400 for a in revoked)


def test_other_name_on_the_listener_passes_on_a_fixed_nginx(session_records: dict[str, Any]) -> None:
    record = session_records["resumption_sni"]
    assert failed(record) == {}, {k: v.message for k, v in failed(record).items()}
    attempts = [
        a
        for a in record["resumption"]["attempts"]
        if a["peer"]["server_name"] in (sess.ENROLL_NAME, UNCONFIGURED_NAME)
    ]
    # The default server hands out sessions to everyone; offered under the mTLS name they are
    # refused: TLS 1.3 by an access_denied alert, TLS 1.2 resumed and answered 421 or 400.
    assert all(a["session_obtained"] for a in attempts)
    for a in attempts:
        offered = a["offered"]
        if a["version"] == "TLSv1.3":
            assert offered["stage"] == "handshake"
            assert "ACCESS_DENIED" in offered["error"]
        else:
            assert offered["http_status"] in (400, 421)


def test_hardened_fleet_endpoint_passes_resumption(scan_records: dict[str, dict[str, Any]]) -> None:
    record = scan_records["hardened"]
    check = finding(record, "session.cross_listener_resumption")
    assert check.status == "pass"
    # Its only peer is the unconfigured name, which reaches the same (default) server.
    assert check.evidence["peers"] == [f"{UNCONFIGURED_NAME} at 127.0.2.10:{se.PORT}"]
    assert check.evidence["resumed"] > 0


# ---------------------------------------------------------------------------------------------
# 0-RTT


def test_guarded_early_data_passes_under_a_profile_that_allows_it(
    session_records: dict[str, Any], upstream: sess.Upstream
) -> None:
    record = session_records["early_guarded"]
    assert failed(record, ALLOWING) == {}, {k: v.message for k, v in failed(record, ALLOWING).items()}
    check = finding(record, "early_data.unsafe_method_refused", ALLOWING)
    assert check.status == "pass"
    assert "425 Too Early" in check.message
    [post] = record["early_data"]["unsafe"]
    assert (post["early_data"], post["answered_before_finished"], post["http_status"]) == (
        "accepted",
        True,
        425,
    )
    assert check.evidence["replay"]["replayed"] is True
    # The POST never reached the upstream: nginx answered it before proxying.
    assert [s for s in upstream.seen if s["layout"] == "early_guarded" and s["method"] == "POST"] == []
    # Under the shipped profile the same endpoint fails only for accepting early data at all.
    assert set(failed(record)) == {"early_data.state"}


def test_unguarded_early_data_is_flagged(session_records: dict[str, Any], upstream: sess.Upstream) -> None:
    record = session_records["early_unguarded"]
    got = failed(record, ALLOWING)
    assert set(got) == {"early_data.unsafe_method_refused"}, {k: v.message for k, v in got.items()}
    assert got["early_data.unsafe_method_refused"].remediation
    [post] = record["early_data"]["unsafe"]
    assert (post["early_data"], post["answered_before_finished"], post["http_status"]) == (
        "accepted",
        True,
        200,
    )
    # What the verdict says happened did happen: the upstream got the POST as early data.
    posts = [s for s in upstream.seen if s["layout"] == "early_unguarded" and s["method"] == "POST"]
    assert [s["early_data"] for s in posts] == ["1"]


def test_replayed_get_reaches_the_upstream_twice(
    session_records: dict[str, Any], upstream: sess.Upstream
) -> None:
    record = session_records["early_guarded"]
    replay = record["early_data"]["replay"]
    assert [(a["early_data"], a["http_status"]) for a in replay] == [("accepted", 200), ("accepted", 200)]
    # Both copies reached the upstream as early data (a replay of a safe request is allowed).
    early_gets = [
        s
        for s in upstream.seen
        if s["layout"] == "early_guarded" and s["method"] == "GET" and s["early_data"] == "1"
    ]
    assert len(early_gets) >= 2


def test_endpoint_without_early_data_is_not_applicable(scan_records: dict[str, dict[str, Any]]) -> None:
    record = scan_records["hardened"]
    assert record["early_data"]["offered"] is False
    assert finding(record, "early_data.unsafe_method_refused").status == "not_applicable"


def test_fleet_early_data_endpoint_without_guard_is_flagged(scan_records: dict[str, dict[str, Any]]) -> None:
    # 127.0.2.22 answers 200 to everything, early data included (scan_endpoints lists it failed).
    check = finding(scan_records["early_data"], "early_data.unsafe_method_refused")
    assert check.status == "fail"


# ---------------------------------------------------------------------------------------------
# Lifetime calendar (private CA: the test PKI; a public CA's leaf cannot be issued here, the public
# side is judged on recorded scans in tests/unit/test_judge_lifetime.py)


def test_lifetime_calendar_on_the_private_ca_leaves(scan_records: dict[str, dict[str, Any]]) -> None:
    good = finding(scan_records["hardened"], "cert.lifetime_calendar")
    assert (good.status, good.evidence["trust"], good.evidence["max_leaf_lifetime_days"]) == (
        "pass",
        "private",
        90,
    )
    # Renewal due at the start of the profile's 30-day window before the leaf's expiry.
    leaf_not_after = se.pki.NOW + 60 * se.pki.DAY
    assert good.evidence["next_renewal"] == (leaf_not_after - dt.timedelta(days=30)).date().isoformat()
    bad = finding(scan_records["long_lived"], "cert.lifetime_calendar")
    assert (bad.status, bad.evidence["trust"]) == ("fail", "private")
    assert bad.evidence["lifetime_days"] > 390
