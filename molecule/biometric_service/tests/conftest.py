from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def subject() -> str:
    """A fresh subject id (the scenario may be verified more than once)."""
    return f"s-{uuid.uuid4().hex[:16]}"
