"""Real nginx endpoints on loopback for the scanner's integration tests (127.0.2.0/24).

One hardened endpoint rendered from the profile with ``tlsward.policy.render_nginx`` and a set of
deliberately bad ones, each breaking one rule. Every endpoint is its own nginx master process
bound to its own 127.0.2.N address; ``start_all`` returns them running, ``stop_all`` ends them.
"""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import scan_pki as pki
from cryptography.hazmat.primitives.asymmetric import rsa

from tlsward.policy import render_nginx
from tlsward.scan import Identity, Target

PORT = 8443
SERVER_NAME = "bio.scan.test"
NGINX = "/usr/sbin/nginx"


@dataclass
class Pki:
    """Every certificate and key the endpoints and the scanner need, written under ``root``."""

    root: Path
    server_ca: Path  # trust anchor for the server chain (ca_file)
    device_ca: Path
    device_crl: Path
    device: tuple[Path, Path]
    # The same device with its CA after the leaf in the certificate file, as tls_pki issues device
    # identities (chain.pem: leaf + issuing CA).
    device_chain: tuple[Path, Path]
    revoked_device: tuple[Path, Path]
    unknown_device: tuple[Path, Path]
    chains: dict[str, tuple[Path, Path]] = field(default_factory=dict)


def build_pki(root: Path) -> Pki:
    root.mkdir(parents=True, exist_ok=True)
    now = pki.NOW
    ca = pki.issue("scan root CA", ca=True, path_length=1, not_after=now + 3650 * pki.DAY)
    inter = pki.issue(
        "scan intermediate CA", issuer=ca, ca=True, path_length=0, not_after=now + 1800 * pki.DAY
    )
    expired_inter = pki.issue(
        "scan expired intermediate CA",
        issuer=ca,
        ca=True,
        path_length=0,
        not_before=now - 400 * pki.DAY,
        not_after=now - 10 * pki.DAY,
    )
    (root / "server-ca.pem").write_bytes(pki.pem(ca.cert))

    def leaf(stem: str, chain_issuer: pki.Issued, **kwargs: Any) -> None:
        issued = pki.issue(SERVER_NAME, issuer=chain_issuer, sans=kwargs.pop("sans", [SERVER_NAME]), **kwargs)
        out.chains[stem] = pki.write_pair(root, stem, [issued.cert, chain_issuer.cert], issued.key)

    dev_ca = pki.issue("scan device CA", ca=True, path_length=0, not_after=now + 3650 * pki.DAY)
    dev_ok = pki.issue("device-0001", issuer=dev_ca, client=True)
    dev_revoked = pki.issue("device-0002", issuer=dev_ca, client=True)
    other_ca = pki.issue("unknown device CA", ca=True, path_length=0)
    dev_unknown = pki.issue("device-0003", issuer=other_ca, client=True)
    (root / "device-ca.pem").write_bytes(pki.pem(dev_ca.cert))
    (root / "device-crl.pem").write_bytes(
        pki.crl_for(dev_ca, [dev_revoked.cert]).public_bytes(pki.serialization.Encoding.PEM)
    )
    out = Pki(
        root=root,
        server_ca=root / "server-ca.pem",
        device_ca=root / "device-ca.pem",
        device_crl=root / "device-crl.pem",
        device=pki.write_pair(root, "device", [dev_ok.cert], dev_ok.key),
        device_chain=pki.write_pair(root, "device-chain", [dev_ok.cert, dev_ca.cert], dev_ok.key),
        revoked_device=pki.write_pair(root, "device-revoked", [dev_revoked.cert], dev_revoked.key),
        unknown_device=pki.write_pair(root, "device-unknown", [dev_unknown.cert], dev_unknown.key),
    )
    leaf("good", inter)
    leaf("rsa", inter, key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    leaf("expired-leaf", inter, not_before=now - 60 * pki.DAY, not_after=now - 2 * pki.DAY)
    leaf("expired-intermediate", expired_inter, not_before=now - 30 * pki.DAY)
    leaf("expiring-soon", inter, not_before=now - 70 * pki.DAY, not_after=now + 10 * pki.DAY)
    leaf("long-lived", inter, not_after=now + 397 * pki.DAY)
    leaf("wildcard", inter, sans=["*.scan.test"])
    self_signed = pki.issue(SERVER_NAME, sans=[SERVER_NAME])
    out.chains["self-signed"] = pki.write_pair(root, "self-signed", [self_signed.cert], self_signed.key)
    return out


def hardened_values(openssl_version: str) -> dict[str, Any]:
    """What the nginx_tls templates write for the default profile on this machine's OpenSSL."""
    return render_nginx("biometric-strict", openssl_version=openssl_version)


@dataclass
class Endpoint:
    name: str
    address: str
    chain: str = "good"
    environment: str = "test"
    # Changes applied on top of the hardened values from the profile.
    overrides: dict[str, Any] = field(default_factory=dict)
    # Failed finding ids the scanner must report for this endpoint, exactly.
    expect_failed: set[str] = field(default_factory=set)
    # Failed ids that may or may not appear, with the reason in a comment at the endpoint.
    may_fail: set[str] = field(default_factory=set)
    process: subprocess.Popen[bytes] | None = None
    directory: Path | None = None

    @property
    def port(self) -> int:
        return PORT


def endpoints() -> list[Endpoint]:
    """The hardened endpoint and one deliberately bad endpoint per rule."""
    tls10_ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"
    return [
        Endpoint("hardened", "127.0.2.10"),
        # What the nginx_tls role deploys: no handshake at all without a client certificate.
        Endpoint("hardened_require", "127.0.2.26", overrides={"verify_mode_require": True}),
        Endpoint(
            "tls1_0",
            "127.0.2.11",
            overrides={"ssl_protocols": "TLSv1 TLSv1.2 TLSv1.3", "ssl_ciphers": tls10_ciphers},
            expect_failed={
                "protocol.tls1_0",
                "cipher.tls1_0.not_in_policy",
                "cipher.tls1_2.not_in_policy",
                "cipher.aead",
            },
        ),
        Endpoint(
            "rsa_kex",
            "127.0.2.12",
            chain="rsa",
            # No SignatureAlgorithms: the profile's ECDSA-only list leaves an RSA key nothing to
            # sign with, and OpenSSL's default list signs with RSA-PSS and PKCS#1 v1.5 schemes.
            overrides={
                "ssl_ciphers": "ECDHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256",
                "signature_algorithms": "",
            },
            expect_failed={
                "cipher.tls1_2.not_in_policy",
                "cipher.forward_secrecy",
                "cert.key_type",
                "tls.signature_algorithms",
            },
            # sslyze's ROBOT probe cannot answer the server's CertificateRequest (sslyze issue 484):
            # against nginx with client certificates it completes on some runs and errors on
            # others. An error is reported as undecided (not passed), a completion as passed.
            may_fail={"vuln.robot"},
        ),
        Endpoint(
            "cbc",
            "127.0.2.13",
            overrides={"ssl_ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256"},
            expect_failed={"cipher.tls1_2.not_in_policy", "cipher.aead"},
        ),
        Endpoint(
            "expired_leaf",
            "127.0.2.14",
            chain="expired-leaf",
            expect_failed={"cert.chain.expired", "cert.chain.trusted"},
        ),
        Endpoint(
            "expired_intermediate",
            "127.0.2.15",
            chain="expired-intermediate",
            expect_failed={"cert.chain.expired", "cert.chain.trusted"},
        ),
        Endpoint(
            "self_signed",
            "127.0.2.16",
            chain="self-signed",
            expect_failed={"cert.chain.trusted", "cert.chain.self_signed"},
        ),
        Endpoint(
            "wildcard",
            "127.0.2.17",
            chain="wildcard",
            environment="production",
            expect_failed={"cert.wildcard"},
        ),
        Endpoint(
            "mtls_optional",
            "127.0.2.18",
            overrides={"ssl_verify_client": "optional"},
            expect_failed={"mtls.no_client_cert_refused"},
        ),
        # These two are also the compliance run's deployed front ends (test_compliance_playbook.py):
        # as the nginx_tls role deploys them (VerifyMode Require), each with one rule broken.
        Endpoint(
            "no_hsts",
            "127.0.2.19",
            overrides={"hsts": "", "verify_mode_require": True},
            expect_failed={"hsts.present"},
        ),
        Endpoint(
            "server_tokens",
            "127.0.2.20",
            overrides={"server_tokens": "on", "verify_mode_require": True},
            expect_failed={"http.server_tokens"},
        ),
        Endpoint(
            "no_crl",
            "127.0.2.21",
            overrides={"ssl_crl": False},
            expect_failed={"mtls.revoked_refused"},
        ),
        Endpoint(
            "early_data",
            "127.0.2.22",
            overrides={"early_data": True},
            # It answers 200 to everything, a POST sent as early data included.
            expect_failed={"early_data.state", "early_data.unsafe_method_refused"},
        ),
        Endpoint(
            "expiring_soon",
            "127.0.2.23",
            chain="expiring-soon",
            expect_failed={"cert.chain.expiring_soon"},
        ),
        Endpoint(
            "long_lived",
            "127.0.2.24",
            chain="long-lived",
            # A private CA's leaf: the lifetime calendar holds it to the profile's maximum too.
            expect_failed={"cert.lifetime", "cert.lifetime_calendar"},
        ),
        Endpoint(
            "weak_hsts",
            "127.0.2.25",
            overrides={"hsts": "max-age=300"},
            expect_failed={"hsts.max_age", "hsts.include_subdomains"},
        ),
    ]


def target_for(ep: Endpoint, material: Pki, **changes: Any) -> Target:
    """The scan target for ``ep`` with the test PKI's identities (``changes`` replace fields)."""
    values: dict[str, Any] = {
        "host": ep.address,
        "port": ep.port,
        "server_name": SERVER_NAME,
        "name": ep.name,
        "policy": "biometric-strict",
        "environment": ep.environment,
        "ca_file": material.server_ca,
        "client": Identity(*material.device),
        "revoked_client": Identity(*material.revoked_device),
        "unknown_ca_client": Identity(*material.unknown_device),
    }
    values.update(changes)
    return Target(**values)


def render_config(ep: Endpoint, material: Pki, openssl_version: str) -> str:
    values = {
        **hardened_values(openssl_version),
        "server_tokens": "off",
        "ssl_verify_client": "on",
        "ssl_crl": True,
        "verify_mode_require": False,
        **ep.overrides,
    }
    directory = ep.directory
    assert directory is not None
    cert, key = material.chains[ep.chain]
    lines = [
        "worker_processes 1;",
        f"pid {directory}/nginx.pid;",
        f"error_log {directory}/error.log warn;",
        "events { worker_connections 128; }",
        "http {",
        "  access_log off;",
        *(
            f"  {kind}_temp_path {directory}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        ),
        f"  server_tokens {values['server_tokens']};",
        "  server {",
        f"    listen {ep.address}:{PORT} ssl;",
        f"    server_name {SERVER_NAME};",
        f"    ssl_certificate {cert};",
        f"    ssl_certificate_key {key};",
        f"    ssl_protocols {values['ssl_protocols']};",
        f"    ssl_ciphers {values['ssl_ciphers']};",
        f"    ssl_conf_command Ciphersuites {values['ciphersuites']};",
        f"    ssl_ecdh_curve {values['ssl_ecdh_curve']};",
        *(
            [f"    ssl_conf_command SignatureAlgorithms {values['signature_algorithms']};"]
            if values["signature_algorithms"]
            else []
        ),
        f"    ssl_prefer_server_ciphers {values['ssl_prefer_server_ciphers']};",
        f"    ssl_session_cache shared:scan_{ep.name}:1m;",
        f"    ssl_session_timeout {values['session_timeout_seconds']}s;",
        f"    ssl_session_tickets {'on' if values['session_tickets'] else 'off'};",
        f"    ssl_early_data {'on' if values['early_data'] else 'off'};",
        f"    ssl_client_certificate {material.device_ca};",
        f"    ssl_verify_client {values['ssl_verify_client']};",
        f"    ssl_verify_depth {values['verify_depth']};",
    ]
    if values["verify_mode_require"]:
        lines.append("    ssl_conf_command VerifyMode Require;")
    if values["ssl_crl"]:
        lines.append(f"    ssl_crl {material.device_crl};")
    if values["hsts"]:
        lines.append(f'    add_header Strict-Transport-Security "{values["hsts"]}" always;')
    lines += [
        "    location / {",
        "      default_type text/plain;",
        '      return 200 "ok\\n";',
        "    }",
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def openssl_version() -> str:
    return subprocess.run(["openssl", "version"], check=True, capture_output=True, text=True).stdout


def _wait_listening(address: str, port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx for {address} exited with {process.returncode}")
        try:
            with socket.create_connection((address, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nginx on {address}:{port} did not start listening in {timeout} s")


def start_all(base: Path, material: Pki, selected: list[Endpoint] | None = None) -> list[Endpoint]:
    version = openssl_version()
    started: list[Endpoint] = []
    try:
        for ep in selected or endpoints():
            ep.directory = base / ep.name
            ep.directory.mkdir(parents=True, exist_ok=True)
            conf = ep.directory / "nginx.conf"
            conf.write_text(render_config(ep, material, version), encoding="utf-8")
            check = subprocess.run(
                [
                    NGINX,
                    "-t",
                    "-q",
                    "-p",
                    str(ep.directory),
                    "-e",
                    str(ep.directory / "error.log"),
                    "-c",
                    str(conf),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if check.returncode != 0:
                raise RuntimeError(f"nginx -t for {ep.name} failed: {check.stderr}")
            ep.process = subprocess.Popen(
                [
                    NGINX,
                    "-p",
                    str(ep.directory),
                    "-e",
                    str(ep.directory / "error.log"),
                    "-c",
                    str(conf),
                    "-g",
                    "daemon off;",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            started.append(ep)
        for ep in started:
            assert ep.process is not None
            _wait_listening(ep.address, PORT, ep.process)
    except BaseException:
        stop_all(started)
        raise
    return started


def stop_all(started: list[Endpoint]) -> None:
    for ep in started:
        if ep.process and ep.process.poll() is None:
            ep.process.terminate()
    for ep in started:
        if ep.process:
            try:
                ep.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                ep.process.kill()
                ep.process.wait(timeout=5)
            if ep.process.stderr:
                ep.process.stderr.close()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
