"""Host-side compliance checks, judged on the controller from what the playbook gathered over SSH.

The compliance playbook collects raw facts on each host (``stat`` of key files, ``nginx -T``,
``systemd-analyze security``, the biometric service's key status) and hands them here; every
function returns findings with ``host.*`` ids. A component that is not installed on a host gives
a ``not_applicable`` finding, never an error.
"""

from __future__ import annotations

import json
import posixpath
import re
import stat
from dataclasses import dataclass, field
from typing import Any

from tlsward.defaults import MAX_UNIT_EXPOSURE
from tlsward.policy import render_nginx
from tlsward.scan.model import Finding, check, not_applicable, undecided

NOT_INSTALLED_RC = 127
EXPOSURE = re.compile(r"Overall exposure level for (\S+):\s*([0-9.]+)\s+(\w+)")


# --------------------------------------------------------------------------------------------
# key files

# One line of ``namei -l PATH`` (util-linux): mode string, owner, group, the component (indented
# by symlink depth), `` -> target`` for a symlink. Lines that do not match (``f: PATH``, errors
# such as ``name - No such file or directory``) are kept as text.
_NAMEI_LINE = re.compile(r"^([-dlcbps?][rwxsStT-]{9})\s+(\S+)\s+(\S+)\s+(.*)$")


def parse_namei(text: str) -> list[dict[str, Any]]:
    """Every component ``namei -l`` walked, in resolution order, with its absolute path.

    ``namei`` prints the components of the path and, after a symlink, the components of its
    target (a leading ``/`` line for an absolute target); following them in order with a current
    directory gives each component's absolute path.
    """
    walked: list[dict[str, Any]] = []
    cwd = "/"
    for line in text.splitlines():
        match = _NAMEI_LINE.match(line)
        if not match:
            continue
        mode, owner, group, rest = match.groups()
        name, _, target = rest.strip().partition(" -> ")
        kind = {"d": "directory", "l": "symlink", "-": "file"}.get(mode[0], "other")
        path = "/" if name == "/" else posixpath.normpath(posixpath.join(cwd, name))
        entry = {"path": path, "type": kind, "mode": mode, "owner": owner, "group": group}
        if kind == "symlink":
            entry["target"] = target
        elif kind == "directory":
            cwd = path
        walked.append(entry)
    return walked


def _walk_problems(key: str, walked: list[dict[str, Any]]) -> list[str]:
    """Anyone but root able to swap what ``key`` resolves to: a directory on the way that another
    user owns or can write, or, under a sticky world/group-writable directory (/tmp), an entry
    another user owns (the sticky bit protects only entries owned by root)."""
    problems = []
    sticky_parent = False
    for entry in walked:
        mode, owner, path = entry["mode"], entry["owner"], entry["path"]
        if sticky_parent and owner != "root":
            problems.append(f"{key}: {path} is owned by {owner} inside a sticky shared directory")
        sticky_parent = False
        if entry["type"] != "directory":
            continue
        writable = [who for who, bit in (("group", mode[5]), ("others", mode[8])) if bit == "w"]
        if owner != "root":
            problems.append(f"{key}: directory {path} on the way is owned by {owner}, not root")
        if writable and mode[9] in "tT" and owner == "root":
            sticky_parent = True
        elif writable:
            problems.append(
                f"{key}: directory {path} on the way is writable by {' and '.join(writable)} ({mode})"
            )
    return problems


def _within(path: str, directory: str) -> bool:
    directory = posixpath.normpath(directory)
    return posixpath.normpath(path).startswith(directory.rstrip("/") + "/")


def judge_key_files(files: list[dict[str, Any]]) -> list[Finding]:
    """Private keys readable by root only (0600, or 0640 for a key group); no key world-accessible.

    Each item: ``path``, ``exists``, ``mode`` (octal string like ``"0600"``), ``owner``, ``kind``
    (``server_key`` / ``ticket_key`` / ``device_ca_key``...) of the file the path RESOLVES to, and
    optionally ``symlink`` (the path itself is a symlink), ``resolved`` (where it resolves),
    ``link_target``, ``within`` (the directory a symlinked key must resolve into; default the
    path's own directory) and ``walk`` (``namei -l`` of the path: every directory and symlink on
    the way, none of which anyone but root may be able to change). A symlinked key without a walk
    cannot be judged (error).
    """
    present = [f for f in files if f.get("exists") or f.get("symlink")]
    if not present:
        return [
            not_applicable(
                "host.key_files",
                "high",
                "no key file found on this host",
                looked_for=[f.get("path") for f in files],
            )
        ]
    problems: list[str] = []
    undecided_why: list[str] = []
    checked = []
    for f in present:
        path = str(f["path"])
        symlink = bool(f.get("symlink"))
        resolved = str(f.get("resolved") or path)
        walk = f.get("walk")
        walked = parse_namei(walk) if isinstance(walk, str) else None
        entry: dict[str, Any] = {
            "path": path,
            "resolved": resolved,
            "symlink": symlink,
            "kind": f.get("kind"),
        }
        if symlink:
            entry["link_target"] = f.get("link_target")
            entry["within"] = str(f.get("within") or posixpath.dirname(path))
        if walked is not None:
            entry["walk"] = walked
        checked.append(entry)
        if symlink and not _within(resolved, entry["within"]):
            problems.append(f"{path}: symlink resolves to {resolved}, outside {entry['within']}")
        if symlink and walked is None:
            undecided_why.append(f"{path}: symlink, but the directories and links on the way were not listed")
        elif walked is not None:
            problems += _walk_problems(path, walked)
        if not f.get("exists"):
            problems.append(f"{path}: symlink to {f.get('link_target')} resolves to no file")
            continue
        mode = int(str(f.get("mode", "0")), 8)
        entry.update(mode=f"{mode:04o}", owner=f.get("owner"))
        shown = f"{path} (resolves to {resolved})" if symlink else path
        if mode & (stat.S_IRWXO):
            problems.append(f"{shown}: mode {mode:04o} gives access to everyone")
        elif mode & (stat.S_IWGRP | stat.S_IXGRP) or (mode & stat.S_IRGRP and f.get("kind") == "ticket_key"):
            problems.append(f"{shown}: mode {mode:04o} is more than 0600 (0640 for a server key)")
        if f.get("owner") not in (None, "root"):
            problems.append(f"{shown}: owned by {f.get('owner')}, not root")
    evidence = {"files": checked, "problems": problems}
    if not problems and undecided_why:
        return [undecided("host.key_files", "high", "; ".join(undecided_why), **evidence)]
    return [
        check(
            "host.key_files",
            not problems,
            "high",
            "; ".join(problems) if problems else f"{len(present)} key file(s) readable by root only",
            **evidence,
        )
    ]


# --------------------------------------------------------------------------------------------
# nginx configuration drift


@dataclass
class Block:
    name: str
    args: list[str]
    children: list[Block] = field(default_factory=list)
    directives: list[list[str]] = field(default_factory=list)


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in ";{}":
            out.append(c)
            i += 1
        elif c in "\"'":
            j = i + 1
            buf = []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(text[j])
                j += 1
            out.append("".join(buf))
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in ";{}":
                j += 1
            out.append(text[i:j])
            i = j
    return out


def parse_nginx(text: str) -> Block:
    """A small parser of ``nginx -T`` output: blocks and directives, comments dropped."""
    root = Block("main", [])
    stack = [root]
    words: list[str] = []
    for tok in _tokens(text):
        if tok == ";":
            if words:
                stack[-1].directives.append(words)
            words = []
        elif tok == "{":
            block = Block(words[0] if words else "", words[1:])
            stack[-1].children.append(block)
            stack.append(block)
            words = []
        elif tok == "}":
            if len(stack) > 1:
                stack.pop()
            words = []
        else:
            words.append(tok)
    return root


def _walk(block: Block) -> list[Block]:
    out = []
    for child in block.children:
        out.append(child)
        out += _walk(child)
    return out


def _tls_servers(root: Block) -> list[tuple[Block, Block]]:
    """(http block, server block) for every server that listens with ``ssl``.

    ``nginx -T`` prints each included file after the file that includes it, so the server blocks
    of ``include``d files appear outside the ``http`` block of the dump: servers are taken from
    anywhere, and inherit the directives of the (single) ``http`` block.
    """
    blocks = _walk(root)
    http = next((b for b in blocks if b.name == "http"), Block("http", []))
    return [
        (http, b)
        for b in blocks
        if b.name == "server" and any(d[0] == "listen" and "ssl" in d[1:] for d in b.directives)
    ]


def _values(http: Block, server: Block, name: str) -> list[list[str]]:
    own = [d[1:] for d in server.directives if d[0] == name]
    return own or [d[1:] for d in http.directives if d[0] == name]


def expected_nginx(rendered: dict[str, Any]) -> dict[str, str | None]:
    """Directive -> value the nginx_tls template writes for this profile (None: must be absent).

    The table is ``render_nginx``'s ``directives``, the one the template loops over, plus what the
    role's nginx.conf always writes. Values are compared token by token as nginx reads them
    (quotes removed), see ``_same``.
    """
    expected: dict[str, str | None] = {
        item["directive"]: None if item["value"] is None else " ".join(_tokens(item["value"]))
        for item in rendered["directives"]
    }
    # Not a profile value, but what the nginx_tls role always renders (no version in headers).
    expected["server_tokens"] = "off"
    return expected


def _found(http: Block, server: Block, key: str) -> str | None:
    if " " in key:
        name, sub = key.split(" ", 1)
        for args in _values(http, server, name):
            if args and args[0] == sub:
                return " ".join(args[1:])
        return None
    values = _values(http, server, key)
    return " ".join(values[-1]) if values else None


def _same(key: str, want: str | None, got: str | None) -> bool:
    if want is None or got is None:
        return want == got
    if key == "ssl_protocols":
        return sorted(want.split()) == sorted(got.split())
    if key == "ssl_session_timeout":
        return _seconds(want) == _seconds(got)
    if key == "ssl_session_cache":
        # The zone's name and size are the host's: what the profile decides is a shared cache or none.
        return _shared_cache(want) == _shared_cache(got)
    return want == got


def _shared_cache(value: str) -> bool | None:
    words = value.split()
    if words == ["off"]:
        return False
    return True if any(w.startswith("shared:") for w in words) else None


def _seconds(value: str) -> int | None:
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", value.strip())
    if not match:
        return None
    factor = {"ms": 0, "s": 1, None: 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return int(match.group(1)) * factor


def judge_drift(
    nginx_dump: dict[str, Any] | None,
    policy: str | dict[str, Any],
    openssl_version: str | None,
    overrides: dict[str, Any] | None = None,
) -> list[Finding]:
    """Deployed nginx TLS directives equal to what ``tls_policy_nginx`` renders for the profile now."""
    if not nginx_dump or nginx_dump.get("rc") == NOT_INSTALLED_RC:
        return [not_applicable("host.drift", "high", "nginx is not installed on this host")]
    if nginx_dump.get("rc") != 0:
        err = (nginx_dump.get("stderr") or "").strip().splitlines()
        return [undecided("host.drift", "high", "nginx -T failed: " + (err[-1] if err else "no output"))]
    rendered = render_nginx(policy, openssl_version=openssl_version, overrides=overrides)
    expected = expected_nginx(rendered)
    servers = _tls_servers(parse_nginx(nginx_dump.get("stdout") or ""))
    if not servers:
        return [not_applicable("host.drift", "high", "nginx runs no TLS server on this host")]
    drift = []
    for http, server in servers:
        label = " ".join(" ".join(d[1:]) for d in server.directives if d[0] == "listen")
        for key, want in expected.items():
            got = _found(http, server, key)
            if not _same(key, want, got):
                drift.append({"server": label, "directive": key, "expected": want, "found": got})
    return [
        check(
            "host.drift",
            not drift,
            "high",
            f"{len(drift)} TLS directive(s) differ from what profile {rendered['name']} renders now"
            if drift
            else f"deployed TLS directives equal what profile {rendered['name']} renders",
            drift=drift,
            servers=len(servers),
            profile=rendered["name"],
            openssl_version=openssl_version,
        )
    ]


# --------------------------------------------------------------------------------------------
# systemd unit hardening


def judge_units(units: list[dict[str, Any]], max_exposure: float) -> list[Finding]:
    """``systemd-analyze security UNIT`` exposure at most ``max_exposure`` (0 safest, 10 unsafe)."""
    findings = []
    for unit in units:
        name = unit["unit"]
        fid = f"host.unit_hardening.{name.removesuffix('.service')}"
        text = f"{unit.get('stdout') or ''}\n{unit.get('stderr') or ''}"
        if unit.get("rc") == NOT_INSTALLED_RC:
            findings.append(not_applicable(fid, "medium", "systemd-analyze is not available on this host"))
            continue
        if unit.get("present") is False or re.search(r"not found|does not exist|No such file", text, re.I):
            findings.append(not_applicable(fid, "medium", f"{name} is not installed on this host"))
            continue
        match = EXPOSURE.search(text)
        if not match:
            last = text.strip().splitlines()[-1:] or ["no output"]
            findings.append(undecided(fid, "medium", f"systemd-analyze security {name}: {last[0]}"))
            continue
        level = float(match.group(2))
        findings.append(
            check(
                fid,
                level <= max_exposure,
                "medium",
                f"{name} exposure {level} {match.group(3)} (maximum {max_exposure})",
                exposure=level,
                rating=match.group(3),
                max_exposure=max_exposure,
            )
        )
    return findings


# --------------------------------------------------------------------------------------------
# template store


def judge_template_store(result: dict[str, Any] | None) -> list[Finding]:
    """The biometric store holds sealed records only: every record's key is one the service holds.

    Input: the JSON of ``tlsward-biometric keys`` (active key, loaded keys, retired keys and the
    number of records per key id). The store's schema has no plaintext column: a record is a key
    id, a nonce and an AES-GCM ciphertext. A record under a key id the service does not hold
    cannot be opened, which is what an unsealed (or foreign) record would look like.
    """
    fid = "host.template_store"
    if not result or result.get("rc") == NOT_INSTALLED_RC:
        return [not_applicable(fid, "high", "the biometric service is not installed on this host")]
    if result.get("rc") != 0:
        err = (result.get("stderr") or result.get("stdout") or "").strip().splitlines()
        return [undecided(fid, "high", "key status not available: " + (err[-1] if err else "no output"))]
    try:
        status = json.loads(result.get("stdout") or "")
        loaded = set(status["loaded"])
        usage = {str(k): int(v) for k, v in status["usage"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return [undecided(fid, "high", f"cannot read the key status: {exc}")]
    foreign = {k: n for k, n in usage.items() if n and k not in loaded}
    records = sum(usage.values())
    return [
        check(
            fid,
            not foreign,
            "high",
            f"{sum(foreign.values())} record(s) under key id(s) the service does not hold: {sorted(foreign)}"
            if foreign
            else f"{records} record(s), all sealed under keys the service holds",
            records=records,
            usage=usage,
            loaded=sorted(loaded),
            active=status.get("active_key_id"),
        )
    ]


def key_files_from(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """Key file facts from the playbook's raw results, or an already normalised ``key_files`` list.

    ``key_stat`` items: ``[stat followed, {path, kind, within}]`` plus, from the playbook, the
    ``stat`` of the path itself (not followed: symlink and where it resolves) and the ``namei -l``
    command result; ``ticket_keys`` are ``find`` results.
    """
    files = list(facts.get("key_files") or [])
    for item in facts.get("key_stat") or []:
        followed, wanted = item[0] or {}, item[1] or {}
        own = (item[2] if len(item) > 2 else None) or {}
        walk = _rc_int(item[3] if len(item) > 3 else None)
        symlink = bool(own.get("islnk"))
        files.append(
            {
                "path": wanted.get("path"),
                "kind": wanted.get("kind", "key"),
                "within": wanted.get("within"),
                "exists": bool(followed.get("exists")),
                "mode": followed.get("mode", "0"),
                "owner": followed.get("pw_name"),
                "symlink": symlink,
                "resolved": own.get("lnk_source") if symlink else wanted.get("path"),
                "link_target": own.get("lnk_target"),
                "walk": walk["stdout"] if walk and walk.get("rc") == 0 else None,
            }
        )
    for found in facts.get("ticket_keys") or []:
        files.append(
            {
                "path": found.get("path"),
                "kind": "ticket_key",
                "exists": True,
                "mode": found.get("mode", "0"),
                "owner": found.get("pw_name"),
            }
        )
    return files


def units_from(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """Unit ratings from the playbook's raw (unit, command result) pairs, or a normalised list."""
    units = []
    for item in facts.get("units") or []:
        if isinstance(item, list | tuple):
            name, result = item
            units.append(
                {
                    "unit": name,
                    "rc": result.get("rc"),
                    "stdout": result.get("stdout"),
                    "stderr": result.get("stderr"),
                }
            )
        else:
            units.append(item)
    return units


def judge_host(
    facts: dict[str, Any],
    policy: str | dict[str, Any],
    *,
    overrides: dict[str, Any] | None = None,
    max_exposure: float = MAX_UNIT_EXPOSURE,
) -> list[Finding]:
    """Every host-side finding from the facts the compliance playbook gathered on one host."""
    findings = judge_key_files(key_files_from(facts))
    findings += judge_drift(
        _rc_int(facts.get("nginx")), policy, facts.get("openssl_version") or None, overrides
    )
    findings += judge_units(units_from(facts), max_exposure)
    findings += judge_template_store(_rc_int(facts.get("template_store")))
    return findings


def _rc_int(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """Command results templated by Ansible may carry the return code as a string."""
    if not result:
        return result
    try:
        return {**result, "rc": int(result.get("rc"))}  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return result
