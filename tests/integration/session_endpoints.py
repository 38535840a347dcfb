"""Real nginx layouts for the session checks: several server blocks or listeners per nginx.

Each layout is one nginx master process whose server blocks are the hardened endpoint of
``scan_endpoints`` (its rendered ``server`` block, so every other check passes) with the listen
address, names, session cache, ticket key and locations of the layout:

- ``resumption_shared`` (127.0.2.60): the mTLS listener :8443 and a laxer listener :8444 (client
  certificate optional, no CRL) of the same name share a ticket key file and a session cache zone,
  so a session the revoked device gets on :8444 resumes on :8443 (nginx's CVE-2025-23419 fix
  compares server names, and the name is the same).
- ``resumption_separate`` (127.0.2.61): the same two listeners with their own keys and zones.
- ``resumption_sni`` (127.0.2.62): one listener whose default server (``enroll.scan.test``) asks for
  no client certificate and shares the ticket key with the mTLS server ``bio.scan.test``.
- ``early_guarded`` (127.0.2.63): 0-RTT on, unsafe methods in early data answered 425 (the guard
  the nginx_tls role renders), everything else proxied to a recording upstream with
  ``Early-Data: $ssl_early_data``.
- ``early_unguarded`` (127.0.2.64): 0-RTT on, no guard, the same upstream.

The recording upstream (``Upstream``) listens on 127.0.2.65:8080.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import scan_endpoints as se

from tlsward.scan import Identity, Target
from tlsward.scan.model import Listener

UPSTREAM = ("127.0.2.65", 8080)
ENROLL_NAME = "enroll.scan.test"
LAX_PORT = 8444
# The RFC 8470 guard of the nginx_tls role (roles/nginx_tls/templates/etc/nginx/tlsward/upstream.conf.j2).
GUARD_HTTP = [
    "map $request_method $tlsward_unsafe_method { default 1; GET 0; HEAD 0; OPTIONS 0; }",
    'map "$ssl_early_data:$tlsward_unsafe_method" $tlsward_too_early { default 0; "1:1" 1; }',
]
GUARD_SERVER = ["if ($tlsward_too_early) { return 425; }"]


def proxy(layout: str) -> list[str]:
    """Everything to the recording upstream, which is told the layout and the early-data state."""
    return [
        "location / {",
        f"  proxy_pass http://{UPSTREAM[0]}:{UPSTREAM[1]};",
        "  proxy_set_header Host $host;",
        "  proxy_set_header Early-Data $ssl_early_data;",
        f"  proxy_set_header X-Tlsward-Layout {layout};",
        "}",
    ]


@dataclass
class Layout:
    name: str
    address: str
    # (directory, material, openssl version) -> the http block's server blocks and http-level lines.
    servers: Callable[[Path, se.Pki, str], tuple[list[str], list[str]]]
    peers: tuple[Listener, ...] = ()
    endpoint: se.Endpoint = field(init=False)

    def __post_init__(self) -> None:
        self.endpoint = se.Endpoint(self.name, self.address)


def server_block(
    material: se.Pki,
    version: str,
    *,
    listen: str,
    server_name: str,
    cache: str,
    ticket_key: Path | None,
    overrides: dict[str, Any] | None = None,
    extra: list[str] | None = None,
    locations: list[str] | None = None,
    default: bool = False,
) -> list[str]:
    """The hardened endpoint's rendered ``server`` block, moved to ``listen`` and ``server_name``."""
    ep = se.Endpoint("block", listen.rpartition(":")[0], overrides=overrides or {})
    ep.directory = material.root
    lines = se.render_config(ep, material, version).splitlines()
    start = lines.index("  server {")
    location = lines.index("    location / {")
    replaced = {
        "    listen ": f"    listen {listen} ssl{' default_server' if default else ''};",
        "    server_name ": f"    server_name {server_name};",
        "    ssl_session_cache ": f"    ssl_session_cache {cache};",
    }
    out = [
        next((new for old, new in replaced.items() if line.startswith(old)), line)
        for line in lines[start:location]
    ]
    if ticket_key is not None:
        out.append(f"    ssl_session_ticket_key {ticket_key};")
    out += [f"    {x}" for x in extra or []]
    out += [
        f"    {x}"
        for x in locations or ["location / {", "  default_type text/plain;", '  return 200 "ok\\n";', "}"]
    ]
    return [*out, "  }"]


def _key(directory: Path, stem: str) -> Path:
    path = directory / f"{stem}.key"
    path.write_bytes(os.urandom(80))
    path.chmod(0o600)
    return path


def _two_listeners(
    address: str, *, shared: bool
) -> Callable[[Path, se.Pki, str], tuple[list[str], list[str]]]:
    def servers(directory: Path, material: se.Pki, version: str) -> tuple[list[str], list[str]]:
        strict_key = _key(directory, "strict")
        lax_key = strict_key if shared else _key(directory, "lax")
        strict = server_block(
            material,
            version,
            listen=f"{address}:{se.PORT}",
            server_name=se.SERVER_NAME,
            cache="shared:shared:1m" if shared else "shared:strict:1m",
            ticket_key=strict_key,
        )
        lax = server_block(
            material,
            version,
            listen=f"{address}:{LAX_PORT}",
            server_name=se.SERVER_NAME,
            cache="shared:shared:1m" if shared else "shared:lax:1m",
            ticket_key=lax_key,
            overrides={"ssl_verify_client": "optional", "ssl_crl": False},
        )
        return [*strict, *lax], []

    return servers


def _sni(address: str) -> Callable[[Path, se.Pki, str], tuple[list[str], list[str]]]:
    def servers(directory: Path, material: se.Pki, version: str) -> tuple[list[str], list[str]]:
        key = _key(directory, "listener")
        enroll = server_block(
            material,
            version,
            listen=f"{address}:{se.PORT}",
            server_name=ENROLL_NAME,
            cache="shared:listener:1m",
            ticket_key=key,
            overrides={"ssl_verify_client": "off", "ssl_crl": False},
            default=True,
        )
        # ssl_verify_client off still leaves the directive's value in the block: drop the CA too.
        enroll = [line for line in enroll if not line.startswith("    ssl_client_certificate ")]
        bio = server_block(
            material,
            version,
            listen=f"{address}:{se.PORT}",
            server_name=se.SERVER_NAME,
            cache="shared:listener:1m",
            ticket_key=key,
        )
        return [*enroll, *bio], []

    return servers


def _early(
    name: str, address: str, *, guarded: bool
) -> Callable[[Path, se.Pki, str], tuple[list[str], list[str]]]:
    def servers(directory: Path, material: se.Pki, version: str) -> tuple[list[str], list[str]]:
        block = server_block(
            material,
            version,
            listen=f"{address}:{se.PORT}",
            server_name=se.SERVER_NAME,
            cache="shared:early:1m",
            ticket_key=None,
            overrides={"early_data": True},
            extra=GUARD_SERVER if guarded else [],
            locations=proxy(name),
        )
        return block, GUARD_HTTP if guarded else []

    return servers


def layouts() -> list[Layout]:
    return [
        Layout(
            "resumption_shared",
            "127.0.2.60",
            _two_listeners("127.0.2.60", shared=True),
            peers=(Listener(port=LAX_PORT),),
        ),
        Layout(
            "resumption_separate",
            "127.0.2.61",
            _two_listeners("127.0.2.61", shared=False),
            peers=(Listener(port=LAX_PORT),),
        ),
        Layout(
            "resumption_sni", "127.0.2.62", _sni("127.0.2.62"), peers=(Listener(server_name=ENROLL_NAME),)
        ),
        Layout("early_guarded", "127.0.2.63", _early("early_guarded", "127.0.2.63", guarded=True)),
        Layout("early_unguarded", "127.0.2.64", _early("early_unguarded", "127.0.2.64", guarded=False)),
    ]


def render(layout: Layout, directory: Path, material: se.Pki, version: str) -> str:
    servers, http_lines = layout.servers(directory, material, version)
    ep = se.Endpoint(layout.name, layout.address)
    ep.directory = directory
    head = se.render_config(ep, material, version).splitlines()
    head = head[: head.index("  server {")]
    return "\n".join([*head, *(f"  {line}" for line in http_lines), *servers, "}"]) + "\n"


def target_for(layout: Layout, material: se.Pki) -> Target:
    return Target(
        host=layout.address,
        port=se.PORT,
        server_name=se.SERVER_NAME,
        name=layout.name,
        policy="biometric-strict",
        environment="test",
        ca_file=material.server_ca,
        client=Identity(*material.device),
        revoked_client=Identity(*material.revoked_device),
        unknown_ca_client=Identity(*material.unknown_device),
        resumption_peers=layout.peers,
    )


def start(base: Path, material: se.Pki, chosen: list[Layout]) -> list[Layout]:
    version = se.openssl_version()
    started: list[Layout] = []
    try:
        for layout in chosen:
            directory = base / layout.name
            directory.mkdir(parents=True, exist_ok=True)
            conf = directory / "nginx.conf"
            conf.write_text(render(layout, directory, material, version), encoding="utf-8")
            argv = [se.NGINX, "-p", str(directory), "-e", str(directory / "error.log"), "-c", str(conf)]
            check = subprocess.run([*argv, "-t", "-q"], capture_output=True, text=True, check=False)
            if check.returncode != 0:
                raise RuntimeError(f"nginx -t for {layout.name} failed: {check.stderr}")
            layout.endpoint.directory = directory
            layout.endpoint.process = subprocess.Popen(
                [*argv, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            started.append(layout)
        for layout in started:
            assert layout.endpoint.process is not None
            se._wait_listening(layout.address, se.PORT, layout.endpoint.process)
    except BaseException:
        se.stop_all([layout.endpoint for layout in started])
        raise
    return started


def stop(started: list[Layout]) -> None:
    se.stop_all([layout.endpoint for layout in started])


class Upstream:
    """A recording HTTP upstream on ``UPSTREAM``: every request's layout, method, path and
    Early-Data header."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        seen = self.seen

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(min(length, 65536))
                seen.append(
                    {
                        "layout": self.headers.get("X-Tlsward-Layout"),
                        "method": self.command,
                        "path": self.path,
                        "early_data": self.headers.get("Early-Data"),
                    }
                )
                body = b"ok\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(UPSTREAM, Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def __enter__(self) -> Upstream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
