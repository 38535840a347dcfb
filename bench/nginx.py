"""Start, measure and stop one nginx (one worker, pinned to the server core).

Debian 12 runs the controller's own nginx; Debian 13 runs the nginx of a
``local/debian13-systemd`` derived image in a container on the host network, pinned with
``--cpuset-cpus``. Either way the worker's CPU seconds are read from the host's ``/proc``.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jinja2

from bench.common import SERVER_CPU, TEMPLATES, BenchError, children, cpu_seconds, run, terminate, wait_for

DISTROS = ("debian12", "debian13")
HOST_DISTRO = "debian12"
BENCH_IMAGE = "local/tlsward-bench-{distro}:latest"
BASE_IMAGE = "local/{distro}-systemd:latest"
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,  # noqa: S701 - renders nginx configuration, not HTML
)


def render(template: str, **values: Any) -> str:
    return _ENV.get_template(template).render(**values)


def docker_available() -> bool:
    try:
        return run(["docker", "info", "--format", "{{.ServerVersion}}"], 30, check=False).returncode == 0
    except (BenchError, FileNotFoundError):
        return False


def ensure_image(distro: str, packages: Sequence[str] = ("nginx", "openssl")) -> str:
    """A local image with nginx installed (and never started by the package), built once."""
    image = BENCH_IMAGE.format(distro=distro)
    if run(["docker", "image", "inspect", image], 30, check=False).returncode == 0:
        return image
    builder = f"tlsward-bench-build-{distro}"
    run(["docker", "rm", "-f", builder], 60, check=False)
    script = (
        "printf '#!/bin/sh\\nexit 101\\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d"
        " && apt-get update -q"
        " && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "
        + " ".join(packages)
        + " && rm -f /etc/nginx/sites-enabled/default /usr/sbin/policy-rc.d && apt-get clean"
    )
    try:
        run(
            [
                "docker",
                "run",
                "--name",
                builder,
                "--network",
                "host",
                BASE_IMAGE.format(distro=distro),
                "sh",
                "-c",
                script,
            ],
            900,
        )
        run(["docker", "commit", builder, image], 300)
    finally:
        run(["docker", "rm", "-f", builder], 60, check=False)
    return image


def tool_version(distro: str, argv: Sequence[str]) -> str:
    if distro == HOST_DISTRO:
        proc = run(argv, 30)
    else:
        proc = run(["docker", "run", "--rm", "--network", "none", ensure_image(distro), *argv], 60)
    return (proc.stdout + proc.stderr).strip().splitlines()[0]


class Nginx:
    """One nginx master + one worker serving a rendered configuration."""

    def __init__(
        self,
        name: str,
        root: Path,
        listen: str,
        *,
        distro: str = HOST_DISTRO,
        wrapper: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.root = root
        self.listen = listen
        self.distro = distro
        self.wrapper = list(wrapper)
        self.proc: subprocess.Popen[bytes] | None = None
        self.container = f"tlsward-bench-{name}" if distro != HOST_DISTRO else ""
        self.master_pid = 0
        self.worker_pid = 0
        self.user = ""  # worker user; empty: nginx's default

    @property
    def conf(self) -> Path:
        return self.root / "nginx.conf"

    def write(self, text: str) -> None:
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        self.conf.write_text(text)

    def _argv(self) -> list[str]:
        return ["nginx", "-p", str(self.root), "-c", str(self.conf), "-g", "daemon off;"]

    def start(self) -> None:
        if self.distro == HOST_DISTRO:
            run([*self.wrapper, "nginx", "-t", "-q", "-p", str(self.root), "-c", str(self.conf)], 30)
            self.proc = subprocess.Popen(
                [*self.wrapper, "taskset", "-c", str(SERVER_CPU), *self._argv()],
                stdout=subprocess.DEVNULL,
                stderr=(self.root / "stderr.log").open("wb"),
            )
            self.master_pid = self.proc.pid
        else:
            image = ensure_image(self.distro)
            run(["docker", "rm", "-f", self.container], 60, check=False)
            mount = f"{self.root.parent}:{self.root.parent}"
            base = ["docker", "run", "--rm", "--network", "host", "-v", mount]
            run(
                [
                    *base,
                    "--name",
                    f"{self.container}-t",
                    image,
                    "nginx",
                    "-t",
                    "-q",
                    "-p",
                    str(self.root),
                    "-c",
                    str(self.conf),
                ],
                60,
            )
            run(
                [
                    *base,
                    "-d",
                    "--name",
                    self.container,
                    "--cpuset-cpus",
                    str(SERVER_CPU),
                    image,
                    *self._argv(),
                ],
                60,
            )
            self.master_pid = int(
                run(["docker", "inspect", "-f", "{{.State.Pid}}", self.container], 30).stdout.strip()
            )
        wait_for(lambda: self._worker() != 0, 20, f"nginx {self.name} worker")
        self.worker_pid = self._worker()
        host, port = self.listen.rsplit(":", 1)
        if not self.wrapper:
            wait_for(lambda: _accepts(host, int(port)), 20, f"nginx {self.name} on {self.listen}")
        else:
            time.sleep(0.5)

    def _worker(self) -> int:
        if self.proc is not None and self.proc.poll() is not None:
            err = (self.root / "error.log").read_text() if (self.root / "error.log").exists() else ""
            raise BenchError(f"nginx {self.name} exited {self.proc.returncode}: {err[-1500:]}")
        try:
            kids = children(self.master_pid)
        except (FileNotFoundError, ProcessLookupError):
            return 0
        return kids[0] if kids else 0

    def cpu(self) -> float:
        return cpu_seconds(self.worker_pid)

    def stop(self) -> None:
        if self.container:
            run(["docker", "rm", "-f", self.container], 60, check=False)
        elif self.proc is not None:
            terminate(self.proc)

    def access_log(self) -> list[list[str]]:
        """The access log's records (the bench format: fields split on spaces)."""
        path = self.root / "access.log"
        if not path.exists():
            return []
        return [line.split() for line in path.read_text().splitlines() if line]

    def flush_logs(self) -> None:
        """Make nginx write out its buffered access log (USR1 reopens the log files)."""
        if self.container:
            run(["docker", "kill", "-s", "USR1", self.container], 30)
        else:
            run(["kill", "-USR1", str(self.master_pid)], 10)
        time.sleep(0.3)


def _accepts(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


@contextlib.contextmanager
def serving(servers: Sequence[Nginx]) -> Iterator[Sequence[Nginx]]:
    started: list[Nginx] = []
    try:
        for server in servers:
            server.start()
            started.append(server)
        yield servers
    finally:
        for server in reversed(started):
            server.stop()
