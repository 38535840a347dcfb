#!/usr/bin/python
"""Ansible module device_handshake_time: TLS handshake timing from this host (openssl s_time)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: device_handshake_time
short_description: Time TLS 1.3 handshakes from this host to an endpoint with openssl s_time
description:
  - Runs C(openssl s_time) from the host it runs on (a device, or a device-like client) against
    one endpoint for a bounded time, with new handshakes (C(-new)) or resumed ones (C(-reuse)),
    optionally presenting a device certificate (mTLS).
  - Returns handshakes per second of wall time and per second of this host's CPU (the device's
    cost of one handshake).
  - Read-only; supports check mode.
options:
  host:
    description: Address of the endpoint.
    type: str
    required: true
  port:
    description: TLS port.
    type: int
    default: 443
  mode:
    description: C(new) full handshakes, or C(reuse) resumed ones.
    type: str
    choices: [new, reuse]
    default: new
  seconds:
    description: Seconds to run (bounds the run; openssl s_time -time).
    type: int
    default: 3
  ciphersuites:
    description: TLS 1.3 suites to offer, in order (default OpenSSL's).
    type: str
  ca_file:
    description: Trust anchors for the server certificate (verification on when given).
    type: path
  client_cert:
    description: Device certificate (PEM) for mTLS endpoints.
    type: path
  client_key:
    description: Key of I(client_cert).
    type: path
  www:
    description: Page to fetch on each connection.
    type: str
    default: /
  openssl:
    description: The openssl binary.
    type: str
    default: openssl
author:
  - tlsward maintainers (@tlsward)
"""

EXAMPLES = r"""
- name: Time full mTLS handshakes against the endpoint
  device_handshake_time:
    host: 127.0.1.2
    port: 443
    client_cert: /etc/device/cert.pem
    client_key: /etc/device/key.pem
  register: handshake
"""

RETURN = r"""
connections:
  description: Handshakes completed.
  type: int
  returned: always
per_second:
  description: Handshakes per second of wall time.
  type: float
  returned: always
per_cpu_second:
  description: Handshakes per second of this host's CPU time (openssl s_time "connections/user sec").
  type: float
  returned: always
"""

import re
from typing import Any

from ansible.module_utils.basic import AnsibleModule

_CPU = re.compile(r"(\d+) connections in ([\d.]+)s; ([\d.]+) connections/user sec")
_WALL = re.compile(r"(\d+) connections in (\d+) real seconds")


def parse(text: str) -> dict[str, Any]:
    """The connection statistics openssl s_time prints at the end of its run."""
    cpu = _CPU.search(text)
    wall = _WALL.search(text)
    if not cpu or not wall:
        raise ValueError("openssl s_time printed no connection statistics")
    connections = int(wall.group(1))
    seconds = max(int(wall.group(2)), 1)
    return {
        "connections": connections,
        "per_second": connections / seconds,
        "per_cpu_second": float(cpu.group(3)),
        "cpu_seconds": float(cpu.group(2)),
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "host": {"type": "str", "required": True},
            "port": {"type": "int", "default": 443},
            "mode": {"type": "str", "choices": ["new", "reuse"], "default": "new"},
            "seconds": {"type": "int", "default": 3},
            "ciphersuites": {"type": "str"},
            "ca_file": {"type": "path"},
            "client_cert": {"type": "path"},
            "client_key": {"type": "path"},
            "www": {"type": "str", "default": "/"},
            "openssl": {"type": "str", "default": "openssl"},
        },
        required_together=[("client_cert", "client_key")],
        supports_check_mode=True,
    )
    p: dict[str, Any] = module.params
    if not 1 <= p["seconds"] <= 60:
        module.fail_json(msg=f"device_handshake_time: seconds={p['seconds']}: must be 1..60")
    openssl = module.get_bin_path(p["openssl"], required=True)
    argv = [openssl, "s_time", "-connect", f"{p['host']}:{p['port']}", f"-{p['mode']}", "-tls1_3"]
    argv += ["-time", str(p["seconds"]), "-www", p["www"]]
    if p["ciphersuites"]:
        argv += ["-ciphersuites", p["ciphersuites"]]
    if p["ca_file"]:
        argv += ["-CAfile", p["ca_file"], "-verify", "2"]
    if p["client_cert"]:
        argv += ["-cert", p["client_cert"], "-key", p["client_key"]]
    rc, out, err = module.run_command(argv)
    if rc != 0:
        module.fail_json(msg=f"device_handshake_time: {' '.join(argv)} exited {rc}", stdout=out, stderr=err)
    try:
        result = parse(out)
    except ValueError as exc:
        module.fail_json(msg=f"device_handshake_time: {p['host']}:{p['port']}: {exc}", stdout=out, stderr=err)
    if result["connections"] == 0:
        module.fail_json(
            msg=f"device_handshake_time: no handshake completed with {p['host']}:{p['port']}",
            stdout=out,
            stderr=err,
        )
    module.exit_json(changed=False, mode=p["mode"], endpoint=f"{p['host']}:{p['port']}", **result)


if __name__ == "__main__":
    main()
