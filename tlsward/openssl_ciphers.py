"""Ask the real OpenSSL what a cipher string means.

What ``HIGH`` or ``ECDHE+AESGCM:!SHA1`` expands to depends on the OpenSSL build, so tlsward never
keeps its own table of it: the expansion is ``openssl ciphers -V -stdname``, run as a subprocess
of the controller's ``openssl`` binary (the Python ``ssl`` module can only expand strings for the
protocols and security level of an ``SSLContext``, and it reports no key-exchange / MAC columns).
The attributes used to judge each suite (Kx, Au, Enc, Mac) are OpenSSL's own columns.

``TLSWARD_OPENSSL`` overrides which binary is run. The system ``openssl.cnf`` is not loaded
(``OPENSSL_CONF`` points at an empty file) and ``@SECLEVEL=0`` is appended to every expansion,
so the controller's local hardening cannot hide a weak suite that a target would still enable:
the judgement is made on the widest meaning of the string. The appended directive comes last, so
it also overrides any ``@SECLEVEL`` in the string itself (OpenSSL applies the last one); asking
for a higher ``security_level`` gives what a target applying that level really enables.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from tlsward.errors import TlswardError

TIMEOUT_SECONDS = 15
_LINE = re.compile(
    r"^\s*(?P<code>0x[0-9A-Fa-f]{2},0x[0-9A-Fa-f]{2})\s+-\s+(?P<std>\S+)\s+-\s+(?P<name>\S+)\s+"
    r"(?P<proto>\S+)\s+Kx=(?P<kx>\S+)\s+Au=(?P<au>\S+)\s+Enc=(?P<enc>\S+)\s+Mac=(?P<mac>\S+)"
)
# OpenSSL's Kx column for ephemeral key exchange (ECDHE, DHE and their PSK variants); TLS 1.3 is "any".
EPHEMERAL_KX = frozenset({"ECDH", "DH", "ECDHEPSK", "DHEPSK", "any"})


class OpenSSLError(TlswardError):
    """The openssl binary is missing, failed, or rejected the string."""


@dataclass(frozen=True)
class CipherSuite:
    """One suite as ``openssl ciphers -V -stdname`` describes it."""

    code: str  # "0xC0,0x2B"
    iana_name: str | None  # "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
    openssl_name: str  # "ECDHE-ECDSA-AES128-GCM-SHA256"
    protocol: str  # "TLSv1.2", "SSLv3" (usable in TLS 1.2 too), "TLSv1.3"
    kx: str  # "ECDH", "DH", "RSA", "PSK", "any"...
    au: str  # "ECDSA", "RSA", "None" (anonymous), "any"...
    enc: str  # "AESGCM(128)", "CHACHA20/POLY1305(256)", "AES(128)", "None"...
    mac: str  # "AEAD", "SHA1", "SHA256", "MD5"...

    @property
    def forward_secrecy(self) -> bool:
        return self.kx in EPHEMERAL_KX

    @property
    def aead(self) -> bool:
        return self.mac == "AEAD"

    @property
    def tls13(self) -> bool:
        return self.protocol == "TLSv1.3"


def openssl_binary() -> str:
    configured = os.environ.get("TLSWARD_OPENSSL")
    found = configured or shutil.which("openssl")
    if not found:
        raise OpenSSLError("openssl", "the openssl binary was not found on the controller (PATH)")
    return found


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENSSL_CONF": os.devnull, "LC_ALL": "C"}
    try:
        return subprocess.run(
            [openssl_binary(), *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise OpenSSLError("openssl", f"running openssl failed: {exc}") from None


@functools.cache
def openssl_version() -> str:
    """``OpenSSL 3.0.15 3 Sep 2024`` of the binary the expansions come from."""
    result = _run(["version"])
    if result.returncode != 0:
        raise OpenSSLError("openssl", f"openssl version failed: {result.stderr.strip()[:200]}")
    return result.stdout.strip()


def _parse(output: str) -> list[CipherSuite]:
    suites = []
    for line in output.splitlines():
        match = _LINE.match(line)
        if match:
            std = match.group("std")
            suites.append(
                CipherSuite(
                    code=match.group("code"),
                    iana_name=None if std.startswith("(") else std,
                    openssl_name=match.group("name"),
                    protocol=match.group("proto"),
                    kx=match.group("kx"),
                    au=match.group("au"),
                    enc=match.group("enc"),
                    mac=match.group("mac"),
                )
            )
    return suites


@functools.lru_cache(maxsize=4096)
def expand_cipher_string(cipher_string: str, security_level: int = 0) -> tuple[CipherSuite, ...]:
    """The TLS <= 1.2 suites ``cipher_string`` enables, in OpenSSL's order (empty if none match).

    Runs ``openssl ciphers -V -stdname -s -tls1_2 -ciphersuites "" -- '<string>:@SECLEVEL=<n>'``
    with ``n`` = ``security_level``: 0 (the widest meaning) unless asked for the level a target
    applies, where OpenSSL drops the suites weaker than that level.
    """
    if "\x00" in cipher_string:
        raise OpenSSLError("openssl", "a cipher string cannot contain NUL characters")
    if not 0 <= security_level <= 5:
        raise OpenSSLError("openssl", f"OpenSSL security levels are 0 to 5, not {security_level}")
    result = _run(
        [
            "ciphers",
            "-V",
            "-stdname",
            "-s",
            "-tls1_2",
            "-ciphersuites",
            "",
            "--",
            f"{cipher_string}:@SECLEVEL={security_level}",
        ]
    )
    if result.returncode != 0:
        if "no cipher match" in result.stderr:
            return ()
        raise OpenSSLError("openssl", f"openssl ciphers failed: {result.stderr.strip()[:300]}")
    return tuple(s for s in _parse(result.stdout) if not s.tls13)


@functools.lru_cache(maxsize=1024)
def expand_tls13_ciphersuites(ciphersuites: str) -> tuple[CipherSuite, ...]:
    """The TLS 1.3 suites OpenSSL accepts from a ``-ciphersuites`` list (it drops unknown names)."""
    if "\x00" in ciphersuites:
        raise OpenSSLError("openssl", "a ciphersuites list cannot contain NUL characters")
    result = _run(["ciphers", "-V", "-stdname", "-s", "-tls1_3", "-ciphersuites", ciphersuites])
    if result.returncode != 0:
        if "no cipher match" in result.stderr:
            return ()
        raise OpenSSLError("openssl", f"openssl ciphers failed: {result.stderr.strip()[:300]}")
    return tuple(s for s in _parse(result.stdout) if s.tls13)


@functools.cache
def known_tls12_suites() -> dict[str, CipherSuite]:
    """Every TLS <= 1.2 suite this OpenSSL knows (``ALL:COMPLEMENTOFALL``), by OpenSSL and IANA name."""
    result = _run(["ciphers", "-V", "-stdname", "-ciphersuites", "", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"])
    if result.returncode != 0:
        raise OpenSSLError("openssl", f"openssl ciphers failed: {result.stderr.strip()[:300]}")
    table: dict[str, CipherSuite] = {}
    for suite in _parse(result.stdout):
        if suite.tls13:
            continue
        table[suite.openssl_name] = suite
        if suite.iana_name:
            table[suite.iana_name] = suite
    return table


def version_label() -> str:
    """``OpenSSL 3.0.15``: the short form used in messages."""
    return " ".join(openssl_version().split()[:2])


def lookup_suite(name: str) -> CipherSuite | None:
    """A suite by OpenSSL name (``ECDHE-RSA-AES128-SHA``) or IANA name (``TLS_ECDHE_RSA_WITH_...``)."""
    known = known_tls12_suites().get(name)
    if known is not None:
        return known
    if name.startswith("TLS_") and re.fullmatch(r"[A-Z0-9_]+", name):
        matches = expand_tls13_ciphersuites(name)
        return matches[0] if matches else None
    return None


_IANA = re.compile(r"^TLS_(?P<kx>[A-Z0-9_]+?)_WITH_(?P<enc>[A-Z0-9_]+?)(?:_(?P<mac>MD5|SHA|SHA256|SHA384))?$")
_IANA_KX = {
    "RSA": ("RSA", "RSA"),
    "RSA_EXPORT": ("RSA(512)", "RSA"),
    "DHE_RSA": ("DH", "RSA"),
    "DHE_DSS": ("DH", "DSS"),
    "DH_RSA": ("DH/RSA", "DH"),
    "DH_DSS": ("DH/DSS", "DH"),
    "DH_ANON": ("DH", "None"),
    "ECDHE_RSA": ("ECDH", "RSA"),
    "ECDHE_ECDSA": ("ECDH", "ECDSA"),
    "ECDH_RSA": ("ECDH/RSA", "ECDH"),
    "ECDH_ECDSA": ("ECDH/ECDSA", "ECDH"),
    "ECDH_ANON": ("ECDH", "None"),
    "PSK": ("PSK", "PSK"),
}


def suite_from_iana_name(name: str) -> CipherSuite | None:
    """Describe a TLS <= 1.2 suite from the structure of its IANA name alone.

    For suites the local OpenSSL no longer ships (RC4, DES, EXPORT...) that a live endpoint may
    still accept: the scanner must judge those too. Only the name's own parts are read
    (``TLS_<kx>_WITH_<cipher>_<mac>``); nothing is inferred beyond them.
    """
    match = _IANA.match(name)
    if not match:
        return None
    kx_part = match.group("kx").upper().replace("_EXPORT1024", "_EXPORT")
    export = "EXPORT" in kx_part
    kx, au = _IANA_KX.get(
        kx_part.replace("_EXPORT", "") if export and kx_part != "RSA_EXPORT" else kx_part, ("?", "?")
    )
    enc_part = match.group("enc")
    mac = match.group("mac") or ""
    if any(mark in enc_part for mark in ("GCM", "CCM", "POLY1305")):
        mac_col = "AEAD"
    else:
        mac_col = {"SHA": "SHA1", "": "?"}.get(mac, mac)
    if enc_part == "NULL":
        enc = "None"
    elif enc_part.startswith("RC4"):
        enc = "RC4"
    elif enc_part.startswith("3DES"):
        enc = "3DES(168)"
    elif enc_part.startswith(("DES", "DES40")):
        enc = "DES(56)"
    else:
        enc = enc_part
    openssl_name = f"EXP-{name}" if export else name
    return CipherSuite("?", name, openssl_name, "TLSv1.2", kx, au, enc, mac_col)
