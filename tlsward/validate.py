"""Every preflight validator in one import (each lives in the module of its concern).

All of them take an inventory value and a ``policy`` (profile name, path or mapping), return the
normalised value and raise ``tlsward.errors.TlswardError`` listing every problem found.
The ``judge_*`` functions judge a single item with the same rules (used by the scanner);
``verdict_*`` return a suite's broken rules kept apart by concern (forward secrecy, AEAD, the
profile's list...), so the scanner can file each under its own finding.
"""

from __future__ import annotations

from tlsward.chain import judge_certificate, validate_ca_bundle, validate_cert_chain
from tlsward.groups import canonical_group, judge_group, validate_groups
from tlsward.pins import spki_pin, spki_pins
from tlsward.protocols import canonical_protocol, judge_protocol, validate_tls_protocols
from tlsward.suites import (
    SuiteVerdict,
    judge_suite,
    judge_tls12_suite,
    judge_tls13_suite,
    validate_cipher_list,
    validate_tls13_ciphersuites,
    verdict_tls12_suite,
    verdict_tls13_suite,
)

__all__ = [
    "SuiteVerdict",
    "canonical_group",
    "canonical_protocol",
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
    "verdict_tls12_suite",
    "verdict_tls13_suite",
]
