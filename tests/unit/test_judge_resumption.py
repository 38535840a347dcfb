"""session.cross_listener_resumption on probe results, and where the peers come from (target,
inventory, module, command line)."""

from __future__ import annotations

import copy
import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import pytest

import tlsward.scan
from tlsward.cli import scan as cli
from tlsward.policy import load_policy
from tlsward.scan import judge
from tlsward.scan.inventory import endpoints_from_hosts
from tlsward.scan.judge_resumption import REMEDIATION, judge_cross_resumption
from tlsward.scan.model import Listener, Target
from tlsward.scan.probe_resumption import MAX_PEERS, UNCONFIGURED_NAME, peers_of

DATA = Path(__file__).resolve().parents[1] / "data" / "scan"
POLICY = load_policy("biometric-strict")
TARGET = {"host": "127.0.2.60", "port": 8443, "server_name": "bio.scan.test"}
LAX = {"host": "127.0.2.60", "port": 8444, "server_name": "bio.scan.test"}


def hardened() -> dict[str, Any]:
    return json.loads((DATA / "hardened.json").read_text(encoding="utf-8"))["record"]


def answer(status: int | None, *, resumed: bool, stage: str = "done") -> dict[str, Any]:
    out: dict[str, Any] = {"stage": stage, "resumed": resumed, "error": None if stage == "done" else "x"}
    if stage == "done":
        out["http_status"] = status
    return out


def attempt(
    identity: str, offered: dict[str, Any] | None, *, peer: dict[str, Any] = LAX, origin_status: int = 200
) -> dict[str, Any]:
    return {
        "peer": peer,
        "version": "TLSv1.3",
        "identity": identity,
        "origin": answer(origin_status, resumed=False),
        "session_obtained": offered is not None,
        "offered": offered,
    }


def record_with(*attempts: dict[str, Any], peers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    record = hardened()
    record["resumption"] = {
        "target": TARGET,
        "peers": peers if peers is not None else [LAX],
        "peers_left_out": [],
        "identities": ["none", "unknown_ca", "revoked"],
        "attempts": list(attempts),
    }
    return record


def verdict(record: dict[str, Any], policy: dict[str, Any] = POLICY) -> Any:
    [finding] = judge_cross_resumption(record, policy)
    assert finding.id == "session.cross_listener_resumption"
    assert finding.severity == "critical"
    return finding


def test_revoked_session_from_a_lax_listener_served_is_a_bypass() -> None:
    record = record_with(
        attempt("none", answer(400, resumed=True)),
        attempt("revoked", answer(200, resumed=True)),
    )
    # The target refuses the revoked device on a connection of its own (the mtls probe).
    assert record["probes"]["revoked"]["http_status"] == 400
    finding = verdict(record)
    assert finding.status == "fail"
    assert finding.remediation == REMEDIATION
    assert "bio.scan.test at 127.0.2.60:8444 (revoked client identity, TLSv1.3) RESUMED" in finding.message
    [bypass] = finding.evidence["bypasses"]
    assert (bypass["identity"], bypass["resumed"], bypass["answer"]) == ("revoked", True, 200)
    assert (finding.evidence["sessions_offered"], finding.evidence["resumed"]) == (2, 2)
    assert "session.cross_listener_resumption" in {
        f.id for f in judge(record, POLICY, "test") if not f.passed
    }


@pytest.mark.parametrize(
    ("offered", "why"),
    [
        (answer(400, resumed=True), "resumed, refused with 400 (nginx 496)"),
        (answer(421, resumed=True), "resumed, 421 Misdirected Request (nginx's CVE-2025-23419 fix)"),
        (answer(None, resumed=False, stage="handshake"), "access_denied alert (the fix on TLS 1.3)"),
        (answer(200, resumed=False), "a full handshake: the target verified the client itself"),
    ],
)
def test_refused_or_not_resumed_passes(offered: dict[str, Any], why: str) -> None:
    finding = verdict(record_with(attempt("revoked", offered)))
    assert finding.status == "pass", why
    assert finding.remediation is None
    assert finding.evidence["bypasses"] == []


def test_an_identity_the_target_serves_anyway_is_left_to_mtls() -> None:
    # mtls_optional: no certificate is served on the target's own connections too.
    record = record_with(attempt("none", answer(200, resumed=True)))
    record["probes"]["no_client_cert"] = copy.deepcopy(record["probes"]["valid"])
    assert verdict(record).status == "pass"
    # ...but once the target refuses it directly, the same resumed answer is a bypass.
    record["probes"]["no_client_cert"]["http_status"] = 400
    assert verdict(record).status == "fail"


def test_same_answer_as_the_valid_identity_is_undecided() -> None:
    record = record_with(attempt("unknown_ca", answer(403, resumed=True)))
    record["probes"]["valid"]["http_status"] = 403
    assert verdict(record).status == "error"


def test_no_session_handed_out_passes() -> None:
    record = record_with(attempt("none", None, origin_status=400))
    finding = verdict(record)
    assert finding.status == "pass"
    assert "no peer listener or name handed out a resumable session" in finding.message


def test_every_peer_unreachable_is_undecided() -> None:
    gone = attempt("none", None)
    gone["origin"] = {"stage": "connect", "error": "ConnectionRefusedError", "resumed": False}
    finding = verdict(record_with(gone))
    assert finding.status == "error"
    assert finding.evidence["unreachable_peers"] == ["bio.scan.test at 127.0.2.60:8444"]


def test_not_applicable_without_mtls_or_without_a_probe() -> None:
    relaxed = copy.deepcopy(POLICY)
    relaxed["mtls"]["required"] = False
    bypass = record_with(attempt("revoked", answer(200, resumed=True)))
    assert verdict(bypass, relaxed).status == "not_applicable"
    # A record scanned before the check existed (the recorded fixtures).
    finding = verdict(hardened())
    assert (finding.status, finding.evidence) == ("not_applicable", {"probed": False})


def test_peers_start_with_an_unconfigured_name_and_drop_the_target_itself() -> None:
    target = Target(
        host="127.0.2.60",
        port=8443,
        server_name="bio.scan.test",
        resumption_peers=(
            Listener(port=8444),
            Listener(server_name="enroll.scan.test"),
            Listener(host="127.0.2.60", port=8443),  # the target itself
            Listener(port=8444),  # twice
        ),
    )
    probed, left_out = peers_of(target)
    assert probed == [
        ("127.0.2.60", 8443, UNCONFIGURED_NAME),
        ("127.0.2.60", 8444, "bio.scan.test"),
        ("127.0.2.60", 8443, "enroll.scan.test"),
    ]
    assert left_out == []
    many = Target(host="h", resumption_peers=tuple(Listener(port=p) for p in range(1000, 1020)))
    probed, left_out = peers_of(many)
    assert len(probed) == MAX_PEERS
    assert len(left_out) == 21 - MAX_PEERS


def test_inventory_peers_are_the_other_names_and_front_ends_of_the_environment() -> None:
    hosts = [
        {
            "inventory_hostname": "fe1",
            "tlsward_listen_address": "127.0.1.10",
            "tlsward_server_names": ["bio.example.test", "alt.example.test"],
        },
        {"inventory_hostname": "fe2", "tlsward_listen_address": "127.0.1.11", "tlsward_https_port": 8443},
        {
            "inventory_hostname": "st1",
            "tlsward_listen_address": "127.0.1.12",
            "tlsward_environment": "staging",
        },
    ]
    fe1, fe2, st1 = endpoints_from_hosts(hosts)
    assert fe1["resumption_peers"] == [
        {"server_name": "alt.example.test"},
        {"host": "127.0.1.11", "port": 8443, "server_name": "fe2"},
    ]
    assert fe2["resumption_peers"] == [{"host": "127.0.1.10", "port": 443, "server_name": "bio.example.test"}]
    assert st1["resumption_peers"] == []


def _module() -> Any:
    plugin = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "tls_scan.py"
    spec = importlib.util.spec_from_file_location("tlsward_test_tls_scan_module", plugin)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_module_reads_resumption_peers() -> None:
    module = _module()
    assert "resumption_peers" in module.ENDPOINT_KEYS
    problems: list[str] = []
    values = {
        "host": "127.0.2.60",
        "resumption_peers": [{"port": "8444"}, {"server_name": "enroll.scan.test"}],
    }
    target = module._target(values, problems)
    assert problems == []
    assert target.resumption_peers == (Listener(port=8444), Listener(server_name="enroll.scan.test"))
    module._target({"host": "h", "resumption_peers": [{"port": "x"}, {"addr": "y"}, "z"]}, problems)
    assert len(problems) == 3
    assert "resumption_peers[0]: port 'x' is not a number" in problems[0]


@pytest.mark.parametrize(
    ("arg", "peer"),
    [
        ("/enroll.scan.test", cli.Peer(server_name="enroll.scan.test")),
        (":8444", cli.Peer(port=8444)),
        (":8444/bio.scan.test", cli.Peer(port=8444, server_name="bio.scan.test")),
        ("127.0.2.61", cli.Peer(host="127.0.2.61")),
        ("127.0.2.61:8443", cli.Peer(host="127.0.2.61", port=8443)),
        ("[::1]:8444/bio.scan.test", cli.Peer(host="::1", port=8444, server_name="bio.scan.test")),
        ("::1", cli.Peer(host="::1")),
    ],
)
def test_cli_resumption_peer_parses(arg: str, peer: cli.Peer) -> None:
    assert cli.parse_peer(arg) == peer


@pytest.mark.parametrize("arg", ["", "/", "/bad name", ":http", "a b:1"])
def test_cli_resumption_peer_is_refused(arg: str) -> None:
    with pytest.raises(cli.argparse.ArgumentTypeError):
        cli.parse_peer(arg)


def test_cli_peers_reach_the_target(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Target] = []

    def fake(targets: list[Target], *, concurrency: int = 20) -> list[dict[str, Any]]:
        seen.extend(targets)
        return [hardened() for _ in targets]

    monkeypatch.setattr(tlsward.scan, "scan", fake)
    parser = cli.build_parser()
    args = parser.parse_args(
        ["127.0.2.60:8443", "--resumption-peer", ":8444", "--resumption-peer", "/a.test"]
    )
    cli._check_arguments(parser, args)
    cli.run(args, io.StringIO(), io.StringIO())
    assert seen[0].resumption_peers == (Listener(port=8444), Listener(server_name="a.test"))
