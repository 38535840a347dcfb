"""Fixtures for the integration tests: real nginx endpoints on 127.0.2.0/24, scanned once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import scan_endpoints as se

from tlsward.scan import scan


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


@pytest.fixture(scope="session")
def scan_records(scan_fleet: list[se.Endpoint], scan_material: se.Pki) -> dict[str, dict[str, Any]]:
    """One concurrent scan of the whole fleet: endpoint name -> record."""
    targets = [se.target_for(ep, scan_material) for ep in scan_fleet]
    return {ep.name: record for ep, record in zip(scan_fleet, scan(targets), strict=True)}


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
