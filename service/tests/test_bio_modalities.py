import math

import pytest
from bio_helpers import f32_bytes, noisy, unit_vector
from tlsward_biometric.errors import ConfigurationError, UnknownModalityError
from tlsward_biometric.modalities import ModalityRegistry, cosine_similarity, fractional_hamming


def test_threshold_follows_target_fmr():
    strict = ModalityRegistry(target_fmr=1e-6)
    lenient = ModalityRegistry(target_fmr=1e-3)
    # cosine: a stricter target needs a higher similarity; Hamming: a lower distance
    assert strict.get("face-512").threshold > lenient.get("face-512").threshold
    assert strict.get("iris-2048").threshold < lenient.get("iris-2048").threshold
    # a target between calibration points takes the most lenient point that still meets it
    assert ModalityRegistry(target_fmr=5e-4).get("face-128").threshold == 0.36


def test_calibration_and_explicit_thresholds_override_builtin():
    registry = ModalityRegistry(
        target_fmr=1e-4,
        calibration={"face-128": [(1e-3, 0.2), (1e-4, 0.25)]},
        thresholds={"iris-2048": 0.3},
    )
    assert registry.get("face-128").threshold == 0.25
    assert registry.get("iris-2048").threshold == 0.3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_fmr": 1e-9}, "no calibration point reaches"),
        ({"target_fmr": 1e-4, "thresholds": {"voice": 0.5}}, "unknown modalities ['voice']"),
        ({"target_fmr": 1e-4, "thresholds": {"face-128": 1.5}}, "outside [-1.0, 1]"),
        ({"target_fmr": 1e-4, "thresholds": {"iris-2048": -0.1}}, "outside [0.0, 1]"),
    ],
)
def test_bad_configuration_is_refused(kwargs, message):
    with pytest.raises(ConfigurationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        ModalityRegistry(**kwargs)


def test_unknown_modality():
    with pytest.raises(UnknownModalityError):
        ModalityRegistry(target_fmr=1e-4).get("voice")


def test_cosine_similarity_values():
    a = unit_vector(128, 1)
    assert cosine_similarity(f32_bytes(a), f32_bytes(a)) == pytest.approx(1.0)
    assert cosine_similarity(f32_bytes(a), f32_bytes([-v for v in a])) == pytest.approx(-1.0)
    b = unit_vector(128, 2)
    expected = sum(x * y for x, y in zip(a, b, strict=True))
    assert cosine_similarity(f32_bytes(a), f32_bytes(b)) == pytest.approx(expected, abs=1e-6)
    assert cosine_similarity(f32_bytes(a), f32_bytes([0.0] * 128)) == 0.0


def test_embedding_decisions():
    face = ModalityRegistry(target_fmr=1e-4).get("face-128")
    enrolled = unit_vector(128, 7)
    same = noisy(enrolled, 0.02, 8)
    other = unit_vector(128, 9)
    assert face.is_match(face.score(f32_bytes(enrolled), f32_bytes(same)))
    assert not face.is_match(face.score(f32_bytes(enrolled), f32_bytes(other)))


def test_fractional_hamming_with_masks():
    size = 256
    code_a = bytes(range(256))
    code_b = bytes(b ^ 0x01 for b in code_a)  # one bit in eight differs
    full = b"\xff" * size
    assert fractional_hamming(code_a + full, code_a + full, 2048) == 0.0
    assert math.isclose(fractional_hamming(code_a + full, code_b + full, 2048), 1 / 8)
    # masking out the differing bits (the low bit of each byte) removes the distance
    mask = b"\xfe" * size
    assert fractional_hamming(code_a + mask, code_b + full, 2048) == 0.0
    # too little overlap is no evidence: maximal distance
    sparse = b"\x01" + b"\x00" * (size - 1)
    assert fractional_hamming(code_a + sparse, code_a + full, 2048) == 1.0
    iris = ModalityRegistry(target_fmr=1e-4).get("iris-2048")
    assert iris.is_match(1 / 8)
    assert not iris.is_match(0.5)
