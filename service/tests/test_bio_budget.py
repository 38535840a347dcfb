"""The per-device failure budget, on top of the per-subject counters: one device can push at most
K subjects into a delay within a window and none into the hard lock; other devices are
unaffected; the budget holds with concurrent requests on both stores (threads, two service
instances sharing one database, and the real server's worker processes)."""

import threading
from collections import Counter as Tally

import httpx
import pytest
from bio_helpers import float_list_body, noisy, unit_vector
from tlsward_biometric.audit import AuditLog
from tlsward_biometric.authz import Action, authorize
from tlsward_biometric.crypto import KeyRing
from tlsward_biometric.errors import DeviceThrottledError, ServiceError
from tlsward_biometric.identity import DeviceIdentity, Role
from tlsward_biometric.lockout import DevicePolicy, LockoutPolicy, check_device
from tlsward_biometric.modalities import ModalityRegistry
from tlsward_biometric.service import BiometricService
from tlsward_biometric.templates import embedding_from_values

pytestmark = pytest.mark.anyio

GROUP = "site-a"
OTHER = unit_vector(128, 7)


def test_sliding_window_and_retry_after():
    policy = DevicePolicy(budget=3, window=100)
    check_device(policy, [10.0, 20.0], 50.0)
    with pytest.raises(DeviceThrottledError) as excinfo:
        check_device(policy, [10.0, 20.0, 30.0], 50.0)
    assert excinfo.value.status == 429
    assert excinfo.value.headers == {"Retry-After": "60"}  # when the failure at 10 s ages out
    with pytest.raises(DeviceThrottledError) as excinfo:
        check_device(policy, [10.0, 20.0, 30.0, 40.0], 50.0)
    assert excinfo.value.headers == {"Retry-After": "70"}
    assert DevicePolicy().subjects_into_delay(LockoutPolicy()) == 3  # K with the defaults


def subjects_body(seed):
    return float_list_body(unit_vector(128, seed))


@pytest.fixture
async def client(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bio") as c:
        yield c


async def test_one_device_delays_at_most_k_subjects_and_locks_none(client, certs):
    """The issue's measurement: one device sends 5 non-matching probes to each of 20 enrolled
    subjects; then every genuine user verifies on another device."""
    enroller, attacker, genuine = certs.device_a, certs.device_b, certs.verifier_2
    for index in range(20):
        response = await client.post(
            f"/v1/subjects/s{index}/enroll", json=subjects_body(index), headers=enroller.headers()
        )
        assert response.status_code == 201
    answers = Tally()
    for index in range(20):
        for _ in range(5):
            response = await client.post(
                f"/v1/subjects/s{index}/verify", json=float_list_body(OTHER), headers=attacker.headers()
            )
            answers[(response.status_code, response.json().get("error"))] += 1
    assert answers == {(200, None): 15, (429, "device_throttled"): 85}
    delayed = []
    for index in range(20):
        response = await client.post(
            f"/v1/subjects/s{index}/verify",
            json=float_list_body(noisy(unit_vector(128, index), 0.02, 1)),
            headers=genuine.headers(),
        )
        assert response.status_code in (200, 429), response.text
        if response.status_code == 429:
            assert response.json()["error"] == "verification_throttled"
            delayed.append(index)
        else:
            assert response.json()["match"] is True
    assert delayed == [0, 1, 2]  # K = 15 // 5 = 3, and none is hard-locked (that would be 423)
    other_device = await client.post(  # the attacker's budget is its own
        "/v1/subjects/s3/verify", json=float_list_body(OTHER), headers=genuine.headers()
    )
    assert (other_device.status_code, other_device.json()["match"]) == (200, False)


async def test_throttled_device_has_retry_after_and_recovers(client, certs, clock):
    device = certs.device_b
    for index in range(15):
        ok = await client.post(
            f"/v1/subjects/u{index}/verify", json=float_list_body(OTHER), headers=device.headers()
        )
        assert ok.json()["match"] is False  # unknown subjects: non-matches, each one counted
        clock.advance(10)
    throttled = await client.post(
        "/v1/subjects/u99/verify", json=float_list_body(OTHER), headers=device.headers()
    )
    assert (throttled.status_code, throttled.json()["error"]) == (429, "device_throttled")
    assert throttled.headers["Retry-After"] == str(3600 - 150)  # the first failure ages out then
    clock.advance(3600 - 150)
    again = await client.post(
        "/v1/subjects/u99/verify", json=float_list_body(OTHER), headers=device.headers()
    )
    assert (again.status_code, again.json()["match"]) == (200, False)


async def test_one_device_never_hard_locks_a_subject_however_long_it_tries(client, certs, clock, store):
    enroller, attacker = certs.device_a, certs.device_b
    await client.post("/v1/subjects/alice/enroll", json=subjects_body(1), headers=enroller.headers())
    statuses = Tally()
    for _ in range(40):  # bounded: 40 attempts, one per hour (each window gives a fresh budget)
        response = await client.post(
            "/v1/subjects/alice/verify", json=float_list_body(OTHER), headers=attacker.headers()
        )
        statuses[(response.status_code, response.json().get("error"))] += 1
        clock.advance(3601)
    assert statuses[(200, None)] == 9  # hard_limit - 1
    assert statuses[(429, "device_throttled")] == 31
    with store.transaction() as tx:
        counters = tx.get_counters(GROUP, "alice")
    assert (counters.failed_count, counters.hard_locked) == (9, False)
    genuine = await client.post(
        "/v1/subjects/alice/verify",
        json=float_list_body(noisy(unit_vector(128, 1), 0.02, 2)),
        headers=certs.verifier_2.headers(),
    )
    assert genuine.json()["match"] is True  # the subject was never locked; its count resets
    retry = await client.post(
        "/v1/subjects/alice/verify", json=float_list_body(OTHER), headers=attacker.headers()
    )
    assert (retry.status_code, retry.json()["match"]) == (200, False)  # the share reset with it


# --- concurrency --------------------------------------------------------------------------------
def _node(store, key_dir, audit_path, clock, budget):
    return BiometricService(
        store=store,
        keyring=KeyRing.load(key_dir, "k1"),
        registry=ModalityRegistry(target_fmr=1e-4),
        policy=LockoutPolicy(),
        audit_log=AuditLog(audit_path),
        device_policy=DevicePolicy(budget=budget, window=3600),
        clock=clock,
    )


def test_budget_holds_under_concurrent_threads_and_two_nodes(store_factory, key_dir, audit_path, clock):
    """Eight threads on two service instances (two nodes sharing one database; each thread its
    own connection) spend one device's budget at once: exactly ``budget`` attempts are evaluated."""
    budget = 7
    nodes = [_node(store_factory(), key_dir, audit_path, clock, budget) for _ in range(2)]
    kiosk = DeviceIdentity("kiosk-1", Role.VERIFIER, GROUP, "aa" * 32, "CN=kiosk-1")
    bystander = DeviceIdentity("kiosk-2", Role.VERIFIER, GROUP, "bb" * 32, "CN=kiosk-2")
    spec = nodes[0].registry.get("face-128").spec
    probe = embedding_from_values(spec, OTHER)
    results: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def attack(worker):
        node = nodes[worker % 2]
        start.wait(timeout=30)
        for index in range(6):  # 48 attempts in all, on 48 different subjects
            try:
                node.verify(authorize(kiosk, Action.VERIFY), f"w{worker}-{index}", probe)
                outcome = "evaluated"
            except ServiceError as exc:
                outcome = exc.error
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=attack, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert Tally(results) == {"evaluated": budget, "device_throttled": 48 - budget}
    with nodes[1].store.transaction() as tx:
        assert len(tx.device_failures("kiosk-1", clock() - 3600)) == budget
    # another device is unaffected
    assert nodes[1].verify(authorize(bystander, Action.VERIFY), "x", probe).match is False
    for node in nodes:
        node.audit_log.close()
        node.store.close()
