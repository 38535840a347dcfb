"""RFC 7469 pin-sha256 of a certificate, CSR or key."""

from __future__ import annotations

from typing import Any

from tlsward.filtering import call_filter

DOCUMENTATION = r"""
name: spki_pin
short_description: RFC 7469 pin-sha256 (base64 SHA-256 of the SubjectPublicKeyInfo)
description:
  - C(spki_pin) returns the pin of the first PEM object (certificate, CSR, public or private key).
  - C(spki_pins) returns the pins of every PEM object, in order (e.g. leaf and intermediates).
  - The same key gives the same pin whether read from the key, its CSR or its certificate.
options:
  _input:
    description: PEM text.
    type: str
    required: true
  passphrase:
    description: Passphrase of an encrypted private key.
    type: str
"""

EXAMPLES = r"""
pin: "{{ lookup('ansible.builtin.file', 'server.csr') | spki_pin }}"
"""

RETURN = r"""
_value:
  description: Base64 pin (spki_pin) or list of pins (spki_pins).
  type: raw
"""


def spki_pin(pem: Any, passphrase: str | None = None) -> str:
    return call_filter("spki_pin", "tlsward.pins:spki_pin", pem, passphrase)


def spki_pins(pem: Any, passphrase: str | None = None) -> list[str]:
    return call_filter("spki_pins", "tlsward.pins:spki_pins", pem, passphrase)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"spki_pin": spki_pin, "spki_pins": spki_pins}
