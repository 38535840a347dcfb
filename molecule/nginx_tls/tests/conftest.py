from __future__ import annotations

import sys
from pathlib import Path

import pytest
import testinfra

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="module")
def host(_testinfra_host):
    """The instance through `docker exec`: one probe costs ~0.1 s instead of an ansible run.
    The ansible-backed host (`_testinfra_host`) is kept for inventory variables."""
    return testinfra.get_host(f"docker://{_testinfra_host.backend.host}")


@pytest.fixture(scope="module")
def hostvars(_testinfra_host) -> dict:
    return _testinfra_host.ansible.get_variables()


@pytest.fixture(scope="module")
def address(hostvars) -> str:
    return hostvars["tlsward_listen_address"]
