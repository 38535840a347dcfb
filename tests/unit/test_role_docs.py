"""Every role's defaults/main.yml, meta/argument_specs.yml and README agree: the same variables,
each with the same description (the comment above it in the defaults file), and the README's
Role Variables table is the one scripts/role_docs.py writes."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (REPO / "roles").iterdir() if p.is_dir())
_spec = importlib.util.spec_from_file_location("role_docs", REPO / "scripts" / "role_docs.py")
assert _spec
assert _spec.loader
role_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(role_docs)

_ROW = re.compile(r"^\| `([a-z0-9_]+)` \| (.*?) \| (.*) \|$")


def _comments(role: Path) -> dict[str, str]:
    """Variable -> the comment block right above it, read without the script's helpers."""
    out: dict[str, str] = {}
    block: list[str] = []
    for line in (role / "defaults" / "main.yml").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            block.append(line.lstrip("#").strip())
            continue
        key = re.match(r"^([a-z][a-z0-9_]*):", line)
        if key:
            out[key.group(1)] = " ".join(" ".join(block).split())
        block = []
    return out


def _spec_options(role: Path) -> dict[str, Any]:
    data = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return dict(data["argument_specs"]["main"]["options"])


def _description(option: dict[str, Any]) -> str:
    text = option.get("description", "")
    if isinstance(text, list):
        text = " ".join(text)
    return " ".join(str(text).split())


def _readme_rows(role: Path) -> dict[str, str]:
    text = (role / "README.md").read_text(encoding="utf-8")
    section = text.split("## Role Variables", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = _ROW.match(line)
        if match:
            rows[match.group(1)] = match.group(3).replace("\\|", "|")
    return rows


def _templated(value: Any) -> bool:
    return "{{" in str(value)


@pytest.fixture(params=ROLES, ids=lambda p: p.name)
def role(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


def test_every_role_is_documented_the_same_three_ways(role: Path) -> None:
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text(encoding="utf-8"))
    comments = _comments(role)
    assert list(comments) == list(defaults), "every variable of defaults/main.yml is a top-level key"
    assert [name for name, text in comments.items() if not text] == [], "variables without a comment"
    assert all(name.startswith(f"{role.name}_") for name in defaults), "prefixed by the role's name"
    options = _spec_options(role)
    rows = _readme_rows(role)
    assert sorted(options) == sorted(comments), "meta/argument_specs.yml main options = defaults"
    assert list(rows) == list(comments), "README Role Variables = defaults, in the same order"
    for name, text in comments.items():
        assert _description(options[name]) == text, f"{name}: argument_specs description"
        assert rows[name] == text, f"{name}: README description"


def test_argument_spec_defaults_agree_with_the_defaults_file(role: Path) -> None:
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text(encoding="utf-8"))
    for name, option in _spec_options(role).items():
        if "default" in option and not _templated(defaults[name]):
            assert option["default"] == defaults[name], name


def test_readme_and_specs_are_what_the_script_writes(role: Path) -> None:
    assert (role / "README.md").read_text(encoding="utf-8") == role_docs.synced_readme(role)
    assert (role / "meta" / "argument_specs.yml").read_text(encoding="utf-8") == role_docs.synced_specs(role)


def test_role_layout(role: Path) -> None:
    meta = yaml.safe_load((role / "meta" / "main.yml").read_text(encoding="utf-8"))
    assert meta["dependencies"] == []
    readme = (role / "README.md").read_text(encoding="utf-8")
    for section in ("## Requirements", "## Role Variables", "## Example Playbook"):
        assert section in readme, section
    assert f"tlsward.tls.{role.name}" in readme, "the example uses the role's FQCN"
    for template in (role / "templates").rglob("*.j2"):
        text = template.read_text(encoding="utf-8")
        if template.name.endswith(".json.j2"):  # JSON has no comments: the marker is a key
            assert "ansible_managed" in text, template
        else:
            assert text.startswith("{{ ansible_managed | comment }}"), template
