"""API tests through httpx's ASGI transport, on both store backends."""

import base64
import json

import httpx
import pytest
from bio_helpers import f32_bytes, float_b64_body, float_list_body, iris_body, noisy, unit_vector
from tlsward_biometric.api import create_app
from tlsward_biometric.errors import ConfigurationError
from tlsward_biometric.store import SqliteStore

pytestmark = pytest.mark.anyio

ENROLLED = unit_vector(128, 1)
MATCHING = noisy(ENROLLED, 0.02, 2)
OTHER = unit_vector(128, 3)


@pytest.fixture
async def client(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bio") as c:
        yield c


async def enroll(client, cert, subject="alice", body=None):
    return await client.post(
        f"/v1/subjects/{subject}/enroll", json=body or float_list_body(ENROLLED), headers=cert.headers()
    )


async def verify(client, cert, subject="alice", values=MATCHING, **extra):
    return await client.post(
        f"/v1/subjects/{subject}/verify", json=float_list_body(values), headers={**cert.headers(), **extra}
    )


def error_of(response):
    return response.json()["error"]


async def test_enroll_verify_delete(client, certs):
    response = await enroll(client, certs.device_a)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["device_id"], body["group"]) == ("device-a", "site-a")  # not the fingerprint
    assert body["key_id"] == "k1"
    assert (await verify(client, certs.device_b)).json()["match"] is True
    assert (await verify(client, certs.device_b, values=OTHER)).json() == {
        "subject_id": "alice",
        "modality": "face-128",
        "match": False,
    }
    again = await enroll(client, certs.device_a)
    assert (again.status_code, error_of(again)) == (409, "already_enrolled")
    deleted = await client.delete("/v1/subjects/alice", headers=certs.device_a.headers())
    assert deleted.status_code == 204
    missing = await verify(client, certs.device_a)  # an unknown subject is a non-match
    assert (missing.status_code, missing.json()["match"]) == (200, False)
    gone = await client.delete("/v1/subjects/alice", headers=certs.device_a.headers())
    assert (gone.status_code, error_of(gone)) == (404, "subject_not_found")


async def test_base64_and_iris_templates(client, certs):
    assert (await enroll(client, certs.device_a, "b64", float_b64_body(ENROLLED))).status_code == 201
    probe = await client.post(
        "/v1/subjects/b64/verify", json=float_b64_body(MATCHING), headers=certs.device_a.headers()
    )
    assert probe.json()["match"] is True
    code = bytes(range(256))
    assert (await enroll(client, certs.device_a, "iris", iris_body(code))).status_code == 201
    near = bytes(b ^ 0x01 for b in code)  # distance 1/8
    far = bytes(b ^ 0x55 for b in code)  # distance 1/2
    for probe_code, expected in [(near, True), (far, False)]:
        response = await client.post(
            "/v1/subjects/iris/verify",
            json=iris_body(probe_code, b"\xff" * 256),
            headers=certs.device_a.headers(),
        )
        assert response.json()["match"] is expected
    mismatch = await verify(client, certs.device_a, subject="iris")  # a non-match, as for no subject
    assert (mismatch.status_code, mismatch.json()) == (
        200,
        {"subject_id": "iris", "modality": "face-128", "match": False},
    )


async def test_no_certificate_is_refused(client, certs):
    for headers, status, error in [
        ({}, 401, "client_certificate_required"),
        ({"X-Client-Verify": "NONE"}, 401, "client_certificate_required"),
        (
            certs.device_a.headers("FAILED:unable to get issuer certificate"),
            403,
            "client_certificate_rejected",
        ),
    ]:
        response = await client.post(
            "/v1/subjects/alice/enroll", json=float_list_body(ENROLLED), headers=headers
        )
        assert (response.status_code, error_of(response)) == (status, error)
    # malformed bodies still get the authentication error first
    response = await client.post("/v1/subjects/alice/enroll", content=b"{", headers={})
    assert response.status_code == 401


async def test_early_data_is_too_early(client, certs):
    early = {"Early-Data": "1"}
    assert (await enroll(client, certs.device_a)).status_code == 201
    for response in [
        await client.post(
            "/v1/subjects/bob/enroll",
            json=float_list_body(ENROLLED),
            headers={**certs.device_a.headers(), **early},
        ),
        await verify(client, certs.device_a, **early),
        await client.delete("/v1/subjects/alice", headers={**certs.device_a.headers(), **early}),
    ]:
        assert (response.status_code, error_of(response)) == (425, "too_early")
    # nginx sends an empty Early-Data header for requests after the handshake
    assert (await verify(client, certs.device_a, **{"Early-Data": ""})).status_code == 200
    # the enrolment attempt sent as early data did nothing
    assert (await enroll(client, certs.device_a, subject="bob")).status_code == 201


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (float_list_body(ENROLLED[:127]), "needs 128 values, got 127"),
        (float_list_body([*ENROLLED[:127], 1e39]), "values[127]: outside the float32 range"),
        (float_list_body([0.0] * 128), "zero vector"),
        (float_b64_body(ENROLLED[:100]), "needs 128 float32 values"),
        (
            {"modality": "face-128", "template": {"encoding": "float32-base64", "data": "@@@@"}},
            "not valid base64",
        ),
        (iris_body(b"\x00" * 256, b"\x00" * 256), "bits valid"),
        (iris_body(b"\x00" * 256, modality="face-128"), "does not fit modality face-128"),
    ],
)
async def test_invalid_templates_are_422(client, certs, body, fragment):
    response = await enroll(client, certs.device_a, body=body)
    assert (response.status_code, error_of(response)) == (422, "invalid_template")
    assert fragment in response.json()["detail"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"modality": "face-128", "template": {"encoding": "float-list", "values": [NaN]}}',
        b'{"modality": "face-128", "template": {"encoding": "float-list", "values": [Infinity]}}',
        b'{"modality": "voice", "template": {"encoding": "float-list", "values": [1]}}',
        b'{"modality": "face-128", "template": {"encoding": "raw"}}',
        b'{"modality": "face-128", "template": {"encoding": "float-list", "values": [1]}, "x": 1}',
        b'{"modality": "face-128", "template": {"encoding": "float-list", "values": [true]}}',
        b'{"modality": "face-128", "template": {"encoding": "float-list", "values": ["0.5"]}}',
        b"[]",
        b"not json",
    ],
)
async def test_malformed_requests_are_422(client, certs, raw):
    response = await client.post(
        "/v1/subjects/alice/enroll",
        content=raw,
        headers={**certs.device_a.headers(), "Content-Type": "application/json"},
    )
    assert (response.status_code, error_of(response)) == (422, "invalid_request")


async def test_bad_subject_id_and_body_size(client, certs):
    response = await client.post(
        "/v1/subjects/-x/enroll", json=float_list_body(ENROLLED), headers=certs.device_a.headers()
    )
    assert response.status_code == 422
    big = {"modality": "face-128", "template": {"encoding": "float-list", "values": [0.1] * 20000}}
    response = await enroll(client, certs.device_a, body=big)
    assert (response.status_code, error_of(response)) == (413, "payload_too_large")

    async def chunks():
        for _ in range(40):
            yield b" " * 1024

    response = await client.post(
        "/v1/subjects/alice/enroll", content=chunks(), headers=certs.device_a.headers()
    )  # no Content-Length: counted while received
    assert (response.status_code, error_of(response)) == (413, "payload_too_large")


async def test_lockout_delay_and_operator_unlock(client, certs, clock):
    await enroll(client, certs.device_a)
    for _ in range(5):
        assert (await verify(client, certs.device_a, values=OTHER)).json()["match"] is False
    sixth = await verify(client, certs.device_a)  # even a matching probe waits
    assert (sixth.status_code, error_of(sixth)) == (429, "verification_throttled")
    assert sixth.headers["Retry-After"] == "30"
    clock.advance(29)
    assert (await verify(client, certs.device_a)).headers["Retry-After"] == "1"
    clock.advance(1)
    assert (await verify(client, certs.device_a, values=OTHER)).json()["match"] is False  # 6th failure
    assert (await verify(client, certs.device_a)).headers["Retry-After"] == "60"
    for delay in (60, 120, 240):
        clock.advance(delay)
        assert (await verify(client, certs.device_a, values=OTHER)).status_code == 200
    clock.advance(480)
    # nine consecutive failures came from device-a: it alone may not take the subject further
    capped = await verify(client, certs.device_a, values=OTHER)
    assert (capped.status_code, error_of(capped)) == (429, "device_throttled")
    # another device of the group still can; its failure is the tenth and locks the subject
    assert (await verify(client, certs.verifier_2, values=OTHER)).json()["match"] is False
    clock.advance(10**6)
    for cert in (certs.device_a, certs.device_b):
        locked = await verify(client, cert)
        assert (locked.status_code, error_of(locked)) == (423, "subject_locked")
    refused = await client.post("/v1/admin/subjects/alice/unlock", headers=certs.device_a.headers())
    assert (refused.status_code, error_of(refused)) == (403, "forbidden")
    own_group = await client.post("/v1/admin/subjects/alice/unlock", headers=certs.operator.headers())
    assert (own_group.status_code, error_of(own_group)) == (404, "subject_not_found")  # no alice in ops
    unlocked = await client.post(
        "/v1/admin/subjects/alice/unlock", params={"group": "site-a"}, headers=certs.operator.headers()
    )
    assert unlocked.json() == {"subject_id": "alice", "group": "site-a", "unlocked": True}
    assert (await verify(client, certs.device_a)).json()["match"] is True


async def test_success_resets_the_count(client, certs):
    await enroll(client, certs.device_a)
    for _ in range(4):
        await verify(client, certs.device_a, values=OTHER)
    assert (await verify(client, certs.device_a)).json()["match"] is True
    for _ in range(4):
        assert (await verify(client, certs.device_a, values=OTHER)).status_code == 200
    assert (await verify(client, certs.device_a)).status_code == 200


async def test_counters_hold_across_service_restarts(app, make_service, bio_settings, certs):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bio") as c:
        await enroll(c, certs.device_a)
        for _ in range(5):
            await verify(c, certs.device_a, values=OTHER)
    restarted = create_app(make_service(), bio_settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=restarted), base_url="http://bio") as c:
        assert (await verify(c, certs.device_a)).status_code == 429


async def test_rotation_is_resumable_and_retirement_guarded(app, make_service, bio_settings, certs):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bio") as c:
        for index in range(5):
            await enroll(c, certs.device_a, f"s{index}")
    # the operator deploys key k2 as the active key: new enrolments use it, old records move
    rotated_app = create_app(make_service(active_key_id="k2"), bio_settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=rotated_app), base_url="http://bio") as c:
        op = certs.operator.headers()
        refused = await c.post("/v1/admin/keys/rotate", headers=certs.device_a.headers())
        assert (refused.status_code, error_of(refused)) == (403, "forbidden")
        busy = await c.post("/v1/admin/keys/k1/retire", headers=op)
        assert (busy.status_code, error_of(busy)) == (409, "key_in_use")
        first = (await c.post("/v1/admin/keys/rotate", json={"max_records": 2}, headers=op)).json()
        assert (first["reencrypted"], first["remaining"]) == (2, 3)  # interrupted after two records
        assert (await verify(c, certs.device_a, "s0")).json()["match"] is True  # mixed keys work
        assert (await verify(c, certs.device_a, "s4")).json()["match"] is True
        rest = (await c.post("/v1/admin/keys/rotate", headers=op)).json()
        assert (rest["reencrypted"], rest["remaining"], rest["key_usage"]) == (3, 0, {"k2": 5})
        again = (await c.post("/v1/admin/keys/rotate", headers=op)).json()
        assert again["reencrypted"] == 0  # idempotent
        active = await c.post("/v1/admin/keys/k2/retire", headers=op)
        assert (active.status_code, error_of(active)) == (409, "key_in_use")
        assert (await c.post("/v1/admin/keys/k1/retire", headers=op)).status_code == 200
        status = (await c.get("/v1/admin/keys", headers=op)).json()
        assert status == {
            "active_key_id": "k2",
            "loaded": ["k1", "k2"],
            "retired": ["k1"],
            "usage": {"k2": 5},
        }
        back = await c.post("/v1/admin/keys/rotate", json={"target_key_id": "k1"}, headers=op)
        assert (back.status_code, error_of(back)) == (409, "key_retired")  # retired for good
        boolean = await c.post("/v1/admin/keys/rotate", json={"max_records": True}, headers=op)
        assert (boolean.status_code, error_of(boolean)) == (422, "invalid_request")
        unknown = await c.post("/v1/admin/keys/rotate", json={"target_key_id": "k9"}, headers=op)
        assert (unknown.status_code, error_of(unknown)) == (422, "unknown_key")
        for index in range(5):
            assert (await verify(c, certs.device_a, f"s{index}")).json()["match"] is True
    with pytest.raises(ConfigurationError, match="has been retired"):
        make_service(active_key_id="k1").check_keys()


async def test_tampered_storage_is_an_integrity_error(client, certs, store):
    await enroll(client, certs.device_a, "alice")
    await enroll(client, certs.device_a, "bob", float_list_body(OTHER))
    with store.transaction() as tx:
        alice = tx.get_subject("site-a", "alice")
        bob = tx.get_subject("site-a", "bob")
        tx.replace_sealed("site-a", "bob", bob.sealed, alice.sealed)  # move alice's ciphertext
    moved = await verify(client, certs.device_a, "bob", values=ENROLLED)
    assert (moved.status_code, error_of(moved)) == (500, "integrity_error")
    flipped = bytes([alice.sealed.ciphertext[0] ^ 1]) + alice.sealed.ciphertext[1:]
    with store.transaction() as tx:
        tx._execute("UPDATE subjects SET ciphertext = ? WHERE subject_id = ?", (flipped, "alice"))
    response = await verify(client, certs.device_a, "alice")
    assert (response.status_code, error_of(response)) == (500, "integrity_error")
    with store.transaction() as tx:  # an integrity error is not a failed attempt
        assert tx.get_counters("site-a", "alice").failed_count == 0
        assert tx.audit_events()[-1].outcome == "integrity_error"


async def test_audit_records_operations_without_template_data(client, certs, store, audit_path):
    await enroll(client, certs.device_a)
    await verify(client, certs.device_b)
    await verify(client, certs.device_b, values=OTHER)
    await client.delete("/v1/subjects/alice", headers=certs.device_a.headers())
    lines = [json.loads(line) for line in audit_path.read_text().splitlines()]
    assert [(e["event"], e["outcome"]) for e in lines] == [
        ("enroll", "enrolled"),
        ("verify", "match"),
        ("verify", "no_match"),
        ("delete", "deleted"),
    ]
    # the stable device id, and the certificate fingerprint as the credential used
    assert (lines[0]["device_id"], lines[0]["credential"]) == ("device-a", certs.device_a.fingerprint)
    assert (lines[1]["device_id"], lines[1]["credential"]) == ("device-b", certs.device_b.fingerprint)
    assert {(e["subject_group"], e["subject_id"]) for e in lines} == {("site-a", "alice")}
    assert all(e["time"].endswith("+00:00") for e in lines)
    with store.transaction() as tx:
        table = tx.audit_events()
    assert [(e.event, e.outcome, e.device_id, e.credential) for e in table] == [
        (e["event"], e["outcome"], e["device_id"], e["credential"]) for e in lines
    ]
    text = audit_path.read_text() + repr(table)
    for vector in (ENROLLED, MATCHING, OTHER):
        raw = f32_bytes(vector)
        assert base64.b64encode(raw).decode()[:16] not in text
        assert raw.hex()[:16] not in text
        assert repr(vector[0])[:8] not in text
        assert f"{vector[0]:.4f}" not in text


def stored_bytes(store) -> bytes:
    """Everything the backend keeps on disk (SQLite) or in its tables (PostgreSQL)."""
    if store.backend == "sqlite":
        wal = store.path.with_name(store.path.name + "-wal")
        return store.path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    with store.transaction() as tx:
        rows = tx._execute("SELECT nonce, ciphertext FROM subjects").fetchall()
        audit = tx._execute("SELECT * FROM audit_events").fetchall()
    return b"".join(bytes(n) + bytes(c) for n, c in rows) + repr(audit).encode()


async def test_storage_holds_no_plaintext_template(client, certs, store):
    await enroll(client, certs.device_a)
    await enroll(client, certs.device_a, "b64", float_b64_body(MATCHING))
    data = stored_bytes(store)
    assert len(data) > 2 * 128 * 4
    for vector in (ENROLLED, MATCHING):
        raw = f32_bytes(vector)
        assert raw[:16] not in data
        assert raw[-16:] not in data
        assert base64.b64encode(raw)[:16] not in data


def test_sqlite_is_durable_wal(tmp_path):
    store = SqliteStore(tmp_path / "d.db")
    conn = store._connection()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


async def test_health_and_readiness(client, store):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready", "store": store.backend}
    unknown = await client.get("/v1/nothing", headers={})
    assert unknown.status_code == 401
