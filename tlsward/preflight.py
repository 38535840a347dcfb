"""Preflight: everything one host's variables would make tlsward deploy, judged before anything runs.

``check_host`` takes the host's variables (any mapping: the preflight playbook hands it Ansible's
``vars``; only the variables it judges are read) and returns one line per problem,
``variable <name>: <validator>: <rule>``. It never raises: a run must be able to report every
host's problems together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tlsward.chain import hostname_matches, validate_ca_bundle, validate_cert_chain
from tlsward.errors import TlswardError
from tlsward.groups import validate_groups
from tlsward.inputs import as_name_list, as_text, policy_for
from tlsward.overrides import VARIABLE_FOR, is_set, overrides_from_vars
from tlsward.pem import load_certificates
from tlsward.policy import DEFAULT_POLICY, effective_tls
from tlsward.protocols import validate_tls_protocols
from tlsward.suites import validate_cipher_list, validate_tls13_ciphersuites

SOURCE = "tls_preflight"


def _lines(variable: str, exc: TlswardError) -> list[str]:
    return [f"variable {variable}: {exc.source}: {problem}" for problem in exc.problems]


def check_host(hostvars: Mapping[str, Any]) -> list[str]:
    """Every problem in one host's TLS inputs; an empty list means the host may be deployed."""
    if not isinstance(hostvars, Mapping):
        return [f"{SOURCE}: expected a mapping of host variables, got {type(hostvars).__name__}"]
    problems: list[str] = []
    policy_name = hostvars.get("tlsward_policy") or DEFAULT_POLICY
    try:
        data = policy_for(policy_name, SOURCE)
    except TlswardError as exc:
        return _lines("tlsward_policy", exc)
    problems += _check_tls(hostvars, data)
    problems += _check_names(hostvars, data)
    if (hostvars.get("tls_pki_mode") or "internal") == "provided":
        problems += _check_provided_pki(hostvars, data)
    return problems


def _check_tls(hostvars: dict[str, Any], data: dict[str, Any]) -> list[str]:
    overrides = overrides_from_vars(hostvars)
    openssl_version = hostvars.get("tlsward_openssl_version") or None
    try:
        tls = effective_tls(data, overrides, openssl_version)
    except TlswardError as exc:
        return _lines(", ".join(VARIABLE_FOR[k] for k in overrides) or "tlsward_policy", exc)
    except (TypeError, ValueError, AttributeError) as exc:
        return [f"variable {', '.join(VARIABLE_FOR[k] for k in overrides)}: tls_effective: {exc}"]

    def origin(key: str) -> str:
        return VARIABLE_FOR[key] if key in overrides else f"tlsward_policy ({data['name']} {key})"

    checks = [
        ("protocols", lambda v: validate_tls_protocols(v, data)),
        ("tls13_ciphersuites", lambda v: validate_tls13_ciphersuites(v, data)),
        ("groups", lambda v: validate_groups(v, data, openssl_version)),
    ]
    if "TLSv1.2" in tls["protocols"] or "tls12_ciphers" in overrides:
        checks.insert(1, ("tls12_ciphers", lambda v: validate_cipher_list(v, data)))
    problems: list[str] = []
    for key, check in checks:
        if key == "tls13_ciphersuites" and "TLSv1.3" not in tls["protocols"] and key not in overrides:
            continue
        try:
            check(tls[key])
        except TlswardError as exc:
            problems += _lines(origin(key), exc)
    return problems


def _server_names(hostvars: dict[str, Any]) -> list[str]:
    names = hostvars.get("tlsward_server_names")
    if not is_set(names):
        return []
    return as_name_list(names, SOURCE, "tlsward_server_names", separators=", ")


def _check_names(hostvars: dict[str, Any], data: dict[str, Any]) -> list[str]:
    try:
        names = _server_names(hostvars)
    except TlswardError as exc:
        return _lines("tlsward_server_names", exc)
    environment = hostvars.get("tlsward_environment") or "production"
    forbidden = data["certificate"].get("wildcards_forbidden_in", [])
    return [
        f"variable tlsward_server_names: {SOURCE}: {name}: wildcard names are not allowed in "
        f"{environment} by policy {data['name']}"
        for name in names
        if "*" in name and environment in forbidden
    ]


def _check_provided_pki(hostvars: dict[str, Any], data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    environment = hostvars.get("tlsward_environment") or "production"
    try:
        names = _server_names(hostvars)
    except TlswardError:
        names = []  # already reported by _check_names
    fullchain = hostvars.get("tls_pki_server_fullchain")
    privkey = hostvars.get("tls_pki_server_privkey")
    if not is_set(fullchain):
        problems.append(
            f"variable tls_pki_server_fullchain: {SOURCE}: required when tls_pki_mode is provided"
        )
    if not is_set(privkey):
        problems.append(f"variable tls_pki_server_privkey: {SOURCE}: required when tls_pki_mode is provided")
    if is_set(fullchain):
        problems += _check_server_chain(
            hostvars, data=data, fullchain=fullchain, privkey=privkey, names=names, environment=environment
        )
    devices_enabled = hostvars.get("tls_pki_devices_enabled", True) not in (False, "false", "no")
    bundle = hostvars.get("tls_pki_device_ca_bundle")
    if is_set(bundle):
        try:
            validate_ca_bundle(bundle, policy=data, usage="client")
        except TlswardError as exc:
            problems += _lines("tls_pki_device_ca_bundle", exc)
    elif devices_enabled and data["mtls"].get("required"):
        problems.append(
            f"variable tls_pki_device_ca_bundle: {SOURCE}: required in provided mode because policy "
            f"{data['name']} requires mutual TLS"
        )
    return problems


def _check_server_chain(
    hostvars: dict[str, Any],
    *,
    data: dict[str, Any],
    fullchain: Any,
    privkey: Any,
    names: list[str],
    environment: str,
) -> list[str]:
    trust = hostvars.get("tls_pki_server_trust")
    try:
        validate_cert_chain(
            fullchain,
            trust=trust if is_set(trust) else None,
            hostname=names[0] if names else None,
            usage="server",
            policy=data,
            environment=environment,
            private_key=privkey if is_set(privkey) else None,
        )
        problems: list[str] = []
    except TlswardError as exc:
        problems = []
        for line in exc.problems:
            if line.startswith("private_key:"):
                variable = "tls_pki_server_privkey"
            elif line.startswith("trust:"):
                variable = "tls_pki_server_trust"
            else:
                variable = "tls_pki_server_fullchain"
            problems.append(f"variable {variable}: {exc.source}: {line}")
    if len(names) > 1:
        try:
            leaf = load_certificates(as_text(fullchain, SOURCE, "fullchain"), SOURCE, "fullchain")[0]
        except TlswardError:
            return problems  # unparsable: already reported
        problems += [
            f"variable tls_pki_server_fullchain: validate_cert_chain: certificate 1: does not cover "
            f"tlsward_server_names entry {name!r}"
            for name in names[1:]
            if not hostname_matches(leaf, name)
        ]
    return problems
