#!/usr/bin/python
"""Sign a device's certificate signing request with the device issuing CA, the CA deciding every
field: subject, subjectAltNames (device id, role, group), key usage, EKU, CRL distribution point
and lifetime. From the CSR only the public key is taken, after its signature proves the requester
holds the private key.

Why not community.crypto.x509_certificate(_pipe) with provider ownca: it copies the CSR's subject
and every extension the CSR asks for into the certificate, so a device could ask for another
device's id, another role or a CA certificate. The CSR is still parsed by community.crypto's
openssl_csr_info in the role (for the report); the certificate is built here.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: tls_pki_device_certificate
short_description: Issue a device certificate for the public key of a CSR, with the CA's own content
description:
  - Checks the CSR's signature (proof of possession of the private key) and its key type, then
    returns a certificate for the CSR's public key whose subject, subjectAltNames, key usage,
    extended key usage, CRL distribution point and lifetime are set by the options, whatever the
    CSR asked for. Nothing is written; the caller stores the certificate.
options:
  csr:
    description: The device's certificate signing request, PEM.
    type: str
    required: true
  ca_certificate:
    description: Path of the issuing CA certificate (PEM).
    type: path
    required: true
  ca_privatekey:
    description: Path of the issuing CA private key (PEM).
    type: path
    required: true
  ca_passphrase:
    description: Passphrase of the CA private key.
    type: str
  organization:
    description: organizationName of the subject.
    type: str
    required: true
  device_id:
    description: The device id (commonName, and URI SAN urn:tlsward:device:<id>).
    type: str
    required: true
  device_role:
    description: The device's role (URI SAN urn:tlsward:role:<role>).
    type: str
    required: true
    choices: [enroller, verifier, operator, monitor]
  device_group:
    description: The device's group (URI SAN urn:tlsward:group:<group>).
    type: str
    required: true
  days:
    description: Lifetime in days from now.
    type: int
    required: true
  crl_url:
    description: CRL distribution point URI.
    type: str
    required: true
author:
  - tlsward maintainers (@tlsward)
"""

EXAMPLES = r"""
- name: Sign the device's CSR
  tls_pki_device_certificate:
    csr: "{{ lookup('ansible.builtin.file', csr_file) }}"
    ca_certificate: "{{ store }}/ca/device-ca.crt"
    ca_privatekey: "{{ store }}/ca/device-ca.key"
    ca_passphrase: "{{ tls_pki_ca_passphrase }}"
    organization: tlsward
    device_id: kiosk-0042
    device_role: verifier
    device_group: site-a
    days: 90
    crl_url: http://bio.example.test/crl/device-ca.crl
  register: signed
"""

RETURN = r"""
certificate:
  description: The certificate, PEM.
  type: str
  returned: success
requested_subject:
  description: The subject the CSR asked for (RFC 4514), for the record; it is not used.
  type: str
  returned: success
"""

import datetime

from ansible.module_utils.basic import AnsibleModule

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

ROLES = ["enroller", "verifier", "operator", "monitor"]
EC_CURVES = ("secp256r1", "secp384r1")
RSA_MIN_BITS = 2048


def _key_problem(public_key: object) -> str | None:
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in EC_CURVES:
            return f"EC curve {public_key.curve.name} (allowed: {', '.join(EC_CURVES)})"
        return None
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < RSA_MIN_BITS:
            return f"RSA {public_key.key_size} bits (at least {RSA_MIN_BITS})"
        return None
    return f"{type(public_key).__name__} keys are not accepted"


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "csr": {"type": "str", "required": True},
            "ca_certificate": {"type": "path", "required": True},
            "ca_privatekey": {"type": "path", "required": True},
            "ca_passphrase": {"type": "str", "no_log": True},
            "organization": {"type": "str", "required": True},
            "device_id": {"type": "str", "required": True},
            "device_role": {"type": "str", "required": True, "choices": ROLES},
            "device_group": {"type": "str", "required": True},
            "days": {"type": "int", "required": True},
            "crl_url": {"type": "str", "required": True},
        },
        supports_check_mode=False,
    )
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg="tls_pki_device_certificate needs the cryptography library on the controller")
    params = module.params
    try:
        csr = x509.load_pem_x509_csr(params["csr"].encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        module.fail_json(msg=f"the CSR is not a PEM certificate signing request: {exc}")
    if not csr.is_signature_valid:
        module.fail_json(msg="the CSR's signature does not verify: it was not signed by the key it carries")
    public_key = csr.public_key()
    problem = _key_problem(public_key)
    if problem:
        module.fail_json(msg=f"the CSR's key is refused: {problem}")
    with open(params["ca_certificate"], "rb") as handle:
        ca_cert = x509.load_pem_x509_certificate(handle.read())
    passphrase = params["ca_passphrase"]
    with open(params["ca_privatekey"], "rb") as handle:
        ca_key = serialization.load_pem_private_key(
            handle.read(), password=passphrase.encode("utf-8") if passphrase else None
        )
    now = datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017 - modules run on Python < 3.11 too
    device_id = params["device_id"]
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, params["organization"]),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "devices"),
            x509.NameAttribute(NameOID.COMMON_NAME, device_id),
        ]
    )
    uris = [
        f"urn:tlsward:device:{device_id}",
        f"urn:tlsward:role:{params['device_role']}",
        f"urn:tlsward:group:{params['device_group']}",
    ]
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=params["days"]))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri) for uri in uris]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(params["crl_url"])],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
    )
    certificate = builder.sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    module.exit_json(
        changed=True,
        certificate=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        requested_subject=csr.subject.rfc4514_string(),
    )


if __name__ == "__main__":
    main()
