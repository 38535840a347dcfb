"""The hand-built ClientHello and the parsers of the server's answer, on hand-made bytes.

The ServerHello, HelloRetryRequest and ServerKeyExchange messages below are written out field by
field with their lengths counted by hand (RFC 8446 4.1.3, 4.2.8; RFC 8422 5.4), not produced by
the code under test.
"""

from __future__ import annotations

import socket
import time

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tlsward.scan import probe_hello as ph

RANDOM = bytes(range(32))
HRR = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def hrr_message() -> bytes:
    extensions = (
        bytes.fromhex("002b 0002 0304")  # supported_versions: TLS 1.3
        + bytes.fromhex("0033 0002 11ec")  # key_share: selected_group X25519MLKEM768
        + bytes.fromhex("002c 0006 0004 cafef00d")  # cookie
    )
    assert len(extensions) == 0x16
    body = bytes.fromhex("0303") + HRR + b"\x00" + bytes.fromhex("1301 00 0016") + extensions
    assert len(body) == 0x3E
    return bytes.fromhex("02 00003e") + body


def hybrid_server_hello() -> bytes:
    share = bytes(1120)
    extensions = bytes.fromhex("002b 0002 0304") + bytes.fromhex("0033 0464 11ec 0460") + share
    assert len(extensions) == 0x046E
    session = bytes(range(32))
    body = bytes.fromhex("0303") + RANDOM + b"\x20" + session + bytes.fromhex("1302 00 046e") + extensions
    assert len(body) == 0x04B6  # 2 + 32 + 1 + 32 + 2 + 1 + 2 + 1134
    return bytes.fromhex("02 0004b6") + body


def test_hrr_random_is_the_rfc_8446_constant() -> None:
    assert HRR == ph.HRR_RANDOM


def test_hello_retry_request_selected_group_and_cookie() -> None:
    got = ph.parse_server_hello(hrr_message())
    assert got.retry_request
    assert got.version == ph.TLS13
    assert got.version_name == "TLSv1.3"
    assert got.group == 0x11EC
    assert got.group_name == "X25519MLKEM768"
    assert got.key_exchange is None
    assert got.cookie == bytes.fromhex("cafef00d")
    assert got.cipher_suite == 0x1301


def test_server_hello_with_a_hybrid_share() -> None:
    got = ph.parse_server_hello(hybrid_server_hello())
    assert not got.retry_request
    assert got.group_name == "X25519MLKEM768"
    assert got.key_exchange is not None
    assert len(got.key_exchange) == 1120
    assert got.cipher_suite == 0x1302


def test_tls12_server_hello_without_extensions() -> None:
    body = bytes.fromhex("0303") + RANDOM + b"\x00" + bytes.fromhex("c02b 00")
    got = ph.parse_server_hello(bytes.fromhex("02 000026") + body)
    assert got.version_name == "TLSv1.2"
    assert got.group is None
    assert not got.retry_request


@pytest.mark.parametrize(
    ("message", "words"),
    [
        pytest.param(hrr_message()[:-1], "truncated", id="last-byte-missing"),
        pytest.param(hrr_message() + b"\x00", "unexpected bytes", id="trailing-byte"),
        pytest.param(b"\x01" + hrr_message()[1:], "not a ServerHello", id="wrong-type"),
        pytest.param(bytes.fromhex("02 0000ff") + hrr_message()[4:], "truncated", id="length-too-long"),
        pytest.param(b"\x02\x00", "truncated", id="header-cut"),
        pytest.param(b"", "truncated", id="empty"),
    ],
)
def test_malformed_server_hello_is_a_protocol_error(message: bytes, words: str) -> None:
    with pytest.raises(ph.ProtocolError, match=words):
        ph.parse_server_hello(message)


def test_session_id_longer_than_32_bytes_is_refused() -> None:
    body = bytes.fromhex("0303") + RANDOM + b"\x21" + bytes(33) + bytes.fromhex("1301 00")
    message = bytes([2]) + len(body).to_bytes(3, "big") + body
    with pytest.raises(ph.ProtocolError, match="session id of 33 bytes"):
        ph.parse_server_hello(message)


def test_extension_sent_twice_is_refused() -> None:
    extensions = bytes.fromhex("002b 0002 0304 002b 0002 0304")
    body = bytes.fromhex("0303") + RANDOM + b"\x00" + bytes.fromhex("1301 00 000c") + extensions
    message = bytes([2]) + len(body).to_bytes(3, "big") + body
    with pytest.raises(ph.ProtocolError, match="sent twice"):
        ph.parse_server_hello(message)


def test_extension_length_beyond_the_block_is_refused() -> None:
    extensions = bytes.fromhex("0033 00ff 001d")  # says 255 bytes, has 2
    body = bytes.fromhex("0303") + RANDOM + b"\x00" + bytes.fromhex("1301 00 0006") + extensions
    message = bytes([2]) + len(body).to_bytes(3, "big") + body
    with pytest.raises(ph.ProtocolError, match="truncated"):
        ph.parse_server_hello(message)


def test_ecdhe_server_key_exchange_scheme() -> None:
    point = b"\x04" + bytes(64)
    signature = bytes(70)
    body = bytes.fromhex("03 0017 41") + point + bytes.fromhex("0403 0046") + signature
    assert len(body) == 4 + 65 + 4 + 70
    message = bytes.fromhex("0c 00008f") + body
    assert ph.parse_server_key_exchange(message, dhe=False) == 0x0403


def test_dhe_server_key_exchange_scheme() -> None:
    body = bytes.fromhex("0002 ffff 0001 02 0002 1234 0201 0003 aabbcc")
    message = bytes([12]) + len(body).to_bytes(3, "big") + body
    assert ph.parse_server_key_exchange(message, dhe=True) == 0x0201


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            bytes.fromhex("01 0017 41") + bytes(65) + bytes.fromhex("0403 0000"), id="explicit-curve"
        ),
        pytest.param(bytes.fromhex("03 0017 41") + bytes(10), id="point-cut"),
        pytest.param(bytes.fromhex("03 0017 01 04 0403 0005 00"), id="signature-cut"),
    ],
)
def test_malformed_server_key_exchange(body: bytes) -> None:
    message = bytes([12]) + len(body).to_bytes(3, "big") + body
    with pytest.raises(ph.ProtocolError):
        ph.parse_server_key_exchange(message, dhe=False)


def _decode12(data: bytes) -> list[int]:
    out = []
    for i in range(0, len(data), 3):
        b0, b1, b2 = data[i], data[i + 1], data[i + 2]
        out += [b0 | ((b1 & 0x0F) << 8), (b1 >> 4) | (b2 << 4)]
    return out


def test_fake_encapsulation_key_passes_the_fips_203_modulus_check() -> None:
    ek = ph.fake_mlkem768_encapsulation_key()
    assert len(ek) == 1184
    coefficients = _decode12(ek[:1152])
    assert len(coefficients) == 768
    assert max(coefficients) < 3329


def _extensions(hello: bytes) -> dict[int, bytes]:
    reader = ph.Reader(hello[4:], "test")
    reader.take(2 + 32)
    reader.vector(1)
    reader.vector(2)
    reader.vector(1)
    block = ph.Reader(reader.vector(2), "test")
    out = {}
    while block.left():
        kind = block.uint(2)
        out[kind] = block.vector(2)
    return out


def test_client_hello_carries_a_correctly_sized_hybrid_share() -> None:
    hello = ph.ClientHello(
        "bio.example.test",
        (0x1301,),
        (0x11EC, 0x001D),
        (0x0403,),
        key_shares=[ph.KeyShare.make(0x11EC), ph.KeyShare.make(0x001D)],
    )
    extensions = _extensions(hello.encode())
    shares = ph.Reader(extensions[ph.EXT_KEY_SHARE], "key_share")
    entries = ph.Reader(shares.vector(2), "key_share")
    got = {}
    while entries.left():
        group = entries.uint(2)
        got[group] = entries.vector(2)
    assert len(got[0x11EC]) == 1216  # ML-KEM-768 encapsulation key (1184) then X25519 (32)
    assert max(_decode12(got[0x11EC][:1152])) < 3329
    assert len(got[0x001D]) == 32
    assert extensions[ph.EXT_SUPPORTED_GROUPS] == bytes.fromhex("0004 11ec 001d")
    assert extensions[ph.EXT_SUPPORTED_VERSIONS] == bytes.fromhex("02 0304")
    assert b"bio.example.test" in extensions[ph.EXT_SERVER_NAME]


def test_no_sni_for_an_address_and_no_tls13_extensions_in_a_tls12_hello() -> None:
    hello = ph.ClientHello("127.0.0.1", (0xC02B,), (0x0017,), (0x0403,), versions=())
    extensions = _extensions(hello.encode())
    assert ph.EXT_SERVER_NAME not in extensions
    assert ph.EXT_SUPPORTED_VERSIONS not in extensions
    assert ph.EXT_KEY_SHARE not in extensions


def test_key_share_for_an_unsupported_group_is_an_error() -> None:
    with pytest.raises(ValueError, match="ffdhe2048"):
        ph.KeyShare.make(0x0100)


def test_transcript_after_retry_starts_with_message_hash() -> None:
    import hashlib  # noqa: PLC0415

    first, hrr, second, sh = (
        b"\x01\x00\x00\x01a",
        b"\x02\x00\x00\x01b",
        b"\x01\x00\x00\x01c",
        b"\x02\x00\x00\x01d",
    )
    synthetic = b"\xfe\x00\x00\x20" + hashlib.sha256(first).digest()
    want = hashlib.sha256(synthetic + hrr + second + sh).digest()
    assert ph._transcript_hash("sha256", [first, hrr, second, sh], retried=True) == want
    assert ph._transcript_hash("sha256", [first, sh], retried=False) == hashlib.sha256(first + sh).digest()


def _decrypter(key: bytes, iv: bytes) -> ph.Decrypter:
    d = object.__new__(ph.Decrypter)
    d.aead = AESGCM(key)
    d.iv = iv
    d.sequence = 0
    return d


def test_protected_record_content_type_and_padding() -> None:
    key, iv = bytes(16), bytes(range(12))
    header = bytes.fromhex("17 0303 0000")
    sealed = AESGCM(key).encrypt(iv, b"\x08\x00\x00\x00" + b"\x16" + bytes(5), header)
    kind, inner = _decrypter(key, iv).open(header, sealed)
    assert kind == ph.HANDSHAKE
    assert inner == b"\x08\x00\x00\x00"


def test_record_that_does_not_decrypt_is_a_protocol_error() -> None:
    key, iv = bytes(16), bytes(12)
    header = bytes.fromhex("17 0303 0000")
    sealed = bytearray(AESGCM(key).encrypt(iv, b"\x16", header))
    sealed[0] ^= 1
    with pytest.raises(ph.ProtocolError, match="bad_record_mac"):
        _decrypter(key, iv).open(header, bytes(sealed))


def _serve(data: bytes) -> tuple[ph.Connection, socket.socket]:
    ours, theirs = socket.socketpair()
    theirs.sendall(data)  # a few hundred bytes: the socket buffer holds them
    conn = object.__new__(ph.Connection)
    conn.sock = ours
    conn.deadline = time.monotonic() + 5
    conn.read_bytes = 0
    conn.buffer = b""
    conn.handshake = b""
    return conn, theirs


def test_handshake_message_split_across_records_and_ccs_skipped() -> None:
    message = hrr_message()
    records = (
        bytes.fromhex("16 0303 000a")
        + message[:10]
        + bytes.fromhex("14 0303 0001 01")  # ChangeCipherSpec in between
        + bytes([0x16, 3, 3])
        + (len(message) - 10).to_bytes(2, "big")
        + message[10:]
    )
    conn, other = _serve(records)
    try:
        assert conn.next_message() == message
    finally:
        conn.sock.close()
        other.close()


def test_alert_is_raised_with_its_name() -> None:
    conn, other = _serve(bytes.fromhex("15 0303 0002 02 28"))
    try:
        with pytest.raises(ph.Alert) as err:
            conn.next_message()
        assert err.value.name == "handshake_failure"
    finally:
        conn.sock.close()
        other.close()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        pytest.param(bytes.fromhex("16 0303 4200"), "record of 16896 bytes", id="record-too-long"),
        pytest.param(bytes.fromhex("48 5454 5020"), "not a TLS record", id="http-answer"),
        pytest.param(bytes.fromhex("17 0303 0001 00"), "record of type 23", id="unprotected-appdata"),
    ],
)
def test_bad_records_are_protocol_errors(data: bytes, words: str) -> None:
    conn, other = _serve(data)
    try:
        with pytest.raises(ph.ProtocolError, match=words):
            conn.next_message()
    finally:
        conn.sock.close()
        other.close()


def test_server_closing_early_is_a_connection_error() -> None:
    conn, other = _serve(bytes.fromhex("16 0303"))
    other.shutdown(socket.SHUT_WR)
    try:
        with pytest.raises(ConnectionError):
            conn.next_message()
    finally:
        conn.sock.close()
        other.close()


def test_unreachable_endpoint_is_reported_not_raised() -> None:
    where = ph.Where("127.0.0.1", 9, None, 1.0)
    assert ph.hello_groups(where, (0x001D,), (0x001D,))["outcome"] == "error"
    assert ph.signature_probe("TLSv1.3", where, (0x0403,))["outcome"] == "error"


def test_a_reset_is_tried_once_more_a_refusal_is_not() -> None:
    calls: list[int] = []

    def reset_then_answer() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionResetError("reset by peer")
        return "answer"

    assert ph._once_more_after_a_reset(reset_then_answer) == "answer"
    assert len(calls) == 2

    def refused() -> str:
        calls.append(1)
        raise ConnectionRefusedError("refused")

    calls.clear()
    with pytest.raises(ConnectionRefusedError):
        ph._once_more_after_a_reset(refused)
    assert len(calls) == 1
