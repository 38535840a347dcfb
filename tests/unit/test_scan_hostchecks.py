"""Host-side checks: key file modes, nginx drift, unit hardening, template store, inventory endpoints."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from tlsward.errors import TlswardError
from tlsward.policy import render_nginx
from tlsward.scan.hostchecks import (
    judge_drift,
    judge_host,
    judge_key_files,
    judge_template_store,
    judge_units,
    key_files_from,
    parse_nginx,
)
from tlsward.scan.inventory import endpoints_from_hosts

OPENSSL = "OpenSSL 3.0.15 3 Sep 2024"


def nginx_dump(**changes: str | None) -> str:
    """An ``nginx -T``-like dump of a server rendered from the profile, with directives changed."""
    r = render_nginx("biometric-strict", openssl_version=OPENSSL)
    directives = {
        "ssl_protocols": r["ssl_protocols"],
        "ssl_ciphers": r["ssl_ciphers"],
        "ssl_conf_command Ciphersuites": r["ciphersuites"],
        "ssl_ecdh_curve": r["ssl_ecdh_curve"],
        "ssl_conf_command SignatureAlgorithms": r["signature_algorithms"],
        "ssl_prefer_server_ciphers": r["ssl_prefer_server_ciphers"],
        "ssl_session_cache": "shared:tlsward:10m",
        "ssl_session_tickets": "on",
        "ssl_session_timeout": "3600s",
        "ssl_early_data": "off",
        "ssl_verify_client": "on",
        "ssl_conf_command VerifyMode": "Require",
        "ssl_verify_depth": "2",
        "add_header Strict-Transport-Security": f'"{r["hsts"]}" always',
    }
    directives.update(changes)
    body = "\n".join(f"    {k} {v};" for k, v in directives.items() if v is not None)
    # As nginx -T prints it: an included file comes after the file that includes it, so the
    # TLS server block stands outside the http block of the dump.
    return f"""# configuration file /etc/nginx/nginx.conf:
events {{ worker_connections 64; }}
http {{
    server_tokens off;   # no version in headers
    include tlsward/*.conf;
}}

# configuration file /etc/nginx/tlsward/http.conf:
server {{
    listen 127.0.1.2:80;
    location /crl/ {{ root /var/lib/tlsward; }}
}}

# configuration file /etc/nginx/tlsward/https.conf:
server {{
    listen 127.0.1.2:443 ssl http2 default_server;
{body}
    location / {{ return 404; }}
}}
"""


def drift_of(text: str, rc: int = 0, **kwargs: Any) -> Any:
    [finding] = judge_drift({"rc": rc, "stdout": text, "stderr": ""}, "biometric-strict", OPENSSL, **kwargs)
    return finding


def test_deployed_config_equal_to_the_profile_has_no_drift() -> None:
    finding = drift_of(nginx_dump())
    assert finding.status == "pass", finding.evidence
    assert finding.evidence["servers"] == 1


def test_drift_lists_every_changed_directive() -> None:
    finding = drift_of(nginx_dump(ssl_protocols="TLSv1.2", ssl_early_data="on", ssl_session_timeout="1h"))
    assert finding.status == "fail"
    assert [(d["directive"], d["found"]) for d in finding.evidence["drift"]] == [
        ("ssl_protocols", "TLSv1.2"),
        ("ssl_early_data", "on"),
    ]


def test_session_cache_and_verify_mode_are_judged() -> None:
    # The cache's zone name and size are the host's; a shared cache or none is the profile's.
    assert drift_of(nginx_dump(ssl_session_cache="shared:other:50m")).status == "pass"
    changed = {
        "ssl_session_cache": "off",
        "ssl_conf_command VerifyMode": None,
    }
    finding = drift_of(nginx_dump(**changed))
    assert [(d["directive"], d["expected"], d["found"]) for d in finding.evidence["drift"]] == [
        ("ssl_session_cache", "shared:tlsward:10m", "off"),
        ("ssl_conf_command VerifyMode", "Require", None),
    ]
    [missing] = drift_of(nginx_dump(ssl_session_cache=None)).evidence["drift"]
    assert (missing["directive"], missing["found"]) == ("ssl_session_cache", None)


def test_missing_hsts_and_protocol_order_are_judged() -> None:
    finding = drift_of(
        nginx_dump(**{"ssl_protocols": "TLSv1.3 TLSv1.2", "add_header Strict-Transport-Security": None})
    )
    assert [d["directive"] for d in finding.evidence["drift"]] == ["add_header Strict-Transport-Security"]


def test_overrides_are_what_the_host_was_rendered_with() -> None:
    text = nginx_dump(ssl_ciphers="ECDHE-ECDSA-AES256-GCM-SHA384")
    assert drift_of(text).status == "fail"
    assert drift_of(text, overrides={"tls12_ciphers": ["ECDHE-ECDSA-AES256-GCM-SHA384"]}).status == "pass"


def test_nginx_absent_or_broken() -> None:
    [absent] = judge_drift({"rc": 127, "stdout": "", "stderr": ""}, "biometric-strict", OPENSSL)
    assert absent.status == "not_applicable"
    broken = drift_of("", rc=1)
    assert broken.status == "error"
    assert drift_of("http { server { listen 80; } }").status == "not_applicable"


def test_parser_keeps_quoted_values_and_drops_comments() -> None:
    root = parse_nginx('http { add_header X "a; b" always; # comment ; {\n server_tokens off; }')
    [http] = root.children
    assert http.directives == [["add_header", "X", "a; b", "always"], ["server_tokens", "off"]]


@pytest.mark.parametrize(
    ("mode", "owner", "kind", "ok"),
    [
        ("0600", "root", "server_key", True),
        ("0640", "root", "server_key", True),
        ("0644", "root", "server_key", False),
        ("0660", "root", "server_key", False),
        ("0640", "root", "ticket_key", False),
        ("0600", "www-data", "server_key", False),
    ],
)
def test_key_file_modes(mode: str, owner: str, kind: str, ok: bool) -> None:
    [finding] = judge_key_files([{"path": "/k", "exists": True, "mode": mode, "owner": owner, "kind": kind}])
    assert finding.passed is ok


# ``namei -l`` (util-linux 2.38) of the server key as tls_pki deploys it: a symlink into the
# atomic release directory, recorded on a converged Debian 12 host.
RELEASE_WALK = """f: /etc/tlsward/tls/server/privkey.pem
drwxr-xr-x root root /
drwxr-xr-x root root etc
drwxr-xr-x root root tlsward
drwxr-xr-x root root tls
drwxr-xr-x root root server
lrwxrwxrwx root root privkey.pem -> current/privkey.pem
lrwxrwxrwx root root   current -> releases/ce72861f9fedf5d3
drwxr-xr-x root root     releases
drwxr-xr-x root root     ce72861f9fedf5d3
-rw------- root root   privkey.pem
"""
RELEASE_KEY = "/etc/tlsward/tls/server/releases/ce72861f9fedf5d3/privkey.pem"


def key_stat(
    walk: str | None = RELEASE_WALK,
    *,
    mode: str = "0600",
    owner: str = "root",
    exists: bool = True,
    resolved: str = RELEASE_KEY,
    link_target: str = "current/privkey.pem",
    path: str = "/etc/tlsward/tls/server/privkey.pem",
    within: str | None = None,
) -> list[Any]:
    """One ``key_stat`` item as the compliance playbook gathers it for a symlinked key:
    the followed stat, the wanted item, the stat of the path itself and the namei result."""
    wanted: dict[str, Any] = {"path": path, "kind": "server_key"}
    if within:
        wanted["within"] = within
    # The symlink's own stat: mode 0777 is every symlink's, never the key's.
    own = {"exists": True, "islnk": True, "mode": "0777", "lnk_source": resolved, "lnk_target": link_target}
    walked = (
        {"rc": 127, "stdout": "", "stderr": ""} if walk is None else {"rc": 0, "stdout": walk, "stderr": ""}
    )
    return [{"exists": exists, "mode": mode, "pw_name": owner}, wanted, own, walked]


def key_finding(*items: list[Any]) -> Any:
    [finding] = judge_host_key_files(list(items))
    return finding


def judge_host_key_files(items: list[list[Any]]) -> list[Any]:
    return judge_key_files(key_files_from({"key_stat": items}))


def test_symlinked_key_is_judged_by_the_file_it_resolves_to() -> None:
    finding = key_finding(key_stat())
    assert finding.status == "pass", finding.evidence
    [entry] = finding.evidence["files"]
    assert (entry["path"], entry["resolved"], entry["symlink"]) == (
        "/etc/tlsward/tls/server/privkey.pem",
        RELEASE_KEY,
        True,
    )
    assert (entry["mode"], entry["owner"], entry["within"]) == ("0600", "root", "/etc/tlsward/tls/server")
    assert [w["path"] for w in entry["walk"] if w["type"] != "directory"] == [
        "/etc/tlsward/tls/server/privkey.pem",
        "/etc/tlsward/tls/server/current",
        RELEASE_KEY,
    ]


def test_symlinked_key_with_loose_target_names_the_resolved_file() -> None:
    finding = key_finding(key_stat(mode="0644"))
    assert finding.status == "fail"
    assert finding.message == (
        f"/etc/tlsward/tls/server/privkey.pem (resolves to {RELEASE_KEY}): mode 0644 gives access to everyone"
    )


# namei -l (util-linux 2.38) of trees built under /tmp: an absolute symlink out of the key
# directory, a world-writable release directory, a symlink owned by another user in a sticky
# shared directory.
OUTSIDE_WALK = """f: /tmp/tlsward-test/srv/tls/server/abs.pem
drwxr-xr-x root root /
drwxrwxrwt root root tmp
drwxr-xr-x root root tlsward-test
drwxr-xr-x root root srv
drwxr-xr-x root root tls
drwxr-xr-x root root server
lrwxrwxrwx root root abs.pem -> /tmp/tlsward-test/elsewhere/privkey.pem
drwxr-xr-x root root   /
drwxrwxrwt root root   tmp
drwxr-xr-x root root   tlsward-test
drwxr-xr-x root root   elsewhere
-rw------- root root   privkey.pem
"""
WRITABLE_WALK = """f: /tmp/tlsward-test/srv/tls/server/privkey.pem
drwxr-xr-x root root /
drwxrwxrwt root root tmp
drwxr-xr-x root root tlsward-test
drwxr-xr-x root root srv
drwxr-xr-x root root tls
drwxr-xr-x root root server
lrwxrwxrwx root root privkey.pem -> current/privkey.pem
lrwxrwxrwx root root   current -> releases/r1
drwxrwxrwx root root     releases
drwxr-xr-x root root     r1
-rw------- root root   privkey.pem
"""
FOREIGN_LINK_WALK = """f: /tmp/tlsward-test/shared/key.pem
drwxr-xr-x root   root /
drwxrwxrwt root   root tmp
drwxr-xr-x root   root tlsward-test
drwxrwxrwt root   root shared
lrwxrwxrwx nobody root key.pem -> /tmp/tlsward-test/srv/tls/server/releases/r1/privkey.pem
drwxr-xr-x root   root   /
drwxrwxrwt root   root   tmp
drwxr-xr-x root   root   tlsward-test
drwxr-xr-x root   root   srv
drwxr-xr-x root   root   tls
drwxr-xr-x root   root   server
drwxr-xr-x root   root   releases
drwxr-xr-x root   root   r1
-rw------- root   root   privkey.pem
"""


def test_symlink_resolving_outside_its_directory_fails() -> None:
    finding = key_finding(
        key_stat(
            OUTSIDE_WALK,
            path="/tmp/tlsward-test/srv/tls/server/abs.pem",
            resolved="/tmp/tlsward-test/elsewhere/privkey.pem",
            link_target="/tmp/tlsward-test/elsewhere/privkey.pem",
        )
    )
    assert finding.status == "fail"
    assert finding.evidence["problems"] == [
        "/tmp/tlsward-test/srv/tls/server/abs.pem: symlink resolves to "
        "/tmp/tlsward-test/elsewhere/privkey.pem, outside /tmp/tlsward-test/srv/tls/server"
    ]
    # /tmp is world-writable but sticky and root-owned, and what follows it is root's: not a problem.
    allowed = key_finding(
        key_stat(
            OUTSIDE_WALK,
            path="/tmp/tlsward-test/srv/tls/server/abs.pem",
            resolved="/tmp/tlsward-test/elsewhere/privkey.pem",
            within="/tmp/tlsward-test",
        )
    )
    assert allowed.status == "pass", allowed.evidence


def test_directory_on_the_way_writable_by_others_fails() -> None:
    finding = key_finding(
        key_stat(
            WRITABLE_WALK,
            path="/tmp/tlsward-test/srv/tls/server/privkey.pem",
            resolved="/tmp/tlsward-test/srv/tls/server/releases/r1/privkey.pem",
        )
    )
    assert finding.status == "fail"
    assert finding.evidence["problems"] == [
        "/tmp/tlsward-test/srv/tls/server/privkey.pem: directory /tmp/tlsward-test/srv/tls/server/releases "
        "on the way is writable by group and others (drwxrwxrwx)"
    ]


def test_symlink_owned_by_another_user_in_a_sticky_directory_fails() -> None:
    finding = key_finding(
        key_stat(
            FOREIGN_LINK_WALK,
            path="/tmp/tlsward-test/shared/key.pem",
            resolved="/tmp/tlsward-test/srv/tls/server/releases/r1/privkey.pem",
            within="/tmp/tlsward-test",
        )
    )
    assert finding.status == "fail"
    assert finding.evidence["problems"] == [
        "/tmp/tlsward-test/shared/key.pem: /tmp/tlsward-test/shared/key.pem is owned by nobody "
        "inside a sticky shared directory"
    ]


def test_symlinked_key_without_a_walk_is_undecided() -> None:
    finding = key_finding(key_stat(None))
    assert (finding.status, finding.passed) == ("error", False)
    assert "not listed" in finding.message


def test_dangling_symlink_fails() -> None:
    finding = key_finding(key_stat(exists=False, mode="0"))
    assert finding.status == "fail"
    assert "resolves to no file" in finding.message


def test_regular_key_file_in_a_writable_directory_fails() -> None:
    walk = """f: /etc/tlsward/tls/server/privkey.pem
drwxr-xr-x root root /
drwxr-xr-x root root etc
drwxr-xr-x root root tlsward
drwxr-xr-x root root tls
drwxrwxr-x root adm  server
-rw------- root root privkey.pem
"""
    item = key_stat(walk, resolved="/etc/tlsward/tls/server/privkey.pem")
    item[2] = {"exists": True, "islnk": False, "mode": "0600"}
    finding = key_finding(item)
    assert finding.status == "fail"
    assert finding.evidence["problems"] == [
        "/etc/tlsward/tls/server/privkey.pem: directory /etc/tlsward/tls/server on the way is "
        "writable by group (drwxrwxr-x)"
    ]
    assert finding.evidence["files"][0]["symlink"] is False


def test_no_key_file_is_not_applicable() -> None:
    [finding] = judge_key_files([{"path": "/etc/tlsward/tls/server/privkey.pem", "exists": False}])
    assert finding.status == "not_applicable"


def _security(unit: Path) -> dict[str, Any]:
    """Real ``systemd-analyze security --offline`` output for a unit file."""
    tool = shutil.which("systemd-analyze")
    assert tool, "systemd-analyze (systemd) is part of every Debian system"
    result = subprocess.run(
        [tool, "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    return {"unit": unit.name, "rc": result.returncode, "stdout": result.stdout, "stderr": result.stderr}


def test_unit_hardening_from_real_systemd_analyze(tmp_path: Path) -> None:
    loose = tmp_path / "tlsward-loose.service"
    loose.write_text("[Service]\nExecStart=/bin/true\n", encoding="utf-8")
    tight = tmp_path / "tlsward-tight.service"
    tight.write_text(
        "[Service]\nExecStart=/bin/true\nDynamicUser=yes\nProtectSystem=strict\nProtectHome=yes\n"
        "PrivateDevices=yes\nPrivateNetwork=yes\nPrivateUsers=yes\nProtectKernelTunables=yes\n"
        "ProtectKernelModules=yes\nProtectKernelLogs=yes\nProtectControlGroups=yes\nProtectClock=yes\n"
        "ProtectHostname=yes\nProtectProc=invisible\nProcSubset=pid\nNoNewPrivileges=yes\n"
        "CapabilityBoundingSet=\nRestrictAddressFamilies=AF_UNIX\nRestrictNamespaces=yes\n"
        "RestrictRealtime=yes\nRestrictSUIDSGID=yes\nLockPersonality=yes\nMemoryDenyWriteExecute=yes\n"
        "SystemCallArchitectures=native\nSystemCallFilter=@system-service\nSystemCallFilter=~@privileged\n"
        "IPAddressDeny=any\nUMask=0077\nDevicePolicy=closed\nKeyringMode=private\nRemoveIPC=yes\n",
        encoding="utf-8",
    )
    loose_f, tight_f = judge_units([_security(loose), _security(tight)], max_exposure=5.0)
    assert loose_f.id == "host.unit_hardening.tlsward-loose"
    assert (loose_f.status, tight_f.status) == ("fail", "pass"), (loose_f.message, tight_f.message)
    assert loose_f.evidence["exposure"] > 9 > 5 > tight_f.evidence["exposure"]


def test_missing_unit_and_missing_tool_are_not_applicable() -> None:
    missing, no_tool = judge_units(
        [
            {"unit": "x.service", "rc": 0, "stdout": "unit x.service not found", "stderr": ""},
            {"unit": "y.service", "rc": 127, "stdout": "", "stderr": ""},
        ],
        5.0,
    )
    assert (missing.status, no_tool.status) == ("not_applicable", "not_applicable")


def key_status(**changes: Any) -> dict[str, Any]:
    status = {"active_key_id": "k2", "loaded": ["k1", "k2"], "retired": [], "usage": {"k1": 3, "k2": 10}}
    status.update(changes)
    return {"rc": 0, "stdout": json.dumps(status), "stderr": ""}


def test_template_store_sealed_under_known_keys() -> None:
    [ok] = judge_template_store(key_status())
    assert (ok.status, ok.evidence["records"]) == ("pass", 13)
    [bad] = judge_template_store(key_status(usage={"k2": 1, "lost-key": 4}))
    assert bad.status == "fail"
    assert "lost-key" in bad.message
    [absent] = judge_template_store({"rc": 127, "stdout": "", "stderr": ""})
    assert absent.status == "not_applicable"
    [broken] = judge_template_store({"rc": 0, "stdout": "not json", "stderr": ""})
    assert broken.status == "error"


def test_judge_host_reads_the_playbook_raw_results() -> None:
    facts = {
        "policy": "biometric-strict",
        "overrides": {"protocols": None, "tls12_ciphers": None, "tls13_ciphersuites": None, "groups": None},
        "key_stat": [
            [{"exists": True, "mode": "0600", "pw_name": "root"}, {"path": "/k", "kind": "server_key"}]
        ],
        "ticket_keys": [{"path": "/t/1.key", "mode": "0644", "pw_name": "root"}],
        "nginx": {"rc": "0", "stdout": nginx_dump(), "stderr": ""},
        "openssl_version": OPENSSL,
        "units": [["nginx.service", {"rc": 0, "stdout": "unit nginx.service not found", "stderr": ""}]],
        "template_store": {"rc": "127", "stdout": "", "stderr": ""},
    }
    got = {f.id: f.status for f in judge_host(facts, "biometric-strict")}
    assert got == {
        "host.key_files": "fail",
        "host.drift": "pass",
        "host.unit_hardening.nginx": "not_applicable",
        "host.template_store": "not_applicable",
    }


def test_endpoints_from_inventory_hosts() -> None:
    hosts = [
        {
            "inventory_hostname": "fe1",
            "tlsward_listen_address": "127.0.1.10",
            "tlsward_server_names": ["bio.example.test", "alt.example.test"],
            "tlsward_environment": "staging",
            "tlsward_tls12_ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256",
        },
        {"inventory_hostname": "runner"},
    ]
    assert endpoints_from_hosts(hosts) == [
        {
            "name": "fe1",
            "host": "127.0.1.10",
            "port": 443,
            "server_name": "bio.example.test",
            "policy": "biometric-strict",
            "environment": "staging",
            "overrides": {"tls12_ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256"},
            "resumption_peers": [{"server_name": "alt.example.test"}],
            "openssl_version": None,
        }
    ]


def test_bad_inventory_names_every_problem() -> None:
    hosts = [
        {"inventory_hostname": "a", "tlsward_listen_address": "127.0.1.10", "tlsward_server_names": "x.test"},
        {"inventory_hostname": "b", "tlsward_listen_address": "127.0.1.11", "tlsward_https_port": "https"},
    ]
    with pytest.raises(TlswardError) as err:
        endpoints_from_hosts(hosts)
    assert len(err.value.problems) == 2
    assert "a: tlsward_server_names" in err.value.problems[0]
    assert "b: tlsward_https_port" in err.value.problems[1]


def test_filter_wraps_errors() -> None:
    plugin = Path(__file__).resolve().parents[2] / "plugins" / "filter" / "tls_compliance_endpoints.py"
    spec = importlib.util.spec_from_file_location("tlsward_test_tls_compliance", plugin)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tls_compliance_endpoints = module.FilterModule().filters()["tls_compliance_endpoints"]
    with pytest.raises(AnsibleFilterError, match=r"tls_compliance_endpoints: .*a: tlsward_server_names"):
        tls_compliance_endpoints(
            [{"inventory_hostname": "a", "tlsward_listen_address": "1", "tlsward_server_names": []}]
        )
    with pytest.raises(AnsibleFilterError, match="must be a list"):
        tls_compliance_endpoints("frontends")
