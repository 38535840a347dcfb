"""Fleet of three front ends converged with playbooks/frontend.yml."""

from __future__ import annotations

import tlsprobe

REQ = "GET /healthz HTTP/1.1\\r\\nHost: biometric.tlsward.test\\r\\nConnection: close\\r\\n\\r\\n"
KEYS = "/etc/tlsward/nginx/ticket-keys"
ONE_BATCH = tlsprobe.extra_vars(tlsward_frontend_serial=3)


def _keys(host) -> dict[str, str]:
    return {name: tlsprobe.file_sha256(host, f"{KEYS}/{name}") for name in sorted(host.file(KEYS).listdir())}


def _new_session(client, address: str, path: str, proto: str = "-tls1_3") -> None:
    out = tlsprobe.s_client(client, address, proto, "-ign_eof", "-sess_out", path, stdin=REQ).stdout
    assert "New, TLSv1" in out
    assert "HTTP/1.1 200" in out


def _resumes(client, address: str, path: str, proto: str = "-tls1_3") -> bool:
    out = tlsprobe.s_client(client, address, proto, "-ign_eof", "-sess_in", path, stdin=REQ).stdout
    assert "HTTP/1.1 200" in out, out
    return "Reused, TLSv1" in out


def _rotate() -> None:
    rotate = tlsprobe.extra_vars(nginx_tls_ticket_key_rotate_now=True)
    tlsprobe.converge(*ONE_BATCH, *rotate, "--tags", "nginx_tls_tickets")


def test_every_host_serves_with_the_same_ticket_keys(fleet, addresses):
    keysets = [_keys(h) for h in fleet]
    assert keysets[0]
    assert keysets[0] == keysets[1] == keysets[2]
    for host, address in zip(fleet, addresses, strict=True):
        assert host.service("nginx").is_running
        conf = host.file("/etc/nginx/tlsward/https.conf").content_string
        assert f"listen {address}:443 ssl" in conf
        assert "0.0.0.0" not in conf


def test_ticket_from_host_1_resumes_on_hosts_2_and_3(client, addresses):
    for proto in ("-tls1_3", "-tls1_2"):
        path = f"/tmp/fleet{proto}.sess"
        _new_session(client, addresses[0], path, proto)
        assert _resumes(client, addresses[1], path, proto), proto
        assert _resumes(client, addresses[2], path, proto), proto


def test_rotation_keeps_previous_keys_and_retires_old_ones(fleet, client, addresses):
    kept = tlsprobe.profile()["session"]["ticket_keys_kept"]
    _new_session(client, addresses[0], "/tmp/fleet-k0.sess")
    first = set(_keys(fleet[0]))
    _rotate()
    after_one = _keys(fleet[0])
    assert len(after_one) == min(len(first) + 1, kept)
    assert all(_keys(h) == after_one for h in fleet[1:])
    newest = max(after_one, key=lambda n: int(n.split(".")[0]))
    conf = fleet[1].file("/etc/nginx/tlsward/https.conf").content_string
    assert conf.index(newest) < min(conf.index(n) for n in after_one if n != newest)
    # A session under the previous key still resumes, on another host.
    assert _resumes(client, addresses[1], "/tmp/fleet-k0.sess")
    _new_session(client, addresses[2], "/tmp/fleet-k1.sess")
    # Rotate until the key of the first session falls out of the kept set.
    for _ in range(kept - 1):
        _rotate()
    keys_now = set(_keys(fleet[0]))
    assert len(keys_now) == kept
    assert not keys_now & first, "the first session's key should be retired"
    for host in fleet:
        assert set(_keys(host)) == keys_now
    assert not _resumes(client, addresses[1], "/tmp/fleet-k0.sess")
    assert not _resumes(client, addresses[2], "/tmp/fleet-k0.sess")
    assert _resumes(client, addresses[0], "/tmp/fleet-k1.sess")
    assert _resumes(client, addresses[1], "/tmp/fleet-k1.sess")


def test_failed_candidate_stops_the_rollout(fleet, client, addresses):
    """Every host stages and tests its candidate before any goes live: a candidate nginx rejects
    on host 1 stops the run before hosts 2 and 3 get their (otherwise valid) change."""
    before = [tlsprobe.file_sha256(h, "/etc/nginx/nginx.conf") for h in fleet]
    canary = fleet[0].backend.name
    broken = "{{ 'X25519:NoSuchGroup' if inventory_hostname == '" + canary + "' else '' }}"
    proc = tlsprobe.converge(
        *tlsprobe.extra_vars(tlsward_groups=broken, nginx_tls_client_max_body_size="128k"), check=False
    )
    assert proc.returncode != 0
    assert "nginx -t rejected" in proc.stdout + proc.stderr
    assert [tlsprobe.file_sha256(h, "/etc/nginx/nginx.conf") for h in fleet] == before
    for address in addresses:
        assert tlsprobe.request(client, address)["status"] == 200
