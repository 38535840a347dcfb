from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import testinfra

# The probe helpers are shared with the single-host scenario.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "nginx_tls" / "tests"))

DISTRO = os.environ.get("MOLECULE_DISTRO", "debian12")
NAMES = [f"nginx-fleet{n}-{DISTRO}" for n in (1, 2, 3)]


@pytest.fixture(scope="session")
def fleet() -> list:
    """The instances through `docker exec` (fast probes)."""
    return [testinfra.get_host(f"docker://{name}") for name in NAMES]


@pytest.fixture(scope="session")
def addresses() -> list[str]:
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    hosts = [testinfra.get_host(f"ansible://{name}", ansible_inventory=inventory) for name in NAMES]
    return [h.ansible.get_variables()["tlsward_listen_address"] for h in hosts]


@pytest.fixture(scope="session")
def client(fleet):
    """Host 1's container runs every client probe (its own OpenSSL, loopback only)."""
    return fleet[0]
