"""Shared fixtures: certificates, keys, both store backends (SQLite and a real PostgreSQL server
that the session starts), the service and its ASGI app."""

from __future__ import annotations

import datetime as dt
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from bio_helpers import identity_uris
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from psycopg.conninfo import make_conninfo
from tlsward_biometric.api import create_app
from tlsward_biometric.audit import AuditLog
from tlsward_biometric.crypto import KeyRing
from tlsward_biometric.lockout import DevicePolicy, LockoutPolicy
from tlsward_biometric.modalities import ModalityRegistry
from tlsward_biometric.service import BiometricService
from tlsward_biometric.settings import Settings
from tlsward_biometric.store import PostgresStore, SqliteStore, Store

GROUP = "site-a"
OTHER_GROUP = "site-b"


# --- certificates --------------------------------------------------------------------------
@dataclass(frozen=True)
class Cert:
    cert: x509.Certificate

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(Encoding.PEM).decode()

    @property
    def fingerprint(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex()

    def headers(self, verify: str = "SUCCESS") -> dict[str, str]:
        """What nginx passes for this client certificate ($ssl_client_escaped_cert)."""
        return {"X-Client-Verify": verify, "X-Client-Cert": quote(self.pem, safe="")}


def issue(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_name: x509.Name,
    cn: str,
    uris: list[str] | None = None,
    *,
    key: ec.EllipticCurvePrivateKey | None = None,
) -> Cert:
    """A device certificate with these URI subjectAltNames (None: no SAN extension)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if uris is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(u) for u in uris]), critical=False
        )
    return Cert(builder.sign(ca_key, hashes.SHA256()))


class DeviceCA:
    """Issues device certificates (cached per device id, role and group)."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test device CA")])
        self._issued: dict[tuple[str, str, str], Cert] = {}

    def device(self, device_id: str, role: str, group: str = GROUP) -> Cert:
        wanted = (device_id, role, group)
        if wanted not in self._issued:
            self._issued[wanted] = issue(self.key, self.name, device_id, identity_uris(*wanted))
        return self._issued[wanted]

    def raw(self, cn: str, uris: list[str] | None, **kwargs: object) -> Cert:
        return issue(self.key, self.name, cn, uris, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Certs:
    ca: DeviceCA
    device_a: Cert  # enroller of GROUP
    device_b: Cert  # verifier of GROUP
    verifier_2: Cert  # another verifier of GROUP
    operator: Cert
    monitor: Cert
    other_enroller: Cert  # enroller of OTHER_GROUP
    other_verifier: Cert  # verifier of OTHER_GROUP


@pytest.fixture(scope="session")
def certs() -> Certs:
    ca = DeviceCA()
    return Certs(
        ca=ca,
        device_a=ca.device("device-a", "enroller"),
        device_b=ca.device("device-b", "verifier"),
        verifier_2=ca.device("verifier-2", "verifier"),
        operator=ca.device("operator-1", "operator", "ops"),
        monitor=ca.device("scanner-1", "monitor", "ops"),
        other_enroller=ca.device("enroller-b", "enroller", OTHER_GROUP),
        other_verifier=ca.device("verifier-b", "verifier", OTHER_GROUP),
    )


# --- keys ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def key_material() -> dict[str, bytes]:
    return {"k1": os.urandom(32), "k2": os.urandom(32)}


@pytest.fixture
def key_dir(tmp_path: Path, key_material: dict[str, bytes]) -> Path:
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o700)
    for key_id, key in key_material.items():
        path = directory / f"{key_id}.key"
        path.write_text(key.hex() + "\n")
        path.chmod(0o400)
    return directory


# --- PostgreSQL: a real server started for the session -------------------------------------
def _pg_bindir() -> Path:
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(out.stdout.strip()))
    candidates += [
        Path(p)
        for p in sorted(
            glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
        )
    ]
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install the postgresql package "
        f"(looked in {[str(c) for c in candidates]})"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str

    def dsn(self, **extra: str) -> str:
        return make_conninfo(host=self.host, port=str(self.port), user=self.user, dbname="postgres", **extra)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = _pg_bindir()
    base = Path(tempfile.mkdtemp(prefix="tlsward-pg-"))
    data = base / "data"
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        nobody = pwd.getpwnam("nobody")
        os.chown(base, nobody.pw_uid, nobody.pw_gid)
        prefix = ["runuser", "-u", "nobody", "--"]
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(
        [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "tlsward", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        env=env,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base}"
    subprocess.run(
        [
            *prefix,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(base / "log"),
            "-w",
            "-o",
            options,
            "start",
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    try:
        yield PgServer("127.0.0.1", port, "tlsward")
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            check=False,
            capture_output=True,
            env=env,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_dsn(pg_server: PgServer) -> str:
    """A DSN whose search_path is a fresh schema (one per test)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return pg_server.dsn(options=f"-c search_path={schema}")


# --- stores, service, app ------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Opens (and reopens) the same store; parametrised over both backends."""
    opened: list[Store] = []
    if request.param == "sqlite":
        path = tmp_path / "biometric.db"

        def factory() -> Store:
            opened.append(SqliteStore(path))
            return opened[-1]

    else:
        dsn = request.getfixturevalue("pg_dsn")

        def factory() -> Store:
            opened.append(PostgresStore(dsn))
            return opened[-1]

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(store_factory: Callable[[], Store]) -> Store:
    return store_factory()


class FakeClock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


@pytest.fixture
def bio_settings(tmp_path: Path, key_dir: Path, audit_path: Path) -> Settings:
    return Settings(
        key_dir=key_dir,
        database_path=tmp_path / "biometric.db",
        audit_log_path=audit_path,
        max_body_bytes=32768,
    )


@pytest.fixture
def make_service(
    store: Store, key_dir: Path, audit_path: Path, clock: FakeClock
) -> Iterator[Callable[..., BiometricService]]:
    logs: list[AuditLog] = []

    def factory(active_key_id: str = "k1", device_policy: DevicePolicy | None = None) -> BiometricService:
        logs.append(AuditLog(audit_path))
        return BiometricService(
            store=store,
            keyring=KeyRing.load(key_dir, active_key_id),
            registry=ModalityRegistry(target_fmr=1e-4),
            policy=LockoutPolicy(),
            audit_log=logs[-1],
            device_policy=device_policy,
            clock=clock,
        )

    yield factory
    for log in logs:
        log.close()


@pytest.fixture
def service(make_service: Callable[..., BiometricService]) -> BiometricService:
    return make_service()


@pytest.fixture
def app(service: BiometricService, bio_settings: Settings):
    return create_app(service, bio_settings)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
