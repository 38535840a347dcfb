"""Hand-built TLS ClientHellos, and the few parts of the server's answer the scanner reads.

sslyze and the controller's OpenSSL (3.0) cannot offer what two checks need: a hybrid
post-quantum key share (X25519MLKEM768) and a signature scheme OpenSSL itself refuses to offer
(SHA-1, PKCS#1 v1.5 in TLS 1.3). So the ClientHello is built here, byte by byte:

- ``hello_groups``: which group the ServerHello (``key_share``) or HelloRetryRequest
  (``selected_group``) picks. Nothing after the ServerHello is read; no ML-KEM is computed.
- ``signature_probe``: which scheme the server signs the handshake with when offered one or
  more: in TLS 1.2 the ServerKeyExchange shows it in clear; in TLS 1.3 the probe completes the
  (EC)DHE exchange (X25519 / NIST curves, with ``cryptography``) and decrypts the server's first
  flight up to CertificateVerify. The server's signature is not verified: only its scheme matters.

Every length read from the wire is checked against what is left (``Reader``); a short or
malformed message raises ``ProtocolError``, never an IndexError. Reads are bounded in bytes and
time. Layouts: RFC 8446 (4.1.2 ClientHello, 4.1.3 ServerHello/HRR, 4.2.8 key_share, 5.2 record
protection, 7.1 key schedule), RFC 5246 7.4.3 / RFC 8422 5.4 (ServerKeyExchange), and
draft-ietf-tls-ecdhe-mlkem (X25519MLKEM768: client share = ML-KEM-768 encapsulation key, 1184
bytes, then the X25519 share, 32 bytes; server share = ciphertext, 1088 bytes, then X25519).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

from tlsward.scan.model import Target
from tlsward.sigalgs import SCHEMES, scheme_name

# Record content types and handshake message types.
CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA = 20, 21, 22, 23
CLIENT_HELLO, SERVER_HELLO = 1, 2
ENCRYPTED_EXTENSIONS, CERTIFICATE, SERVER_KEY_EXCHANGE = 8, 11, 12
CERTIFICATE_REQUEST, SERVER_HELLO_DONE, CERTIFICATE_VERIFY = 13, 14, 15
MESSAGE_HASH = 254
# Extensions.
EXT_SERVER_NAME, EXT_SUPPORTED_GROUPS, EXT_EC_POINT_FORMATS = 0, 10, 11
EXT_SIGNATURE_ALGORITHMS, EXT_EXTENDED_MASTER_SECRET = 13, 23
EXT_SUPPORTED_VERSIONS, EXT_COOKIE, EXT_KEY_SHARE = 43, 44, 51
TLS12, TLS13 = 0x0303, 0x0304
VERSION_NAMES = {0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLSv1.1", TLS12: "TLSv1.2", TLS13: "TLSv1.3"}
# RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest.
HRR_RANDOM = hashlib.sha256(b"HelloRetryRequest").digest()

GROUPS = {
    0x0017: "prime256v1",
    0x0018: "secp384r1",
    0x0019: "secp521r1",
    0x001A: "brainpoolP256r1",
    0x001B: "brainpoolP384r1",
    0x001C: "brainpoolP512r1",
    0x001D: "X25519",
    0x001E: "X448",
    0x001F: "brainpoolP256r1tls13",
    0x0020: "brainpoolP384r1tls13",
    0x0021: "brainpoolP512r1tls13",
    0x0100: "ffdhe2048",
    0x0101: "ffdhe3072",
    0x0102: "ffdhe4096",
    0x0103: "ffdhe6144",
    0x0104: "ffdhe8192",
    0x11EB: "SecP256r1MLKEM768",
    0x11EC: "X25519MLKEM768",
    0x11ED: "SecP384r1MLKEM1024",
}
X25519, P256, P384, P521, X25519MLKEM768 = 0x001D, 0x0017, 0x0018, 0x0019, 0x11EC
MLKEM768_EK_BYTES, MLKEM768_CT_BYTES, X25519_BYTES = 1184, 1088, 32
MLKEM_Q = 3329  # FIPS 203: every coefficient of an encapsulation key is below q

ALERTS = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    40: "handshake_failure",
    42: "bad_certificate",
    47: "illegal_parameter",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    109: "missing_extension",
    110: "unsupported_extension",
    112: "unrecognized_name",
    116: "certificate_required",
    120: "no_application_protocol",
}

# TLS 1.3 suites: code -> (hash, AEAD, key length).
TLS13_SUITES: dict[int, tuple[str, type[AESGCM] | type[ChaCha20Poly1305] | type[AESCCM], int]] = {
    0x1301: ("sha256", AESGCM, 16),
    0x1302: ("sha384", AESGCM, 32),
    0x1303: ("sha256", ChaCha20Poly1305, 32),
    0x1304: ("sha256", AESCCM, 16),
}
# TLS 1.2 suites whose server signs the key exchange: ECDHE and DHE with ECDSA or RSA certificates.
TLS12_ECDHE_SUITES = (
    0xC02B, 0xC02C, 0xCCA9, 0xC0AC, 0xC0AD, 0xC0AE, 0xC0AF, 0xC023, 0xC024, 0xC009, 0xC00A,
    0xC02F, 0xC030, 0xCCA8, 0xC027, 0xC028, 0xC013, 0xC014,
)  # fmt: skip
TLS12_DHE_SUITES = (0x009E, 0x009F, 0xCCAA, 0xC09E, 0xC09F, 0x0067, 0x006B, 0x0033, 0x0039)
MAX_RECORD = 2**14 + 256  # RFC 8446 5.2: TLSCiphertext.length
MAX_READ_BYTES = 256 * 1024  # per connection: a certificate chain fits many times over


class ProtocolError(ValueError):
    """The server's bytes are not what the protocol allows here (truncated, too long, wrong type)."""


class Alert(Exception):
    """The server's alert (the answer that refuses what was offered)."""

    def __init__(self, level: int, description: int) -> None:
        self.level = level
        self.description = description
        self.name = ALERTS.get(description, f"alert_{description}")
        super().__init__(f"server sent alert {self.name} ({description})")


class Reader:
    """Bounded reads from a byte string: every length is checked against what is left."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ProtocolError(
                f"{self.what}: truncated, {n} bytes needed at offset {self.pos}, "
                f"{len(self.data) - self.pos} left"
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, length_size: int) -> bytes:
        return self.take(self.uint(length_size))

    def left(self) -> int:
        return len(self.data) - self.pos

    def end(self) -> None:
        if self.left():
            raise ProtocolError(f"{self.what}: {self.left()} unexpected bytes after the end")


def _u8(n: int) -> bytes:
    return n.to_bytes(1, "big")


def _u16(n: int) -> bytes:
    return n.to_bytes(2, "big")


def _vec(data: bytes, length_size: int) -> bytes:
    return len(data).to_bytes(length_size, "big") + data


def _ext(kind: int, body: bytes) -> bytes:
    return _u16(kind) + _vec(body, 2)


def fake_mlkem768_encapsulation_key() -> bytes:
    """1184 bytes shaped like an ML-KEM-768 encapsulation key: 768 coefficients below q packed 12
    bits each (FIPS 203 ByteEncode12), then a 32-byte seed. Uniform random bytes would fail the
    encapsulation key check a server must make (draft-ietf-tls-ecdhe-mlkem, FIPS 203 7.2) and be
    refused with illegal_parameter; nobody holds the secret key, as the probe reads only the
    server's choice of group."""
    out = bytearray()
    for _ in range(768 // 2):
        a, b = secrets.randbelow(MLKEM_Q), secrets.randbelow(MLKEM_Q)
        out += bytes((a & 0xFF, (a >> 8) | ((b & 0x0F) << 4), b >> 4))
    out += os.urandom(32)
    assert len(out) == MLKEM768_EK_BYTES
    return bytes(out)


@dataclass
class KeyShare:
    """A client key share and, for the groups the probe can complete, its private key."""

    group: int
    public: bytes
    private: Any = None

    @classmethod
    def make(cls, group: int) -> KeyShare:
        if group == X25519:
            key = x25519.X25519PrivateKey.generate()
            return cls(group, key.public_key().public_bytes_raw(), key)
        if group in (P256, P384, P521):
            curve = {P256: ec.SECP256R1(), P384: ec.SECP384R1(), P521: ec.SECP521R1()}[group]
            eckey = ec.generate_private_key(curve)
            point = eckey.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
            return cls(group, point, eckey)
        if group == X25519MLKEM768:
            classical = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
            return cls(group, fake_mlkem768_encapsulation_key() + classical)
        raise ValueError(f"no key share can be made for group {GROUPS.get(group, hex(group))}")

    def shared_secret(self, server_share: bytes) -> bytes:
        if isinstance(self.private, x25519.X25519PrivateKey):
            if len(server_share) != X25519_BYTES:
                raise ProtocolError(f"X25519 server share is {len(server_share)} bytes, not 32")
            return self.private.exchange(x25519.X25519PublicKey.from_public_bytes(server_share))
        if isinstance(self.private, ec.EllipticCurvePrivateKey):
            try:
                peer = ec.EllipticCurvePublicKey.from_encoded_point(self.private.curve, server_share)
            except ValueError as exc:
                raise ProtocolError(f"server's EC share is not a point on the curve: {exc}") from exc
            return self.private.exchange(ec.ECDH(), peer)
        raise ProtocolError(f"the probe cannot complete group {GROUPS.get(self.group, hex(self.group))}")


@dataclass
class ClientHello:
    """What the probe offers. ``versions`` empty: a TLS 1.2 ClientHello (no supported_versions)."""

    server_name: str | None
    cipher_suites: tuple[int, ...]
    groups: tuple[int, ...]
    signature_schemes: tuple[int, ...]
    versions: tuple[int, ...] = (TLS13,)
    key_shares: list[KeyShare] = field(default_factory=list)
    cookie: bytes | None = None
    random: bytes = field(default_factory=lambda: os.urandom(32))
    session_id: bytes = field(default_factory=lambda: os.urandom(32))

    def encode(self) -> bytes:
        """The handshake message (type, 24-bit length, body)."""
        extensions = b""
        if self.server_name and not _is_address(self.server_name):
            name = self.server_name.encode("idna")
            extensions += _ext(EXT_SERVER_NAME, _vec(_u8(0) + _vec(name, 2), 2))
        extensions += _ext(EXT_SUPPORTED_GROUPS, _vec(b"".join(map(_u16, self.groups)), 2))
        extensions += _ext(EXT_EC_POINT_FORMATS, _vec(_u8(0), 1))
        extensions += _ext(EXT_SIGNATURE_ALGORITHMS, _vec(b"".join(map(_u16, self.signature_schemes)), 2))
        extensions += _ext(EXT_EXTENDED_MASTER_SECRET, b"")
        if self.versions:
            extensions += _ext(EXT_SUPPORTED_VERSIONS, _vec(b"".join(map(_u16, self.versions)), 1))
            shares = b"".join(_u16(s.group) + _vec(s.public, 2) for s in self.key_shares)
            extensions += _ext(EXT_KEY_SHARE, _vec(shares, 2))
            if self.cookie is not None:
                extensions += _ext(EXT_COOKIE, _vec(self.cookie, 2))
        body = (
            _u16(TLS12)
            + self.random
            + _vec(self.session_id, 1)
            + _vec(b"".join(map(_u16, self.cipher_suites)), 2)
            + _vec(b"\x00", 1)
            + _vec(extensions, 2)
        )
        return _u8(CLIENT_HELLO) + _vec(body, 3)


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ServerHello:
    """The parts of a ServerHello (or HelloRetryRequest) the probes use, and its raw message."""

    raw: bytes
    version: int
    cipher_suite: int
    retry_request: bool
    group: int | None  # key_share: the server's group, or the HRR's selected_group
    key_exchange: bytes | None  # the server's share (ServerHello only)
    cookie: bytes | None

    @property
    def version_name(self) -> str:
        return VERSION_NAMES.get(self.version, f"0x{self.version:04x}")

    @property
    def group_name(self) -> str | None:
        return None if self.group is None else GROUPS.get(self.group, f"0x{self.group:04x}")


def parse_server_hello(message: bytes) -> ServerHello:
    """A whole ServerHello handshake message (type byte included) -> ``ServerHello``."""
    head = Reader(message, "ServerHello")
    if head.uint(1) != SERVER_HELLO:
        raise ProtocolError("ServerHello: the message is not a ServerHello")
    body = Reader(head.vector(3), "ServerHello")
    head.end()
    legacy_version = body.uint(2)
    retry = body.take(32) == HRR_RANDOM
    session_id = body.vector(1)
    if len(session_id) > 32:
        raise ProtocolError(f"ServerHello: session id of {len(session_id)} bytes (at most 32)")
    suite = body.uint(2)
    if body.uint(1) != 0:
        raise ProtocolError("ServerHello: compression method is not null")
    version, group, share, cookie = legacy_version, None, None, None
    if body.left():
        extensions = Reader(body.vector(2), "ServerHello extensions")
        body.end()
        seen: set[int] = set()
        while extensions.left():
            kind = extensions.uint(2)
            data = Reader(extensions.vector(2), f"ServerHello extension {kind}")
            if kind in seen:
                raise ProtocolError(f"ServerHello: extension {kind} sent twice")
            seen.add(kind)
            if kind == EXT_SUPPORTED_VERSIONS:
                version = data.uint(2)
                data.end()
            elif kind == EXT_KEY_SHARE:
                group = data.uint(2)
                if not retry:
                    share = data.vector(2)
                data.end()
            elif kind == EXT_COOKIE:
                cookie = data.vector(2)
                data.end()
    return ServerHello(message, version, suite, retry, group, share, cookie)


@dataclass(frozen=True)
class Where:
    """The endpoint a probe connects to: address, port, SNI (none for an IP address), timeout."""

    host: str
    port: int
    server_name: str | None
    timeout: float


class Connection:
    """One TCP connection: writes records, reads records and handshake messages within bounds."""

    def __init__(self, where: Where) -> None:
        self.deadline = time.monotonic() + where.timeout
        self.sock = socket.create_connection((where.host, where.port), timeout=where.timeout)
        self.read_bytes = 0
        self.buffer = b""
        self.handshake = b""  # plaintext handshake bytes not yet returned as messages

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def send_handshake(self, message: bytes, record_version: int = 0x0301) -> None:
        self.sock.sendall(_u8(HANDSHAKE) + _u16(record_version) + _vec(message, 2))

    def send_change_cipher_spec(self) -> None:
        self.sock.sendall(bytes((CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1)))

    def _fill(self, n: int) -> None:
        while len(self.buffer) < n:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the server's answer did not arrive in time")
            if self.read_bytes >= MAX_READ_BYTES:
                raise ProtocolError(f"more than {MAX_READ_BYTES} bytes before the expected message")
            self.sock.settimeout(left)
            chunk = self.sock.recv(16384)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self.read_bytes += len(chunk)
            self.buffer += chunk

    def record(self) -> tuple[int, bytes, bytes]:
        """The next record: content type, its 5-byte header and its payload."""
        self._fill(5)
        header = self.buffer[:5]
        kind, length = header[0], int.from_bytes(header[3:5], "big")
        if kind not in (CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA):
            raise ProtocolError(f"not a TLS record (content type {kind})")
        if length > MAX_RECORD:
            raise ProtocolError(f"record of {length} bytes (at most {MAX_RECORD})")
        self._fill(5 + length)
        payload = self.buffer[5 : 5 + length]
        self.buffer = self.buffer[5 + length :]
        return kind, header, payload

    def next_message(self, decrypt: Decrypter | None = None) -> bytes:
        """The next whole handshake message (type byte and length included), across records."""
        while True:
            if len(self.handshake) >= 4:
                size = 4 + int.from_bytes(self.handshake[1:4], "big")
                if size > MAX_READ_BYTES:
                    raise ProtocolError(f"handshake message of {size} bytes")
                if len(self.handshake) >= size:
                    message, self.handshake = self.handshake[:size], self.handshake[size:]
                    return message
            kind, header, payload = self.record()
            if kind == CHANGE_CIPHER_SPEC:
                continue  # TLS 1.3 middlebox compatibility (RFC 8446 D.4): ignored
            if kind == APPLICATION_DATA and decrypt is not None:
                kind, payload = decrypt.open(header, payload)
            if kind == ALERT:
                alert = Reader(payload, "alert")
                raise Alert(alert.uint(1), alert.uint(1))
            if kind != HANDSHAKE:
                raise ProtocolError(f"record of type {kind} where a handshake message was expected")
            self.handshake += payload


def _hkdf_expand_label(secret: bytes, label: str, context: bytes, length: int, hash_name: str) -> bytes:
    info = _u16(length) + _vec(b"tls13 " + label.encode("ascii"), 1) + _vec(context, 1)
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(secret, block + info + _u8(counter), hash_name).digest()
        out += block
        counter += 1
    return out[:length]


class Decrypter:
    """The server's handshake traffic protection (RFC 8446 7.1 and 5.2) for one connection."""

    def __init__(self, suite: int, shared: bytes, transcript_hash: bytes) -> None:
        if suite not in TLS13_SUITES:
            raise ProtocolError(f"TLS 1.3 suite 0x{suite:04x} is not one the probe offered")
        hash_name, aead, key_length = TLS13_SUITES[suite]
        size = hashlib.new(hash_name).digest_size
        early = hmac.new(b"\x00" * size, b"\x00" * size, hash_name).digest()
        derived = _hkdf_expand_label(early, "derived", hashlib.new(hash_name).digest(), size, hash_name)
        handshake_secret = hmac.new(derived, shared, hash_name).digest()
        server_secret = _hkdf_expand_label(handshake_secret, "s hs traffic", transcript_hash, size, hash_name)
        self.aead = aead(_hkdf_expand_label(server_secret, "key", b"", key_length, hash_name))
        self.iv = _hkdf_expand_label(server_secret, "iv", b"", 12, hash_name)
        self.sequence = 0

    def open(self, header: bytes, payload: bytes) -> tuple[int, bytes]:
        nonce = bytes(a ^ b for a, b in zip(self.iv, self.sequence.to_bytes(12, "big"), strict=True))
        self.sequence += 1
        try:
            plain = self.aead.decrypt(nonce, payload, header)
        except InvalidTag as exc:
            raise ProtocolError("a handshake record does not decrypt (bad_record_mac)") from exc
        inner = plain.rstrip(b"\x00")
        if not inner:
            raise ProtocolError("a protected record holds no content type")
        return inner[-1], inner[:-1]


def _transcript_hash(hash_name: str, messages: list[bytes], retried: bool) -> bytes:
    """Hash of the handshake so far; after a HelloRetryRequest the first ClientHello is replaced by
    its hash in a message_hash message (RFC 8446 4.4.1)."""
    if retried:
        first = hashlib.new(hash_name, messages[0]).digest()
        messages = [_u8(MESSAGE_HASH) + _vec(first, 3), *messages[1:]]
    return hashlib.new(hash_name, b"".join(messages)).digest()


T = TypeVar("T")


def _once_more_after_a_reset(attempt: Callable[[], T]) -> T:
    """``attempt()``, tried a second time when the server reset or closed the connection (a busy
    server does that now and then); refusals, timeouts and protocol errors are not retried."""
    try:
        return attempt()
    except (ConnectionResetError, BrokenPipeError):
        return attempt()
    except ConnectionError as exc:
        if "closed the connection" not in str(exc):
            raise
        return attempt()


def describe_error(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, Alert):
        return {"outcome": "alert", "alert": exc.name}
    return {"outcome": "error", "error": f"{type(exc).__name__}: {exc}"}


# What the probes offer besides the item under test: enough for any tlsward profile's server.
ALL_SCHEME_CODES = tuple(s.code for s in SCHEMES)
OFFERED_GROUPS = (X25519, P256, P384, P521, 0x0100, 0x0101, 0x0102)


def hello_groups(where: Where, groups: tuple[int, ...], shares: tuple[int, ...]) -> dict[str, Any]:
    """Offer ``groups`` (supported_groups, in order) with key shares for ``shares`` in a TLS 1.3
    ClientHello; report the group the ServerHello or HelloRetryRequest selects."""
    hello = ClientHello(
        where.server_name,
        tuple(TLS13_SUITES),
        groups,
        ALL_SCHEME_CODES,
        key_shares=[KeyShare.make(g) for g in shares],
    )
    out: dict[str, Any] = {
        "offered_groups": [GROUPS.get(g, hex(g)) for g in groups],
        "key_shares": [GROUPS.get(g, hex(g)) for g in shares],
    }

    def exchange() -> ServerHello:
        with Connection(where) as conn:
            conn.send_handshake(hello.encode())
            return parse_server_hello(conn.next_message())

    try:
        server = _once_more_after_a_reset(exchange)
    except (OSError, ProtocolError, Alert) as exc:
        return {**out, **describe_error(exc)}
    out.update(
        outcome="hello_retry_request" if server.retry_request else "server_hello",
        version=server.version_name,
        selected_group=server.group_name,
    )
    if server.key_exchange is not None:
        out["server_share_bytes"] = len(server.key_exchange)
    return out


def _tls13_signature(where: Where, schemes: tuple[int, ...]) -> dict[str, Any]:
    hello = ClientHello(
        where.server_name,
        tuple(TLS13_SUITES),
        OFFERED_GROUPS,
        schemes,
        key_shares=[KeyShare.make(X25519), KeyShare.make(P256)],
    )
    with Connection(where) as conn:
        first = hello.encode()
        conn.send_handshake(first)
        transcript = [first]
        server = parse_server_hello(conn.next_message())
        if server.retry_request:
            if server.group not in (X25519, P256, P384, P521):
                return {"outcome": "error", "error": f"server asked for a {server.group_name} key share"}
            transcript.append(server.raw)
            hello.key_shares = [KeyShare.make(server.group)]
            hello.cookie = server.cookie
            second = hello.encode()
            conn.send_change_cipher_spec()
            conn.send_handshake(second, record_version=TLS12)
            transcript.append(second)
            server = parse_server_hello(conn.next_message())
            if server.retry_request:
                raise ProtocolError("a second HelloRetryRequest")
        if server.version != TLS13:
            return {"outcome": "other_version", "version": server.version_name}
        share = next((s for s in hello.key_shares if s.group == server.group), None)
        if share is None or server.key_exchange is None:
            raise ProtocolError(f"ServerHello picked {server.group_name}, for which no share was sent")
        transcript.append(server.raw)
        hash_name = TLS13_SUITES.get(server.cipher_suite, ("sha256", AESGCM, 16))[0]
        decrypter = Decrypter(
            server.cipher_suite,
            share.shared_secret(server.key_exchange),
            _transcript_hash(hash_name, transcript, len(transcript) > 2),
        )
        for _ in range(8):  # EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify
            message = conn.next_message(decrypter)
            if message[0] == CERTIFICATE_VERIFY:
                verify = Reader(message[4:], "CertificateVerify")
                return {"outcome": "signed", "scheme": scheme_name(verify.uint(2))}
            if message[0] not in (ENCRYPTED_EXTENSIONS, CERTIFICATE_REQUEST, CERTIFICATE):
                raise ProtocolError(f"handshake message {message[0]} before CertificateVerify")
        raise ProtocolError("no CertificateVerify in the server's first flight")


def parse_server_key_exchange(message: bytes, dhe: bool) -> int:
    """The signature scheme of a TLS 1.2 ServerKeyExchange (ECDHE named curve or DHE)."""
    head = Reader(message, "ServerKeyExchange")
    if head.uint(1) != SERVER_KEY_EXCHANGE:
        raise ProtocolError("ServerKeyExchange: the message is not a ServerKeyExchange")
    body = Reader(head.vector(3), "ServerKeyExchange")
    head.end()
    if dhe:
        for _ in range(3):  # dh_p, dh_g, dh_Ys
            body.vector(2)
    else:
        if body.uint(1) != 3:
            raise ProtocolError("ServerKeyExchange: ECDHE parameters are not a named curve")
        body.uint(2)
        body.vector(1)
    scheme = body.uint(2)
    body.vector(2)
    body.end()
    return scheme


def _tls12_signature(where: Where, schemes: tuple[int, ...]) -> dict[str, Any]:
    hello = ClientHello(
        where.server_name,
        (*TLS12_ECDHE_SUITES, *TLS12_DHE_SUITES, 0x00FF),
        OFFERED_GROUPS,
        schemes,
        versions=(),
    )
    with Connection(where) as conn:
        conn.send_handshake(hello.encode())
        server = parse_server_hello(conn.next_message())
        if server.version != TLS12:
            return {"outcome": "other_version", "version": server.version_name}
        dhe = server.cipher_suite in TLS12_DHE_SUITES
        if not dhe and server.cipher_suite not in TLS12_ECDHE_SUITES:
            raise ProtocolError(f"ServerHello picked suite 0x{server.cipher_suite:04x}, not offered")
        for _ in range(4):  # Certificate, CertificateStatus, ServerKeyExchange
            message = conn.next_message()
            if message[0] == SERVER_KEY_EXCHANGE:
                return {"outcome": "signed", "scheme": scheme_name(parse_server_key_exchange(message, dhe))}
            if message[0] == SERVER_HELLO_DONE:
                raise ProtocolError("ServerHelloDone without a ServerKeyExchange")
        raise ProtocolError("no ServerKeyExchange after the ServerHello")


def signature_probe(version: str, where: Where, schemes: tuple[int, ...]) -> dict[str, Any]:
    """One handshake under ``version`` (``TLSv1.2``/``TLSv1.3``) offering ``schemes``: ``outcome``
    ``signed`` with the ``scheme`` the server signed with, ``alert`` (refused), ``other_version``
    or ``error``."""
    probe = _tls13_signature if version == "TLSv1.3" else _tls12_signature
    try:
        return _once_more_after_a_reset(lambda: probe(where, schemes))
    except (OSError, ProtocolError, Alert) as exc:
        return describe_error(exc)


def pq_probes(where: Where) -> dict[str, Any]:
    """Two TLS 1.3 ClientHellos: ``hybrid_first`` offers X25519MLKEM768 first with key shares for it
    and X25519 (as browsers do); ``x25519_first`` lists X25519 first with a key share for X25519
    only, both groups supported: a HelloRetryRequest there means the server insists on the hybrid."""
    classical = (P256, P384)
    return {
        "hybrid_first": hello_groups(where, (X25519MLKEM768, X25519, *classical), (X25519MLKEM768, X25519)),
        "x25519_first": hello_groups(where, (X25519, X25519MLKEM768, *classical), (X25519,)),
    }


def signature_probes(where: Where, workers: int = 4) -> dict[str, Any]:
    """Per version: one handshake offering every scheme (``default_offer``: what a client offering
    them all is signed with) and, when that one was signed, one handshake per scheme offered alone
    (``offered_alone``: scheme -> outcome). ``workers`` handshakes at a time."""
    out: dict[str, Any] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for version in ("TLSv1.3", "TLSv1.2"):
            default = signature_probe(version, where, ALL_SCHEME_CODES)
            entry: dict[str, Any] = {"default_offer": default}
            if default["outcome"] == "signed":
                futures = {s.name: pool.submit(signature_probe, version, where, (s.code,)) for s in SCHEMES}
                entry["offered_alone"] = {name: f.result() for name, f in futures.items()}
            out[version] = entry
    return out


def run_hello_probes(target: Target) -> dict[str, Any]:
    """The record sections of both probes for one target: ``pq_groups`` and
    ``signature_algorithms``, with the seconds they took."""
    where = Where(target.host, target.port, target.sni, target.timeout)
    started = time.monotonic()
    out = {"pq_groups": pq_probes(where), "signature_algorithms": signature_probes(where)}
    out["hello_probe_seconds"] = round(time.monotonic() - started, 3)
    return out
