"""Endpoints to scan, from the inventory: every host with ``tlsward_listen_address``."""

from __future__ import annotations

from typing import Any

from tlsward.errors import TlswardError
from tlsward.overrides import overrides_from_vars
from tlsward.policy import DEFAULT_POLICY


def endpoints_from_hosts(hosts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ``tls_scan`` endpoint per host variables mapping that has ``tlsward_listen_address``.

    Each mapping is one host's variables (``groups['frontends'] | map('extract', hostvars)``);
    the endpoint gets the host's profile, environment, port, primary server name, the validated
    TLS overrides it was rendered with and the host's OpenSSL version (gathered by the compliance
    run, else ``tlsward_openssl_version``; ``None`` when neither is known). Hosts without a
    listen address have no endpoint (their host-side checks still run).

    ``resumption_peers`` are where a session offered to the endpoint may come from: the host's
    other server names (same listener) and the other endpoints of the same environment (the
    nginx_tls role shares the session ticket keys across the fleet).
    """
    problems = []
    endpoints = []
    for index, hv in enumerate(hosts):
        if not isinstance(hv, dict):
            problems.append(f"item {index}: host variables must be a mapping, got {type(hv).__name__}")
            continue
        name = str(hv.get("inventory_hostname") or f"item {index}")
        address = hv.get("tlsward_listen_address")
        if not address:
            continue
        names = hv.get("tlsward_server_names", [name])
        if isinstance(names, str) or not isinstance(names, list) or not names:
            problems.append(f"{name}: tlsward_server_names must be a non-empty list of DNS names")
            continue
        try:
            port = int(hv.get("tlsward_https_port", 443))
        except (TypeError, ValueError):
            problems.append(
                f"{name}: tlsward_https_port {hv.get('tlsward_https_port')!r} is not a port number"
            )
            continue
        overrides = overrides_from_vars(hv)
        # The target's OpenSSL: what the compliance run read on the host (``openssl version``), else
        # what the inventory states (tlsward_openssl_version, as preflight reads it).
        facts = hv.get("compliance_host_facts")
        gathered = facts.get("openssl_version") if isinstance(facts, dict) else None
        openssl_version = gathered or hv.get("tlsward_openssl_version") or None
        endpoints.append(
            {
                "name": name,
                "host": str(address),
                "port": port,
                "server_name": str(names[0]),
                "policy": hv.get("tlsward_policy") or DEFAULT_POLICY,
                "environment": str(hv.get("tlsward_environment") or "production"),
                "overrides": overrides or None,
                "resumption_peers": [{"server_name": str(other)} for other in names[1:]],
                "openssl_version": str(openssl_version).strip() if openssl_version else None,
            }
        )
    if problems:
        raise TlswardError("tls_compliance_endpoints", problems)
    for endpoint in endpoints:
        endpoint["resumption_peers"] += [
            {"host": other["host"], "port": other["port"], "server_name": other["server_name"]}
            for other in endpoints
            if other is not endpoint and other["environment"] == endpoint["environment"]
        ]
    return endpoints
