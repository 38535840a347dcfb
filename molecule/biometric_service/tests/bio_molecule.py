"""Clients for the biometric service through the real nginx front end (mutual TLS), run from the
controller: every container shares the host network, nginx listens on 127.0.1.30."""

from __future__ import annotations

import hashlib
import math
import os
import random
import ssl
import struct
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

ADDRESS = "127.0.1.30"
SERVER_NAME = "bio.tlsward.test"


def device_dir(name: str) -> Path:
    """Where tls_pki's device_issue left a client's privkey.pem, cert.pem, chain.pem and ca.pem."""
    return Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "pki" / "devices" / name


ROOT = "device-a"  # every device directory holds the tlsward root CA (ca.pem)


def own_key_dir() -> Path:
    """The key and CSR a device made itself (prepare.yml); tls_pki wrote no key for it."""
    return Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "device-own-key"


def key_of(client: str) -> Path:
    lab_key = device_dir(client) / "privkey.pem"
    return lab_key if lab_key.exists() else own_key_dir() / "privkey.pem"


def tls_context(client: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(device_dir(ROOT) / "ca.pem"))
    if client:
        context.load_cert_chain(device_dir(client) / "chain.pem", key_of(client))
    return context


def client(name: str | None = "device-a") -> httpx.Client:
    return httpx.Client(base_url=f"https://{ADDRESS}", verify=tls_context(name), timeout=30)


def fingerprint(name: str) -> str:
    cert = x509.load_pem_x509_certificate((device_dir(name) / "cert.pem").read_bytes())
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def unit_vector(seed: int, dim: int = 128) -> list[float]:
    rng = random.Random(seed)
    values = [rng.gauss(0, 1) for _ in range(dim)]
    norm = math.sqrt(sum(v * v for v in values))
    return [struct.unpack("<f", struct.pack("<f", v / norm))[0] for v in values]


def noisy(values: list[float], seed: int, sigma: float = 0.02) -> list[float]:
    rng = random.Random(seed)
    return [v + rng.gauss(0, sigma) for v in values]


def body(values: list[float], modality: str = "face-128") -> dict:
    return {"modality": modality, "template": {"encoding": "float-list", "values": values}}


def f32(values: list[float]) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)
