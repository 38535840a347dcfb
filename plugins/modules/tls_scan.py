#!/usr/bin/python
"""Ansible module tls_scan: a thin wrapper over tlsward.scan (sslyze + the policy judge)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: tls_scan
short_description: Scan live TLS endpoints with sslyze and judge them against a tlsward policy profile
description:
  - Scans one endpoint (I(host)) or many at once (I(endpoints), scanned concurrently by sslyze's
    concurrent scanner) and judges every result against the same policy profile the templates render.
  - Returns C(compliant) and C(findings), one finding per check run, passed ones included, with a
    stable C(id) (documented in docs/compliance.md), C(passed), C(status), C(severity), C(message)
    and C(evidence).
  - Runs on the controller with the tlsward virtualenv's python (it imports C(tlsward.scan) and
    sslyze); for C(localhost) set C(ansible_python_interpreter) to that python, for example
    C("{{ ansible_playbook_python }}").
  - Read-only (never changes anything); supports check mode.
options:
  host:
    description: Address or name to connect to. Required unless I(endpoints) is given.
    type: str
  port:
    description: TLS port.
    type: int
    default: 443
  server_name:
    description: SNI and the name the certificate must be valid for; defaults to I(host).
    type: str
  name:
    description: Label of the endpoint in results and reports (inventory host name).
    type: str
  policy:
    description:
      - Profile name, profile file path or profile mapping.
      - Defaults to the collection's default profile (C(tlsward.policy.DEFAULT_POLICY), biometric-strict).
    type: raw
  environment:
    description: C(production) forbids wildcard certificates (per the profile).
    type: str
    default: production
  overrides:
    description:
      - Validated inventory overrides (protocols, tls12_ciphers, tls13_ciphersuites, groups)
        the endpoint was rendered with.
    type: dict
  ca_file:
    description: PEM trust anchors for the server chain; without it sslyze's bundled stores decide trust.
    type: path
  client_cert:
    description: PEM client certificate chain of a valid device (mTLS checks and scanning an mTLS endpoint).
    type: path
  client_key:
    description: Private key of I(client_cert).
    type: path
  revoked_client_cert:
    description:
      - A revoked device's certificate; the endpoint must refuse it.
      - Without it the check is reported as not applicable.
    type: path
  revoked_client_key:
    description: Private key of I(revoked_client_cert).
    type: path
  unknown_ca_client_cert:
    description: A certificate from a CA the endpoint must not trust; generated on the fly when omitted.
    type: path
  unknown_ca_client_key:
    description: Private key of I(unknown_ca_client_cert).
    type: path
  expect_http_path:
    description: Path requested by the HTTP probes (Server header, client-certificate enforcement).
    type: str
    default: /
  resumption_peers:
    description:
      - Other listeners and server names of the same service. A session obtained on one of them must
        not open this endpoint without the endpoint verifying the client itself
        (C(session.cross_listener_resumption), nginx CVE-2025-23419).
      - Each item takes C(host), C(port) and C(server_name), each defaulting to the endpoint's own
        (an item with only C(server_name) is another name on the same address and port). A name no
        server is configured for is always tried as well; at most 8 peers are probed.
      - C(tls_compliance_endpoints) fills it with the host's other server names and the other front
        ends of the same environment.
    type: list
    elements: dict
  timeout:
    description: Network timeout in seconds per connection.
    type: int
    default: 5
  openssl_version:
    description:
      - The endpoint's OpenSSL version (C(3.5.1) or the C(openssl version) line), when known; the
        compliance role passes each host's gathered C(openssl version).
      - C(kex.groups) and C(kex.pq_hybrid) are judged against it; without it a missing hybrid
        post-quantum group is reported, not failed.
    type: str
  min_days_left:
    description:
      - Certificate expiry warning window in days.
      - Defaults to the profile's C(certificate.min_days_left).
    type: int
  fail_severity:
    description:
      - C(compliant) is false when a finding at or above this severity fails.
      - A severity of tlsward's scale, C(tlsward.severities.SEVERITIES) (from info, the lowest, to
        critical).
      - Defaults to the collection's threshold (C(tlsward.defaults.DEFAULT_FAIL_SEVERITY), high), the
        one C(tls_compliance_report) and the compliance role use.
    type: str
  endpoints:
    description:
      - Scan many endpoints concurrently; each item takes the endpoint options above (host, port, server_name,
        name, policy, environment, overrides, ca_file, client_cert, ...). Values not set in an item are taken
        from the module's own options.
    type: list
    elements: dict
  concurrency:
    description: How many endpoints sslyze scans at the same time.
    type: int
    default: 20
  record_dir:
    description:
      - Directory to write the raw scan records to (sslyze JSON + probes), one file per endpoint, as evidence.
    type: path
author:
  - tlsward maintainers (@tlsward)
"""

EXAMPLES = r"""
- name: Scan one endpoint ad hoc
  # ad hoc: ansible localhost -m tls_scan -a "host=127.0.1.2 port=443 policy=biometric-strict"
  tls_scan:
    host: 127.0.1.2
    server_name: bio.demo.test
    policy: biometric-strict
    ca_file: pki/server-ca.pem
    client_cert: pki/device.pem
    client_key: pki/device.key
  register: scan

- name: Scan the fleet concurrently
  tls_scan:
    ca_file: pki/server-ca.pem
    endpoints:
      - {name: web1, host: 127.0.1.10, server_name: bio1.example.test}
      - {name: web2, host: 127.0.1.11, server_name: bio2.example.test}
"""

RETURN = r"""
compliant:
  description: No finding at or above I(fail_severity) failed (all endpoints, with I(endpoints)).
  returned: always
  type: bool
findings:
  description: Every check run for the single endpoint, passed ones included.
  returned: when I(host) is used
  type: list
  elements: dict
  sample:
    - {id: protocol.tls1_0, passed: true, status: pass, severity: high, message: refused, evidence: {}}
results:
  description:
    - One result per endpoint (name, host, port, compliant, worst_failed_severity, findings, certificates).
  returned: always
  type: list
  elements: dict
"""

import json
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.validation import check_type_path

ENDPOINT_KEYS = (
    "host",
    "port",
    "server_name",
    "name",
    "policy",
    "environment",
    "overrides",
    "ca_file",
    "client_cert",
    "client_key",
    "revoked_client_cert",
    "revoked_client_key",
    "unknown_ca_client_cert",
    "unknown_ca_client_key",
    "resumption_peers",
    "expect_http_path",
    "timeout",
    "openssl_version",
)


def _identity(values: dict[str, Any], prefix: str, problems: list[str], label: str) -> Any:
    from tlsward.scan import Identity  # noqa: PLC0415 - imported after the interpreter check

    cert, key = values.get(f"{prefix}_cert"), values.get(f"{prefix}_key")
    if not cert and not key:
        return None
    if not cert or not key:
        problems.append(f"{label}: {prefix}_cert and {prefix}_key go together")
        return None
    # the endpoints' paths get the conversion of type=path options (~ and $VARS expanded)
    return Identity(Path(check_type_path(cert)), Path(check_type_path(key)))


def _peers(values: dict[str, Any], problems: list[str], label: str) -> tuple[Any, ...]:
    from tlsward.scan.model import Listener  # noqa: PLC0415 - imported after the interpreter check

    peers = []
    for index, item in enumerate(values.get("resumption_peers") or []):
        where = f"{label}: resumption_peers[{index}]"
        if not isinstance(item, dict) or set(item) - {"host", "port", "server_name"}:
            problems.append(f"{where}: a mapping of host, port and server_name")
            continue
        try:
            port = int(item["port"]) if item.get("port") is not None else None
        except (TypeError, ValueError):
            problems.append(f"{where}: port {item.get('port')!r} is not a number")
            continue
        peers.append(
            Listener(
                host=str(item["host"]) if item.get("host") else None,
                port=port,
                server_name=str(item["server_name"]) if item.get("server_name") else None,
            )
        )
    return tuple(peers)


def _target(values: dict[str, Any], problems: list[str]) -> Any:
    from tlsward.policy import DEFAULT_POLICY  # noqa: PLC0415
    from tlsward.scan import Target  # noqa: PLC0415

    label = str(values.get("name") or values.get("host") or "<endpoint>")
    unknown = sorted(set(values) - set(ENDPOINT_KEYS))
    if unknown:
        problems.append(f"{label}: unknown endpoint option(s) {unknown}")
    if not values.get("host"):
        problems.append(f"{label}: host is required")
        return None
    try:
        port = int(values.get("port") or 443)
    except (TypeError, ValueError):
        problems.append(f"{label}: port {values.get('port')!r} is not a number")
        return None
    return Target(
        host=str(values["host"]),
        port=port,
        server_name=values.get("server_name") or None,
        name=values.get("name") or None,
        policy=values.get("policy") or DEFAULT_POLICY,
        environment=str(values.get("environment") or "production"),
        ca_file=Path(check_type_path(values["ca_file"])) if values.get("ca_file") else None,
        client=_identity(values, "client", problems, label),
        revoked_client=_identity(values, "revoked_client", problems, label),
        unknown_ca_client=_identity(values, "unknown_ca_client", problems, label),
        resumption_peers=_peers(values, problems, label),
        http_path=str(values.get("expect_http_path") or "/"),
        overrides=values.get("overrides") or None,
        timeout=float(values.get("timeout") or 5),
        openssl_version=str(values.get("openssl_version") or "").strip() or None,
    )


def main() -> None:
    spec: dict[str, Any] = {
        "host": {"type": "str"},
        "port": {"type": "int", "default": 443},
        "server_name": {"type": "str"},
        "name": {"type": "str"},
        "policy": {"type": "raw"},
        "environment": {"type": "str", "default": "production"},
        "overrides": {"type": "dict"},
        "ca_file": {"type": "path"},
        "client_cert": {"type": "path"},
        "client_key": {"type": "path", "no_log": False},
        "revoked_client_cert": {"type": "path"},
        "revoked_client_key": {"type": "path", "no_log": False},
        "unknown_ca_client_cert": {"type": "path"},
        "unknown_ca_client_key": {"type": "path", "no_log": False},
        "resumption_peers": {"type": "list", "elements": "dict"},
        "expect_http_path": {"type": "str", "default": "/"},
        "timeout": {"type": "int", "default": 5},
        "openssl_version": {"type": "str"},
        "min_days_left": {"type": "int"},
        "fail_severity": {"type": "str"},
        "endpoints": {"type": "list", "elements": "dict"},
        "concurrency": {"type": "int", "default": 20},
        "record_dir": {"type": "path"},
    }
    module = AnsibleModule(
        argument_spec=spec,
        required_one_of=[("host", "endpoints")],
        mutually_exclusive=[("host", "endpoints")],
        supports_check_mode=True,
    )
    try:
        from tlsward.defaults import DEFAULT_FAIL_SEVERITY  # noqa: PLC0415
        from tlsward.errors import TlswardError  # noqa: PLC0415
        from tlsward.scan import SEVERITIES, judge_record, scan, scan_payload  # noqa: PLC0415
    except ImportError as exc:
        module.fail_json(
            msg=f"tls_scan: cannot import tlsward.scan ({exc}); run it on the controller with the tlsward "
            "virtualenv's python (ansible_python_interpreter: '{{ ansible_playbook_python }}')"
        )
        return
    params = module.params
    fail_severity = params["fail_severity"] or DEFAULT_FAIL_SEVERITY
    if fail_severity not in SEVERITIES:
        module.fail_json(
            msg=f"tls_scan: fail_severity {fail_severity!r} is not a severity; one of {', '.join(SEVERITIES)}"
        )
    defaults = {k: params.get(k) for k in ENDPOINT_KEYS if params.get(k) is not None}
    items = params["endpoints"] if params["endpoints"] is not None else [{}]
    problems: list[str] = []
    targets = []
    for item in items:
        values = {**defaults, **{k: v for k, v in item.items() if v is not None}}
        target = _target(values, problems)
        if target is not None:
            targets.append(target)
    if problems:
        module.fail_json(msg="tls_scan: " + "; ".join(problems), problems=problems)
    try:
        records = scan(targets, concurrency=params["concurrency"])
        results = [
            judge_record(r, t, fail_severity=fail_severity, min_days_left=params["min_days_left"])
            for r, t in zip(records, targets, strict=True)
        ]
    except TlswardError as exc:
        module.fail_json(msg=f"tls_scan: {exc}", problems=exc.problems)
        return
    if params["record_dir"]:
        out = Path(params["record_dir"])
        out.mkdir(parents=True, exist_ok=True)
        for record, result in zip(records, results, strict=True):
            safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in result["name"])
            (out / f"{safe}.json").write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
    module.exit_json(changed=False, **scan_payload(results, single=params["endpoints"] is None))


if __name__ == "__main__":
    main()
