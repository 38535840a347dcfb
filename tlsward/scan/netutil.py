"""Name resolution for scan targets."""

from __future__ import annotations

import ipaddress
import socket

from tlsward.errors import TlswardError


def resolve(host: str, port: int) -> str:
    """The address sslyze connects to: ``host`` itself when it is an address, else its first IPv4 address."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TlswardError("tls_scan", f"cannot resolve {host!r}: {exc}") from exc
    v4 = [i[4][0] for i in infos if i[0] == socket.AF_INET]
    return str(v4[0] if v4 else infos[0][4][0])
