#!/usr/bin/python
"""Ansible module staged_tree: write a candidate file tree, compare it with the live files, test it.

It runs on the managed host with the host's own python3 (standard library only). Ansible's
``template`` and ``copy`` cost two module runs per unchanged file (a remote stat, then the file
module for the attributes); a candidate tree of five files plus its directories and its test cost
twelve. This module does the same work in one run: every file is compared byte for byte, only a
differing file is rewritten (atomically, in its own directory), and the answer says which staged
files differ from the live ones, so the caller decides whether anything goes live.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: staged_tree
short_description: Write a candidate file tree in one run, compare it with the live files and test it
description:
  - Creates the staging root and any extra directories with the given modes, owned by I(owner) and
    I(group).
  - Writes each file of I(files) under I(root) when its content, mode or owner differ; the content
    is given inline (rendered on the controller) or read from a file on the host (I(src)).
  - Compares every staged file with its live counterpart (I(live), or the same relative path under
    I(live_root)) and returns the relative paths that differ and those that exist live.
  - Runs I(validate) (with C(%s) replaced by the staging root) after writing, and reports its exit
    status and output instead of failing, so the caller words the error.
  - In check mode nothing is written and I(validate) is not run; the comparison uses the content
    that would be staged.
  - With C(--diff), shows how every inline file that differs would change the live one (files
    copied with I(src) are not shown).
options:
  root:
    description: Staging root; created when missing.
    type: path
    required: true
  root_mode:
    description: Mode of the staging root and of the directories created under it.
    type: str
    default: "0700"
  files:
    description:
      - Files of the candidate tree. Each item has C(path) (relative to I(root)), one of
        C(content) (text) or C(src) (a file on the host), an optional C(mode) (default C(0644)) and
        an optional C(live) (absolute path of the live counterpart).
    type: list
    elements: dict
    required: true
  live_root:
    description: Live tree the staged files are compared with (for items without C(live)).
    type: path
  directories:
    description: Further directories to create, each with C(path) and C(mode).
    type: list
    elements: dict
    default: []
  owner:
    description: Owner of everything written (numeric or name); unchanged when empty.
    type: str
    default: root
  group:
    description: Group of everything written (numeric or name); unchanged when empty.
    type: str
    default: root
  validate:
    description: Command run after writing, C(%s) replaced by the staging root (shell quoted).
    type: str
    default: ""
  service:
    description: systemd unit whose C(systemctl is-active) state is returned as I(service_active).
    type: str
    default: ""
author:
  - tlsward maintainers (@tlsward)
"""

EXAMPLES = r"""
- name: Stage and test the candidate nginx tree
  staged_tree:
    root: /etc/tlsward/nginx/staging
    live_root: /etc/nginx
    files:
      - {path: nginx.conf, content: "{{ lookup('ansible.builtin.template', 'etc/nginx/nginx.conf.j2') }}"}
      - {path: mime.types, src: /etc/nginx/mime.types}
    validate: nginx -t -q -c %s/nginx.conf
    service: nginx
  register: staged
"""

RETURN = r"""
written:
  description: Relative paths rewritten in the staging tree in this run.
  returned: always
  type: list
  elements: str
differs:
  description: Relative paths whose staged content differs from the live file (or has no live file).
  returned: always
  type: list
  elements: str
existing:
  description: Relative paths that have a live counterpart.
  returned: always
  type: list
  elements: str
validate_rc:
  description: Exit status of I(validate); 0 when it was not run.
  returned: always
  type: int
validate_output:
  description: Standard error and output of I(validate).
  returned: always
  type: str
service_active:
  description: Whether I(service) is active; false when no service was named.
  returned: always
  type: bool
"""

import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any

from ansible.module_utils.basic import AnsibleModule


class TreeError(Exception):
    """A problem with the module input, listing every problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Entry:
    path: str
    data: bytes
    mode: int
    live: str
    inline: bool


@dataclass
class Result:
    changed: bool = False
    written: list[str] = field(default_factory=list)
    differs: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    validate_rc: int = 0
    validate_output: str = ""
    service_active: bool = False
    diff: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            **({"diff": self.diff} if self.diff else {}),
            "changed": self.changed,
            "written": self.written,
            "differs": self.differs,
            "existing": self.existing,
            "validate_rc": self.validate_rc,
            "validate_output": self.validate_output,
            "service_active": self.service_active,
        }


def _mode(value: Any, what: str, problems: list[str]) -> int:
    text = str(value)
    try:
        mode = int(text, 8)
    except ValueError:
        problems.append(f"{what}: mode {text!r} is not an octal number")
        return 0
    if not 0 <= mode <= 0o7777:
        problems.append(f"{what}: mode {text!r} is out of range")
    return mode


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def entries(root: str, files: list[dict[str, Any]], live_root: str | None) -> list[Entry]:
    """Check the items and read their content; raise TreeError naming every bad item."""
    problems: list[str] = []
    out: list[Entry] = []
    seen: set[str] = set()
    for index, item in enumerate(files):
        rel = str(item.get("path") or "")
        what = f"files[{index}] ({rel or 'no path'})"
        norm = os.path.normpath(rel) if rel else ""
        if not rel or os.path.isabs(rel) or norm.startswith(".."):
            problems.append(f"{what}: path must be relative and stay under {root}")
            continue
        if norm in seen:
            problems.append(f"{what}: path is listed twice")
        seen.add(norm)
        has_content, has_src = "content" in item and item["content"] is not None, bool(item.get("src"))
        if has_content == has_src:
            problems.append(f"{what}: give exactly one of content or src")
            continue
        mode = _mode(item.get("mode") or "0644", what, problems)
        live = str(item.get("live") or (os.path.join(live_root, norm) if live_root else ""))
        if not live:
            problems.append(f"{what}: no live path (set live or live_root)")
        if has_src:
            data = _read(str(item["src"]))
            if data is None:
                problems.append(f"{what}: src {item['src']} does not exist on the host")
                continue
        else:
            data = str(item["content"]).encode("utf-8")
        out.append(Entry(norm, data, mode, live, inline=has_content))
    if problems:
        raise TreeError(problems)
    return out


def _ensure_dir(path: str, mode: int, uid: int, gid: int, check: bool) -> bool:
    changed = False
    if not os.path.isdir(path):
        changed = True
        if not check:
            os.makedirs(path, mode=mode)
    if check and changed:
        return True
    st = os.stat(path)
    if st.st_mode & 0o7777 != mode:
        changed = True
        if not check:
            os.chmod(path, mode)
    if (uid >= 0 and st.st_uid != uid) or (gid >= 0 and st.st_gid != gid):
        changed = True
        if not check:
            os.chown(path, uid, gid)
    return changed


def _needs_write(path: str, entry: Entry, uid: int, gid: int) -> bool:
    if _read(path) != entry.data:
        return True
    st = os.stat(path)
    return (
        st.st_mode & 0o7777 != entry.mode
        or (uid >= 0 and st.st_uid != uid)
        or (gid >= 0 and st.st_gid != gid)
    )


def _write(path: str, entry: Entry, uid: int, gid: int) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".staged-", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(entry.data)
        os.chmod(tmp, entry.mode)
        if uid >= 0 or gid >= 0:
            os.chown(tmp, uid, gid)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def stage(
    root: str,
    files: list[dict[str, Any]],
    *,
    live_root: str | None = None,
    root_mode: str = "0700",
    directories: list[dict[str, Any]] | None = None,
    uid: int = -1,
    gid: int = -1,
    check: bool = False,
    diff: bool = False,
) -> Result:
    """Write the tree under ``root`` (unless ``check``) and compare it with the live files; with
    ``diff``, also the live-to-staged difference of every inline (rendered) file that differs."""
    problems: list[str] = []
    dmode = _mode(root_mode, "root_mode", problems)
    extra = [
        (str(d.get("path") or ""), _mode(d.get("mode") or "0755", f"directory {d.get('path')}", problems))
        for d in directories or []
    ]
    problems.extend(f"directory {p!r}: path must be absolute" for p, _mode_ in extra if not os.path.isabs(p))
    try:
        items = entries(root, files, live_root)
    except TreeError as exc:
        problems.extend(exc.problems)
        items = []
    if problems:
        raise TreeError(problems)
    result = Result()
    result.changed |= _ensure_dir(root, dmode, uid, gid, check)
    for path, mode in extra:
        result.changed |= _ensure_dir(path, mode, uid, gid, check)
    for entry in items:
        target = os.path.join(root, entry.path)
        parent = os.path.dirname(target)
        if parent != root:
            result.changed |= _ensure_dir(parent, dmode, uid, gid, check)
        if _needs_write(target, entry, uid, gid):
            result.written.append(entry.path)
            result.changed = True
            if not check:
                _write(target, entry, uid, gid)
        live = _read(entry.live)
        if live is not None:
            result.existing.append(entry.path)
        if live != entry.data:
            result.differs.append(entry.path)
            if diff and entry.inline:
                result.diff.append(
                    {
                        "before_header": entry.live,
                        "after_header": os.path.join(root, entry.path),
                        "before": (live or b"").decode("utf-8", "replace"),
                        "after": entry.data.decode("utf-8", "replace"),
                    }
                )
    return result


def _validate(command: str, root: str) -> tuple[int, str]:
    argv = shlex.split(command.replace("%s", shlex.quote(root)))
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode, (proc.stderr + proc.stdout).strip()


def _service_active(unit: str) -> bool:
    proc = subprocess.run(["systemctl", "is-active", unit], capture_output=True, text=True, check=False)
    return proc.stdout.strip() == "active"


def _ids(module: AnsibleModule) -> tuple[int, int]:
    import grp  # noqa: PLC0415
    import pwd  # noqa: PLC0415

    def one(value: str, lookup: Any) -> int:
        if not value:
            return -1
        return int(value) if value.isdigit() else lookup(value)

    try:
        return one(module.params["owner"], lambda n: pwd.getpwnam(n).pw_uid), one(
            module.params["group"], lambda n: grp.getgrnam(n).gr_gid
        )
    except KeyError as exc:
        module.fail_json(msg=f"staged_tree: unknown owner or group {exc}")
        raise


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "root": {"type": "path", "required": True},
            "root_mode": {"type": "str", "default": "0700"},
            "files": {"type": "list", "elements": "dict", "required": True},
            "live_root": {"type": "path"},
            "directories": {"type": "list", "elements": "dict", "default": []},
            "owner": {"type": "str", "default": "root"},
            "group": {"type": "str", "default": "root"},
            "validate": {"type": "str", "default": ""},
            "service": {"type": "str", "default": ""},
        },
        supports_check_mode=True,
    )
    p = module.params
    uid, gid = _ids(module)
    try:
        result = stage(
            p["root"],
            p["files"],
            live_root=p["live_root"],
            root_mode=p["root_mode"],
            directories=p["directories"],
            uid=uid,
            gid=gid,
            check=module.check_mode,
            diff=module._diff,
        )
        if p["validate"] and not module.check_mode:
            result.validate_rc, result.validate_output = _validate(p["validate"], p["root"])
        if p["service"]:
            result.service_active = _service_active(p["service"])
    except TreeError as exc:
        module.fail_json(msg=f"staged_tree: {exc}", problems=exc.problems)
    except OSError as exc:
        module.fail_json(msg=f"staged_tree: {exc}")
    module.exit_json(**result.as_dict())


if __name__ == "__main__":
    main()
