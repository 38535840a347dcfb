"""Template builders and certificate names shared by the service tests."""

from __future__ import annotations

import base64
import math
import random
import struct


def unit_vector(dim: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(dim)]
    norm = math.sqrt(sum(v * v for v in values))
    return [struct.unpack("<f", struct.pack("<f", v / norm))[0] for v in values]


def noisy(values: list[float], sigma: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [v + rng.gauss(0.0, sigma) for v in values]


def f32_bytes(values: list[float]) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)


def float_list_body(values: list[float], modality: str = "face-128") -> dict:
    return {"modality": modality, "template": {"encoding": "float-list", "values": values}}


def float_b64_body(values: list[float], modality: str = "face-128") -> dict:
    data = base64.b64encode(f32_bytes(values)).decode()
    return {"modality": modality, "template": {"encoding": "float32-base64", "data": data}}


def iris_body(code: bytes, mask: bytes | None = None, modality: str = "iris-2048") -> dict:
    template = {"encoding": "bits-base64", "data": base64.b64encode(code).decode()}
    if mask is not None:
        template["mask"] = base64.b64encode(mask).decode()
    return {"modality": modality, "template": template}


def identity_uris(device_id: str, role: str, group: str) -> list[str]:
    """The URI subjectAltNames of a tlsward device certificate."""
    return [f"urn:tlsward:device:{device_id}", f"urn:tlsward:role:{role}", f"urn:tlsward:group:{group}"]
