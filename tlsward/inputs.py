"""Turn whatever a user (or Ansible) hands a validator into clean Python values, or a clean error.

Validators accept inventory values: strings, lists, bytes, and in Ansible 2.19+ vault-encrypted
strings (``EncryptedString``, which behaves like ``str`` once decrypted). Anything else is a
``TlswardError`` naming the validator, never a ``TypeError`` from deep inside a library.
"""

from __future__ import annotations

from typing import Any

from tlsward.errors import PolicyError, TlswardError
from tlsward.policy import load_policy

MAX_TEXT = 1_000_000  # a PEM bundle or cipher string larger than this is not a TLS parameter


def as_text(value: Any, source: str, what: str) -> str:
    """``value`` as ``str``; ``bytes`` are decoded as UTF-8; vaulted strings are decrypted."""
    if value is None:
        raise TlswardError(source, f"{what}: no value given")
    if isinstance(value, bytes | bytearray):
        try:
            text = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise TlswardError(source, f"{what}: bytes are not UTF-8 text (PEM expected)") from None
    elif isinstance(value, str):
        text = str(value)
    elif type(value).__name__ == "EncryptedString":  # ansible-core >= 2.19 vaulted value
        try:
            text = str(value)
        except Exception as exc:  # vault errors of any kind become one clean problem
            raise TlswardError(source, f"{what}: vaulted value cannot be decrypted: {exc}") from None
    else:
        raise TlswardError(source, f"{what}: expected text, got {type(value).__name__}")
    if len(text) > MAX_TEXT:
        raise TlswardError(source, f"{what}: {len(text)} characters is too long to be a TLS parameter")
    return text


def as_name_list(value: Any, source: str, what: str, separators: str = ": ,") -> list[str]:
    """A list of names from a list, or from a string split on any of ``separators``."""
    if isinstance(value, list | tuple):
        items = []
        for index, item in enumerate(value, start=1):
            items.append(as_text(item, source, f"{what} item {index}").strip())
        return [i for i in items if i]
    text = as_text(value, source, what)
    for sep in separators[1:]:
        text = text.replace(sep, separators[0])
    return [item.strip() for item in text.split(separators[0]) if item.strip()]


def check_printable(item: str, source: str, what: str) -> None:
    """Reject control characters (NUL cannot even be passed to a subprocess)."""
    bad = sorted({f"U+{ord(c):04X}" for c in item if not c.isprintable()})
    if bad:
        raise TlswardError(source, f"{what}: {item!r} contains non-printable characters {', '.join(bad)}")


def policy_for(policy: Any, source: str) -> dict[str, Any]:
    """Load a profile, reporting a bad name or file under ``source`` (the filter's name)."""
    if policy is not None and not isinstance(policy, str | dict):
        if type(policy).__name__ == "EncryptedString":
            policy = str(policy)
        else:
            raise TlswardError(
                source, f"policy must be a profile name or a mapping, got {type(policy).__name__}"
            )
    try:
        return load_policy(policy)
    except PolicyError as exc:
        raise TlswardError(source, exc.problems) from None
