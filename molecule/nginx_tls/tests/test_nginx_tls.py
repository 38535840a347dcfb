"""The converged front end (profile biometric-strict): files, service and TLS behaviour."""

from __future__ import annotations

import json
import urllib.parse

import pytest
import tlsprobe

from tlsward.scan.hostchecks import EXPOSURE


def test_managed_files_and_modes(host):
    for path in ("/etc/nginx/nginx.conf", "/etc/nginx/tlsward/https.conf", "/etc/nginx/tlsward/http.conf"):
        f = host.file(path)
        assert f.user == "root"
        assert f.mode == 0o644
        assert "Ansible managed" in f.content_string
    keys = host.file("/etc/tlsward/nginx/ticket-keys")
    assert keys.is_directory
    assert keys.mode == 0o700
    names = keys.listdir()
    assert 1 <= len(names) <= tlsprobe.profile()["session"]["ticket_keys_kept"]
    for name in names:
        key = host.file(f"/etc/tlsward/nginx/ticket-keys/{name}")
        assert key.mode == 0o600
        assert key.size == 80
    assert not host.file("/etc/nginx/sites-enabled/default").exists
    assert not host.file("/usr/sbin/policy-rc.d").exists


def test_rendered_from_profile(host):
    values = tlsprobe.rendered(host)
    conf = host.file("/etc/nginx/tlsward/https.conf").content_string
    assert f"ssl_protocols {values['ssl_protocols']};" in conf
    assert f"ssl_ciphers {values['ssl_ciphers']};" in conf
    assert f"ssl_conf_command Ciphersuites {values['ciphersuites']};" in conf
    assert f"ssl_ecdh_curve {values['ssl_ecdh_curve']};" in conf
    assert values["ssl_ecdh_curve"].split(":")[0] in ("X25519MLKEM768", "X25519")
    assert "ssl_prefer_server_ciphers off;" in conf
    assert f'add_header Strict-Transport-Security "{values["hsts"]}" always;' in conf
    assert "ssl_verify_client on;" in conf
    assert f"ssl_verify_depth {values['verify_depth']};" in conf
    assert "ssl_early_data off;" in conf
    # The test certificate names no OCSP responder: stapling would only make nginx warn.
    assert "ssl_stapling" not in conf
    assert "server_tokens off;" in host.file("/etc/nginx/nginx.conf").content_string
    hybrid = "X25519MLKEM768" in values["ssl_ecdh_curve"]
    major_minor = tuple(int(x) for x in tlsprobe.openssl_version(host).split()[1].split(".")[:2])
    assert hybrid == (major_minor >= (3, 5))


def test_nginx_active_and_listening_only_on_its_address(host, address):
    service = host.service("nginx")
    assert service.is_running
    assert service.is_enabled
    assert host.run("nginx -t -q").rc == 0
    listeners = host.check_output("ss -Hltnp | grep nginx")
    ports = sorted(line.split()[3] for line in listeners.splitlines())
    assert ports == [f"{address}:443", f"{address}:80"]


# CAP_CHOWN (0), CAP_DAC_OVERRIDE (1), CAP_SETGID (6), CAP_SETUID (7), CAP_NET_BIND_SERVICE (10)
MASTER_CAPS = (1 << 0) | (1 << 1) | (1 << 6) | (1 << 7) | (1 << 10)


def test_nginx_runs_in_its_sandbox(host):
    dropin = host.file("/etc/systemd/system/nginx.service.d/tlsward-hardening.conf")
    assert (dropin.user, dropin.group, dropin.mode) == ("root", "root", 0o644)
    assert "ProtectSystem=strict" in dropin.content_string
    assert host.file("/etc/systemd/system/nginx.service.d").listdir() == ["tlsward-hardening.conf"]
    report = host.check_output("systemd-analyze security --no-pager nginx.service")
    level = float(EXPOSURE.search(report).group(2))
    assert level <= 5.0, report
    # The running master carries the drop-in's limits (it was started under it, not before it).
    master = host.check_output("cat /run/nginx.pid")
    status = host.file(f"/proc/{master}/status").content_string
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert int(fields["CapBnd"], 16) == MASTER_CAPS
    assert fields["NoNewPrivs"].strip() == "1"
    assert fields["Seccomp"].strip() == "2"
    # mountinfo: field 5 is the mount point, field 6 its options; the last entry wins.
    mounts = {}
    for line in host.file(f"/proc/{master}/mountinfo").content_string.splitlines():
        fields_ = line.split()
        mounts[fields_[4]] = fields_[5].split(",")
    assert "ro" in mounts["/"], mounts["/"]
    assert "rw" in mounts["/var/log/nginx"], mounts


@pytest.mark.parametrize("proto", ["-tls1", "-tls1_1"])
def test_old_protocols_refused(host, address, proto):
    result = tlsprobe.handshake(host, address, proto, "-cipher", "DEFAULT:@SECLEVEL=0")
    assert result["protocol"] is None, result["out"]


def test_tls13_and_tls12_negotiated(host, address):
    assert tlsprobe.handshake(host, address, "-tls1_3")["protocol"] == "TLSv1.3"
    assert tlsprobe.handshake(host, address, "-tls1_2")["protocol"] == "TLSv1.2"


def test_tls12_suites_are_exactly_the_profiles(host, address):
    accepted = tlsprobe.accepted_tls12_ciphers(host, address)
    assert accepted == set(tlsprobe.profile()["tls12_ciphers"])


@pytest.mark.parametrize("cipher", ["ECDHE-RSA-AES128-SHA", "AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA"])
def test_suites_outside_the_profile_refused(host, address, cipher):
    result = tlsprobe.handshake(host, address, "-tls1_2", "-cipher", f"{cipher}:@SECLEVEL=0")
    assert result["protocol"] is None


def test_tls13_suites_are_exactly_the_profiles(host, address):
    assert tlsprobe.accepted_tls13_suites(host, address) == set(tlsprobe.profile()["tls13_ciphersuites"])


def test_groups_as_rendered(host, address):
    groups = tlsprobe.rendered(host)["ssl_ecdh_curve"].split(":")
    assert tlsprobe.accepted_groups(host, address) == set(groups)
    # Default client offer: the first rendered group the client also prefers wins.
    assert tlsprobe.handshake(host, address, "-tls1_3")["group"] == groups[0]


def test_no_handshake_without_client_certificate(host, address):
    req = "GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
    for proto in ("-tls1_3", "-tls1_2"):
        out = tlsprobe.s_client(host, address, proto, "-ign_eof", cert=None, stdin=req).stdout
        assert "HTTP/1.1" not in out
        assert "alert" in out
    answer = tlsprobe.request(host, address, "--identity", "none")
    assert "error" in answer


def test_healthz_hsts_and_security_headers(host, address):
    answer = tlsprobe.request(host, address)
    assert answer["status"] == 200
    assert json.loads(answer["body"]) == {"status": "ok"}
    headers = answer["headers"]
    assert headers["strict-transport-security"] == [tlsprobe.rendered(host)["hsts"]]
    assert headers["x-content-type-options"] == ["nosniff"]
    assert headers["x-frame-options"] == ["DENY"]
    assert headers["server"] == ["nginx"]


def test_revoked_device_gets_json_495(host, address):
    answer = tlsprobe.request(host, address, "--identity", "device-revoked", "--path", "/v1/enroll")
    assert answer["status"] == 400
    assert json.loads(answer["body"])["status"] == 495
    assert answer["headers"]["content-type"] == ["application/json"]
    assert "strict-transport-security" in answer["headers"]


def test_plain_http_on_https_port_gets_json_497(host, address):
    answer = tlsprobe.request(host, address, "--plain")
    assert answer["status"] == 400
    assert json.loads(answer["body"])["status"] == 497


def test_unknown_path_is_json_404(host, address):
    answer = tlsprobe.request(host, address, "--path", "/admin")
    assert answer["status"] == 404
    assert json.loads(answer["body"])["error"] == "not_found"


def test_client_cannot_inject_identity_headers(host, address):
    answer = tlsprobe.request(
        host,
        address,
        "--path",
        "/v1/verify",
        "--header",
        "X-Client-Cert: forged",
        "--header",
        "x-client-verify: SUCCESS-forged",
        "--header",
        "X-Client-Subject: CN=forged",
        "--header",
        "X_Client_Cert: forged-underscore",
        "--header",
        "Early-Data: 1",
    )
    assert answer["status"] == 200
    seen = json.loads(answer["body"])["headers"]
    names = [name.lower() for name, _ in seen]
    values = dict((name.lower(), value) for name, value in seen)
    for name in ("x-client-cert", "x-client-verify", "x-client-subject"):
        assert names.count(name) == 1, seen
    assert "early-data" not in names
    assert not any("_" in name for name in names)
    assert values["x-client-verify"] == "SUCCESS"
    chain = f"{tlsprobe.CLIENT_DIR}/device-chain.pem"
    subject = host.check_output(f"openssl x509 -in {chain} -noout -subject -nameopt RFC2253")
    assert values["x-client-subject"] == subject.removeprefix("subject=")
    end = "-----END CERTIFICATE-----\n"
    leaf = host.file(f"{tlsprobe.CLIENT_DIR}/device-chain.pem").content_string.split(end)[0] + end
    assert urllib.parse.unquote(values["x-client-cert"]) == leaf
    assert "forged" not in answer["body"]


def test_request_size_limit(host, address):
    post = ("--method", "POST", "--path", "/v1/templates", "--body-size")
    ok = tlsprobe.request(host, address, *post, "200000")
    assert ok["status"] == 200
    assert json.loads(ok["body"])["body_length"] == 200000
    big = tlsprobe.request(host, address, *post, "300000")
    assert big["status"] == 413
    assert json.loads(big["body"])["error"] == "request_too_large"


def test_port_80_redirects_except_crl(host, address):
    redirect = tlsprobe.request(host, address, "--plain", "--port", "80", "--path", "/v1/x?a=1")
    assert redirect["status"] == 301
    assert redirect["headers"]["location"] == ["https://biometric.tlsward.test/v1/x?a=1"]
    published = sorted(n for n in host.file("/var/lib/tlsward/crl").listdir() if n.endswith(".crl"))
    assert published
    crl = tlsprobe.request(host, address, "--plain", "--port", "80", "--path", f"/crl/{published[0]}")
    assert crl["status"] == 200
    assert crl["headers"]["content-type"] == ["application/pkix-crl"]
    post = tlsprobe.request(host, address, "--plain", "--port", "80", "--method", "POST", "--path", "/crl/a")
    assert post["status"] == 403


def test_session_resumes_with_ticket(host, address):
    req = "GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
    sess = "/tmp/tlsward-single.sess"
    tlsprobe.s_client(host, address, "-tls1_3", "-ign_eof", "-sess_out", sess, stdin=req)
    again = tlsprobe.s_client(host, address, "-tls1_3", "-ign_eof", "-sess_in", sess, stdin=req).stdout
    assert "Reused, TLSv1.3" in again
