"""Fixtures for the integration tests: real nginx endpoints on 127.0.2.0/24, scanned once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import scan_endpoints as se

from tlsward.scan import Identity, Target, scan


@pytest.fixture(scope="session")
def scan_material(tmp_path_factory: pytest.TempPathFactory) -> se.Pki:
    return se.build_pki(tmp_path_factory.mktemp("scan-pki"))


@pytest.fixture(scope="session")
def scan_fleet(
    tmp_path_factory: pytest.TempPathFactory, scan_material: se.Pki
) -> Iterator[list[se.Endpoint]]:
    """Every endpoint of ``scan_endpoints.endpoints()`` running, stopped at the end of the session."""
    started = se.start_all(tmp_path_factory.mktemp("scan-nginx"), scan_material)
    try:
        yield started
    finally:
        se.stop_all(started)


def target_for(ep: se.Endpoint, material: se.Pki, **changes: Any) -> Target:
    values: dict[str, Any] = {
        "host": ep.address,
        "port": ep.port,
        "server_name": se.SERVER_NAME,
        "name": ep.name,
        "policy": "biometric-strict",
        "environment": ep.environment,
        "ca_file": material.server_ca,
        "client": Identity(*material.device),
        "revoked_client": Identity(*material.revoked_device),
        "unknown_ca_client": Identity(*material.unknown_device),
    }
    values.update(changes)
    return Target(**values)


@pytest.fixture(scope="session")
def scan_records(scan_fleet: list[se.Endpoint], scan_material: se.Pki) -> dict[str, dict[str, Any]]:
    """One concurrent scan of the whole fleet: endpoint name -> record."""
    targets = [target_for(ep, scan_material) for ep in scan_fleet]
    return {ep.name: record for ep, record in zip(scan_fleet, scan(targets), strict=True)}


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
