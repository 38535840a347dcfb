from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="module")
def address(host) -> str:
    return host.ansible.get_variables()["tlsward_listen_address"]
