"""The biometric service on the host, reached through nginx with mutual TLS."""

from __future__ import annotations

import base64
import json
import shlex
import subprocess
import threading
import time
import urllib.parse

import httpx
from bio_molecule import (
    ADDRESS,
    SERVER_NAME,
    body,
    client,
    device_dir,
    f32,
    fingerprint,
    noisy,
    own_key_dir,
    unit_vector,
)
from cryptography import x509

from tlsward.scan.hostchecks import EXPOSURE

UNIT = "/etc/systemd/system/tlsward-biometric.service"


def test_unit_is_hardened(host):
    report = host.run(f"systemd-analyze security --offline=yes {UNIT}")
    exposure = float(EXPOSURE.search(report.stdout).group(2))
    assert exposure <= 2.0, report.stdout
    assert host.run(f"systemd-analyze security --offline=yes --threshold=20 {UNIT}").rc == 0
    unit = host.file(UNIT).content_string
    for line in (
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=\n",
        "RestrictAddressFamilies=AF_UNIX\n",
        "SystemCallFilter=@system-service",
        "UMask=0077",
    ):
        assert line in unit


def test_service_runs_as_its_user_with_private_files(host):
    assert host.service("tlsward-biometric.socket").is_enabled
    assert host.service("tlsward-biometric.service").is_running
    user = host.check_output("systemctl show -p User --value tlsward-biometric.service")
    assert user == "tlsward-biometric"
    sock = host.file("/run/tlsward-biometric/api.sock")
    assert sock.is_socket
    assert (sock.mode, sock.group) == (0o660, "tlsward-nginx")
    for key in ("k1", "k2"):
        f = host.file(f"/etc/tlsward-biometric/keys/{key}.key")
        assert (f.user, f.mode) == ("tlsward-biometric", 0o400)
    env = host.file("/etc/tlsward-biometric/service.env")
    assert (env.user, env.group, env.mode) == ("root", "tlsward-biometric", 0o640)
    db = host.file("/var/lib/tlsward-biometric/biometric.db")
    assert (db.user, db.mode) == ("tlsward-biometric", 0o600)
    # no TCP or UDP listener belongs to the service
    assert "tlsward-biometr" not in host.check_output("ss -Htulnp")


# Connects to the API socket and prints what happened: "connected" or the errno's name.
SOCKET_PROBE = (
    "import errno, socket; s = socket.socket(socket.AF_UNIX)\n"
    "try:\n    s.connect('/run/tlsward-biometric/api.sock'); print('connected')\n"
    "except OSError as e:\n    print(errno.errorcode[e.errno])"
)


def test_only_nginx_workers_reach_the_socket(host):
    """A process of another user in the distribution's web group (www-data) is refused; the
    same probe as nginx's worker user connects, so the refusal is not a service that is down."""
    workers = host.check_output("ps -o user:32= -C nginx | sort -u")
    assert workers.split() == ["root", "tlsward-nginx"], workers
    # exit 9: the user exists from an earlier verify run
    host.run_expect([0, 9], "useradd --system --no-create-home --gid www-data webapp")
    as_other = host.run("setpriv --reuid webapp --regid www-data --clear-groups python3 -c %s", SOCKET_PROBE)
    as_nginx = host.run(
        "setpriv --reuid tlsward-nginx --regid tlsward-nginx --clear-groups python3 -c %s", SOCKET_PROBE
    )
    assert (as_other.stdout.strip(), as_nginx.stdout.strip()) == ("EACCES", "connected"), (as_other, as_nginx)


def test_enroll_then_verify_match_and_non_match(subject):
    enrolled = unit_vector(1)
    with client("device-a") as c:
        response = c.post(f"/v1/subjects/{subject}/enroll", json=body(enrolled))
        assert response.status_code == 201, response.text
        # the stable id from the certificate's URI SAN, not its fingerprint
        assert (response.json()["device_id"], response.json()["group"]) == ("device-a", "site-a")
        match = c.post(f"/v1/subjects/{subject}/verify", json=body(noisy(enrolled, 2)))
        assert match.json()["match"] is True
        other = c.post(f"/v1/subjects/{subject}/verify", json=body(unit_vector(3)))
        assert (other.status_code, other.json()["match"]) == (200, False)
    with client("device-b") as c:  # another device verifies the same subject
        assert c.post(f"/v1/subjects/{subject}/verify", json=body(noisy(enrolled, 4))).json()["match"] is True


def test_no_client_certificate_never_reaches_the_service(host, subject):
    before = host.check_output("wc -l < /var/log/tlsward-biometric/audit.jsonl")
    with client(None) as c:
        try:
            response = c.post(f"/v1/subjects/{subject}/enroll", json=body(unit_vector(5)))
        except httpx.TransportError:
            response = None  # the handshake itself is refused
    if response is not None:  # or nginx answers; never the service
        assert response.status_code == 400
        assert response.json()["error"] == "client_certificate_required"
    assert host.check_output("wc -l < /var/log/tlsward-biometric/audit.jsonl") == before


def test_operator_endpoints(subject):
    with client("device-a") as c:
        refused = c.get("/v1/admin/keys")
        assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
    with client("operator-1") as c:
        status = c.get("/v1/admin/keys").json()
        assert status["active_key_id"] == "k1"
        assert status["loaded"] == ["k1", "k2"]


def test_each_role_may_do_only_its_job(host, subject):
    """The matrix through nginx with the certificates tls_pki issued (role and group in URI SANs)."""
    enrolled = unit_vector(20)
    with client("device-a") as c:  # enroller of site-a
        assert c.post(f"/v1/subjects/{subject}/enroll", json=body(enrolled)).status_code == 201
    with client("scanner-1") as c:  # a monitor: health only, 403 on everything else
        assert c.get("/healthz").status_code == 200
        for response in (
            c.post(f"/v1/subjects/{subject}/verify", json=body(enrolled)),
            c.post(f"/v1/subjects/{subject}-new/enroll", json=body(enrolled)),
            c.delete(f"/v1/subjects/{subject}"),
            c.get("/v1/admin/keys"),
        ):
            assert (response.status_code, response.json()["error"]) == (403, "forbidden"), response.text
    with client("device-b") as c:  # a verifier of site-a may verify, not enrol or delete
        verified = c.post(f"/v1/subjects/{subject}/verify", json=body(noisy(enrolled, 21)))
        assert verified.json()["match"] is True
        for response in (
            c.post(f"/v1/subjects/{subject}-new/enroll", json=body(enrolled)),
            c.delete(f"/v1/subjects/{subject}"),
        ):
            assert (response.status_code, response.json()["error"]) == (403, "forbidden"), response.text
    with client("verifier-b") as c:  # site-b cannot tell site-a's subject from one that does not exist
        theirs = c.post(f"/v1/subjects/{subject}/verify", json=body(noisy(enrolled, 22)))
        nobody = c.post(f"/v1/subjects/{subject}-nobody/verify", json=body(noisy(enrolled, 22)))
        assert theirs.status_code == nobody.status_code == 200
        assert theirs.json()["match"] is nobody.json()["match"] is False
        assert theirs.text.replace(subject, "<s>") == nobody.text.replace(f"{subject}-nobody", "<s>")
    with client("operator-1") as c:  # an operator deletes in any group, naming it
        assert c.delete(f"/v1/subjects/{subject}", params={"group": "site-a"}).status_code == 204
    log = host.file("/var/log/tlsward-biometric/audit.jsonl").content_string
    audit = [json.loads(line) for line in log.splitlines()]
    mine = [e for e in audit if e.get("subject_id") == subject and e.get("subject_group") == "site-a"]
    assert [(e["event"], e["outcome"], e["device_id"]) for e in mine] == [
        ("enroll", "enrolled", "device-a"),
        ("verify", "match", "device-b"),
        ("delete", "deleted", "operator-1"),
    ]
    assert mine[0]["credential"] == fingerprint("device-a")  # the certificate used
    # site-b's probe is on record in its own group: it never reached site-a's subject
    probe = [e for e in audit if e.get("subject_id") == subject and e.get("subject_group") == "site-b"]
    assert [(e["outcome"], e["device_id"]) for e in probe] == [("subject_not_found", "verifier-b")]


def test_a_certificate_from_the_devices_own_csr_carries_what_the_ca_chose(subject):
    """The CSR asked for operator-1, the operator role and CA:TRUE; the CA issued kiosk-csr, a
    verifier of site-a, and kept no key for it."""
    assert not (device_dir("kiosk-csr") / "privkey.pem").exists()
    cert = x509.load_pem_x509_certificate((device_dir("kiosk-csr") / "cert.pem").read_bytes())
    uris = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(u) for u in uris.get_values_for_type(x509.UniformResourceIdentifier)] == [
        "urn:tlsward:device:kiosk-csr",
        "urn:tlsward:role:verifier",
        "urn:tlsward:group:site-a",
    ]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert cert.subject.rfc4514_string() == "CN=kiosk-csr,OU=devices,O=tlsward"
    own = (own_key_dir() / "privkey.pem").read_bytes()
    assert b"PRIVATE KEY" in own  # the device's key, made on its side, is the one that works
    enrolled = unit_vector(30)
    with client("device-a") as c:
        assert c.post(f"/v1/subjects/{subject}/enroll", json=body(enrolled)).status_code == 201
    with client("kiosk-csr") as c:
        verified = c.post(f"/v1/subjects/{subject}/verify", json=body(noisy(enrolled, 31)))
        assert verified.json()["match"] is True
        refused = c.get("/v1/admin/keys")
        assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")


def test_a_device_that_spends_its_failure_budget_is_throttled():
    """kiosk-budget fails on distinct unknown subjects until the service throttles the device
    itself (a re-run within the hour finds it throttled from the start)."""
    budget = 30  # biometric_service_device_failure_budget in molecule.yml
    answers = []
    with client("kiosk-budget") as c:
        for index in range(budget + 1):
            response = c.post(f"/v1/subjects/probe-{index}/verify", json=body(unit_vector(100 + index)))
            answers.append(response.status_code)
            if response.status_code == 429:
                assert response.json()["error"] == "device_throttled"
                assert int(response.headers["Retry-After"]) >= 1
                break
            assert response.json()["match"] is False
    assert answers[-1] == 429
    assert answers.count(200) <= budget
    with client("device-b") as c:  # another device of the same group is unaffected
        other = c.post("/v1/subjects/probe-0/verify", json=body(unit_vector(100)))
        assert (other.status_code, other.json()["match"]) == (200, False)


def _s_client(*args: str, stdin: bytes) -> str:
    device = device_dir("device-a")
    argv = [
        "openssl",
        "s_client",
        "-connect",
        f"{ADDRESS}:443",
        "-servername",
        SERVER_NAME,
        "-CAfile",
        str(device / "ca.pem"),
        "-cert",
        str(device / "cert.pem"),
        "-key",
        str(device / "privkey.pem"),
        "-tls1_3",
        "-ign_eof",
        *args,
    ]
    result = subprocess.run(argv, input=stdin, capture_output=True, timeout=20, check=False)
    return result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")


def test_zero_rtt_replay_of_verify_gets_425(tmp_path, subject):
    enrolled = unit_vector(6)
    with client("device-a") as c:
        assert c.post(f"/v1/subjects/{subject}/enroll", json=body(enrolled)).status_code == 201
    session = tmp_path / "session.pem"
    first = _s_client(
        "-sess_out",
        str(session),
        stdin=f"GET /healthz HTTP/1.1\r\nHost: {SERVER_NAME}\r\nConnection: close\r\n\r\n".encode(),
    )
    assert "HTTP/1.1 200" in first
    assert session.exists()
    payload = json.dumps(body(noisy(enrolled, 7))).encode()
    request = (
        f"POST /v1/subjects/{subject}/verify HTTP/1.1\r\nHost: {SERVER_NAME}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode() + payload
    early = tmp_path / "early.txt"
    early.write_bytes(request)
    for _ in range(2):  # the original and a replay of the same early data
        answer = _s_client("-sess_in", str(session), "-early_data", str(early), stdin=b"")
        assert "Early data was accepted" in answer, answer
        assert "HTTP/1.1 425" in answer, answer
        assert "too_early" in answer
    # after the handshake the same request is answered, and a client-sent Early-Data header is
    # overwritten by nginx
    with client("device-a") as c:
        normal = c.post(
            f"/v1/subjects/{subject}/verify", json=body(noisy(enrolled, 7)), headers={"Early-Data": "1"}
        )
        assert normal.json()["match"] is True


def test_service_itself_refuses_early_data(host, subject):
    """Defence in depth: the service answers 425 on its own socket too."""
    pem = (device_dir("device-a") / "cert.pem").read_text()
    headers = {
        "Early-Data": "1",
        "X-Client-Verify": "SUCCESS",
        "X-Client-Cert": urllib.parse.quote(pem, safe=""),
    }
    script = (
        "import http.client, socket\n"
        "class C(http.client.HTTPConnection):\n"
        "    def connect(self):\n"
        "        self.sock = socket.socket(socket.AF_UNIX)\n"
        "        self.sock.connect('/run/tlsward-biometric/api.sock')\n"
        "c = C('localhost')\n"
        f"c.request('DELETE', '/v1/subjects/{subject}', headers={headers!r})\n"
        "r = c.getresponse()\n"
        "print(r.status, r.read().decode())\n"
    )
    out = host.check_output(f"/opt/tlsward-biometric/venv/bin/python -c {shlex.quote(script)}")
    assert out.startswith("425")
    assert "too_early" in out


def test_database_and_audit_hold_no_plaintext_template(host, subject):
    enrolled = unit_vector(8)
    with client("device-a") as c:
        assert c.post(f"/v1/subjects/{subject}/enroll", json=body(enrolled)).status_code == 201
    raw = f32(enrolled)
    stored = b""
    for name in ("biometric.db", "biometric.db-wal"):
        out = host.check_output(f"base64 -w0 /var/lib/tlsward-biometric/{name} 2>/dev/null || true")
        stored += base64.b64decode(out)
    assert len(stored) > 4096
    for chunk in (raw[:16], raw[100:116], raw[-16:]):
        assert chunk not in stored
    audit = host.file("/var/log/tlsward-biometric/audit.jsonl").content_string
    assert subject in audit
    assert base64.b64encode(raw).decode()[:16] not in audit
    assert f"{enrolled[0]:.5f}" not in audit


def test_sixth_consecutive_failure_is_delayed(subject):
    enrolled = unit_vector(9)
    with client("device-a") as c:
        c.post(f"/v1/subjects/{subject}/enroll", json=body(enrolled))
        for _ in range(5):
            failed = c.post(f"/v1/subjects/{subject}/verify", json=body(unit_vector(10)))
            assert (failed.status_code, failed.json()["match"]) == (200, False)
        sixth = c.post(f"/v1/subjects/{subject}/verify", json=body(noisy(enrolled, 11)))
        assert sixth.status_code == 429
        assert sixth.json()["error"] == "verification_throttled"
        assert int(sixth.headers["Retry-After"]) >= 29


def test_kill_9_during_enrolment_burst_loses_nothing_acknowledged(host):
    prefix = f"burst-{int(time.time())}"
    acknowledged: list[tuple[str, int]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def burst(worker: int) -> None:
        with client("device-a") as c:
            for index in range(300):  # bounded; the kill ends the burst well before
                if stop.is_set():
                    return
                seed = 1000 * worker + index
                try:
                    response = c.post(f"/v1/subjects/{prefix}-{seed}/enroll", json=body(unit_vector(seed)))
                except httpx.TransportError:
                    continue
                if response.status_code == 201:
                    with lock:
                        acknowledged.append((f"{prefix}-{seed}", seed))

    pid_before = host.check_output("systemctl show -p MainPID --value tlsward-biometric.service")
    threads = [threading.Thread(target=burst, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(acknowledged) < 30:
        time.sleep(0.02)
    host.run("systemctl kill --signal=KILL tlsward-biometric.service")
    time.sleep(1.5)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert len(acknowledged) >= 30
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not host.service("tlsward-biometric.service").is_running:
        time.sleep(0.5)
    assert host.check_output("systemctl show -p MainPID --value tlsward-biometric.service") != pid_before
    with client("device-a") as c:
        for subject, seed in acknowledged:
            response = c.post(f"/v1/subjects/{subject}/verify", json=body(noisy(unit_vector(seed), seed)))
            assert response.status_code == 200, (subject, response.text)
            assert response.json()["match"] is True


def test_key_rotation_is_resumable_and_guards_retirement(host, subject):
    enrolled = unit_vector(12)
    with client("device-a") as c:
        assert c.post(f"/v1/subjects/{subject}/enroll", json=body(enrolled)).status_code == 201
    with client("operator-1") as op:
        first = op.post("/v1/admin/keys/rotate", json={"target_key_id": "k2", "max_records": 1}).json()
        assert first["reencrypted"] == 1
        rest = op.post("/v1/admin/keys/rotate", json={"target_key_id": "k2"}).json()
        assert rest["remaining"] == 0
        assert set(rest["key_usage"]) == {"k2"}
        with client("device-a") as c:  # records sealed under k2 still verify
            assert (
                c.post(f"/v1/subjects/{subject}/verify", json=body(noisy(enrolled, 13))).json()["match"]
                is True
            )
        refused = op.post("/v1/admin/keys/k1/retire")
        assert (refused.status_code, refused.json()["error"]) == (409, "key_in_use")  # k1 is the active key
        back = op.post("/v1/admin/keys/rotate").json()  # to the active key, k1
        assert set(back["key_usage"]) == {"k1"}
    cli = (
        "runuser -u tlsward-biometric -- /opt/tlsward-biometric/venv/bin/tlsward-biometric "
        "--env-file /etc/tlsward-biometric/service.env keys"
    )
    status = json.loads(host.check_output(cli))
    assert status["active_key_id"] == "k1"
    assert set(status["usage"]) == {"k1"}
    events = host.file("/var/log/tlsward-biometric/audit.jsonl").content_string
    assert '"event":"rotate","key_id":"k2","modality":"face-128","outcome":"reencrypted"' in events
