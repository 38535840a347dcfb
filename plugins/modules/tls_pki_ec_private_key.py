#!/usr/bin/python
"""Generate an ECDSA private key and return it as PEM (optionally passphrase-encrypted).

Why not community.crypto.openssl_privatekey(_pipe): community.crypto 3.0.5, the version bundled
with ansible 12.3.0, looks curves up in ``cryptography...ec.__dict__``; since cryptography
46.0.5 that module is wrapped for deprecation warnings, the lookup finds nothing and every EC
key generation fails with "Your cryptography version does not support SECP256R1"
(community.crypto PR 981 fixes it). Everything else (CSRs, signing, CRLs, parsing) still goes
through community.crypto; replace this module by openssl_privatekey_pipe once the bundled
collection carries the fix.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: tls_pki_ec_private_key
short_description: Generate an ECDSA private key (PEM, PKCS#8)
description:
  - Returns a new ECDSA private key in PKCS#8 PEM, encrypted with the best available cipher
    when O(passphrase) is given. Nothing is written; the caller stores the key.
  - Stand-in for community.crypto.openssl_privatekey_pipe while the bundled community.crypto
    cannot generate EC keys with cryptography 46.0.5 or later.
options:
  curve:
    description: Curve name.
    type: str
    choices: [secp256r1, secp384r1]
    default: secp256r1
  passphrase:
    description: Encrypt the key with this passphrase.
    type: str
author:
  - tlsward maintainers (@tlsward)
"""

EXAMPLES = r"""
- name: Generate a P-384 CA key
  tls_pki_ec_private_key:
    curve: secp384r1
    passphrase: "{{ tls_pki_ca_passphrase }}"
  register: ca_key
  no_log: true
"""

RETURN = r"""
privatekey:
  description: The key, PEM (PKCS#8).
  type: str
  returned: success
"""

from ansible.module_utils.basic import AnsibleModule

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

CURVES = {"secp256r1": "SECP256R1", "secp384r1": "SECP384R1"}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "curve": {"type": "str", "choices": sorted(CURVES), "default": "secp256r1"},
            "passphrase": {"type": "str", "no_log": True},
        },
        supports_check_mode=True,
    )
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg="tls_pki_ec_private_key needs the cryptography library on the controller")
    curve = getattr(ec, CURVES[module.params["curve"]])()
    key = ec.generate_private_key(curve)
    passphrase = module.params["passphrase"]
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
        if passphrase
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    module.exit_json(changed=True, privatekey=pem.decode("ascii"))


if __name__ == "__main__":
    main()
