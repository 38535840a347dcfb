"""What tls_pki leaves on every front end, and what nginx serves from it."""

from __future__ import annotations

import http.client
import json
import socket
import ssl

import pytest
from conftest import ROOT_CA, STORE, https_get, pem_certs, served_chain_pem
from cryptography import x509

SERVER = "/etc/tlsward/tls/server"


@pytest.mark.parametrize(
    ("path", "mode"),
    [
        (f"{SERVER}/current/fullchain.pem", 0o644),
        (f"{SERVER}/current/privkey.pem", 0o600),
        (f"{SERVER}/pins.json", 0o644),
        ("/etc/tlsward/tls/devices/ca.pem", 0o644),
        ("/etc/tlsward/tls/devices/crl.pem", 0o644),
        ("/var/lib/tlsward/crl/root.crl", 0o644),
        ("/var/lib/tlsward/crl/server-ca.crl", 0o644),
        ("/var/lib/tlsward/crl/device-ca.crl", 0o644),
    ],
)
def test_files_owner_and_mode(host, path, mode):
    f = host.file(path)
    assert f.is_file
    assert f.user == "root"
    assert f.group == "root"
    assert f.mode == mode


def test_contract_paths_point_at_the_live_pair(host):
    for name in ("fullchain.pem", "privkey.pem"):
        link = host.file(f"{SERVER}/{name}")
        assert link.is_symlink
        assert link.linked_to == host.file(f"{SERVER}/current/{name}").linked_to
    assert host.file(f"{SERVER}/current").linked_to.startswith(f"{SERVER}/releases/")
    assert host.file("/var/lib/tlsward/crl").mode == 0o755


def test_key_matches_certificate_and_never_world_readable(host):
    cert_pub = host.check_output(f"openssl x509 -noout -pubkey -in {SERVER}/fullchain.pem")
    key_pub = host.check_output(f"openssl pkey -pubout -in {SERVER}/privkey.pem")
    assert cert_pub == key_pub
    assert host.file(f"{SERVER}/privkey.pem").mode == 0o600


def test_device_trust_has_a_crl_for_every_ca(host):
    cas = [
        x509.load_pem_x509_certificate(p.encode())
        for p in pem_certs(host.file("/etc/tlsward/tls/devices/ca.pem").content_string)
    ]
    crl_text = host.file("/etc/tlsward/tls/devices/crl.pem").content_string
    crls = [
        x509.load_pem_x509_crl(("-----BEGIN X509 CRL-----" + block).encode())
        for block in crl_text.split("-----BEGIN X509 CRL-----")[1:]
    ]
    assert {c.subject for c in cas} == {c.issuer for c in crls}
    assert len(cas) == 2
    for crl in crls:
        issuer = next(c for c in cas if c.subject == crl.issuer)
        assert crl.is_signature_valid(issuer.public_key())
        assert crl.next_update_utc is not None


def test_served_chain_equals_deployed_chain(host, endpoint):
    address, name = endpoint
    deployed = pem_certs(host.file(f"{SERVER}/fullchain.pem").content_string)
    served = served_chain_pem(address, name)
    assert len(deployed) == 2
    assert served == deployed


def test_served_leaf_validates_against_root_with_host_name(endpoint):
    address, name = endpoint
    # the TLS 1.3 handshake completes before the server asks for the device certificate's
    # verdict, so the client-side verification of the server is observable without one
    ctx = ssl.create_default_context(cafile=str(ROOT_CA))
    with (
        socket.create_connection((address, 443), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname=name) as tls,
    ):
        assert tls.version() == "TLSv1.3"
        leaf = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert name in sans.get_values_for_type(x509.DNSName)
    other = ssl.create_default_context(cafile=str(ROOT_CA))
    with (
        socket.create_connection((address, 443), timeout=5) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        other.wrap_socket(raw, server_hostname="wrong.tlsward.test")


def test_certificate_carries_a_working_crl_distribution_point(host, endpoint):
    address, name = endpoint
    leaf = x509.load_pem_x509_certificate(host.file(f"{SERVER}/fullchain.pem").content)
    cdp = leaf.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    url = cdp[0].full_name[0].value
    assert url == f"http://{name}/crl/server-ca.crl"
    # fetch it the way a client would, from this host's plain-HTTP listener
    conn = http.client.HTTPConnection(address, 80, timeout=5)
    try:
        conn.request("GET", "/crl/server-ca.crl", headers={"Host": name})
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    assert resp.status == 200
    crl = x509.load_der_x509_crl(body)
    issuer = x509.load_pem_x509_certificate((STORE / "ca" / "server-ca.crt").read_bytes())
    assert crl.is_signature_valid(issuer.public_key())
    with pytest.raises(x509.ExtensionNotFound):
        leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess)


def test_pins_cover_current_and_backup_key(host, endpoint):
    _, name = endpoint
    pins = json.loads(host.file(f"{SERVER}/pins.json").content_string)
    assert pins["endpoint"] == name
    assert len(pins["pin-sha256"]) == 2
    current = host.check_output(
        f"openssl pkey -pubout -in {SERVER}/privkey.pem | openssl pkey -pubin -outform der"
        " | openssl dgst -sha256 -binary | base64"
    )
    assert pins["pin-sha256"][0] == current
    stored = json.loads((STORE / "pins" / f"{name}.json").read_text())
    assert stored["pin-sha256"] == pins["pin-sha256"]


def test_healthz_needs_a_device_certificate(endpoint):
    address, name = endpoint
    with pytest.raises((ssl.SSLError, ConnectionError)):
        https_get(address, name)
