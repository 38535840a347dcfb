"""Shared fixtures: a certificate factory with a fixed clock, and a valid default hierarchy.

The factory itself lives in ``tlsward.testing.certfactory`` so integration and service tests can
import it too.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tlsward.testing.certfactory import CertFactory, Issued

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def now() -> dt.datetime:
    return NOW


@pytest.fixture(scope="session")
def factory() -> CertFactory:
    return CertFactory(now=NOW)


@pytest.fixture(scope="session")
def pki(factory: CertFactory) -> tuple[Issued, Issued, Issued]:
    """root (P-384), issuing CA (P-256), server leaf for api.example.test (P-256, 60 days)."""
    return factory.hierarchy()
