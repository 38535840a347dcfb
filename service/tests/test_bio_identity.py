"""The device identity comes from the certificate's URI subjectAltNames, not from its fingerprint."""

from urllib.parse import quote

import pytest
from bio_helpers import identity_uris
from cryptography.hazmat.primitives.asymmetric import ec
from tlsward_biometric.errors import (
    ClientCertificateRejectedError,
    ClientCertificateRequiredError,
    DeviceIdentityError,
)
from tlsward_biometric.identity import Role, identify


def _lower(headers):
    return {k.lower(): v for k, v in headers.items()}


def test_identity_is_the_uri_sans_and_the_fingerprint_is_the_credential(certs):
    identity = identify(_lower(certs.device_a.headers()))
    assert (identity.device_id, identity.role, identity.group) == ("device-a", Role.ENROLLER, "site-a")
    assert identity.fingerprint == certs.device_a.fingerprint
    assert identity.subject == "CN=device-a"


def test_renewed_and_rekeyed_certificate_keeps_the_device_id(certs):
    uris = identity_uris("kiosk-7", "verifier", "site-a")
    first = certs.ca.raw("kiosk-7", uris)
    renewed = certs.ca.raw("kiosk-7", uris, key=ec.generate_private_key(ec.SECP384R1()))
    one, two = identify(_lower(first.headers())), identify(_lower(renewed.headers()))
    assert one.device_id == two.device_id == "kiosk-7"
    assert one.fingerprint != two.fingerprint


def test_spiffe_style_uri_next_to_the_identity_is_ignored(certs):
    cert = certs.ca.raw("x", ["spiffe://tlsward.test/kiosk", *identity_uris("kiosk-8", "monitor", "ops")])
    assert identify(_lower(cert.headers())).role is Role.MONITOR


@pytest.mark.parametrize(
    ("uris", "fragment"),
    [
        (None, "has no subjectAltName"),
        (["urn:tlsward:role:verifier", "urn:tlsward:group:g"], "no urn:tlsward:device:"),
        (["urn:tlsward:device:d", "urn:tlsward:group:g"], "no urn:tlsward:role:"),
        (["urn:tlsward:device:d", "urn:tlsward:role:verifier"], "no urn:tlsward:group:"),
        (identity_uris("d", "admin", "g"), "role 'admin' is not one of enroller, verifier"),
        ([*identity_uris("d", "verifier", "g"), "urn:tlsward:role:operator"], "has 2 urn:tlsward:role:"),
        (identity_uris("d/../x", "verifier", "g"), "id 'd/../x' is not a valid name"),
        (identity_uris("d", "verifier", ""), "group '' is not a valid name"),
    ],
)
def test_certificate_without_a_usable_identity_is_403(certs, uris, fragment):
    cert = certs.ca.raw("device", uris)
    with pytest.raises(DeviceIdentityError) as excinfo:
        identify(_lower(cert.headers()))
    assert excinfo.value.status == 403
    assert fragment in excinfo.value.detail


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-client-verify": "NONE"},
        {"x-client-verify": "SUCCESS"},
        {"x-client-verify": "SUCCESS", "x-client-cert": ""},
    ],
)
def test_missing_certificate_is_401(headers):
    with pytest.raises(ClientCertificateRequiredError):
        identify(headers)


def test_failed_or_garbled_certificate_is_403(certs):
    with pytest.raises(ClientCertificateRejectedError):
        identify(_lower(certs.device_a.headers(verify="FAILED:certificate has expired")))
    with pytest.raises(ClientCertificateRejectedError):
        identify(
            {"x-client-verify": "SUCCESS", "x-client-cert": quote("-----BEGIN CERTIFICATE-----\nAAAA\n")}
        )
    with pytest.raises(ClientCertificateRejectedError):
        identify({"x-client-verify": "SUCCESS", "x-client-cert": "x" * 20000})
