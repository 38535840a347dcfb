"""Judge TLS 1.2 cipher strings and TLS 1.3 cipher suites against a policy profile.

``judge_tls12_suite`` / ``judge_tls13_suite`` judge ONE suite; ``verdict_tls12_suite`` /
``verdict_tls13_suite`` do the same and keep the broken rules apart by concern (the scanner calls
them for every suite a live endpoint accepts and files each rule under its own finding);
``validate_cipher_list`` / ``validate_tls13_ciphersuites`` expand an inventory value with the real
OpenSSL (``tlsward.openssl_ciphers``) and judge every suite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tlsward.deviations import rejections
from tlsward.errors import TlswardError
from tlsward.inputs import as_name_list, as_text, check_printable, policy_for
from tlsward.openssl_ciphers import (
    CipherSuite,
    OpenSSLError,
    expand_cipher_string,
    expand_tls13_ciphersuites,
    lookup_suite,
    suite_from_iana_name,
    version_label,
)
from tlsward.policy import min_security_level

CIPHER_LIST = "validate_cipher_list"
TLS13 = "validate_tls13_ciphersuites"
MAX_TOKENS = 64
# OpenSSL's cipher-string separators, and what it reads as a command after "@" (its rule-name
# characters). It runs the first command of an element and skips the rest of that element.
_SEPARATORS = re.compile(r"[:;, ]+")
_COMMAND = re.compile(r"@([A-Za-z0-9.=-]*)")
_SECLEVEL = re.compile(r"SECLEVEL=([0-5])")


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


@dataclass(frozen=True)
class SuiteVerdict:
    """One suite judged against a profile, the broken rules kept apart by concern.

    ``suite`` is OpenSSL's description of it (or one read from its IANA name), ``None`` when
    neither describes it (then ``unknown`` says so). ``problems`` is what ``judge_suite`` returns.
    """

    name: str
    suite: CipherSuite | None
    unknown: tuple[str, ...] = ()
    never: tuple[str, ...] = ()
    forward_secrecy: tuple[str, ...] = ()
    aead: tuple[str, ...] = ()
    deviations: tuple[str, ...] = ()
    not_listed: tuple[str, ...] = ()

    @property
    def problems(self) -> list[str]:
        return [
            *self.unknown,
            *self.never,
            *self.forward_secrecy,
            *self.aead,
            *self.deviations,
            *self.not_listed,
        ]

    @property
    def outside_list(self) -> list[str]:
        """The rules that keep the suite out of the profile's list (all but forward secrecy and
        AEAD, which are judged on their own)."""
        return [*self.unknown, *self.never, *self.deviations, *self.not_listed]


def _verdict(
    suite: CipherSuite,
    data: dict[str, Any],
    parameter: str,
    members: list[str],
    allowed: list[str] | None = None,
) -> SuiteVerdict:
    """Every rule ``suite`` breaks; ``allowed`` is a host's effective list (an inventory override
    narrowing the profile's ``members``), when it is judged for that host."""
    name = data["name"]
    fs: list[str] = []
    aead: list[str] = []
    if data.get("require_forward_secrecy") and not suite.forward_secrecy:
        fs.append(f"{suite.kx} key exchange (no forward secrecy) is not allowed by policy {name}")
    if data.get("require_aead") and not suite.aead and suite.enc.upper() != "NONE":
        if suite.enc.upper().startswith("RC4"):
            aead.append(f"stream cipher (not AEAD) is not allowed by policy {name}")
        else:
            aead.append(f"CBC mode (not AEAD) is not allowed by policy {name}")
    names = {suite.openssl_name, suite.iana_name}
    label = "TLS 1.3 suites" if suite.tls13 else "TLS 1.2 suites"
    not_listed = []
    if not names & set(members):
        not_listed.append(f"not one of the {label} allowed by policy {name}")
    elif allowed is not None and not names & set(allowed):
        not_listed.append(f"not one of the {label} this host is configured with (inventory override)")
    return SuiteVerdict(
        name=suite.openssl_name,
        suite=suite,
        never=tuple(never_allowed(suite)),
        forward_secrecy=tuple(fs),
        aead=tuple(aead),
        deviations=tuple(rejections(data, parameter, suite.openssl_name)),
        not_listed=tuple(not_listed),
    )


def _profile_rules(suite: CipherSuite, data: dict[str, Any], parameter: str, members: list[str]) -> list[str]:
    verdict = _verdict(suite, data, parameter, members)
    return [*verdict.forward_secrecy, *verdict.aead, *verdict.deviations, *verdict.not_listed]


def judge_suite(suite: CipherSuite, policy: Any = None) -> list[str]:
    """Every rule ``suite`` breaks under ``policy`` (empty list: allowed)."""
    data = policy_for(policy, TLS13 if suite.tls13 else CIPHER_LIST)
    parameter = "tls13_ciphersuites" if suite.tls13 else "tls12_ciphers"
    return never_allowed(suite) + _profile_rules(suite, data, parameter, list(data[parameter]))


def verdict_tls12_suite(
    name: str, policy: Any = None, *, iana_name: str | None = None, allowed: list[str] | None = None
) -> SuiteVerdict:
    """Judge one TLS <= 1.2 suite by OpenSSL or IANA name (for live scan results).

    A scanner knows both names (sslyze reports them): ``iana_name`` describes a suite this OpenSSL
    no longer ships (RC4, DES, EXPORT...) from the structure of its IANA name. ``allowed`` is the
    host's effective ``tls12_ciphers`` (``tlsward.policy.effective_tls``) when it differs.
    """
    suite = lookup_suite(name)
    if (suite is None or suite.tls13) and iana_name:
        suite = lookup_suite(iana_name) or suite_from_iana_name(iana_name)
    if suite is None:
        suite = suite_from_iana_name(name)
    if suite is None or suite.tls13:
        return SuiteVerdict(name, None, unknown=(f"not a TLS 1.2 cipher suite known to {version_label()}",))
    data = policy_for(policy, CIPHER_LIST)
    return _verdict(suite, data, "tls12_ciphers", list(data["tls12_ciphers"]), allowed)


def verdict_tls13_suite(name: str, policy: Any = None, *, allowed: list[str] | None = None) -> SuiteVerdict:
    """Judge one TLS 1.3 suite by name; ``allowed`` is the host's effective ``tls13_ciphersuites``."""
    suite = lookup_suite(name)
    if suite is None or not suite.tls13:
        return SuiteVerdict(name, None, unknown=(f"not a TLS 1.3 cipher suite known to {version_label()}",))
    data = policy_for(policy, TLS13)
    return _verdict(suite, data, "tls13_ciphersuites", list(data["tls13_ciphersuites"]), allowed)


def judge_tls12_suite(
    name: str, policy: Any = None, *, iana_name: str | None = None, allowed: list[str] | None = None
) -> list[str]:
    """Judge one TLS <= 1.2 suite by OpenSSL or IANA name (for live scan results)."""
    return verdict_tls12_suite(name, policy, iana_name=iana_name, allowed=allowed).problems


def judge_tls13_suite(name: str, policy: Any = None, *, allowed: list[str] | None = None) -> list[str]:
    """Judge one TLS 1.3 suite by name (``TLS_AES_128_GCM_SHA256``)."""
    return verdict_tls13_suite(name, policy, allowed=allowed).problems


def _cipher_string(value: Any) -> str:
    if isinstance(value, list | tuple):
        tokens = as_name_list(value, CIPHER_LIST, "cipher list")
        return ":".join(tokens)
    return as_text(value, CIPHER_LIST, "cipher string").strip()


def _commands(cipher_string: str) -> tuple[list[tuple[str, int]], list[str]]:
    """The ``@`` commands OpenSSL runs in a cipher string: each ``@SECLEVEL=n`` with its level, in
    order (the last one sets the level), and a problem for each command that is not run as written.

    OpenSSL runs the first ``@`` command of an element, also one inside a name
    (``NAME@SECLEVEL=0`` is ``NAME:@SECLEVEL=0``), and skips the rest of that element;
    ``@SECLEVEL=`` takes exactly one digit, 0 to 5, and any other command fails the whole string.
    """
    levels: list[tuple[str, int]] = []
    problems: list[str] = []
    for element in _SEPARATORS.split(cipher_string):
        matches = list(_COMMAND.finditer(element))
        problems += [
            f"{match.group(0)}: OpenSSL skips a command that follows another in the same element "
            f"({element}); separate the commands with ':'"
            for match in matches[1:]
        ]
        if not matches or matches[0].group(1) == "STRENGTH":
            continue
        first = matches[0]
        level = _SECLEVEL.fullmatch(first.group(1))
        if level:
            levels.append((first.group(0), int(level.group(1))))
        else:
            problems.append(
                f"{first.group(0)}: not a cipher-string command OpenSSL knows (@STRENGTH, "
                "@SECLEVEL=0 to @SECLEVEL=5), so OpenSSL refuses the whole string"
            )
    return levels, problems


def _token_problems(cipher_string: str) -> list[str]:
    """Positive tokens that match nothing: a typo, or a suite this OpenSSL no longer has."""
    problems = []
    tokens = [t for t in _SEPARATORS.split(cipher_string) if t]
    if len(tokens) > MAX_TOKENS:
        raise TlswardError(CIPHER_LIST, f"cipher string has {len(tokens)} elements (at most {MAX_TOKENS})")
    for element in tokens:
        token = element.split("@", 1)[0]  # a command after "@" is judged by _commands
        if not token or token[0] in "!-+":
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

    Returns the expanded OpenSSL suite names in order (with ``@SECLEVEL=n`` in the string: the
    ones OpenSSL enables at that level). Raises ``TlswardError`` listing every problem: an
    ``@SECLEVEL`` below the profile's ``min_security_level``, an empty expansion, unmatched names,
    and each suite's broken rules, e.g.
    ``ECDHE-RSA-AES128-SHA: CBC mode (not AEAD) is not allowed by policy biometric-strict``.
    Every suite is judged at security level 0, the widest meaning: a level only removes suites,
    and the target's OpenSSL may draw the line elsewhere than the controller's.
    """
    data = policy_for(policy, CIPHER_LIST)
    cipher_string = _cipher_string(value)
    check_printable(cipher_string, CIPHER_LIST, "cipher string")
    if not cipher_string:
        raise TlswardError(CIPHER_LIST, "the cipher string is empty")
    levels, refused = _commands(cipher_string)
    minimum = min_security_level(data)
    problems = [
        f"{command} lowers OpenSSL's security level below {minimum} (profile {data['name']} "
        "min_security_level) for the whole context"
        for command, level in levels
        if level < minimum
    ]
    problems += refused + _token_problems(cipher_string)
    if refused:  # the string does not mean what it says: judging its expansion would mislead
        raise TlswardError(CIPHER_LIST, problems)
    openssl_string = cipher_string.replace(",", ":").replace(" ", ":")
    try:
        suites = expand_cipher_string(openssl_string)
    except OpenSSLError as exc:
        raise TlswardError(CIPHER_LIST, [*problems, *exc.problems]) from None
    enabled = suites
    if not suites:
        problems.append(f"{cipher_string!r} expands to no cipher suite in {version_label()}")
    elif levels and levels[-1][1] > 0:
        command, level = levels[-1]
        enabled = expand_cipher_string(openssl_string, level)
        if not enabled:
            problems.append(
                f"{cipher_string!r} enables no cipher suite at {command} in {version_label()} "
                "(OpenSSL drops every suite it names at that level)"
            )
    members = list(data["tls12_ciphers"])
    if suites and "TLSv1.2" not in data["protocols"]["allowed"]:
        problems.append(f"TLS 1.2 is not allowed by policy {data['name']}, so no TLS 1.2 suite is")
    for suite in suites:
        rules = never_allowed(suite) + _profile_rules(suite, data, "tls12_ciphers", members)
        problems += [f"{suite.openssl_name}: {rule}" for rule in rules]
    if problems:
        raise TlswardError(CIPHER_LIST, problems)
    return [s.openssl_name for s in enabled]


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
