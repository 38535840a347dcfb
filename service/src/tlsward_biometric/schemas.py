"""Request and response bodies of the HTTP API (they make the OpenAPI description)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tlsward_biometric.errors import InvalidTemplateError
from tlsward_biometric.modalities import BUILTIN_MODALITIES, ModalityRegistry
from tlsward_biometric.settings import KEY_ID_PATTERN
from tlsward_biometric.templates import (
    Template,
    embedding_from_base64,
    embedding_from_values,
    iris_from_base64,
)

SUBJECT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
MAX_FLOATS = 4096
MAX_BASE64 = 16384

ModalityName = Literal[tuple(spec.name for spec in BUILTIN_MODALITIES)]  # type: ignore[valid-type]
# Strict types: JSON true is not the number 1, and "1.5" is not a number.
FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class FloatListTemplate(_Strict):
    """An embedding as a JSON list of numbers (converted to float32)."""

    encoding: Literal["float-list"]
    values: list[FiniteFloat] = Field(max_length=MAX_FLOATS)


class Float32Base64Template(_Strict):
    """An embedding as base64 of its float32 little-endian values."""

    encoding: Literal["float32-base64"]
    data: str = Field(max_length=MAX_BASE64)


class BitsBase64Template(_Strict):
    """An iris code as base64 of its bits, with an optional occlusion mask (1 = valid bit)."""

    encoding: Literal["bits-base64"]
    data: str = Field(max_length=MAX_BASE64)
    mask: str | None = Field(default=None, max_length=MAX_BASE64)


TemplatePayload = Annotated[
    FloatListTemplate | Float32Base64Template | BitsBase64Template, Field(discriminator="encoding")
]


class TemplateRequest(_Strict):
    """A template (enrolment) or probe (verification) of one modality."""

    modality: ModalityName  # type: ignore[valid-type]
    template: TemplatePayload

    def decode(self, registry: ModalityRegistry) -> Template:
        spec = registry.get(self.modality).spec
        payload = self.template
        if isinstance(payload, FloatListTemplate):
            return embedding_from_values(spec, payload.values)
        if isinstance(payload, Float32Base64Template):
            return embedding_from_base64(spec, payload.data)
        if isinstance(payload, BitsBase64Template):
            return iris_from_base64(spec, payload.data, payload.mask)
        raise InvalidTemplateError("unsupported template encoding")  # pragma: no cover - union is closed


class EnrollResponse(BaseModel):
    subject_id: str
    group: str = Field(description="the group the subject belongs to: the enrolling device's group")
    modality: str
    key_id: str
    device_id: str = Field(description="stable id of the enrolling device (urn:tlsward:device:<id>)")
    enrolled_at: str = Field(description="RFC 3339 time")


class VerifyResponse(BaseModel):
    subject_id: str
    modality: str
    match: bool = Field(description="whether the probe matches at the modality's threshold; no score")


class UnlockResponse(BaseModel):
    subject_id: str
    group: str
    unlocked: bool


class RotateRequest(_Strict):
    target_key_id: str | None = Field(
        default=None, pattern=KEY_ID_PATTERN, description="key to re-encrypt to (default: the active key)"
    )
    max_records: int | None = Field(
        default=None, ge=1, le=1_000_000, description="stop after this many records (resume later)"
    )


class RotateResponse(BaseModel):
    target_key_id: str
    reencrypted: int
    remaining: int = Field(description="records still sealed with another key")
    key_usage: dict[str, int]


class RetireResponse(BaseModel):
    key_id: str
    retired: bool


class KeyStatusResponse(BaseModel):
    active_key_id: str
    loaded: list[str]
    retired: list[str]
    usage: dict[str, int]


class HealthResponse(BaseModel):
    status: str


class ReadyResponse(BaseModel):
    status: str
    store: str


class ErrorResponse(BaseModel):
    error: str = Field(description="stable error id")
    detail: str
