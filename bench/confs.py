"""The nginx TLS configurations the benchmarks compare.

``tlsward`` takes every TLS parameter from the profile through ``tlsward.policy.render_nginx``
(as the ``nginx_tls`` role does); the two comparison configurations are Mozilla's
"intermediate" recommendation with an RSA-2048 certificate (its protocols, groups and TLS 1.2
suites from the ``mozilla-intermediate`` profile, the TLS 1.3 suites left to OpenSSL as Mozilla's
generator leaves them), and Debian's stock ``nginx.conf`` TLS lines with
``snippets/snakeoil.conf`` (RSA-2048 self-signed), written out here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bench.certs import SERVER_NAME, Pair, Pki
from bench.nginx import Nginx, render
from tlsward.policy import DEFAULT_POLICY, render_nginx

# Mozilla's Intermediate configuration comes from the profile that follows the guidelines.
MOZILLA_INTERMEDIATE = "mozilla-intermediate"


@dataclasses.dataclass
class Session:
    """Session resumption settings (the benchmarks turn them off to measure full handshakes)."""

    tickets: bool = False
    cache: bool = False
    timeout_seconds: int = 3600
    ticket_key: Path | None = None

    def lines(self, zone: str) -> list[str]:
        out = [f"ssl_session_tickets {'on' if self.tickets else 'off'}"]
        if self.tickets and self.ticket_key is not None:
            out.append(f"ssl_session_ticket_key {self.ticket_key}")
        out.append(f"ssl_session_cache shared:{zone}:10m" if self.cache else "ssl_session_cache off")
        out.append(f"ssl_session_timeout {self.timeout_seconds}s")
        return out


def _cert_lines(pair: Pair) -> list[str]:
    return [f"ssl_certificate {pair.cert}", f"ssl_certificate_key {pair.key}"]


def tlsward_ssl(
    pki: Pki,
    session: Session,
    *,
    openssl_version: str | None = None,
    mtls: bool = False,
    early_data: bool = False,
    policy: str = DEFAULT_POLICY,
) -> list[str]:
    """The profile's TLS settings as nginx directives (certificate: the ECDSA P-256 leaf)."""
    tls = render_nginx(policy, openssl_version=openssl_version)
    lines = [
        f"ssl_protocols {tls['ssl_protocols']}",
        f"ssl_conf_command Ciphersuites {tls['ciphersuites']}",
        f"ssl_ecdh_curve {tls['ssl_ecdh_curve']}",
        f"ssl_prefer_server_ciphers {tls['ssl_prefer_server_ciphers']}",
    ]
    if tls["ssl_ciphers"]:
        lines.append(f"ssl_ciphers {tls['ssl_ciphers']}")
    lines += _cert_lines(pki.ecdsa)
    lines += session.lines("tlsward")
    if mtls:
        lines += [
            f"ssl_client_certificate {pki.device_ca}",
            "ssl_verify_client on",
            f"ssl_verify_depth {tls['verify_depth']}",
        ]
    if tls["hsts"]:
        lines.append(f'add_header Strict-Transport-Security "{tls["hsts"]}" always')
    lines.append(f"ssl_early_data {'on' if early_data else 'off'}")
    return lines


def mozilla_intermediate_ssl(pki: Pki, session: Session, *, openssl_version: str | None = None) -> list[str]:
    """The generator's nginx TLS lines for Intermediate, from the profile (groups per OpenSSL)."""
    tls = render_nginx(MOZILLA_INTERMEDIATE, openssl_version=openssl_version)
    return [
        f"ssl_protocols {tls['ssl_protocols']}",
        f"ssl_ecdh_curve {tls['ssl_ecdh_curve']}",
        f"ssl_ciphers {tls['ssl_ciphers']}",
        f"ssl_prefer_server_ciphers {tls['ssl_prefer_server_ciphers']}",
        *_cert_lines(pki.rsa),
        *session.lines("MozSSL"),
    ]


def debian_stock_ssl(pki: Pki, session: Session) -> list[str]:
    # nginx.conf of Debian's nginx package + snippets/snakeoil.conf; everything else nginx's default.
    return [
        "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3",
        "ssl_prefer_server_ciphers on",
        *_cert_lines(pki.snakeoil),
        *session.lines("stock"),
    ]


def ok_location() -> tuple[str, list[str]]:
    return ("/", ['return 200 "ok\\n"'])


def write_server(
    server: Nginx,
    title: str,
    ssl_lines: list[str],
    *,
    keepalive_requests: int = 1,
    locations: list[tuple[str, list[str]]] | None = None,
    http_lines: list[str] | None = None,
    server_lines: list[str] | None = None,
    access_log: bool = True,
) -> None:
    server.write(
        render(
            "nginx.conf.j2",
            title=title,
            root=server.root,
            user=server.user,
            listen=server.listen,
            server_name=SERVER_NAME,
            keepalive_requests=keepalive_requests,
            ssl_lines=ssl_lines,
            server_lines=server_lines or [],
            http_lines=http_lines or [],
            locations=locations or [ok_location()],
            access_log=access_log,
        )
    )
