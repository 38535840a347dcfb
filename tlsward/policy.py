"""Policy profiles: load, check and render.

A profile is a YAML file under ``policies/`` (or any path). The same loaded profile is what
the templates render (``render_nginx`` / ``render_openssl``), what the filter plugins validate
against and what the scanner judges; nothing else holds TLS parameters.
"""

from __future__ import annotations

import copy
import functools
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tlsward.errors import PolicyError
from tlsward.sigalgs import check_profile as check_signature_algorithms
from tlsward.sigalgs import schemes_for

DEFAULT_POLICY = "biometric-strict"
# Size of nginx's shared TLS session cache when the caller names none (the nginx_tls role passes
# its nginx_tls_session_cache_size, whose default is this size).
NGINX_SESSION_CACHE_SIZE = "10m"
# policies/ at the repository root, linked into the package so an installed wheel carries the profiles
POLICY_DIR = Path(__file__).resolve().parent / "policies"
PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
SAFE_PROTOCOLS = ("TLSv1.2", "TLSv1.3")
# OpenSSL security level a TLS 1.2 cipher string may not go below (``@SECLEVEL=n``), when a
# profile does not say (``min_security_level``).
DEFAULT_MIN_SECURITY_LEVEL = 2
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_REQUIRED_KEYS = (
    "schema",
    "name",
    "title",
    "sources",
    "protocols",
    "tls12_ciphers",
    "tls13_ciphersuites",
    "require_forward_secrecy",
    "require_aead",
    "groups",
    "server_cipher_preference",
    "certificate",
    "mtls",
    "hsts",
    "ocsp_stapling",
    "session",
    "early_data",
)


def policy_dirs() -> list[Path]:
    """Where profiles are looked up: ``TLSWARD_POLICY_PATH`` (colon separated) then the shipped ones."""
    extra = [Path(p) for p in os.environ.get("TLSWARD_POLICY_PATH", "").split(":") if p]
    return [*extra, POLICY_DIR]


def available_policies() -> list[str]:
    names: set[str] = set()
    for directory in policy_dirs():
        if directory.is_dir():
            names.update(p.stem for p in directory.glob("*.yml"))
    return sorted(names)


def load_policy(policy: str | dict[str, Any] | None = None) -> dict[str, Any]:
    """Return a checked copy of a profile given by name, file path or already-loaded dict."""
    if policy is None:
        policy = DEFAULT_POLICY
    if isinstance(policy, Mapping):
        data = plain(policy)
        _check(data, origin=str(data.get("name", "<inline policy>")))
        return data
    if not isinstance(policy, str):
        raise PolicyError(
            "policy", f"policy must be a profile name or a mapping, got {type(policy).__name__}"
        )
    return copy.deepcopy(_load_cached(policy))


def plain(value: Any) -> Any:
    """A copy of ``value`` made of plain dicts, lists, strings and numbers.

    A profile handed over by Ansible is one of its lazy containers, whose values carry data tags:
    ``copy.deepcopy`` of one renders and re-tags every nested value, and took about 40% of the
    controller's CPU in an idempotent run of the full stack when the profile was a mapping.
    """
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)  # a tagged str/int/float becomes the plain value
    return copy.deepcopy(value)


@functools.cache
def _load_cached(policy: str) -> dict[str, Any]:
    path = _resolve(policy)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError("policy", f"{path}: cannot be read as YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError("policy", f"{path}: a profile must be a mapping")
    _check(data, origin=str(path))
    return data


def _resolve(policy: str) -> Path:
    if "/" in policy or policy.endswith((".yml", ".yaml")):
        path = Path(policy)
        if not path.is_file():
            raise PolicyError("policy", f"policy file {policy!r} does not exist")
        return path
    if not _NAME.match(policy):
        raise PolicyError("policy", f"{policy!r} is not a valid profile name")
    for directory in policy_dirs():
        candidate = directory / f"{policy}.yml"
        if candidate.is_file():
            return candidate
    known = ", ".join(available_policies())
    raise PolicyError("policy", f"unknown policy {policy!r} (known: {known})")


def _check(data: dict[str, Any], origin: str) -> None:
    problems = [f"{origin}: missing key {key!r}" for key in _REQUIRED_KEYS if key not in data]
    if problems:
        raise PolicyError("policy", problems)
    if data["schema"] != 1:
        problems.append(f"{origin}: schema {data['schema']!r} is not supported (1 is)")
    if not data["sources"]:
        problems.append(f"{origin}: a profile must cite its sources")
    allowed = data["protocols"].get("allowed", [])
    for proto in allowed:
        if proto not in SAFE_PROTOCOLS:
            problems.append(f"{origin}: protocol {proto!r} is not allowed in any tlsward profile")
    for proto in data["protocols"].get("required", []):
        if proto not in allowed:
            problems.append(f"{origin}: required protocol {proto!r} is not in protocols.allowed")
    if "TLSv1.2" in allowed and not data["tls12_ciphers"]:
        problems.append(f"{origin}: TLSv1.2 is allowed but tls12_ciphers is empty")
    if "TLSv1.3" in allowed and not data["tls13_ciphersuites"]:
        problems.append(f"{origin}: TLSv1.3 is allowed but tls13_ciphersuites is empty")
    if not data["groups"] or not all(isinstance(g, dict) and "name" in g for g in data["groups"]):
        problems.append(f"{origin}: groups must be a non-empty list of {{name: ...}} mappings")
    if data["ocsp_stapling"] not in ("required", "when_available", "off"):
        problems.append(f"{origin}: ocsp_stapling must be required, when_available or off")
    problems += _check_security_level(data, origin)
    problems += check_signature_algorithms(data, origin)
    if problems:
        raise PolicyError("policy", problems)


def _check_security_level(data: dict[str, Any], origin: str) -> list[str]:
    level = data.get("min_security_level", DEFAULT_MIN_SECURITY_LEVEL)
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 5:
        return [
            f"{origin}: min_security_level must be an OpenSSL security level, an integer from 0 to 5 "
            f"(default {DEFAULT_MIN_SECURITY_LEVEL}), got {level!r}"
        ]
    return []


def min_security_level(data: dict[str, Any]) -> int:
    """The lowest OpenSSL security level a loaded profile lets a cipher string set (``@SECLEVEL``)."""
    return int(data.get("min_security_level", DEFAULT_MIN_SECURITY_LEVEL))


def _version_tuple(version: str) -> tuple[int, ...]:
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", version or "")
    if not match:
        raise PolicyError("policy", f"cannot read an OpenSSL version from {version!r}")
    return tuple(int(x) for x in match.groups())


def groups_for(policy: str | dict[str, Any], openssl_version: str | None = None) -> list[str]:
    """The profile's groups in order, keeping a group with ``min_openssl`` only where supported.

    ``openssl_version`` is the target's ``openssl version`` output (e.g. ``OpenSSL 3.0.15 3 Sep
    2024``); ``None`` keeps only the groups without a version requirement.
    """
    data = load_policy(policy)
    have = _version_tuple(openssl_version) if openssl_version else None
    out = []
    for group in data["groups"]:
        need = group.get("min_openssl")
        if need is None or (have is not None and have >= _version_tuple(need)):
            out.append(group["name"])
    return out


OVERRIDABLE = ("protocols", "tls12_ciphers", "tls13_ciphersuites", "groups")


def _as_list(value: Any, sep: str, name: str) -> list[str]:
    if isinstance(value, str):
        return [item for item in re.split(sep, value.strip()) if item]
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return list(value)
    raise PolicyError(
        "tls_effective", f"{name} must be a string or a list of strings, got {type(value).__name__}"
    )


def effective_tls(
    policy: str | dict[str, Any],
    overrides: dict[str, Any] | None = None,
    openssl_version: str | None = None,
) -> dict[str, list[str]]:
    """The protocols, suites and groups a host will get: the profile's, or the inventory's overrides.

    This is the single place where overrides meet the profile: preflight validates its result,
    the templates render it and the drift check compares against it. ``overrides`` keys are
    ``protocols`` / ``tls12_ciphers`` / ``tls13_ciphersuites`` / ``groups``; ``None`` or an
    empty value means "take the profile's".
    """
    data = load_policy(policy)
    if overrides is not None and not isinstance(overrides, dict):
        raise PolicyError("tls_effective", f"overrides must be a mapping, got {type(overrides).__name__}")
    overrides = {k: v for k, v in (overrides or {}).items() if v not in (None, "", [])}
    unknown = sorted(set(overrides) - set(OVERRIDABLE))
    if unknown:
        raise PolicyError("tls_effective", f"unknown override(s) {unknown}; allowed: {list(OVERRIDABLE)}")
    return {
        "protocols": _as_list(
            overrides.get("protocols", data["protocols"]["allowed"]), r"[\s:,]+", "protocols"
        ),
        "tls12_ciphers": _as_list(
            overrides.get("tls12_ciphers", data["tls12_ciphers"]), r"[\s:,]+", "tls12_ciphers"
        ),
        "tls13_ciphersuites": _as_list(
            overrides.get("tls13_ciphersuites", data["tls13_ciphersuites"]), r"[\s:,]+", "tls13_ciphersuites"
        ),
        "groups": _as_list(overrides.get("groups", groups_for(data, openssl_version)), r"[\s:,]+", "groups"),
    }


def render_nginx(
    policy: str | dict[str, Any],
    openssl_version: str | None = None,
    overrides: dict[str, Any] | None = None,
    session_cache_size: str = NGINX_SESSION_CACHE_SIZE,
) -> dict[str, Any]:
    """Values the nginx templates write, all derived from the profile (and validated overrides).

    ``directives`` is the table of every TLS directive the profile decides, in the order the
    nginx_tls template writes them (it loops over the table) and the drift check compares the
    deployed configuration against (``tlsward.scan.hostchecks.expected_nginx``): one
    ``{"directive": name, "value": text}`` per entry, ``name`` with its sub-key where a directive
    takes several (``ssl_conf_command Ciphersuites``), ``value`` in nginx syntax, ``None`` for a
    directive that must not be written. ``session_cache_size`` is the size of the shared session
    cache (the nginx_tls role passes ``nginx_tls_session_cache_size``).
    """
    data = load_policy(policy)
    tls = effective_tls(data, overrides, openssl_version)
    values = {
        "name": data["name"],
        "ssl_protocols": " ".join(tls["protocols"]),
        "ssl_ciphers": ":".join(tls["tls12_ciphers"]) if "TLSv1.2" in tls["protocols"] else "",
        "ciphersuites": ":".join(tls["tls13_ciphersuites"]),
        "ssl_ecdh_curve": ":".join(tls["groups"]),
        "ssl_prefer_server_ciphers": "on" if data["server_cipher_preference"] else "off",
        "hsts": _hsts_value(data),
        "ocsp_stapling": data["ocsp_stapling"],
        "mtls_required": bool(data["mtls"]["required"]),
        "verify_depth": int(data["mtls"].get("verify_depth", 2)),
        "session_tickets": bool(data["session"]["tickets"]),
        "session_timeout_seconds": int(data["session"]["timeout_seconds"]),
        "early_data": bool(data["early_data"]["allowed"]),
        # The profile's signature schemes this OpenSSL can name; "" when the profile lists none.
        "signature_algorithms": ":".join(schemes_for(data, openssl_version) or []),
    }
    values["directives"] = _nginx_directives(values, data, session_cache_size)
    return values


def _nginx_directives(values: dict[str, Any], data: dict[str, Any], cache_size: str) -> list[dict[str, Any]]:
    protocols = values["ssl_protocols"].split()

    def on(flag: bool) -> str:
        return "on" if flag else "off"

    table = [
        ("ssl_protocols", values["ssl_protocols"]),
        ("ssl_ciphers", values["ssl_ciphers"] or None),
        (
            "ssl_conf_command Ciphersuites",
            values["ciphersuites"] if "TLSv1.3" in protocols and values["ciphersuites"] else None,
        ),
        ("ssl_ecdh_curve", values["ssl_ecdh_curve"]),
        # Without it OpenSSL signs with any scheme of its own default list (SHA-224 in TLS 1.2).
        ("ssl_conf_command SignatureAlgorithms", values["signature_algorithms"] or None),
        ("ssl_prefer_server_ciphers", values["ssl_prefer_server_ciphers"]),
        (
            "ssl_session_cache",
            f"shared:tlsward:{cache_size}" if data["session"].get("cache", True) else "off",
        ),
        ("ssl_session_timeout", f"{values['session_timeout_seconds']}s"),
        ("ssl_session_tickets", on(values["session_tickets"])),
        ("ssl_early_data", on(values["early_data"])),
        ("ssl_verify_depth", str(values["verify_depth"])),
        ("ssl_verify_client", "on" if values["mtls_required"] else "optional"),
        # With ssl_verify_client on, a client without a certificate still completes the handshake
        # unless OpenSSL is told to refuse it (SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
        ("ssl_conf_command VerifyMode", "Require" if values["mtls_required"] else None),
        # "always": the header is sent on error responses too.
        ("add_header Strict-Transport-Security", f'"{values["hsts"]}" always' if values["hsts"] else None),
    ]
    return [{"directive": name, "value": value} for name, value in table]


def render_openssl(
    policy: str | dict[str, Any],
    openssl_version: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, str]:
    """Values for the system-wide OpenSSL ``system_default`` section."""
    tls = effective_tls(policy, overrides, openssl_version)
    known = [p for p in tls["protocols"] if p in PROTOCOLS]
    if not known:
        raise PolicyError("tls_policy_openssl", f"no known protocol in {tls['protocols']}")
    return {
        "MinProtocol": min(known, key=PROTOCOLS.index),
        "MaxProtocol": max(known, key=PROTOCOLS.index),
        "CipherString": ":".join(tls["tls12_ciphers"]) or "DEFAULT",
        "Ciphersuites": ":".join(tls["tls13_ciphersuites"]),
        "Groups": ":".join(tls["groups"]),
    }


def _hsts_value(data: dict[str, Any]) -> str:
    hsts = data["hsts"]
    if not hsts.get("required"):
        return ""
    value = f"max-age={int(hsts['min_max_age'])}"
    if hsts.get("include_subdomains"):
        value += "; includeSubDomains"
    return value
