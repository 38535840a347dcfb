"""Template codecs: API payloads to the canonical bytes that are encrypted and compared.

Canonical payloads: embeddings are ``dimension`` float32 little-endian values; iris codes are the
code bits followed by the mask bits (1 = valid), both ``dimension / 8`` bytes. Every decoder
checks size, encoding and finiteness and raises InvalidTemplateError with a precise message.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from tlsward_biometric.errors import InvalidTemplateError
from tlsward_biometric.modalities import MIN_VALID_BIT_FRACTION, Comparison, ModalitySpec

PLAINTEXT_VERSION = b"\x01"


@dataclass(frozen=True)
class Template:
    """A validated template: its modality name and canonical payload bytes."""

    modality: str
    payload: bytes

    def to_plaintext(self) -> bytes:
        return PLAINTEXT_VERSION + self.payload

    @classmethod
    def from_plaintext(cls, modality: str, plaintext: bytes) -> Template:
        if not plaintext.startswith(PLAINTEXT_VERSION):
            raise ValueError("unknown template plaintext version")
        return cls(modality, plaintext[len(PLAINTEXT_VERSION) :])


def b64decode_strict(text: str, field: str) -> bytes:
    """Standard base64 (with padding), rejecting any character outside the alphabet."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InvalidTemplateError(f"{field}: not valid base64") from None


def pack_float32(values: Sequence[float], field: str = "values") -> bytes:
    """float32 little-endian bytes of finite values within float32 range."""
    out = bytearray()
    for index, value in enumerate(values):
        if not math.isfinite(value):
            raise InvalidTemplateError(f"{field}[{index}]: not a finite number")
        try:
            out += struct.pack("<f", value)
        except OverflowError:
            raise InvalidTemplateError(f"{field}[{index}]: outside the float32 range") from None
    return bytes(out)


def unpack_float32(data: bytes) -> tuple[float, ...]:
    if len(data) % 4:
        raise InvalidTemplateError("float32 data length is not a multiple of 4 bytes")
    return struct.unpack(f"<{len(data) // 4}f", data)


def _check_embedding(spec: ModalitySpec, payload: bytes, field: str) -> Template:
    if len(payload) != spec.payload_bytes:
        raise InvalidTemplateError(
            f"{field}: modality {spec.name} needs {spec.dimension} float32 values, got {len(payload) / 4:g}"
        )
    values = unpack_float32(payload)
    for index, value in enumerate(values):
        if not math.isfinite(value):
            raise InvalidTemplateError(f"{field}[{index}]: not a finite number")
    if not any(values):
        raise InvalidTemplateError(f"{field}: the zero vector has no direction to compare")
    return Template(spec.name, payload)


def embedding_from_values(spec: ModalitySpec, values: Sequence[float]) -> Template:
    """A template from a JSON list of numbers."""
    _require(spec, Comparison.COSINE, "float-list")
    if len(values) != spec.dimension:
        raise InvalidTemplateError(
            f"values: modality {spec.name} needs {spec.dimension} values, got {len(values)}"
        )
    return _check_embedding(spec, pack_float32(values), "values")


def embedding_from_base64(spec: ModalitySpec, data: str) -> Template:
    """A template from base64 of float32 little-endian values."""
    _require(spec, Comparison.COSINE, "float32-base64")
    return _check_embedding(spec, b64decode_strict(data, "data"), "data")


def iris_from_base64(spec: ModalitySpec, code: str, mask: str | None) -> Template:
    """A template from base64 of the iris code bits and (optionally) the mask bits."""
    _require(spec, Comparison.HAMMING, "bits-base64")
    size = spec.dimension // 8
    code_bytes = b64decode_strict(code, "data")
    if len(code_bytes) != size:
        raise InvalidTemplateError(f"data: modality {spec.name} needs {size} bytes, got {len(code_bytes)}")
    if mask is None:
        mask_bytes = b"\xff" * size
    else:
        mask_bytes = b64decode_strict(mask, "mask")
        if len(mask_bytes) != size:
            raise InvalidTemplateError(
                f"mask: modality {spec.name} needs {size} bytes, got {len(mask_bytes)}"
            )
    valid = int.from_bytes(mask_bytes, "big").bit_count()
    if valid < MIN_VALID_BIT_FRACTION * spec.dimension:
        raise InvalidTemplateError(
            f"mask: only {valid} of {spec.dimension} bits valid, need at least "
            f"{int(MIN_VALID_BIT_FRACTION * 100)} %"
        )
    return Template(spec.name, code_bytes + mask_bytes)


def _require(spec: ModalitySpec, comparison: Comparison, encoding: str) -> None:
    if spec.comparison is not comparison:
        expected = "float-list or float32-base64" if spec.comparison is Comparison.COSINE else "bits-base64"
        raise InvalidTemplateError(f"encoding {encoding} does not fit modality {spec.name} (use {expected})")
