import hashlib
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from tlsward_biometric.errors import (
    ClientCertificateRejectedError,
    ClientCertificateRequiredError,
    OperatorRequiredError,
)
from tlsward_biometric.identity import identify, require_operator


def _lower(headers):
    return {k.lower(): v for k, v in headers.items()}


def test_device_id_is_sha256_of_der(certs):
    identity = identify(_lower(certs.device_a.headers()))
    assert identity.device_id == hashlib.sha256(certs.device_a.cert.public_bytes(Encoding.DER)).hexdigest()
    assert identity.subject == "OU=devices,CN=device-a"
    assert identity.ous == {"devices"}
    assert identify(_lower(certs.device_b.headers())).device_id != identity.device_id


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


def test_operator_by_fingerprint_or_ou(certs):
    operator = identify(_lower(certs.operator.headers()))
    device = identify(_lower(certs.device_a.headers()))
    require_operator(operator, set(), {"tlsward-operators"})
    require_operator(device, {certs.device_a.fingerprint}, set())
    with pytest.raises(OperatorRequiredError):
        require_operator(device, {certs.operator.fingerprint}, {"tlsward-operators"})
