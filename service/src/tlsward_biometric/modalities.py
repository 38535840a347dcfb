"""Modality registry: each modality's template shape, comparison and decision threshold.

Embeddings (face, fingerprint) are float32 vectors compared by cosine similarity (higher is more
similar); iris codes are bit strings with an occlusion mask compared by fractional Hamming
distance (lower is more similar). Each modality's threshold is chosen from a calibration table of
(false match rate, threshold) points for the configured target false match rate, or set
explicitly. The built-in calibration tables are placeholders: replace them with the points from
the DET curve of the extractor that the devices run.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tlsward_biometric.errors import ConfigurationError, UnknownModalityError


class Comparison(StrEnum):
    """How two templates of a modality are scored."""

    COSINE = "cosine"
    HAMMING = "hamming"


@dataclass(frozen=True)
class ModalitySpec:
    """The fixed description of a modality (shape, comparison, default calibration)."""

    name: str
    comparison: Comparison
    dimension: int  # float32 values for embeddings, bits for iris codes
    calibration: tuple[tuple[float, float], ...]  # (false match rate, threshold)
    description: str

    @property
    def higher_is_more_similar(self) -> bool:
        return self.comparison is Comparison.COSINE

    @property
    def payload_bytes(self) -> int:
        """Size of the canonical template payload (float32 LE values, or code + mask)."""
        if self.comparison is Comparison.COSINE:
            return 4 * self.dimension
        return 2 * (self.dimension // 8)


# Placeholder calibrations (illustrative orders of magnitude, not measurements): a deployment
# sets TLSWARD_BIO_CALIBRATION from its extractor vendor's DET curve, or TLSWARD_BIO_THRESHOLDS.
BUILTIN_MODALITIES: tuple[ModalitySpec, ...] = (
    ModalitySpec(
        "face-128",
        Comparison.COSINE,
        128,
        ((1e-3, 0.30), (1e-4, 0.36), (1e-5, 0.42), (1e-6, 0.48)),
        "face embedding, 128 float32 values, cosine similarity",
    ),
    ModalitySpec(
        "face-512",
        Comparison.COSINE,
        512,
        ((1e-3, 0.28), (1e-4, 0.34), (1e-5, 0.40), (1e-6, 0.46)),
        "face embedding, 512 float32 values, cosine similarity",
    ),
    ModalitySpec(
        "fingerprint-256",
        Comparison.COSINE,
        256,
        ((1e-3, 0.55), (1e-4, 0.62), (1e-5, 0.68), (1e-6, 0.73)),
        "fixed-length fingerprint embedding, 256 float32 values, cosine similarity",
    ),
    ModalitySpec(
        "iris-2048",
        Comparison.HAMMING,
        2048,
        ((1e-3, 0.37), (1e-4, 0.35), (1e-6, 0.33), (1e-8, 0.31)),
        "iris code, 2048 bits with an occlusion mask, fractional Hamming distance",
    ),
)

MIN_VALID_BIT_FRACTION = 0.25


def choose_threshold(spec: ModalitySpec, points: Sequence[tuple[float, float]], target_fmr: float) -> float:
    """The most lenient calibrated threshold whose false match rate is at most ``target_fmr``."""
    eligible = [threshold for fmr, threshold in points if fmr <= target_fmr]
    if not eligible:
        raise ConfigurationError(
            f"modality {spec.name}: no calibration point reaches target false match rate {target_fmr:g} "
            f"(points: {list(points)})"
        )
    return min(eligible) if spec.higher_is_more_similar else max(eligible)


def _check_threshold(spec: ModalitySpec, threshold: float) -> None:
    low = -1.0 if spec.comparison is Comparison.COSINE else 0.0
    if not (math.isfinite(threshold) and low <= threshold <= 1.0):
        raise ConfigurationError(f"modality {spec.name}: threshold {threshold!r} outside [{low}, 1]")


def cosine_similarity(a: bytes, b: bytes) -> float:
    """Cosine similarity of two float32 little-endian vectors of equal length (0.0 for a zero one)."""
    count = len(a) // 4
    va = struct.unpack(f"<{count}f", a)
    vb = struct.unpack(f"<{count}f", b)
    dot = math.fsum(x * y for x, y in zip(va, vb, strict=True))
    na = math.sqrt(math.fsum(x * x for x in va))
    nb = math.sqrt(math.fsum(y * y for y in vb))
    if na == 0.0 or nb == 0.0:
        return 0.0
    return max(-1.0, min(1.0, dot / (na * nb)))


def fractional_hamming(a: bytes, b: bytes, bits: int) -> float:
    """Fractional Hamming distance of two masked iris codes (code || mask); 1.0 if too few bits overlap."""
    half = bits // 8
    code_a, mask_a = int.from_bytes(a[:half], "big"), int.from_bytes(a[half:], "big")
    code_b, mask_b = int.from_bytes(b[:half], "big"), int.from_bytes(b[half:], "big")
    valid = mask_a & mask_b
    valid_bits = valid.bit_count()
    if valid_bits < MIN_VALID_BIT_FRACTION * bits:
        return 1.0
    return ((code_a ^ code_b) & valid).bit_count() / valid_bits


@dataclass(frozen=True)
class Modality:
    """A modality with the decision threshold in force."""

    spec: ModalitySpec
    threshold: float

    @property
    def name(self) -> str:
        return self.spec.name

    def score(self, enrolled: bytes, probe: bytes) -> float:
        if self.spec.comparison is Comparison.COSINE:
            return cosine_similarity(enrolled, probe)
        return fractional_hamming(enrolled, probe, self.spec.dimension)

    def is_match(self, score: float) -> bool:
        if self.spec.higher_is_more_similar:
            return score >= self.threshold
        return score <= self.threshold


class ModalityRegistry:
    """The modalities the service accepts, with thresholds for the configured target FMR."""

    def __init__(
        self,
        *,
        target_fmr: float,
        thresholds: Mapping[str, float] | None = None,
        calibration: Mapping[str, Sequence[tuple[float, float]]] | None = None,
        specs: Sequence[ModalitySpec] = BUILTIN_MODALITIES,
    ) -> None:
        thresholds = dict(thresholds or {})
        calibration = dict(calibration or {})
        known = {spec.name for spec in specs}
        unknown = sorted((set(thresholds) | set(calibration)) - known)
        if unknown:
            raise ConfigurationError(
                f"thresholds/calibration name unknown modalities {unknown}; known: {sorted(known)}"
            )
        self._modalities: dict[str, Modality] = {}
        for spec in specs:
            if spec.name in thresholds:
                threshold = float(thresholds[spec.name])
            else:
                points = calibration.get(spec.name, spec.calibration)
                for _point, point_threshold in points:
                    _check_threshold(spec, point_threshold)
                threshold = choose_threshold(spec, points, target_fmr)
            _check_threshold(spec, threshold)
            self._modalities[spec.name] = Modality(spec, threshold)

    def get(self, name: str) -> Modality:
        try:
            return self._modalities[name]
        except KeyError:
            raise UnknownModalityError(
                f"unknown modality {name!r}; known: {sorted(self._modalities)}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._modalities)

    def __iter__(self) -> Iterator[Modality]:
        return iter(self._modalities.values())
