"""Re-converges the front end: rollback proofs, the profile matrix and 0-RTT.

The tests run in file order and share the container: the rollback proofs first (against the
converged biometric-strict configuration), then one converge per profile, then 0-RTT; the
module fixture converges biometric-strict again at the end.
"""

from __future__ import annotations

import json
import shlex

import judges
import pytest
import tlsprobe

LIVE = ("/etc/nginx/nginx.conf", "/etc/nginx/tlsward/https.conf", "/etc/nginx/tlsward/http.conf")
REQ = "GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"


@pytest.fixture(scope="module", autouse=True)
def restore_default_profile():
    yield
    tlsprobe.converge()


def _live_checksums(host) -> dict[str, str]:
    return {path: tlsprobe.file_sha256(host, path) for path in LIVE}


def _workers(host) -> set[str]:
    return set(host.check_output("pgrep --parent $(cat /run/nginx.pid) --exact nginx").split())


def test_rejected_candidate_never_goes_live(host, hostvars, address):
    before = _live_checksums(host)
    workers = _workers(host)
    proc = tlsprobe.converge(*tlsprobe.extra_vars(tlsward_groups="X25519:NoSuchGroup"), check=False)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "nginx -t rejected" in output
    assert hostvars["inventory_hostname"] in output
    assert "NoSuchGroup" in output
    assert "NoSuchGroup" in host.file("/etc/tlsward/nginx/staging/tlsward/https.conf").content_string
    assert _live_checksums(host) == before
    assert _workers(host) == workers, "nginx was reloaded"
    assert tlsprobe.request(host, address)["status"] == 200


def test_failed_reload_restores_previous_configuration(host, address):
    """nginx -t accepts a port another process holds (test mode ignores EADDRINUSE); the master
    then fails to bind it on reload and keeps its old workers. The role must notice, restore
    the saved files and leave nginx serving the previous configuration."""
    before = _live_checksums(host)
    blocker = "tlsward-port-blocker"
    host.check_output(
        f"systemd-run --unit {blocker} --quiet python3 -m http.server --bind {shlex.quote(address)} 8443"
    )
    try:
        host.check_output(
            "for i in $(seq 50); do ss -Hltn 'sport = :8443' | grep -q . && exit 0; sleep 0.1; done; exit 1"
        )
        proc = tlsprobe.converge(*tlsprobe.extra_vars(tlsward_https_port=8443), check=False)
        assert proc.returncode != 0
        assert "previous configuration was restored" in proc.stdout + proc.stderr
        assert _live_checksums(host) == before
        assert "listen " + address + ":443 ssl" in host.file("/etc/nginx/tlsward/https.conf").content_string
        assert tlsprobe.request(host, address)["status"] == 200
        assert "nginx" not in host.check_output("ss -Hltnp 'sport = :8443'")
    finally:
        host.run(f"systemctl stop {blocker}")


def test_broken_sandbox_dropin_is_rolled_back(host, hostvars, address):
    """A drop-in under which nginx cannot start (its logs read-only) must not stay: the role
    restores the previous drop-in and starts nginx again before it fails."""
    dropin = "/etc/systemd/system/nginx.service.d/tlsward-hardening.conf"
    before = tlsprobe.file_sha256(host, dropin)
    broken = tlsprobe.extra_vars(nginx_tls_unit_read_write_paths=["/var/lib/nginx"])
    proc = tlsprobe.converge(*broken, check=False)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "did not start under the sandbox drop-in" in output
    assert hostvars["inventory_hostname"] in output
    assert "nginx_tls_unit_read_write_paths" in output
    assert tlsprobe.file_sha256(host, dropin) == before
    assert host.file("/etc/systemd/system/nginx.service.d").listdir() == ["tlsward-hardening.conf"]
    assert host.service("nginx").is_running
    assert tlsprobe.request(host, address)["status"] == 200


@pytest.mark.parametrize("policy", ["mozilla-intermediate", "bsi-tr-02102-2"])
def test_profile_renders_and_passes_its_own_checks(host, address, policy):
    tlsprobe.converge(*tlsprobe.extra_vars(tlsward_policy=policy))
    profile = tlsprobe.profile(policy)
    values = tlsprobe.rendered(host, policy)
    conf = host.file("/etc/nginx/tlsward/https.conf").content_string
    assert f"rendered from profile {policy}" in conf
    assert f"ssl_protocols {values['ssl_protocols']};" in conf
    assert f"ssl_ecdh_curve {values['ssl_ecdh_curve']};" in conf
    assert f"ssl_prefer_server_ciphers {values['ssl_prefer_server_ciphers']};" in conf
    for proto in ("-tls1", "-tls1_1"):
        assert tlsprobe.handshake(host, address, proto, "-cipher", "DEFAULT:@SECLEVEL=0")["protocol"] is None
    # The test server key is ECDSA: the profile's RSA suites cannot be negotiated with it.
    ecdsa_suites = {c for c in profile["tls12_ciphers"] if "ECDSA" in c}
    assert tlsprobe.accepted_tls12_ciphers(host, address) == ecdsa_suites
    assert tlsprobe.accepted_tls13_suites(host, address) == set(profile["tls13_ciphersuites"])
    groups = values["ssl_ecdh_curve"].split(":")
    # brainpoolP*r1 are TLS 1.2-only code points; in TLS 1.2 a client must also offer the
    # certificate's curve (P-256 here), and this profile's server preference then picks P-256.
    reachable = {g for g in groups if g not in tlsprobe.TLS12_ONLY_GROUPS}
    assert tlsprobe.accepted_groups(host, address) == reachable
    if profile["mtls"]["required"]:
        assert "error" in tlsprobe.request(host, address, "--identity", "none")
    else:
        assert "ssl_verify_client optional;" in conf
        assert tlsprobe.request(host, address, "--identity", "none")["status"] == 200
    if not profile["session"]["tickets"]:
        assert "ssl_session_tickets off;" in conf
        assert host.file("/etc/tlsward/nginx/ticket-keys").listdir() == []
    scan = judges.sslyze_scan(address, 443)
    assert judges.sslyze_contradictions(scan, profile, groups) == []


def test_early_data_only_for_safe_methods(host, address):
    profile = tlsprobe.profile()
    profile["name"] = "biometric-strict-0rtt"
    profile["early_data"] = {"allowed": True}
    tlsprobe.converge(*tlsprobe.extra_vars(nginx_tls_policy=profile))
    conf = host.file("/etc/nginx/tlsward/https.conf").content_string
    assert "ssl_early_data on;" in conf
    sess = "/tmp/tlsward-0rtt.sess"
    tlsprobe.s_client(host, address, "-tls1_3", "-ign_eof", "-sess_out", sess, stdin=REQ)

    def early(method: str) -> str:
        body = f"{method} /v1/early HTTP/1.1\r\nHost: biometric.tlsward.test\r\nContent-Length: 0\r\n"
        body += "Connection: close\r\n\r\n"
        host.check_output(f"printf %s {shlex.quote(body)} > /tmp/tlsward-early.req")
        return tlsprobe.s_client(
            host, address, "-tls1_3", "-ign_eof", "-sess_in", sess, "-early_data", "/tmp/tlsward-early.req"
        ).stdout

    # nginx sets $ssl_early_data only while the handshake is still incomplete; when the client's
    # Finished arrives in the same read the request counts as a normal one. Hence a few bounded
    # attempts, and a rule every attempt must follow.
    seen_early_get = False
    for _ in range(5):
        out = early("GET")
        assert "Early data was accepted" in out
        echoed, _ = json.JSONDecoder().raw_decode(out[out.index('{"method"') :])
        if ["Early-Data", "1"] in echoed["headers"]:
            seen_early_get = True
            break
    assert seen_early_get, "no GET was ever served from early data"
    seen_425 = False
    for _ in range(5):
        out = early("POST")
        assert "Early data was accepted" in out
        if "HTTP/1.1 425" in out:
            assert '"error":"too_early"' in out
            seen_425 = True
            break
        # Processed after the handshake: then the service must not be told it was early data.
        echoed, _ = json.JSONDecoder().raw_decode(out[out.index('{"method"') :])
        assert ["Early-Data", "1"] not in echoed["headers"]
    assert seen_425, "a POST in early data was never refused with 425"
    plain = tlsprobe.request(host, address, "--path", "/v1/late")
    assert not any(name.lower() == "early-data" for name, _ in json.loads(plain["body"])["headers"])
