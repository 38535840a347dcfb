"""Item 7's suite recommendation row: judged against the throughput measured beside it, so a
wrong or unknown recommendation misses."""

from __future__ import annotations

from typing import Any

import pytest

from bench.device import order_problems, suite_order_row
from tlsward.policy import DEFAULT_POLICY, load_policy

AES128, CHACHA, AES256 = "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_256_GCM_SHA384"
SUITES = load_policy(DEFAULT_POLICY)["tls13_ciphersuites"]


def _device(**changes: Any) -> dict[str, Any]:
    """The figures of a real run (Debian 12, x86_64 with AES-NI, item 7)."""
    dev = {
        "throughput_bytes_per_second": {"aes-128-gcm": 4919615060.0, "chacha20-poly1305": 3251244340.0},
        "throughput_aes_masked_bytes_per_second": {
            "aes-128-gcm": 233524290.0,
            "chacha20-poly1305": 3253026130.0,
        },
        "prefer_tls13_ciphersuites": [AES128, CHACHA, AES256],
        "prefer_tls13_ciphersuites_without_aes_hardware": [CHACHA, AES128, AES256],
    }
    return dev | changes


def test_the_profile_holds_the_three_suites_compared():
    assert sorted(SUITES) == sorted([AES128, CHACHA, AES256])


def test_orders_that_follow_the_measurements_pass():
    row = suite_order_row(_device(), SUITES)
    assert row.passed is True
    assert row.measured == f"{AES128}:{CHACHA}:{AES256}; without AES hardware: {CHACHA}:{AES128}:{AES256}"
    assert "follow the measured throughput" in row.note


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        # ChaCha20 first although AES-128-GCM measured faster with the AES instructions.
        ({"prefer_tls13_ciphersuites": [CHACHA, AES128, AES256]}, "with AES instructions: starts"),
        # The same order for both: wrong without AES hardware.
        (
            {"prefer_tls13_ciphersuites_without_aes_hardware": [AES128, CHACHA, AES256]},
            "without AES hardware: starts",
        ),
        # An unmeasured suite first.
        ({"prefer_tls13_ciphersuites": [AES256, AES128, CHACHA]}, "with AES instructions: starts"),
        ({"prefer_tls13_ciphersuites": []}, "with AES instructions: no recommendation"),
        ({"prefer_tls13_ciphersuites": [AES128, CHACHA]}, f"leaves out the profile's {AES256}"),
        (
            {"prefer_tls13_ciphersuites": [AES128, CHACHA, AES256, "TLS_AES_128_CCM_SHA256"]},
            "not a TLS 1.3 suite of the profile: TLS_AES_128_CCM_SHA256",
        ),
        ({"prefer_tls13_ciphersuites": [AES128, AES128, CHACHA, AES256]}, "listed more than once"),
        # Nothing measured without AES instructions: that order is unknown, not right.
        ({"throughput_aes_masked_bytes_per_second": {}}, "without AES hardware: throughput not measured"),
        ({"prefer_tls13_ciphersuites_without_aes_hardware": []}, "without AES hardware: no recommendation"),
    ],
)
def test_a_wrong_or_unknown_recommendation_misses(changes, problem):
    row = suite_order_row(_device(**changes), SUITES)
    assert row.passed is False
    assert problem in row.note


def test_equal_speeds_allow_either_order():
    speeds = {"aes-128-gcm": 1e9, "chacha20-poly1305": 1e9}
    assert order_problems([CHACHA, AES128, AES256], speeds, SUITES) == []
    assert order_problems([AES128, CHACHA, AES256], speeds, SUITES) == []


def test_the_measured_order_is_named_when_missed():
    speeds = {"aes-128-gcm": 2e9, "chacha20-poly1305": 1e9}
    (problem,) = order_problems([CHACHA, AES128, AES256], speeds, SUITES)
    assert problem == (
        f"starts {CHACHA}:{AES128}, but the measured order is {AES128}:{CHACHA} "
        "(aes-128-gcm 2,000,000,000 B/s, chacha20-poly1305 1,000,000,000 B/s)"
    )
