"""``tlsward-biometric`` command: serve the API, check the configuration, operate keys.

    tlsward-biometric [--env-file FILE] serve | check [--config-only] | keys
                                        | rotate [--target K] [--max-records N]
                                        | retire KEY_ID | unlock --group GROUP SUBJECT_ID
                                        | adopt-group GROUP [--max-records N]

``serve`` uses the socket systemd passes (socket activation) or binds ``socket_path`` itself
(mode 0660). The operator commands act on the store directly, as the service user, with an
operator's grant (``authz``); the audit events name them ``cli:<local user>``.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import os
import re
import socket
import sys
from pathlib import Path

import uvicorn
from pydantic import ValidationError

from tlsward_biometric.authz import Action, Grant, authorize
from tlsward_biometric.errors import ConfigurationError, ServiceError
from tlsward_biometric.identity import NAME_PATTERN, DeviceIdentity, Role
from tlsward_biometric.settings import Settings
from tlsward_biometric.wiring import build_service, check_config

SD_LISTEN_FDS_START = 3


def systemd_socket() -> int | None:
    """The first socket systemd passed to this process, if any (sd_listen_fds protocol)."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return None
    if int(os.environ.get("LISTEN_FDS", "0")) < 1:
        return None
    return SD_LISTEN_FDS_START


def bind_unix_socket(path: Path, mode: int = 0o660) -> socket.socket:
    """A listening unix socket at ``path`` with ``mode`` (never world-accessible)."""
    if path.is_socket():
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, mode)
    sock.listen(128)
    return sock


def serve(settings: Settings) -> None:
    build_service(settings).store.close()  # fail fast, in the parent, on a bad configuration
    fd = systemd_socket()
    sock = None
    if fd is None:
        sock = bind_unix_socket(settings.socket_path)
        fd = sock.fileno()
    uvicorn.run(
        "tlsward_biometric.api:create_app_from_env",
        factory=True,
        fd=fd,
        workers=settings.workers,
        log_level=settings.log_level,
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )


def _operator(group: str = "") -> Grant:
    user = getpass.getuser()
    who = DeviceIdentity(f"cli:{user}", Role.OPERATOR, "", "", f"local user {user}")
    return authorize(who, Action.ADMIN, group)


def _group(value: str) -> str:
    if not re.match(NAME_PATTERN, value):
        raise argparse.ArgumentTypeError(f"{value!r} does not match {NAME_PATTERN}")
    return value


def _print(value: object) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    print(json.dumps(value, indent=2, sort_keys=True))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tlsward-biometric", description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", type=Path, help="read TLSWARD_BIO_* settings from this file")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="serve the API")
    check = sub.add_parser("check", help="load settings, keys and store; exit 1 on a problem")
    check.add_argument("--config-only", action="store_true", help="settings and keys only, not the store")
    sub.add_parser("keys", help="show loaded, active and retired keys and their usage")
    rotate = sub.add_parser("rotate", help="re-encrypt records to the active (or --target) key")
    rotate.add_argument("--target")
    rotate.add_argument("--max-records", type=int)
    retire = sub.add_parser("retire", help="retire a key that no record uses")
    retire.add_argument("key_id")
    unlock = sub.add_parser("unlock", help="re-enable a locked subject")
    unlock.add_argument("--group", type=_group, required=True, help="the subject's group")
    unlock.add_argument("subject_id")
    adopt = sub.add_parser("adopt-group", help="move subjects enrolled before groups existed into GROUP")
    adopt.add_argument("group", type=_group)
    adopt.add_argument("--max-records", type=int)
    args = parser.parse_args(argv)

    try:
        settings = Settings(_env_file=args.env_file) if args.env_file else Settings()  # type: ignore[call-arg]
        if args.command == "serve":
            serve(settings)
            return
        if args.command == "check" and args.config_only:
            check_config(settings)
            _print({"ok": True, "active_key_id": settings.active_key_id})
            return
        service = build_service(settings)
        if args.command == "check":
            _print(
                {"ok": True, "store": service.store.backend, "active_key_id": service.keyring.active_key_id}
            )
        elif args.command == "keys":
            _print(service.key_status())
        elif args.command == "rotate":
            _print(service.rotate(_operator(), args.target, args.max_records))
        elif args.command == "retire":
            changed = service.retire(_operator(), args.key_id)
            _print({"key_id": args.key_id, "retired": True, "changed": changed})
        elif args.command == "unlock":
            service.unlock(_operator(args.group), args.subject_id)
            _print({"subject_id": args.subject_id, "group": args.group, "unlocked": True})
        elif args.command == "adopt-group":
            moved = service.adopt_group(_operator(args.group), args.group, args.max_records)
            _print({"group": args.group, "adopted": moved})
        service.store.close()
    except ValidationError as exc:
        sys.exit(f"tlsward-biometric: invalid settings: {exc}")
    except ConfigurationError as exc:
        sys.exit(f"tlsward-biometric: configuration error: {exc}")
    except ServiceError as exc:
        sys.exit(f"tlsward-biometric: {exc.error}: {exc.detail}")
