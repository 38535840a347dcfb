"""Options the tlsward filters share, documented once (extends_documentation_fragment)."""

from __future__ import annotations


class ModuleDocFragment:
    # The profile a validator judges against (tlsward.tls.policy).
    DOCUMENTATION = r"""
options:
  policy:
    description: Profile name, file path or mapping. Default - the default profile, C(biometric-strict).
    type: raw
"""

    # The profile a renderer reads (tlsward.tls.policy.profile_input).
    PROFILE_INPUT = r"""
options:
  _input:
    description: Profile name (e.g. C(biometric-strict)), path to a profile file, or a mapping.
    type: raw
    required: true
"""

    # The target's OpenSSL (tlsward.tls.policy.openssl_version).
    OPENSSL_VERSION = r"""
options:
  openssl_version:
    description:
      - Output of C(openssl version) on the target.
      - Groups with a C(min_openssl) in the profile are kept only when it is at least that version.
    type: str
"""

    # Inventory overrides (tlsward.tls.policy.overrides).
    OVERRIDES = r"""
options:
  overrides:
    description: Inventory overrides (protocols, tls12_ciphers, tls13_ciphersuites, groups).
    type: dict
"""

    # Certificate checks shared by the chain and bundle validators (tlsward.tls.policy.certificates).
    CERTIFICATES = r"""
options:
  min_days_left:
    description: >-
      Minimum days before expiry, for every certificate. Default - the profile's
      C(certificate.min_days_left).
    type: int
"""

    # A PEM input with an optional passphrase (tlsward.tls.policy.pem).
    PEM = r"""
options:
  _input:
    description: PEM text (certificate, CSR, public or private key).
    type: str
    required: true
  passphrase:
    description: Passphrase of an encrypted private key.
    type: str
"""
