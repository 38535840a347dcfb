"""The session default rule of benchmark item 2, on the figures of a real run."""

from __future__ import annotations

import pytest

from bench.resumption import capacity, recommend, resumed_share

# Item 2 figures, mTLS endpoint, Debian 12 (handshakes per nginx CPU-second).
RATE = {
    "tickets/mtls/full": 606.0,
    "tickets/mtls/resumed": 970.0,
    "cache/mtls/full": 874.0,
    "cache/mtls/resumed": 1231.0,
    "none/mtls/full": 865.0,
}


def test_a_cached_session_resumes_only_on_its_host():
    assert resumed_share("tickets", 3) == pytest.approx(0.9)
    assert resumed_share("cache", 3) == pytest.approx(0.3)
    assert resumed_share("cache", 1) == pytest.approx(0.9)
    assert resumed_share("none", 1) == 0.0


def test_capacity_mixes_full_and_resumed_handshakes():
    assert capacity(RATE, "none", "mtls", 0.9) == RATE["none/mtls/full"]
    assert capacity(RATE, "cache", "mtls", 0.0) == pytest.approx(RATE["cache/mtls/full"])
    assert capacity(RATE, "cache", "mtls", 1.0) == pytest.approx(RATE["cache/mtls/resumed"])
    mixed = capacity(RATE, "tickets", "mtls", 0.5)
    assert RATE["tickets/mtls/full"] < mixed < RATE["tickets/mtls/resumed"]


def test_single_host_takes_the_cache_and_a_fleet_takes_tickets():
    choice = recommend(RATE)
    # One host: tickets cost the server over 20 % and resume no more connections than the cache.
    assert choice["best"][1] == "cache"
    # Three hosts without affinity: the cache resumes a third as often, and its server advantage
    # shrinks below the tolerance.
    assert choice["best"][3] == "tickets"
    assert "-> cache" in choice["summary"]
    assert "-> tickets" in choice["summary"]


def test_tickets_lose_when_they_cost_the_server_too_much():
    costly = RATE | {"tickets/mtls/full": 300.0, "tickets/mtls/resumed": 500.0}
    assert recommend(costly)["best"] == {1: "cache", 3: "cache"}
