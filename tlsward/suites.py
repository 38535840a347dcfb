"""Judge TLS 1.2 cipher strings and TLS 1.3 cipher suites against a policy profile.

``judge_tls12_suite`` / ``judge_tls13_suite`` judge ONE suite (the scanner calls them for what a
live endpoint accepts); ``validate_cipher_list`` / ``validate_tls13_ciphersuites`` expand an
inventory value with the real OpenSSL (``tlsward.openssl_ciphers``) and judge every suite.
"""

from __future__ import annotations

import re
from typing import Any

from tlsward.deviations import rejections
from tlsward.errors import TlswardError
from tlsward.inputs import as_name_list, as_text, check_printable, policy_for
from tlsward.openssl_ciphers import (
    CipherSuite,
    expand_cipher_string,
    expand_tls13_ciphersuites,
    lookup_suite,
    suite_from_iana_name,
    version_label,
)

CIPHER_LIST = "validate_cipher_list"
TLS13 = "validate_tls13_ciphersuites"
MAX_TOKENS = 64
_COMMAND = re.compile(r"^@(STRENGTH|SECLEVEL=\d+)$")


def never_allowed(suite: CipherSuite) -> list[str]:
    """Rules no profile can relax: NULL, anonymous, RC4, DES, 3DES, EXPORT, MD5."""
    problems = []
    enc = suite.enc.upper()
    if enc == "NONE":
        problems.append("NULL cipher (no encryption) is never allowed")
    if suite.au == "None":
        problems.append("anonymous key exchange (aNULL, no authentication) is never allowed")
    if enc.startswith("RC4"):
        problems.append("RC4 is never allowed")
    if enc.startswith("3DES"):
        problems.append("3DES is never allowed")
    elif enc.startswith("DES"):
        problems.append("DES is never allowed")
    if "EXP" in suite.openssl_name.split("-") or "EXPORT" in (suite.iana_name or ""):
        problems.append("EXPORT-grade cipher is never allowed")
    if suite.mac == "MD5":
        problems.append("MD5 MAC is never allowed")
    return problems


def _profile_rules(suite: CipherSuite, data: dict[str, Any], parameter: str, members: list[str]) -> list[str]:
    name = data["name"]
    problems = []
    if data.get("require_forward_secrecy") and not suite.forward_secrecy:
        problems.append(f"{suite.kx} key exchange (no forward secrecy) is not allowed by policy {name}")
    if data.get("require_aead") and not suite.aead and suite.enc.upper() != "NONE":
        if suite.enc.upper().startswith("RC4"):
            problems.append(f"stream cipher (not AEAD) is not allowed by policy {name}")
        else:
            problems.append(f"CBC mode (not AEAD) is not allowed by policy {name}")
    problems += rejections(data, parameter, suite.openssl_name)
    names = {suite.openssl_name, suite.iana_name}
    if not names & set(members):
        label = "TLS 1.3 suites" if suite.tls13 else "TLS 1.2 suites"
        problems.append(f"not one of the {label} allowed by policy {name}")
    return problems


def judge_suite(suite: CipherSuite, policy: Any = None) -> list[str]:
    """Every rule ``suite`` breaks under ``policy`` (empty list: allowed)."""
    data = policy_for(policy, TLS13 if suite.tls13 else CIPHER_LIST)
    parameter = "tls13_ciphersuites" if suite.tls13 else "tls12_ciphers"
    return never_allowed(suite) + _profile_rules(suite, data, parameter, list(data[parameter]))


def judge_tls12_suite(name: str, policy: Any = None) -> list[str]:
    """Judge one TLS <= 1.2 suite by OpenSSL or IANA name (for live scan results)."""
    suite = lookup_suite(name) or suite_from_iana_name(name)
    if suite is None or suite.tls13:
        return [f"not a TLS 1.2 cipher suite known to {version_label()}"]
    return judge_suite(suite, policy)


def judge_tls13_suite(name: str, policy: Any = None) -> list[str]:
    """Judge one TLS 1.3 suite by name (``TLS_AES_128_GCM_SHA256``)."""
    suite = lookup_suite(name)
    if suite is None or not suite.tls13:
        return [f"not a TLS 1.3 cipher suite known to {version_label()}"]
    return judge_suite(suite, policy)


def _cipher_string(value: Any) -> str:
    if isinstance(value, list | tuple):
        tokens = as_name_list(value, CIPHER_LIST, "cipher list")
        return ":".join(tokens)
    return as_text(value, CIPHER_LIST, "cipher string").strip()


def _token_problems(cipher_string: str) -> list[str]:
    """Positive tokens that match nothing: a typo, or a suite this OpenSSL no longer has."""
    problems = []
    tokens = [t for t in re.split(r"[:, ]+", cipher_string) if t]
    if len(tokens) > MAX_TOKENS:
        raise TlswardError(CIPHER_LIST, f"cipher string has {len(tokens)} elements (at most {MAX_TOKENS})")
    for token in tokens:
        if token[0] in "!-+" or _COMMAND.match(token):
            continue
        known = lookup_suite(token)
        if known is not None and not known.tls13:
            continue
        if known is not None:
            problems.append(
                f"{token}: is a TLS 1.3 suite; put it in tls13_ciphersuites, not the TLS 1.2 cipher list"
            )
        elif not expand_cipher_string(token):
            problems.append(
                f"{token}: matches no cipher suite in {version_label()} (unknown name, or a suite "
                "this OpenSSL no longer provides)"
            )
    return problems


def validate_cipher_list(value: Any, policy: Any = None) -> list[str]:
    """Expand an OpenSSL TLS <= 1.2 cipher string (or list) with OpenSSL and judge every suite.

    Returns the expanded OpenSSL suite names in order. Raises ``TlswardError`` listing every
    problem: an empty expansion, unmatched names, and each suite's broken rules, e.g.
    ``ECDHE-RSA-AES128-SHA: CBC mode (not AEAD) is not allowed by policy biometric-strict``.
    """
    data = policy_for(policy, CIPHER_LIST)
    cipher_string = _cipher_string(value)
    check_printable(cipher_string, CIPHER_LIST, "cipher string")
    if not cipher_string:
        raise TlswardError(CIPHER_LIST, "the cipher string is empty")
    problems = _token_problems(cipher_string)
    suites = expand_cipher_string(cipher_string.replace(",", ":").replace(" ", ":"))
    if not suites:
        problems.append(f"{cipher_string!r} expands to no cipher suite in {version_label()}")
    members = list(data["tls12_ciphers"])
    if suites and "TLSv1.2" not in data["protocols"]["allowed"]:
        problems.append(f"TLS 1.2 is not allowed by policy {data['name']}, so no TLS 1.2 suite is")
    for suite in suites:
        rules = never_allowed(suite) + _profile_rules(suite, data, "tls12_ciphers", members)
        problems += [f"{suite.openssl_name}: {rule}" for rule in rules]
    if problems:
        raise TlswardError(CIPHER_LIST, problems)
    return [s.openssl_name for s in suites]


def validate_tls13_ciphersuites(value: Any, policy: Any = None) -> list[str]:
    """Check a TLS 1.3 ``Ciphersuites`` list (string ``A:B`` or list) name by name with OpenSSL.

    OpenSSL silently drops names it does not know from a ciphersuites list, so each name is
    checked on its own. Returns the names in order.
    """
    data = policy_for(policy, TLS13)
    names = as_name_list(value, TLS13, "TLS 1.3 ciphersuites")
    if not names:
        raise TlswardError(TLS13, "the TLS 1.3 ciphersuites list is empty")
    if len(names) > MAX_TOKENS:
        raise TlswardError(TLS13, f"{len(names)} TLS 1.3 suites given (at most {MAX_TOKENS})")
    problems: list[str] = []
    seen: set[str] = set()
    members = list(data["tls13_ciphersuites"])
    if "TLSv1.3" not in data["protocols"]["allowed"]:
        problems.append(f"TLS 1.3 is not allowed by policy {data['name']}")
    for name in names:
        check_printable(name, TLS13, "TLS 1.3 ciphersuites")
        if name in seen:
            problems.append(f"{name}: listed twice")
            continue
        seen.add(name)
        found = expand_tls13_ciphersuites(name) if re.fullmatch(r"[A-Za-z0-9_]+", name) else ()
        if not found:
            hint = " (a TLS 1.2 suite name?)" if lookup_suite(name) else ""
            problems.append(f"{name}: not a TLS 1.3 cipher suite known to {version_label()}{hint}")
            continue
        rules = never_allowed(found[0]) + _profile_rules(found[0], data, "tls13_ciphersuites", members)
        problems += [f"{name}: {rule}" for rule in rules]
    if problems:
        raise TlswardError(TLS13, problems)
    return names
