"""tlsward.tls installed the way an Ansible user takes it: the collection tarball from
``ansible-galaxy collection build``, installed into an empty collections path, and a new virtual
environment holding only what the collection declares (its ``requirements.txt``; the controller
package ``tlsward`` comes from a wheel built here, as it would from the user's package index).
Nothing of this checkout is on any path the playbooks see."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
HOST = "edge-1"


@dataclass(frozen=True)
class UserSetup:
    root: Path
    venv_bin: Path
    collections: Path

    def run(self, *argv: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
        # A clean environment: no ANSIBLE_* of the test run, no ansible.cfg (cwd is the user's dir).
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "PYTHON", "VIRTUAL_ENV"))}
        env.update(
            ANSIBLE_COLLECTIONS_PATH=str(self.collections),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_LOCAL_TEMP=str(self.root / "ansible-tmp"),
            PATH=f"{self.venv_bin}{os.pathsep}{env.get('PATH', '')}",
        )
        return subprocess.run(
            [str(self.venv_bin / argv[0]), *argv[1:]],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _check(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def user(tmp_path_factory: pytest.TempPathFactory) -> UserSetup:
    root = tmp_path_factory.mktemp("collection-user")
    dist, wheels, collections = root / "dist", root / "wheels", root / "collections"
    galaxy = str(Path(sys.executable).parent / "ansible-galaxy")
    build = [galaxy, "collection", "build", str(REPO), "--output-path", str(dist)]
    subprocess.run(build, check=True, capture_output=True, timeout=120)
    (tarball,) = dist.glob("tlsward-tls-*.tar.gz")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    with tarfile.open(tarball) as tar:
        member = tar.extractfile("requirements.txt")
        assert member is not None
        (root / "requirements.txt").write_bytes(member.read())
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True, timeout=120)
    venv_bin = root / "venv" / "bin"
    # --no-compile: Python compiles what the playbooks import on first use; compiling every file of
    # the ansible package up front costs about a CPU-minute and proves nothing here.
    pip = [str(venv_bin / "pip"), "install", "-q", "--disable-pip-version-check", "--no-compile"]
    subprocess.run(
        [*pip, "-r", str(root / "requirements.txt"), "--find-links", str(wheels)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    collections.mkdir()
    assert not any(collections.iterdir())
    setup = UserSetup(root, venv_bin, collections)
    _check(setup.run("ansible-galaxy", "collection", "install", str(tarball), "-p", str(collections)))
    return setup


def _inventory(user: UserSetup, name: str, host_vars: dict[str, object]) -> Path:
    inventory = {
        "all": {
            "children": {
                "frontends": {
                    "hosts": {
                        HOST: {
                            "ansible_connection": "local",
                            # the preflight's trust check reads files as this user (no sudo)
                            "ansible_become": False,
                            "ansible_python_interpreter": str(user.venv_bin / "python"),
                            "tlsward_listen_address": "127.0.2.250",
                            "tlsward_server_names": ["bio.user.tlsward.test"],
                            **host_vars,
                        }
                    }
                }
            }
        }
    }
    path = user.root / f"{name}.yml"
    path.write_text(yaml.safe_dump(inventory))
    return path


def test_the_tarball_installs_into_an_empty_path_with_only_its_declared_requirements(user: UserSetup) -> None:
    installed = user.collections / "ansible_collections" / "tlsward" / "tls"
    assert (installed / "MANIFEST.json").is_file()
    assert (installed / "playbooks" / "site.yml").is_file()
    # the venv has the controller package from the wheel, not this checkout
    where = _check(user.run("python", "-c", "import tlsward, sys; print(tlsward.__file__)"))
    assert str(user.root / "venv") in where, where
    assert str(REPO) not in where


def test_site_playbook_syntax_check_by_fqcn(user: UserSetup) -> None:
    inventory = _inventory(user, "syntax", {})
    out = _check(user.run("ansible-playbook", "-i", str(inventory), "tlsward.tls.site", "--syntax-check"))
    assert "ansible_collections/tlsward/tls/playbooks/site.yml" in out
    assert str(user.collections) in out


def test_a_real_preflight_passes_valid_inputs(user: UserSetup) -> None:
    inventory = _inventory(user, "valid", {"tlsward_policy": "mozilla-intermediate"})
    out = _check(user.run("ansible-playbook", "-i", str(inventory), "tlsward.tls.preflight"))
    assert f"host {HOST}: TLS inputs valid for policy mozilla-intermediate" in out
    assert "failed=0" in out


def test_a_real_preflight_refuses_a_weak_cipher_string_naming_host_variable_and_rule(user: UserSetup) -> None:
    inventory = _inventory(user, "weak", {"tlsward_tls12_ciphers": "ECDHE-RSA-AES128-SHA"})
    proc = user.run("ansible-playbook", "-i", str(inventory), "tlsward.tls.preflight")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out  # a failed host, not a crash or a missing collection (rc 1/4/5)
    assert f"host {HOST}: variable tlsward_tls12_ciphers" in out, out
    assert "ECDHE-RSA-AES128-SHA" in out
    assert "not AEAD" in out or "CBC" in out, out


def test_ansible_doc_lists_every_module_filter_and_role(user: UserSetup) -> None:
    plugin_dir = REPO / "plugins"
    for kind, folder in (("module", "modules"), ("filter", "filter")):
        listing = _check(user.run("ansible-doc", "-t", kind, "-l", "tlsward.tls"))
        for path in (plugin_dir / folder).glob("*.py"):
            assert f"tlsward.tls.{path.stem}" in listing, f"ansible-doc -t {kind} misses {path.stem}"
    roles = _check(user.run("ansible-doc", "-t", "role", "-l", "tlsward.tls"))
    for role in (REPO / "roles").iterdir():
        assert f"tlsward.tls.{role.name}" in roles, f"ansible-doc -t role misses {role.name}"
    scan_doc = _check(user.run("ansible-doc", "tlsward.tls.tls_scan"))
    assert "sslyze" in scan_doc
