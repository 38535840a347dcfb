"""The system OpenSSL defaults on the host are the profile's, and they hold in real handshakes."""

from __future__ import annotations

import shlex
import time

import pytest

from tlsward.policy import render_openssl

ADDR = "127.0.1.3"
PORT = 4433
# A deliberately permissive configuration for the test server only: it proves the client side
# refuses old protocols because of the system policy, not because the server cannot speak them.
PERMISSIVE = (
    "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sd\n"
    "[sd]\nMinProtocol = TLSv1\nCipherString = ALL:@SECLEVEL=0\n"
)


def _version(host) -> str:
    return host.check_output("openssl version")


@pytest.fixture(scope="module")
def tls11_server(host):
    host.run_expect([0], f"printf {shlex.quote(PERMISSIVE)} > /tmp/permissive.cnf")
    host.run_expect(
        [0],
        "OPENSSL_CONF=/tmp/permissive.cnf openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
        "-subj /CN=test -keyout /tmp/srv.key -out /tmp/srv.pem 2>/dev/null",
    )
    host.run_expect(
        [0],
        f"OPENSSL_CONF=/tmp/permissive.cnf nohup openssl s_server -accept {ADDR}:{PORT} -www "
        "-cert /tmp/srv.pem -key /tmp/srv.key -tls1_1 -cipher ALL:@SECLEVEL=0 "
        ">/tmp/s_server.log 2>&1 & echo $! > /tmp/s_server.pid",
    )
    for _ in range(50):
        if host.run(f"ss -ltn | grep -q '{ADDR}:{PORT}'").rc == 0:
            break
        time.sleep(0.1)
    yield
    host.run("kill $(cat /tmp/s_server.pid)")


def test_fragment_rendered_from_profile(host):
    expected = render_openssl("biometric-strict", _version(host))
    fragment = host.file("/etc/ssl/tlsward/system-default.cnf")
    assert fragment.user == "root"
    assert fragment.mode == 0o644
    for key, value in expected.items():
        assert f"{key} = {value}" in fragment.content_string


def test_openssl_cnf_links_the_policy(host):
    content = host.file("/etc/ssl/openssl.cnf").content_string
    assert ".include /etc/ssl/tlsward/system-default.cnf" in content
    assert "ssl_conf = tlsward_ssl_sect" in content


def test_default_context_gets_only_profile_suites(host):
    expected = render_openssl("biometric-strict", _version(host))
    assert host.check_output("openssl ciphers -s -tls1_2") == expected["CipherString"]
    assert host.check_output("openssl ciphers -s -tls1_3") == expected["Ciphersuites"]


def test_tls11_refused_by_system_policy(host, tls11_server):
    # Control: with the permissive configuration the same client completes a TLS 1.1 handshake,
    # so the refusal below is the system policy's doing.
    control = host.run(
        f"OPENSSL_CONF=/tmp/permissive.cnf openssl s_client -connect {ADDR}:{PORT} -tls1_1 "
        "-cipher ALL:@SECLEVEL=0 </dev/null"
    )
    assert control.rc == 0, control.stdout + control.stderr
    assert "Protocol  : TLSv1.1" in control.stdout or "TLSv1.1" in control.stdout
    refused = host.run(f"openssl s_client -connect {ADDR}:{PORT} -tls1_1 </dev/null")
    assert refused.rc != 0
    assert "Cipher is (NONE)" in refused.stdout or "no protocols available" in refused.stderr


def test_tls12_client_offers_only_policy_groups(host):
    version = _version(host)
    groups = render_openssl("biometric-strict", version)["Groups"].split(":")
    assert groups[0] in ("X25519MLKEM768", "X25519")
    if "OpenSSL 3.5" in version:
        assert groups[0] == "X25519MLKEM768"
    else:
        assert "X25519MLKEM768" not in groups
