"""Property tests of the template codecs."""

import base64
import math
import struct

import pytest
from bio_helpers import f32_bytes
from hypothesis import given, settings
from hypothesis import strategies as st
from tlsward_biometric.errors import InvalidTemplateError
from tlsward_biometric.modalities import BUILTIN_MODALITIES, Comparison, ModalitySpec
from tlsward_biometric.templates import (
    Template,
    b64decode_strict,
    embedding_from_base64,
    embedding_from_values,
    iris_from_base64,
    pack_float32,
)

SPECS = {spec.name: spec for spec in BUILTIN_MODALITIES}
FACE = SPECS["face-128"]
IRIS = SPECS["iris-2048"]

# A 6-value modality lets hypothesis explore special floats (subnormals, extremes, -0.0) cheaply;
# the 128-value face modality is fed from raw bytes.
SMALL = ModalitySpec("test-6", Comparison.COSINE, 6, ((1e-4, 0.5),), "test")
f32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
small_vectors = st.lists(f32, min_size=6, max_size=6).filter(any)
face_vectors = (
    st.binary(min_size=512, max_size=512)
    .map(lambda raw: [v if math.isfinite(v) else 1.0 for v in struct.unpack("<128f", raw)])
    .filter(any)
)


@settings(max_examples=150)
@given(small_vectors)
def test_float_list_and_base64_encode_the_same_template(values):
    from_list = embedding_from_values(SMALL, values)
    from_b64 = embedding_from_base64(SMALL, base64.b64encode(f32_bytes(values)).decode())
    assert from_list == from_b64
    assert len(from_list.payload) == 4 * 6
    assert list(struct.unpack("<6f", from_list.payload)) == values
    assert Template.from_plaintext(from_list.modality, from_list.to_plaintext()) == from_list


@settings(max_examples=60)
@given(face_vectors)
def test_face_round_trip(values):
    template = embedding_from_values(FACE, values)
    assert template == embedding_from_base64(FACE, base64.b64encode(f32_bytes(values)).decode())
    assert list(struct.unpack("<128f", template.payload)) == values
    assert Template.from_plaintext(template.modality, template.to_plaintext()) == template


@settings(max_examples=60)
@given(st.lists(f32, min_size=0, max_size=300).filter(lambda v: len(v) != 128))
def test_wrong_dimension_is_refused(values):
    with pytest.raises(InvalidTemplateError, match="needs 128"):
        embedding_from_values(FACE, values)
    with pytest.raises(InvalidTemplateError, match="needs 128"):
        embedding_from_base64(FACE, base64.b64encode(f32_bytes(values)).decode())


@settings(max_examples=40)
@given(st.integers(0, 127), st.sampled_from([math.nan, math.inf, -math.inf, 1e39, -3.5e38]))
def test_non_finite_or_out_of_range_values_are_refused(index, bad):
    values = [0.5] * 128
    values[index] = bad
    with pytest.raises(InvalidTemplateError, match=rf"values\[{index}\]"):
        embedding_from_values(FACE, values)


@settings(max_examples=40)
@given(st.integers(0, 127), st.sampled_from([b"\x00\x00\xc0\x7f", b"\x00\x00\x80\x7f", b"\x00\x00\x80\xff"]))
def test_non_finite_float32_bytes_are_refused(index, bad):
    raw = bytearray(f32_bytes([0.5] * 128))
    raw[4 * index : 4 * index + 4] = bad
    with pytest.raises(InvalidTemplateError, match=rf"data\[{index}\]"):
        embedding_from_base64(FACE, base64.b64encode(bytes(raw)).decode())


def test_zero_vector_is_refused():
    with pytest.raises(InvalidTemplateError, match="zero vector"):
        embedding_from_values(FACE, [0.0] * 128)


@settings(max_examples=60)
@given(st.binary(min_size=256, max_size=256), st.binary(min_size=256, max_size=256))
def test_iris_round_trip(code, mask):
    valid = int.from_bytes(mask, "big").bit_count()
    encoded_code, encoded_mask = base64.b64encode(code).decode(), base64.b64encode(mask).decode()
    if valid < 512:
        with pytest.raises(InvalidTemplateError, match="bits valid"):
            iris_from_base64(IRIS, encoded_code, encoded_mask)
        return
    template = iris_from_base64(IRIS, encoded_code, encoded_mask)
    assert template.payload == code + mask


@settings(max_examples=60)
@given(st.binary(max_size=600).filter(lambda b: len(b) != 256))
def test_iris_wrong_size_is_refused(code):
    with pytest.raises(InvalidTemplateError, match="needs 256 bytes"):
        iris_from_base64(IRIS, base64.b64encode(code).decode(), None)


@settings(max_examples=100)
@given(st.text(max_size=40))
def test_base64_is_strict(text):
    try:
        decoded = b64decode_strict(text, "data")
    except InvalidTemplateError:
        return
    assert base64.b64encode(decoded).decode() == text


def test_encoding_must_fit_the_modality():
    with pytest.raises(InvalidTemplateError, match="bits-base64"):
        embedding_from_values(IRIS, [1.0] * 2048)
    with pytest.raises(InvalidTemplateError, match="float-list or float32-base64"):
        iris_from_base64(FACE, "AAAA", None)


def test_pack_float32_names_the_bad_index():
    with pytest.raises(InvalidTemplateError, match=r"v\[1\]: outside the float32 range"):
        pack_float32([1.0, 1e300], "v")
