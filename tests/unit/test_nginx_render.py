"""The nginx_tls templates, rendered with Ansible's own templating for every shipped profile:
each TLS directive is exactly the profile's (through render_nginx) and nothing else creeps in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from tlsward.defaults import MAX_UNIT_EXPOSURE
from tlsward.policy import available_policies, load_policy, render_nginx
from tlsward.scan.hostchecks import judge_drift

ROLE = Path(__file__).resolve().parents[2] / "roles" / "nginx_tls"
TARGETS = {
    "debian12": ("OpenSSL 3.0.17 1 Jul 2025 (Library: OpenSSL 3.0.17 1 Jul 2025)", "1.22.1"),
    "debian13": ("OpenSSL 3.5.1 1 Jul 2025 (Library: OpenSSL 3.5.1 1 Jul 2025)", "1.26.3"),
}
KEYS = ["1795000000.key", "1794900000.key"]


def _render(policy: str, target: str, **extra: Any) -> dict[str, str]:
    openssl, nginx = TARGETS[target]
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables = {
        **{k: v for k, v in defaults.items() if "{{" not in str(v)},
        "ansible_managed": "Ansible managed",
        "nginx_tls_listen_address": "127.0.1.10",
        "nginx_tls_https_port": 443,
        "nginx_tls_http_port": 80,
        "nginx_tls_server_names": ["bio.example.test", "bio2.example.test"],
        "nginx_tls_certificate": "/etc/tlsward/tls/server/fullchain.pem",
        "nginx_tls_certificate_key": "/etc/tlsward/tls/server/privkey.pem",
        "nginx_tls_client_ca": "/etc/tlsward/tls/devices/ca.pem",
        "nginx_tls_client_crl": "/etc/tlsward/tls/devices/crl.pem",
        "nginx_tls_crl_dir": "/var/lib/tlsward/crl",
        "nginx_tls_openssl_version": openssl,
        "nginx_tls_nginx_version": nginx,
        "nginx_tls_profile": load_policy(policy),
        "nginx_tls_render": render_nginx(policy, openssl),
        "nginx_tls_tickets_managed": bool(load_policy(policy)["session"]["tickets"]),
        "nginx_tls_ticket_keys": KEYS,
        "nginx_tls_stapling": False,
        "nginx_tls_unit_max_exposure": MAX_UNIT_EXPOSURE,  # its default is the tls_default filter's
        **extra,
    }
    templar = Templar(loader=DataLoader(), variables=variables)
    out = {}
    for path in (ROLE / "templates").rglob("*.j2"):
        name = str(path.relative_to(ROLE / "templates"))[: -len(".j2")]
        out[name] = templar.template(trust_as_template(path.read_text()))
    return out


def _directives(text: str, name: str) -> list[str]:
    return re.findall(rf"^\s*{re.escape(name)} (.*);$", text, re.M)


CASES = [(p, t) for p in available_policies() for t in TARGETS]


@pytest.mark.parametrize(("policy", "target"), CASES)
def test_tls_directives_are_the_profiles(policy, target):
    files = _render(policy, target)
    https = files["etc/nginx/tlsward/https.conf"]
    values = render_nginx(policy, TARGETS[target][0])
    profile = load_policy(policy)
    assert _directives(https, "ssl_protocols") == [values["ssl_protocols"]]
    assert _directives(https, "ssl_ciphers") == ([values["ssl_ciphers"]] if values["ssl_ciphers"] else [])
    suites = _directives(https, "ssl_conf_command Ciphersuites")
    assert suites == ([values["ciphersuites"]] if "TLSv1.3" in values["ssl_protocols"] else [])
    assert _directives(https, "ssl_ecdh_curve") == [values["ssl_ecdh_curve"]]
    assert _directives(https, "ssl_prefer_server_ciphers") == [values["ssl_prefer_server_ciphers"]]
    assert _directives(https, "ssl_verify_depth") == [str(values["verify_depth"])]
    verify = "on" if profile["mtls"]["required"] else "optional"
    assert _directives(https, "ssl_verify_client") == [verify]
    assert bool(_directives(https, "ssl_conf_command VerifyMode")) == profile["mtls"]["required"]
    hsts = _directives(https, "add_header Strict-Transport-Security")
    assert hsts == ([f'"{values["hsts"]}" always'] if values["hsts"] else [])
    assert _directives(https, "ssl_session_tickets") == ["on" if values["session_tickets"] else "off"]
    ticket_keys = _directives(https, "ssl_session_ticket_key")
    assert ticket_keys == (
        [f"/etc/tlsward/nginx/ticket-keys/{k}" for k in KEYS] if values["session_tickets"] else []
    )
    assert _directives(https, "ssl_early_data") == ["on" if values["early_data"] else "off"]
    assert "ssl_stapling" not in https


@pytest.mark.parametrize(("policy", "target"), CASES)
def test_the_template_writes_the_renderers_table_and_the_drift_check_agrees(policy, target):
    files = _render(policy, target)
    https = files["etc/nginx/tlsward/https.conf"]
    table = render_nginx(policy, TARGETS[target][0])["directives"]
    for item in table:
        written = _directives(https, item["directive"])
        assert written == ([] if item["value"] is None else [item["value"]]), item
    # What the role writes is what the compliance drift check expects: no drift, every directive.
    # nginx -T prints each file after a comment line naming it, included files after the includer.
    dump = "\n".join(
        f"# configuration file /{name}:\n{text}"
        for name, text in sorted(files.items())
        if name.startswith("etc/nginx/")
    )
    [finding] = judge_drift({"rc": 0, "stdout": dump, "stderr": ""}, policy, TARGETS[target][0])
    assert finding.status == "pass", finding.evidence
    assert finding.evidence["servers"] == 1


@pytest.mark.parametrize("target", TARGETS)
def test_listeners_bind_only_the_given_address(target):
    files = _render("biometric-strict", target)
    listens = [line for text in files.values() for line in _directives(text, "listen")]
    assert len(listens) == 2
    assert all(line.startswith("127.0.1.10:") for line in listens)
    assert not any("0.0.0.0" in text or "[::]" in text for text in files.values())
    http2 = _directives(files["etc/nginx/tlsward/https.conf"], "http2")
    assert http2 == (["on"] if target == "debian13" else [])


def test_hybrid_group_only_where_openssl_has_it():
    assert "X25519MLKEM768" not in _render("biometric-strict", "debian12")["etc/nginx/tlsward/https.conf"]
    https13 = _render("biometric-strict", "debian13")["etc/nginx/tlsward/https.conf"]
    assert _directives(https13, "ssl_ecdh_curve")[0].startswith("X25519MLKEM768:X25519")


def test_early_data_guard_follows_the_profile():
    strict = _render("biometric-strict", "debian13")
    assert "tlsward_too_early" not in strict["etc/nginx/tlsward/upstream.conf"]
    profile = load_policy("biometric-strict")
    profile["early_data"] = {"allowed": True}
    early = _render(profile, "debian13", nginx_tls_profile=profile, nginx_tls_render=render_nginx(profile))
    assert '"1:1" 1;' in early["etc/nginx/tlsward/upstream.conf"]
    assert "return 425;" in early["etc/nginx/tlsward/https.conf"]
    assert "proxy_set_header Early-Data $ssl_early_data;" in early["etc/nginx/tlsward/https.conf"]


def test_identity_headers_are_always_set_by_nginx():
    https = _render("biometric-strict", "debian12")["etc/nginx/tlsward/https.conf"]
    for header, variable in (
        ("X-Client-Verify", "$ssl_client_verify"),
        ("X-Client-Cert", "$ssl_client_escaped_cert"),
        ("X-Client-Subject", "$ssl_client_s_dn"),
        ("Early-Data", "$ssl_early_data"),
    ):
        assert _directives(https, f"proxy_set_header {header}") == [variable]
    assert "underscores_in_headers off;" in _render("biometric-strict", "debian12")["etc/nginx/nginx.conf"]
