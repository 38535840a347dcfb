"""Shared helpers: the scenario's store and inventory, playbook runs, loopback TLS clients."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
DISTRO = os.environ.get("MOLECULE_DISTRO", "debian12")
STORE = EPHEMERAL / "pki"
INVENTORY = EPHEMERAL / "inventory"
ROOT_CA = STORE / "ca" / "root.crt"
HOSTS = {
    f"pki1-{DISTRO}": ("127.0.1.20", "pki1.tlsward.test"),
    f"pki2-{DISTRO}": ("127.0.1.21", "pki2.tlsward.test"),
}


def run_playbook(playbook: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Run a project playbook against the scenario's inventory (output kept for assertions)."""
    env = {k: v for k, v in os.environ.items() if k != "ANSIBLE_FORCE_COLOR"}
    env.update(
        ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(PROJECT / ".cache" / "collections"),
        ANSIBLE_NOCOLOR="1",
    )
    # a project playbook by its FQCN (tlsward.tls.<name>), another one by its path
    path = playbook if playbook.startswith("/") else f"tlsward.tls.{playbook.removesuffix('.yml')}"
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(INVENTORY), path, *args]
    return subprocess.run(
        cmd, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@dataclass(frozen=True)
class Reply:
    status: int
    body: str


def https_get(
    address: str,
    name: str,
    *,
    cert: Path | None = None,
    key: Path | None = None,
    path: str = "/healthz",
    cafile: Path = ROOT_CA,
    timeout: float = 5.0,
) -> Reply:
    """One HTTPS request on a new connection, verifying the server against ``cafile`` and ``name``."""
    assert address.startswith("127."), "tests only talk to loopback"
    ctx = ssl.create_default_context(cafile=str(cafile))
    if cert is not None:
        ctx.load_cert_chain(str(cert), str(key) if key else None)
    with (
        socket.create_connection((address, 443), timeout=timeout) as raw,
        ctx.wrap_socket(raw, server_hostname=name) as tls,
    ):
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return Reply(status, body.decode(errors="replace"))


def served_chain_pem(address: str, name: str) -> list[str]:
    """The certificates the server sends, as PEM, via openssl s_client (no client certificate)."""
    proc = subprocess.run(
        ["openssl", "s_client", "-connect", f"{address}:443", "-servername", name, "-showcerts"],
        input="",
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return pem_certs(proc.stdout)


def pem_certs(text: str) -> list[str]:
    certs = []
    while "-----BEGIN CERTIFICATE-----" in text:
        start = text.index("-----BEGIN CERTIFICATE-----")
        end = text.index("-----END CERTIFICATE-----", start) + len("-----END CERTIFICATE-----")
        certs.append(text[start:end] + "\n")
        text = text[end:]
    return certs


@pytest.fixture(scope="module")
def endpoint(host) -> tuple[str, str]:
    return HOSTS[host.backend.get_hostname()]
