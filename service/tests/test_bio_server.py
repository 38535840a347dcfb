"""The real server: ``python -m tlsward_biometric serve`` under uvicorn with two workers on a
unix socket. A SIGKILL during a burst of enrolments loses no acknowledged enrolment, the
failed-verification counters are shared by the workers, and a device's failure budget holds
across worker processes (SQLite) and across two servers sharing one PostgreSQL (two nodes)."""

import gc
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import warnings

import httpx
import pytest
from bio_helpers import float_list_body, noisy, unit_vector


class Server:
    def __init__(self, tmp_path, key_dir, certs, **settings):
        tmp_path.mkdir(exist_ok=True)
        self.socket = tmp_path / "api.sock"
        self.env = {
            **os.environ,
            "TLSWARD_BIO_SOCKET_PATH": str(self.socket),
            "TLSWARD_BIO_DATABASE_PATH": str(tmp_path / "biometric.db"),
            "TLSWARD_BIO_KEY_DIR": str(key_dir),
            "TLSWARD_BIO_AUDIT_LOG_PATH": str(tmp_path / "audit.jsonl"),
            "TLSWARD_BIO_WORKERS": "2",
            "TLSWARD_BIO_LOG_LEVEL": "warning",
            **{f"TLSWARD_BIO_{name.upper()}": str(value) for name, value in settings.items()},
        }
        self.log = tmp_path / "server.log"
        self.proc = None
        self.headers = certs.device_a.headers()

    def start(self):
        # a socket file left by a killed server is stale (kill() waited for every process)
        self.socket.unlink(missing_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tlsward_biometric", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                try:
                    probe.connect(str(self.socket))
                except OSError:
                    time.sleep(0.1)
                    continue
            try:
                with self.client() as client:
                    if client.get("/readyz").status_code == 200:
                        return
            except httpx.TransportError as exc:
                raise AssertionError(f"server failed: {exc}: {self.log.read_text()}") from None
        raise AssertionError(f"server did not start: {self.log.read_text()}")

    def client(self):
        return httpx.Client(
            transport=httpx.HTTPTransport(uds=str(self.socket)), base_url="http://bio", timeout=10
        )

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)  # the uvicorn supervisor and its workers
        self.proc.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # until the workers have exited and been reaped
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        raise AssertionError("server processes survived SIGKILL")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def server(tmp_path, key_dir, certs):
    srv = Server(tmp_path, key_dir, certs)
    srv.start()
    yield srv
    srv.stop()


def test_kill_during_enrolment_burst_loses_nothing_acknowledged(server):
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def burst(worker: int):
        with server.client() as client:
            for index in range(400):  # bounded; the kill ends it much earlier
                if stop.is_set():
                    return
                subject = f"w{worker}-{index}"
                try:
                    response = client.post(
                        f"/v1/subjects/{subject}/enroll",
                        json=float_list_body(unit_vector(128, index)),
                        headers=server.headers,
                    )
                except httpx.TransportError:
                    return
                if response.status_code == 201:
                    with lock:
                        acknowledged.append(subject)

    # The HTTP client can drop a connection the SIGKILL broke mid-request without closing its
    # socket (the client library's error path, not the service). Only for this phase, whose
    # threads end inside it, that ResourceWarning is not an error.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        threads = [threading.Thread(target=burst, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(acknowledged) < 40:
            time.sleep(0.01)
        server.kill()
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
        gc.collect()
    assert len(acknowledged) >= 40
    server.start()
    with server.client() as client:
        for subject in acknowledged:
            index = int(subject.split("-")[1])
            response = client.post(
                f"/v1/subjects/{subject}/verify",
                json=float_list_body(noisy(unit_vector(128, index), 0.01, 1)),
                headers=server.headers,
            )
            assert response.status_code == 200, (subject, response.text)
            assert response.json()["match"] is True


def test_counters_are_shared_by_workers_and_socket_is_private(server):
    assert stat.S_IMODE(server.socket.stat().st_mode) == 0o660
    enrolled = unit_vector(128, 5)
    other = unit_vector(128, 6)
    with server.client() as client:
        post = client.post
        assert (
            post("/v1/subjects/x/enroll", json=float_list_body(enrolled), headers=server.headers).status_code
            == 201
        )
        statuses = []
        for _ in range(6):  # new connections: spread over both workers
            with server.client() as fresh:
                statuses.append(
                    fresh.post(
                        "/v1/subjects/x/verify", json=float_list_body(other), headers=server.headers
                    ).status_code
                )
        assert statuses == [200] * 5 + [429]


def _spend_budget(servers, cert, attempts):
    """Concurrent non-matching probes of distinct subjects, each on a new connection (so they
    spread over the workers and servers); returns the tally of (status, error)."""
    results = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def worker(number):
        start.wait(timeout=30)
        for index in range(attempts // 6):
            with servers[(number + index) % len(servers)].client() as client:
                response = client.post(
                    f"/v1/subjects/p{number}-{index}/verify",
                    json=float_list_body(unit_vector(128, 1000 + index)),
                    headers=cert.headers(),
                )
            with lock:
                results.append((response.status_code, response.json().get("error")))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    tally = {}
    for result in results:
        tally[result] = tally.get(result, 0) + 1
    return tally


def test_device_budget_holds_across_worker_processes(tmp_path, key_dir, certs):
    srv = Server(tmp_path / "node", key_dir, certs, device_failure_budget=6)
    srv.start()
    try:
        assert _spend_budget([srv], certs.device_b, 36) == {(200, None): 6, (429, "device_throttled"): 30}
        with srv.client() as client:  # another device still has its whole budget
            other = client.post(
                "/v1/subjects/p0-0/verify",
                json=float_list_body(unit_vector(128, 5)),
                headers=certs.verifier_2.headers(),
            )
        assert (other.status_code, other.json()["match"]) == (200, False)
    finally:
        srv.stop()


def test_device_budget_holds_across_nodes_sharing_postgresql(tmp_path, key_dir, certs, pg_dsn):
    nodes = [
        Server(tmp_path / f"node{n}", key_dir, certs, device_failure_budget=6, database_dsn=pg_dsn)
        for n in range(2)
    ]
    for node in nodes:
        node.start()
    try:
        for node in nodes:
            with node.client() as client:
                assert client.get("/readyz").json()["store"] == "postgresql"
        assert _spend_budget(nodes, certs.device_b, 36) == {(200, None): 6, (429, "device_throttled"): 30}
    finally:
        for node in nodes:
            node.stop()
