"""Every preflight validator in one import (each lives in the module of its concern).

All of them take an inventory value and a ``policy`` (profile name, path or mapping), return the
normalised value and raise ``tlsward.errors.TlswardError`` listing every problem found.
The ``judge_*`` functions judge a single item with the same rules (used by the scanner).
"""

from __future__ import annotations

from tlsward.chain import judge_certificate, validate_ca_bundle, validate_cert_chain
from tlsward.groups import judge_group, validate_groups
from tlsward.pins import spki_pin, spki_pins
from tlsward.protocols import judge_protocol, validate_tls_protocols
from tlsward.suites import (
    judge_suite,
    judge_tls12_suite,
    judge_tls13_suite,
    validate_cipher_list,
    validate_tls13_ciphersuites,
)

__all__ = [
    "judge_certificate",
    "judge_group",
    "judge_protocol",
    "judge_suite",
    "judge_tls12_suite",
    "judge_tls13_suite",
    "spki_pin",
    "spki_pins",
    "validate_ca_bundle",
    "validate_cert_chain",
    "validate_cipher_list",
    "validate_groups",
    "validate_tls13_ciphersuites",
    "validate_tls_protocols",
]
