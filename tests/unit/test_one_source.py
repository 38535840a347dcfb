"""Facts written once: the override variables, the default profile name, the severity scale and the
settled defaults live in one Python place each; the roles, playbooks and modules take them from
there instead of keeping copies."""

from __future__ import annotations

import importlib.util
import inspect
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.tlsward.tls.plugins.filter import tls_default as tls_default_doc
from ansible_collections.tlsward.tls.plugins.filter.tls_default import tls_default
from ansible_collections.tlsward.tls.plugins.filter.tls_overrides import tls_overrides

from tlsward import overrides, preflight
from tlsward.defaults import DEFAULT_FAIL_SEVERITY, MAX_UNIT_EXPOSURE, collection_default
from tlsward.policy import DEFAULT_POLICY, OVERRIDABLE, load_policy
from tlsward.report import build_report, write_reports
from tlsward.scan import inventory, judge_record
from tlsward.scan.hostchecks import judge_host
from tlsward.severities import SEVERITIES

REPO = Path(__file__).resolve().parents[2]
# Content that runs: roles (but their READMEs), playbooks, plugins and the controller package.
CODE_GLOBS = (
    "roles/*/defaults/*.yml",
    "roles/*/vars/*.yml",
    "roles/*/tasks/*.yml",
    "roles/*/handlers/*.yml",
    "roles/*/templates/**/*.j2",
    "roles/*/meta/*.yml",
    "playbooks/*.yml",
    "plugins/**/*.py",
    "tlsward/**/*.py",
)


def _code_files() -> Iterator[Path]:
    for pattern in CODE_GLOBS:
        yield from sorted(REPO.glob(pattern))


class _Lazy(Mapping[str, Any]):
    """A mapping whose values fail when read, except the ones given: like Ansible's ``vars``, where
    reading a variable templates it."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __getitem__(self, key: str) -> Any:
        if key in self.values:
            return self.values[key]
        if key.startswith("broken"):
            raise AssertionError(f"{key} was read")
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter([*self.values, "broken_variable"])

    def __len__(self) -> int:
        return len(self.values) + 1


# --------------------------------------------------------------------------------------------
# override variables


def test_one_variable_per_overridable_key() -> None:
    assert sorted(overrides.OVERRIDE_VARS.values()) == sorted(OVERRIDABLE)
    assert overrides.OVERRIDE_VARS == {
        "tlsward_protocols": "protocols",
        "tlsward_tls12_ciphers": "tls12_ciphers",
        "tlsward_tls13_ciphersuites": "tls13_ciphersuites",
        "tlsward_groups": "groups",
    }
    assert {v: k for k, v in overrides.VARIABLE_FOR.items()} == overrides.OVERRIDE_VARS


def test_overrides_from_vars_reads_only_the_override_variables() -> None:
    hostvars = _Lazy({"tlsward_groups": "X25519", "tlsward_protocols": "", "tlsward_tls12_ciphers": None})
    assert overrides.overrides_from_vars(hostvars) == {"groups": "X25519"}
    assert tls_overrides({"tlsward_tls13_ciphersuites": ["TLS_AES_128_GCM_SHA256"], "other": 1}) == {
        "tls13_ciphersuites": ["TLS_AES_128_GCM_SHA256"]
    }
    assert tls_overrides({}) == {}


def test_preflight_and_the_scanner_use_the_one_mapping() -> None:
    assert not hasattr(preflight, "OVERRIDE_VARS")
    assert not hasattr(inventory, "OVERRIDE_VARS")
    problems = preflight.check_host(_Lazy({"tlsward_groups": "X25519:secp521r1"}))
    assert [p.split(":")[0] for p in problems] == ["variable tlsward_groups"]
    [endpoint] = inventory.endpoints_from_hosts(
        [{"inventory_hostname": "web1", "tlsward_listen_address": "127.0.1.9", "tlsward_groups": "X25519"}]
    )
    assert endpoint["overrides"] == {"groups": "X25519"}
    assert endpoint["policy"] == DEFAULT_POLICY


def test_no_role_or_playbook_lists_the_override_variables() -> None:
    names = re.compile("|".join(re.escape(v) for v in overrides.OVERRIDE_VARS))
    listed = [
        f"{path.relative_to(REPO)}:{n}"
        for path in _code_files()
        if path.suffix in (".yml", ".j2") or path.parts[-2] == "modules"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if names.search(line)
    ]
    assert listed == []


# --------------------------------------------------------------------------------------------
# default profile


def test_the_default_profile_name_is_written_once_in_code() -> None:
    literal = re.compile(rf"['\"]?{re.escape(DEFAULT_POLICY)}['\"]?(?![-\w])")
    found = [
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for path in _code_files()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if literal.search(line) and not _prose(path, line)
    ]
    assert found == [
        f"tlsward/policy.py:{_line_of('tlsward/policy.py', 'DEFAULT_POLICY = ')}: "
        f'DEFAULT_POLICY = "{DEFAULT_POLICY}"'
    ]


def _line_of(relative: str, text: str) -> int:
    lines = (REPO / relative).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.startswith(text))


def _prose(path: Path, line: str) -> bool:
    """Descriptions, comments, docstrings and examples may name the default profile; a value or an
    option default may not."""
    name = re.escape(DEFAULT_POLICY)
    stripped = line.strip()
    if re.match(rf"default:\s*['\"]?{name}", stripped):
        return False
    if path.suffix == ".py":
        return not re.search(rf"""(=|:|\(|,)\s*['"]{name}['"]""", stripped)
    return stripped.startswith("#") or stripped.startswith("description")


def test_none_means_the_default_profile() -> None:
    assert load_policy(None)["name"] == DEFAULT_POLICY


@pytest.mark.parametrize(
    "path", ["roles/nginx_tls", "roles/openssl_policy", "roles/tls_pki"], ids=lambda p: p.split("/")[-1]
)
def test_roles_take_the_default_profile_from_the_filters(path: str) -> None:
    defaults = (REPO / path / "defaults" / "main.yml").read_text(encoding="utf-8")
    assert "tlsward_policy | default(none)" in defaults


# --------------------------------------------------------------------------------------------
# severity scale and the settled defaults


def test_one_severity_scale() -> None:
    from tlsward.cli import scan as cli  # noqa: PLC0415
    from tlsward.scan import model  # noqa: PLC0415

    assert model.SEVERITIES is SEVERITIES
    assert cli.SEVERITIES is SEVERITIES
    assert collection_default("severities") == list(SEVERITIES)
    scale = re.compile(
        r"""['"]?info['"]?,\s*['"]?low['"]?,\s*['"]?medium['"]?,\s*['"]?high['"]?,\s*['"]?critical"""
    )
    files = [*_code_files(), *sorted(REPO.glob("roles/*/files/**/*.py"))]
    written = [str(p.relative_to(REPO)) for p in files if scale.search(p.read_text(encoding="utf-8"))]
    assert written == ["tlsward/severities.py"]


def test_shared_defaults() -> None:
    assert DEFAULT_FAIL_SEVERITY in SEVERITIES
    assert collection_default("fail_severity") == DEFAULT_FAIL_SEVERITY
    assert collection_default("max_unit_exposure") == MAX_UNIT_EXPOSURE
    assert collection_default("policy") == DEFAULT_POLICY
    assert tls_default("policy") == DEFAULT_POLICY
    with pytest.raises(AnsibleFilterError, match="no default named 'nope'"):
        tls_default("nope")
    documented = yaml.safe_load(tls_default_doc.DOCUMENTATION)["options"]["_input"]["choices"]
    assert sorted(documented) == sorted(collection_default.__globals__["_VALUES"])
    assert inspect.signature(judge_host).parameters["max_exposure"].default == MAX_UNIT_EXPOSURE
    for func in (build_report, write_reports):
        params = inspect.signature(func).parameters
        assert params["fail_severity"].default == DEFAULT_FAIL_SEVERITY
        assert params["warning_days"].default is None
    assert inspect.signature(judge_record).parameters["fail_severity"].default == DEFAULT_FAIL_SEVERITY


def test_the_warning_window_is_the_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profile = load_policy("mozilla-modern")
    profile["name"] = "window-test"
    profile["certificate"]["min_days_left"] = 12
    (tmp_path / "window-test.yml").write_text(yaml.safe_dump(profile), encoding="utf-8")
    monkeypatch.setenv("TLSWARD_POLICY_PATH", str(tmp_path))
    assert build_report(tls_results=[], policy="window-test")["warning_days"] == 12
    assert build_report(tls_results=[], policy="window-test", warning_days=5)["warning_days"] == 5
    # A policy that is only a label: the default profile's window.
    default_window = load_policy(DEFAULT_POLICY)["certificate"]["min_days_left"]
    assert build_report(tls_results=[], policy="a label")["warning_days"] == default_window


@pytest.mark.parametrize("module", ["tls_scan", "tls_compliance_report"])
def test_module_options_that_share_a_default_have_none_of_their_own(module: str) -> None:
    text = (REPO / "plugins" / "modules" / f"{module}.py").read_text(encoding="utf-8")
    doc = yaml.safe_load(re.search(r'DOCUMENTATION = r"""(.*?)"""', text, re.S).group(1))  # type: ignore[union-attr]
    options = doc["options"]
    shared = ["policy", "fail_severity", "warning_days", "min_days_left", "max_unit_exposure"]
    for name in shared:
        if name in options:
            assert "default" not in options[name], f"{module} {name}"
            assert "choices" not in options[name], f"{module} {name}"
    spec = re.search(
        r"argument_spec=\{(.*?)\n        \},|spec: dict\[str, Any\] = \{(.*?)\n    \}", text, re.S
    )
    assert spec is not None
    body = spec.group(1) or spec.group(2)
    for name in shared:
        line = re.search(rf'"{name}": \{{([^}}]*)\}}', body)
        if line:
            assert '"default"' not in line.group(1), f"{module} {name}"


@pytest.mark.parametrize(
    ("path", "variable", "name"),
    [
        ("roles/nginx_tls/defaults/main.yml", "nginx_tls_unit_max_exposure", "max_unit_exposure"),
        ("roles/compliance/defaults/main.yml", "compliance_max_unit_exposure", "max_unit_exposure"),
        ("roles/compliance/defaults/main.yml", "compliance_fail_severity", "fail_severity"),
        ("roles/compliance_schedule/defaults/main.yml", "compliance_schedule_fail_severity", "fail_severity"),
    ],
)
def test_roles_take_the_shared_defaults_from_the_filter(path: str, variable: str, name: str) -> None:
    defaults = yaml.safe_load((REPO / path).read_text(encoding="utf-8"))
    assert defaults[variable] == f"{{{{ '{name}' | tlsward.tls.tls_default }}}}"


def test_warning_windows_default_to_the_profile() -> None:
    for path, variable in (
        ("roles/compliance/defaults/main.yml", "compliance_warning_days"),
        ("roles/compliance_schedule/defaults/main.yml", "compliance_schedule_warning_days"),
    ):
        assert yaml.safe_load((REPO / path).read_text(encoding="utf-8"))[variable] is None, variable


def test_the_schedule_script_reads_the_scale_from_its_configuration() -> None:
    path = REPO / "roles/compliance_schedule/files/usr/local/libexec/tlsward/compliance_run.py"
    spec = importlib.util.spec_from_file_location("compliance_run", path)
    assert spec
    assert spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    report = {
        "run_id": "r1",
        "warning_days": 20,
        "summary": {"compliant": False, "compliant_hosts": 0, "hosts": 1, "failed": 2},
        "hosts": [
            {
                "name": "web1",
                "findings": [
                    {"id": "a", "passed": False, "severity": "medium", "message": "m"},
                    {"id": "b", "passed": False, "severity": "high", "message": "h"},
                ],
            }
        ],
        "certificates": [
            {"host": "web1", "role": "leaf", "subject": "s", "days_left": 15, "not_after": "2026-12-19T00:00"}
        ],
    }
    config = {"fail_severity": "medium", "severities": list(SEVERITIES), "warning_days": None}
    alerts = script.alerts_for(report, config, 2, "r.html")
    assert [a.split(":")[1].strip() for a in alerts[:2]] == ["a (medium)", "b (high)"]
    assert "expires in 15 days" in alerts[2]  # the run's own window (20 days) when none is set
    assert len(script.alerts_for(report, {**config, "fail_severity": "high", "warning_days": 10}, 2, "")) == 1


def test_the_session_cache_size_the_renderer_falls_back_to_is_the_roles_default() -> None:
    from tlsward.policy import NGINX_SESSION_CACHE_SIZE  # noqa: PLC0415

    defaults = yaml.safe_load((REPO / "roles/nginx_tls/defaults/main.yml").read_text(encoding="utf-8"))
    assert defaults["nginx_tls_session_cache_size"] == NGINX_SESSION_CACHE_SIZE
