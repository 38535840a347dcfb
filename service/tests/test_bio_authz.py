"""The authorisation matrix, cell by cell: every role x every action x the subject's own group or
another group, through the HTTP API on both stores. Each refusal is checked by status *and* error
id (a refusal is the service saying no, never a server that is down), and every test first proves
the service answers."""

import httpx
import pytest
from bio_helpers import float_list_body, noisy, unit_vector
from tlsward_biometric.authz import MATRIX, Action, Reach, authorize
from tlsward_biometric.errors import ForbiddenError
from tlsward_biometric.identity import DeviceIdentity, Role

pytestmark = pytest.mark.anyio

GROUP, OTHER = "site-a", "site-b"
ENROLLED = unit_vector(128, 11)
MATCHING = noisy(ENROLLED, 0.02, 12)
ROLES = [role.value for role in Role]
ACTIONS = [action.value for action in Action]
RELATIONS = ["same group", "other group"]

# The README's matrix, written out: (role, action) -> what a device of the subject's own group
# gets, and what a device of another group gets. "absent": exactly the answer for a subject that
# does not exist (status and body).
FORBIDDEN = ("forbidden", "forbidden")
EXPECTED = {
    ("enroller", "enroll"): ("enrolled", "forbidden_elsewhere"),
    ("enroller", "verify"): ("match", "absent"),
    ("enroller", "delete"): ("deleted", "absent"),
    ("enroller", "admin"): FORBIDDEN,
    ("enroller", "health"): ("ok", "ok"),
    ("verifier", "enroll"): FORBIDDEN,
    ("verifier", "verify"): ("match", "absent"),
    ("verifier", "delete"): FORBIDDEN,
    ("verifier", "admin"): FORBIDDEN,
    ("verifier", "health"): ("ok", "ok"),
    ("operator", "enroll"): FORBIDDEN,
    ("operator", "verify"): FORBIDDEN,
    ("operator", "delete"): ("deleted", "deleted"),
    ("operator", "admin"): ("ok", "ok"),
    ("operator", "health"): ("ok", "ok"),
    ("monitor", "enroll"): FORBIDDEN,
    ("monitor", "verify"): FORBIDDEN,
    ("monitor", "delete"): FORBIDDEN,
    ("monitor", "admin"): FORBIDDEN,
    ("monitor", "health"): ("ok", "ok"),
}


def test_the_table_covers_every_cell_and_matches_the_code():
    assert set(EXPECTED) == {(r, a) for r in ROLES for a in ACTIONS}
    for (role, action), (same, _other) in EXPECTED.items():
        reach = MATRIX[Role(role)].get(Action(action))
        assert (reach is None) == (same == "forbidden"), (role, action)
        assert (reach is Reach.ANY_GROUP) == (role == "operator" or action == "health") or reach is None


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_authorize_alone(role, action):
    who = DeviceIdentity("d", Role(role), GROUP, "00" * 32, "CN=d")
    reach = MATRIX[Role(role)].get(Action(action))
    if reach is None:
        with pytest.raises(ForbiddenError, match=f"role {role} may not {action}"):
            authorize(who, Action(action))
        return
    grant = authorize(who, Action(action))
    assert (grant.group, grant.visible) == (GROUP, True)
    if action == "enroll":
        with pytest.raises(ForbiddenError, match="own group only"):
            authorize(who, Action.ENROLL, OTHER)
    else:
        elsewhere = authorize(who, Action(action), OTHER)
        assert (elsewhere.group, elsewhere.visible) == (OTHER, reach is Reach.ANY_GROUP)


@pytest.fixture
async def client(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bio") as c:
        yield c


def _device(certs, role, relation):
    group = GROUP if relation == "same group" else OTHER
    return certs.ca.device(f"{role}-{group}", role, group)


async def _call(client, cert, action, subject, group=None):
    """One request of ``action``; admin and health are several endpoints, all must agree."""
    headers = cert.headers()
    params = {"group": group} if group else {}
    if action == "enroll":
        return [
            await client.post(
                f"/v1/subjects/{subject}/enroll",
                json=float_list_body(ENROLLED),
                params=params,
                headers=headers,
            )
        ]
    if action == "verify":
        return [
            await client.post(
                f"/v1/subjects/{subject}/verify",
                json=float_list_body(MATCHING),
                params=params,
                headers=headers,
            )
        ]
    if action == "delete":
        return [await client.delete(f"/v1/subjects/{subject}", params=params, headers=headers)]
    if action == "admin":
        return [
            await client.post(f"/v1/admin/subjects/{subject}/unlock", params=params, headers=headers),
            await client.get("/v1/admin/keys", headers=headers),
            await client.post("/v1/admin/keys/rotate", headers=headers),
            await client.post("/v1/admin/keys/k2/retire", headers=headers),
        ]
    return [await client.get("/healthz", headers=headers), await client.get("/readyz", headers=headers)]


def _same_answer(first, second, subject_a, subject_b):
    """Status and body equal, once the subject ids (which the client chose) are swapped."""
    assert first.status_code == second.status_code
    assert first.text.replace(subject_a, "<s>") == second.text.replace(subject_b, "<s>")
    assert first.headers.get("retry-after") == second.headers.get("retry-after")


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ROLES)
async def test_matrix_cell(client, certs, store, role, action, relation):
    enroller = certs.ca.device("enroller-site-a", "enroller", GROUP)
    assert (await client.get("/healthz")).status_code == 200  # the service is up
    enrolled = await client.post(
        "/v1/subjects/alice/enroll", json=float_list_body(ENROLLED), headers=enroller.headers()
    )
    assert enrolled.status_code == 201, enrolled.text
    cert = _device(certs, role, relation)
    expected = EXPECTED[(role, action)][RELATIONS.index(relation)]
    # an operator names the subject's group; the others act in their own group by default
    group = GROUP if role == "operator" else None
    subject = "carol" if action == "enroll" else "alice"
    responses = await _call(client, cert, action, subject, group)

    if expected == "forbidden":
        for response in responses:
            assert (response.status_code, response.json()["error"]) == (403, "forbidden"), response.text
            assert f"role {role} may not {action}" in response.json()["detail"]
    elif expected == "enrolled":
        assert responses[0].status_code == 201
        assert responses[0].json()["group"] == GROUP
    elif expected == "forbidden_elsewhere":
        # its own group works (and binds the subject to it); the subject's group is refused
        assert responses[0].status_code == 201
        assert responses[0].json()["group"] == OTHER
        [elsewhere] = await _call(client, cert, action, "dave", GROUP)
        assert (elsewhere.status_code, elsewhere.json()["error"]) == (403, "forbidden")
        assert "own group only" in elsewhere.json()["detail"]
    elif expected == "match":
        assert (responses[0].status_code, responses[0].json()["match"]) == (200, True)
    elif expected == "deleted":
        assert responses[0].status_code == 204
        gone = await client.post(
            "/v1/subjects/alice/verify", json=float_list_body(MATCHING), headers=enroller.headers()
        )
        assert gone.json()["match"] is False
    elif expected == "absent":
        # the other group's alice is answered exactly as a subject that exists nowhere, whether
        # the device names the group or not
        [nobody] = await _call(client, cert, action, "nobody")
        [named] = await _call(client, cert, action, "alice", GROUP)
        [named_nobody] = await _call(client, cert, action, "nobody", GROUP)
        _same_answer(responses[0], nobody, "alice", "nobody")
        _same_answer(named, named_nobody, "alice", "nobody")
        _same_answer(responses[0], named, "alice", "alice")
        if action == "verify":
            assert (responses[0].status_code, responses[0].json()["match"]) == (200, False)
        else:
            assert (responses[0].status_code, responses[0].json()["error"]) == (404, "subject_not_found")
        with store.transaction() as tx:  # and the subject is untouched
            assert tx.get_subject(GROUP, "alice") is not None
            assert tx.get_counters(GROUP, "alice").failed_count == 0
    elif expected == "ok":
        for response in responses:
            assert response.status_code == 200, response.text
    else:  # pragma: no cover - the table has no other outcomes
        raise AssertionError(expected)

    if expected != "deleted":  # nothing a refused or cross-group request did touched alice
        with store.transaction() as tx:
            assert tx.get_subject(GROUP, "alice") is not None


async def test_verifier_cannot_tell_unknown_subject_from_non_match_and_pays_for_it(
    client, certs, store, clock
):
    enroller, verifier = certs.device_a, certs.device_b
    other = unit_vector(128, 99)
    await client.post("/v1/subjects/alice/enroll", json=float_list_body(ENROLLED), headers=enroller.headers())
    answers = []
    for subject in ("alice", "nobody"):
        for _ in range(6):  # five failures each, then the subject's delay
            response = await client.post(
                f"/v1/subjects/{subject}/verify", json=float_list_body(other), headers=verifier.headers()
            )
            answers.append((response.status_code, response.text.replace(subject, "<s>")))
    assert answers[:6] == answers[6:]
    assert answers[0][0] == 200
    assert answers[5][0] == 429
    with store.transaction() as tx:
        assert len(tx.device_failures("device-b", clock() - 3600)) == 10  # both subjects count
