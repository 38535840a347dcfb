"""The Ansible filter plugins are thin: same results, TlswardError turned into AnsibleFilterError."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

PLUGINS = Path(__file__).resolve().parents[2] / "plugins" / "filter"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"tlsward_test_{name}", PLUGINS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FilterModule().filters()


def _documentation(path: Path) -> dict:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)  # type: ignore[attr-defined]
    raise AssertionError(f"{path.name} has no DOCUMENTATION")


def test_one_filter_per_file_named_after_it_with_its_documentation() -> None:
    files = sorted(PLUGINS.glob("*.py"))
    assert len(files) >= 14
    for path in files:
        assert list(load(path.stem)) == [path.stem], f"{path.name} must hold exactly the filter {path.stem}"
        assert _documentation(path)["name"] == path.stem
        text = path.read_text()
        assert 'EXAMPLES = r"""' in text, path.name
        assert 'RETURN = r"""' in text, path.name


def test_every_filter_name_the_issue_promises_is_registered() -> None:
    names = {}
    for path in PLUGINS.glob("*.py"):
        names.update(load(path.stem))
    assert {
        "validate_cipher_list",
        "validate_tls13_ciphersuites",
        "validate_tls_protocols",
        "validate_groups",
        "validate_cert_chain",
        "spki_pin",
    } <= set(names)


def test_cipher_filter_error_names_filter_item_and_rule() -> None:
    validate_cipher_list = load("validate_cipher_list")["validate_cipher_list"]
    assert validate_cipher_list("ECDHE-ECDSA-AES128-GCM-SHA256") == ["ECDHE-ECDSA-AES128-GCM-SHA256"]
    with pytest.raises(AnsibleFilterError) as info:
        validate_cipher_list("ECDHE-RSA-AES128-SHA", policy="biometric-strict")
    prefix = "validate_cipher_list: ECDHE-RSA-AES128-SHA: "
    assert str(info.value).splitlines() == [
        prefix + "CBC mode (not AEAD) is not allowed by policy biometric-strict",
        prefix + "not one of the TLS 1.2 suites allowed by policy biometric-strict",
    ]


def test_other_filters_raise_ansible_errors(pki) -> None:
    root, inter, leaf = pki
    with pytest.raises(AnsibleFilterError, match=r"^validate_tls_protocols: TLSv1: TLS 1.0 is obsolete"):
        load("validate_tls_protocols")["validate_tls_protocols"](["TLSv1", "TLSv1.3"])
    with pytest.raises(AnsibleFilterError, match=r"^validate_groups: "):
        load("validate_groups")["validate_groups"]("X25519", policy="nist-sp800-52r2")
    with pytest.raises(AnsibleFilterError, match=r"^validate_tls13_ciphersuites: "):
        load("validate_tls13_ciphersuites")["validate_tls13_ciphersuites"]("TLS_NOPE")
    chain = {**load("validate_cert_chain"), **load("validate_ca_bundle")}
    with pytest.raises(AnsibleFilterError, match=r"^validate_cert_chain: certificate bundle: no PEM"):
        chain["validate_cert_chain"]("nothing")
    with pytest.raises(AnsibleFilterError, match="unexpected keyword argument"):
        chain["validate_cert_chain"](leaf.pem, bogus=1)
    with pytest.raises(AnsibleFilterError, match=r"^validate_ca_bundle: "):
        chain["validate_ca_bundle"](leaf.pem)
    with pytest.raises(AnsibleFilterError, match=r"^spki_pin: "):
        load("spki_pin")["spki_pin"]("nothing")
    assert load("spki_pins")["spki_pins"](leaf.pem + inter.pem)[0] == load("spki_pin")["spki_pin"](
        leaf.key_pem
    )
    del root


def test_preflight_filter_never_raises() -> None:
    tls_preflight = load("tls_preflight")["tls_preflight"]
    assert tls_preflight({}) == []
    assert tls_preflight("not a mapping")


def test_filters_refuse_a_low_seclevel_and_default_in_groups() -> None:
    with pytest.raises(AnsibleFilterError) as info:
        load("validate_cipher_list")["validate_cipher_list"]("ECDHE-ECDSA-AES128-GCM-SHA256:@SECLEVEL=0")
    assert str(info.value) == (
        "validate_cipher_list: @SECLEVEL=0 lowers OpenSSL's security level below 2 (profile "
        "biometric-strict min_security_level) for the whole context"
    )
    validate_groups = load("validate_groups")["validate_groups"]
    new = "OpenSSL 3.5.1 1 Jul 2025"
    assert validate_groups("*X25519MLKEM768/*X25519:prime256v1", openssl_version=new) == [
        "*X25519MLKEM768/*X25519",
        "prime256v1",
    ]
    with pytest.raises(AnsibleFilterError, match=r"^validate_groups: DEFAULT: pulls OpenSSL's built-in"):
        validate_groups("X25519:DEFAULT", openssl_version=new)
