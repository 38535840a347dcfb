"""Property tests of template sealing, and key file loading."""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tlsward_biometric.crypto import NONCE_BYTES, KeyRing, SealedTemplate, associated_data
from tlsward_biometric.errors import ConfigurationError, IntegrityError, KeyUnavailableError

RING = KeyRing({"k1": os.urandom(32), "k2": os.urandom(32)}, "k1")
subject_ids = st.text(st.characters(codec="utf-8"), min_size=1, max_size=64)
plaintexts = st.binary(min_size=1, max_size=2100)


@settings(max_examples=100)
@given(subject_ids, plaintexts, st.sampled_from(["k1", "k2"]))
def test_seal_open_round_trip(subject, plaintext, key_id):
    sealed = RING.seal(subject, "face-128", plaintext, key_id=key_id, group="g")
    assert sealed.key_id == key_id
    assert len(sealed.nonce) == NONCE_BYTES
    assert plaintext not in sealed.ciphertext or len(plaintext) < 4
    assert RING.open(subject, "face-128", sealed, group="g") == plaintext


@settings(max_examples=50)
@given(plaintexts)
def test_every_seal_uses_a_fresh_nonce(plaintext):
    nonces = {RING.seal("s", "face-128", plaintext, group="g").nonce for _ in range(20)}
    assert len(nonces) == 20


@settings(max_examples=100)
@given(subject_ids, subject_ids, plaintexts)
def test_ciphertext_moved_to_another_subject_fails(subject, other, plaintext):
    sealed = RING.seal(subject, "face-128", plaintext, group="g")
    if other == subject:
        return
    with pytest.raises(IntegrityError):
        RING.open(other, "face-128", sealed, group="g")


@settings(max_examples=100)
@given(subject_ids, subject_ids, plaintexts)
def test_ciphertext_moved_to_another_group_fails(group, other, plaintext):
    sealed = RING.seal("s", "face-128", plaintext, group=group)
    if other == group:
        return
    with pytest.raises(IntegrityError):
        RING.open("s", "face-128", sealed, group=other)


def test_records_without_a_group_keep_the_first_format():
    assert associated_data("s", "k1", "face-128").startswith(b"tlsward-biometric/template/v1")
    assert associated_data("s", "k1", "face-128", "g").startswith(b"tlsward-biometric/template/v2")
    legacy = RING.seal("s", "face-128", b"template", group="")
    assert RING.open("s", "face-128", legacy, group="") == b"template"
    with pytest.raises(IntegrityError):
        RING.open("s", "face-128", legacy, group="g")


@settings(max_examples=50)
@given(plaintexts)
def test_modality_and_key_id_are_bound(plaintext):
    sealed = RING.seal("s", "face-128", plaintext, key_id="k1", group="g")
    with pytest.raises(IntegrityError):
        RING.open("s", "face-512", sealed, group="g")
    relabelled = SealedTemplate("k2", sealed.nonce, sealed.ciphertext)
    with pytest.raises(IntegrityError):
        RING.open("s", "face-128", relabelled, group="g")


@settings(max_examples=150)
@given(plaintexts, st.data())
def test_any_flipped_bit_is_an_integrity_error(plaintext, data):
    sealed = RING.seal("s", "iris-2048", plaintext, group="g")
    blob = bytearray(sealed.nonce + sealed.ciphertext)
    position = data.draw(st.integers(0, len(blob) * 8 - 1))
    blob[position // 8] ^= 1 << (position % 8)
    tampered = SealedTemplate(sealed.key_id, bytes(blob[:NONCE_BYTES]), bytes(blob[NONCE_BYTES:]))
    with pytest.raises(IntegrityError):
        RING.open("s", "iris-2048", tampered, group="g")


def test_truncated_or_wrong_key_fails_closed():
    sealed = RING.seal("s", "face-128", b"template", group="g")
    with pytest.raises(IntegrityError):
        RING.open("s", "face-128", SealedTemplate("k1", sealed.nonce, sealed.ciphertext[:-1]), group="g")
    with pytest.raises(IntegrityError):
        RING.open("s", "face-128", SealedTemplate("k1", sealed.nonce[:8], sealed.ciphertext), group="g")
    other_ring = KeyRing({"k1": os.urandom(32)}, "k1")
    with pytest.raises(IntegrityError):
        other_ring.open("s", "face-128", sealed, group="g")
    with pytest.raises(KeyUnavailableError):
        RING.open("s", "face-128", SealedTemplate("k9", sealed.nonce, sealed.ciphertext), group="g")


def test_associated_data_is_unambiguous():
    assert associated_data("ab", "c", "m") != associated_data("a", "bc", "m")


def _write(path, text, mode):
    path.write_text(text)
    path.chmod(mode)


def test_key_files_load(tmp_path):
    _write(tmp_path / "k1.key", "ab" * 32 + "\n", 0o400)
    _write(tmp_path / "k2.key", "CD" * 32, 0o600)
    ring = KeyRing.load(tmp_path, "k2")
    assert ring.key_ids == {"k1", "k2"}
    assert ring.active_key_id == "k2"


@pytest.mark.parametrize(
    ("name", "text", "mode", "active", "message"),
    [
        ("k1.key", "ab" * 32, 0o440, "k1", "lets group/others read it"),
        ("k1.key", "ab" * 32, 0o404, "k1", "lets group/others read it"),
        ("k1.key", "ab" * 31, 0o400, "k1", "not 64 hex characters"),
        ("k1.key", "zz" * 32, 0o400, "k1", "not 64 hex characters"),
        ("-bad.key", "ab" * 32, 0o400, "k1", "does not match"),
        ("k1.key", "ab" * 32, 0o400, "k7", "active key 'k7' not loaded"),
    ],
)
def test_bad_key_files_are_refused(tmp_path, name, text, mode, active, message):
    _write(tmp_path / name, text, mode)
    with pytest.raises(ConfigurationError, match=message):
        KeyRing.load(tmp_path, active)


def test_empty_key_dir_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match=r"no \*.key files"):
        KeyRing.load(tmp_path, "k1")
