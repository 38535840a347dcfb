"""The execution environment definition gives ansible-builder a complete build context: the
collection tarball, the controller package's wheel, the collection's Python and system
requirements as ansible-builder itself introspects them, and the ansible-core the roles need."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ee") / "context"
    env = {**os.environ, "EE_CONTEXT": str(out), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [str(REPO / "scripts" / "ee-context.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return out


def test_the_definition_is_ansible_builder_v3_and_names_the_collection() -> None:
    definition = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    assert definition["version"] == 3
    deps = definition["dependencies"]
    assert deps["ansible_core"]["package_pip"].startswith("ansible-core==2.19.")
    galaxy = yaml.safe_load((REPO / deps["galaxy"]).read_text())
    names = [c["name"] for c in galaxy["collections"]]
    assert any(name.endswith("tlsward-tls-0.1.0.tar.gz") for name in names)
    assert {"community.crypto", "community.general", "ansible.utils"} <= set(names)


def test_create_writes_a_build_context_with_the_collection_and_the_wheel(context: Path) -> None:
    containerfile = (context / "Dockerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="' in containerfile
    assert "ansible-core==2.19.14" in containerfile
    assert "ENV PIP_FIND_LINKS=/build/wheels" in containerfile
    (tarball,) = (context / "_build" / "collections").glob("tlsward-tls-*.tar.gz")
    with tarfile.open(tarball) as tar:
        manifest_file = tar.extractfile("MANIFEST.json")
        assert manifest_file is not None
        info = json.load(manifest_file)["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == ("tlsward", "tls", "0.1.0")
    wheels = [p.name for p in (context / "_build" / "wheels").glob("*.whl")]
    assert len(wheels) == 1
    assert wheels[0].startswith("tlsward-0.1.0-")
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert requirements["collections"][0]["type"] == "file"


def test_ansible_builder_introspects_the_declared_requirements(context: Path, tmp_path: Path) -> None:
    (tarball,) = (context / "_build" / "collections").glob("tlsward-tls-*.tar.gz")
    # --force: this checkout is tlsward.tls on the configured collections path already
    install = [
        str(BIN / "ansible-galaxy"),
        "collection",
        "install",
        "--force",
        "--no-deps",
        "-p",
        str(tmp_path),
        str(tarball),
    ]
    subprocess.run(install, check=True, capture_output=True, timeout=120)
    proc = subprocess.run(
        [str(BIN / "ansible-builder"), "introspect", "--sanitize", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = yaml.safe_load(proc.stdout)
    python = [line.split("#")[0].strip() for line in data["python"]]
    system = [line.split("#")[0].strip() for line in data["system"]]
    # ansible-builder leaves ansible and ansible-core out: the image's ansible_core pin decides
    assert python == ["tlsward==0.1.0"]
    assert "openssl [platform:dpkg platform:rpm]" in system
