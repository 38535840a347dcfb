"""``tlsward-scan``: scan TLS endpoints and judge them against a policy profile, outside Ansible.

The scan and the verdict are the ``tls_scan`` module's own (``tlsward.scan.scan`` and
``judge_record``); only the argument handling, the output formats and the exit codes live here.
Network and policy code is imported after the arguments are checked, so ``--help`` and argument
errors answer at once.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TextIO

from tlsward.policy import DEFAULT_POLICY
from tlsward.severities import SEVERITIES

PROG = "tlsward-scan"
DEFAULT_PORT = 443
# Stricter than the modules' threshold (tlsward.defaults.DEFAULT_FAIL_SEVERITY, high): from a shell
# or a CI job every failed finding from low up counts unless --fail-on says otherwise.
DEFAULT_FAIL_ON = "low"
FORMATS = ("json", "sarif", "junit", "html", "prometheus", "cbom")

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_SEVERITY_BASE = 10  # + the failed severity's position in SEVERITIES: info 10 ... critical 14
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\
exit codes:
  0   no finding at or above --fail-on failed
  2   bad argument (unknown option, malformed HOST[:PORT], missing file, unknown profile, ...)
  3   an endpoint could not be scanned: name not resolved, connection refused or timed out,
      TLS handshake refused (the output is still written for the endpoints given)
  10  the worst failed finding at or above --fail-on is info
  11  ... is low
  12  ... is medium
  13  ... is high
  14  ... is critical
  130 interrupted

A progress line per endpoint goes to standard error when it is a terminal; piped, standard
error carries only error lines and standard output only the chosen format."""

# Host names as DNS allows them (letters, digits, hyphens, dots; underscores occur in practice).
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_-]{1,63})*\.?$")


@dataclass(frozen=True)
class Endpoint:
    """One ``HOST[:PORT]`` argument: ``host`` without brackets, ``port`` defaulted to 443."""

    host: str
    port: int = DEFAULT_PORT

    @property
    def label(self) -> str:
        """``host:port``, with an IPv6 address in brackets (``[::1]:8443``)."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _port(text: str, arg: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{arg!r} - port {text!r} is not a number")
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{arg!r} - port {port} is not in 1-65535")
    return port


def _ipv6(text: str, arg: str) -> str:
    try:
        return str(ipaddress.IPv6Address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{arg!r} - {text!r} is not an IPv6 address") from None


def parse_endpoint(arg: str) -> Endpoint:
    """``host``, ``host:port``, ``1.2.3.4:port``, ``[v6]``, ``[v6]:port`` or a bare IPv6 address."""
    text = arg.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise argparse.ArgumentTypeError(f"{arg!r} - no ']' after the IPv6 address")
        host, rest = _ipv6(text[1:end], arg), text[end + 1 :]
        if not rest:
            return Endpoint(host)
        if not rest.startswith(":"):
            raise argparse.ArgumentTypeError(f"{arg!r} - expected ':PORT' after ']'")
        return Endpoint(host, _port(rest[1:], arg))
    if text.count(":") > 1:
        # A bare IPv6 address; with a port it has to be written [ADDRESS]:PORT.
        try:
            return Endpoint(str(ipaddress.IPv6Address(text)))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{arg!r} - not an IPv6 address (write an IPv6 address with a port as [ADDRESS]:PORT)"
            ) from None
    host, sep, port_text = text.partition(":")
    port = _port(port_text, arg) if sep else DEFAULT_PORT
    if not _HOSTNAME.match(host):
        raise argparse.ArgumentTypeError(f"{arg!r} - {host!r} is not a host name or address")
    return Endpoint(host, port)


@dataclass(frozen=True)
class Peer:
    """One ``--resumption-peer``: another listener or name (``None``: the endpoint's own value)."""

    host: str | None = None
    port: int | None = None
    server_name: str | None = None


def parse_peer(arg: str) -> Peer:
    """``/NAME`` (another name on the endpoint's address and port), ``:PORT``, ``HOST[:PORT]``, or
    either of the last two followed by ``/NAME``."""
    left, sep, name = arg.strip().rpartition("/")
    if not sep:
        left, name = name, ""
    if name and not _HOSTNAME.match(name):
        raise argparse.ArgumentTypeError(f"{arg!r} - {name!r} is not a server name")
    if left.startswith(":") and left.count(":") == 1:
        return Peer(port=_port(left[1:], arg), server_name=name or None)
    if not left:
        if not name:
            raise argparse.ArgumentTypeError(f"{arg!r} - give a HOST[:PORT], a :PORT or a /NAME")
        return Peer(server_name=name)
    endpoint = parse_endpoint(left)
    has_port = "]:" in left if left.startswith("[") else left.count(":") == 1
    return Peer(endpoint.host, endpoint.port if has_port else None, name or None)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number of seconds")
    return int(text)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on standard error (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Scan TLS endpoints with sslyze and judge them against a tlsward policy profile:\n"
        "the same scan and verdict as the tls_scan Ansible module, written to standard output.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "endpoints",
        nargs="+",
        type=parse_endpoint,
        metavar="HOST[:PORT]",
        help="endpoint(s) to scan, port 443 by default; IPv6 as [ADDRESS]:PORT, e.g. [::1]:8443",
    )
    parser.add_argument(
        "--sni", metavar="NAME", help="SNI and the name the certificate must hold (default: HOST)"
    )
    parser.add_argument(
        "--policy",
        metavar="P",
        default=DEFAULT_POLICY,
        help="profile name or profile file (default %(default)s)",
    )
    parser.add_argument(
        "--environment",
        metavar="ENV",
        default="production",
        help="deployment environment; production forbids wildcard certificates (default %(default)s)",
    )
    parser.add_argument(
        "--ca-file",
        metavar="F",
        type=Path,
        help="PEM trust anchors for the server chain (default: sslyze's bundled trust stores)",
    )
    parser.add_argument("--client-cert", metavar="C", type=Path, help="PEM client certificate chain (mTLS)")
    parser.add_argument("--client-key", metavar="K", type=Path, help="private key of --client-cert")
    parser.add_argument(
        "--target-openssl",
        metavar="V",
        help="the target's OpenSSL version (e.g. 3.0.15): key-exchange groups are judged against it",
    )
    parser.add_argument(
        "--resumption-peer",
        dest="resumption_peers",
        action="append",
        default=[],
        type=parse_peer,
        metavar="PEER",
        help="another listener or name of the service whose sessions must not open the endpoint "
        "without its own client verification: /NAME, :PORT, HOST[:PORT], each optionally with /NAME "
        "(repeatable; a name no server is configured for is always tried)",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="json", help="output on standard output (default %(default)s)"
    )
    parser.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        default=DEFAULT_FAIL_ON,
        metavar="SEVERITY",
        help=f"lowest failed severity that makes the run non-compliant and the exit code non-zero; "
        f"one of {', '.join(SEVERITIES)} (default %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_int,
        default=5,
        metavar="SECONDS",
        help="network timeout per connection (default %(default)s)",
    )
    return parser


def _check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Everything that can be checked without the network; errors exit with code 2."""
    from tlsward.errors import TlswardError  # noqa: PLC0415 - kept off --help's path
    from tlsward.policy import groups_for, load_policy  # noqa: PLC0415

    if (args.client_cert is None) != (args.client_key is None):
        parser.error("--client-cert and --client-key go together")
    for option, path in (
        ("--ca-file", args.ca_file),
        ("--client-cert", args.client_cert),
        ("--client-key", args.client_key),
    ):
        if path is not None and not path.expanduser().is_file():
            parser.error(f"{option} {path}: not a readable file")
    if args.sni is not None and not _HOSTNAME.match(args.sni):
        parser.error(f"--sni {args.sni!r}: not a host name")
    try:
        args.policy_data = load_policy(args.policy)
        if args.target_openssl is not None:
            groups_for(args.policy_data, args.target_openssl)
    except TlswardError as exc:
        parser.error("; ".join(exc.problems))


def exit_code(results: list[dict[str, Any]], fail_on: str = DEFAULT_FAIL_ON) -> int:
    """0 when no finding at or above ``fail_on`` failed, else 10 + the worst such severity's position."""
    limit = SEVERITIES.index(fail_on)
    worst = -1
    for result in results:
        for finding in result["findings"]:
            if not finding["passed"]:
                worst = max(worst, SEVERITIES.index(finding["severity"]))
    return EXIT_OK if worst < limit else EXIT_SEVERITY_BASE + worst


# sslyze's connectivity errors (the class name on the last line of its trace) in a few words.
_REASONS = {
    "ServerRejectedConnection": "connection refused",
    "ConnectionToServerTimedOut": "connection timed out",
    "ServerRejectedTlsHandshake": "TLS handshake refused",
    "TlsHandshakeTimedOut": "TLS handshake timed out",
    "ServerTlsConfigurationNotSupported": "TLS handshake failed",
    "ServerRejectedOpportunisticTlsNegotiation": "TLS negotiation refused",
}
_SSLYZE_ERROR = re.compile(r'^sslyze\.errors\.(?P<kind>\w+): .*? -> "(?P<detail>.*)"\.?$')


def unreachable_reason(result: dict[str, Any]) -> str | None:
    """Why the endpoint of a judged result could not be scanned, or None when it was.

    Read from the ``connectivity`` finding the judge makes when no TLS handshake completed.
    """
    for finding in result["findings"]:
        if finding["id"] != "connectivity":
            continue
        if finding["passed"]:
            return None
        error = str(finding["evidence"].get("error") or "")
        match = _SSLYZE_ERROR.match(error)
        if match is None:
            return error or "no TLS handshake completed"
        reason = _REASONS.get(match["kind"], "could not connect")
        detail = match["detail"]
        # sslyze says "Server rejected the connection" for a refused TCP connection too: no need to repeat.
        return reason if match["kind"] == "ServerRejectedConnection" else f"{reason} ({detail})"
    return None


def needs_client_certificate(result: dict[str, Any]) -> bool:
    """True when the endpoint's handshake asked for a client certificate and would not go on without one."""
    for finding in result["findings"]:
        if finding["id"] == "connectivity":
            required = finding["evidence"].get("client_auth_requirement") == "REQUIRED"
            return bool(finding["passed"] and required)
    return False


def _formatter(fmt: str) -> Callable[[dict[str, Any]], str]:
    """The renderer of a compliance report in ``fmt``; each format's module is imported only when chosen."""
    if fmt == "sarif":
        from tlsward.report.sarif import to_sarif  # noqa: PLC0415

        return lambda report: json.dumps(to_sarif(report), indent=1, sort_keys=True, default=str) + "\n"
    if fmt == "junit":
        from tlsward.report.junit import to_junit  # noqa: PLC0415

        return to_junit
    if fmt == "html":
        from tlsward.report.html import to_html  # noqa: PLC0415

        return to_html
    if fmt == "prometheus":
        from tlsward.report.prometheus import to_text  # noqa: PLC0415

        return to_text
    if fmt == "cbom":
        from tlsward.report.cbom import to_cbom  # noqa: PLC0415

        return to_cbom
    raise ValueError(f"no report renderer for format {fmt!r}")


def render(
    fmt: str,
    results: list[dict[str, Any]],
    *,
    policy_name: str,
    fail_on: str,
    single: bool,
    renderer: Callable[[dict[str, Any]], str] | None = None,
    sslyze_version: str = "",
) -> str:
    """The text written to standard output for judged ``results``."""
    if fmt == "json":
        from tlsward.scan import scan_payload  # noqa: PLC0415

        return json.dumps(scan_payload(results, single=single), indent=1, sort_keys=True, default=str) + "\n"
    from tlsward import __version__  # noqa: PLC0415
    from tlsward.report.model import build_report  # noqa: PLC0415

    tools = {"tlsward": __version__}
    if sslyze_version:
        tools["sslyze"] = sslyze_version
    report = build_report(tls_results=results, policy=policy_name, fail_severity=fail_on, tool_versions=tools)
    text = (renderer or _formatter(fmt))(report)
    return text if text.endswith("\n") else text + "\n"


def _summary(result: dict[str, Any]) -> str:
    findings = result["findings"]
    failed = [f for f in findings if not f["passed"]]
    verdict = (
        f"{len(failed)} failed (worst {result['worst_failed_severity']})" if failed else "no failed finding"
    )
    return f"{len(findings)} checks, {verdict}, {result['seconds']:.1f} s"


def _say(stream: TextIO, line: str) -> None:
    stream.write(f"{PROG}: {line}\n")
    stream.flush()


def _write(stream: TextIO, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        # The reader went away (``| head``): send the rest to /dev/null so that closing the stream
        # at exit does not fail again; the exit code still tells the verdict.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Scan and judge every endpoint of checked ``args``, write the output, return the exit code."""
    try:
        renderer = None if args.format == "json" else _formatter(args.format)
    except ImportError as exc:
        _say(stderr, f"--format {args.format} is not available in this installation ({exc})")
        return EXIT_USAGE
    from tlsward.errors import TlswardError  # noqa: PLC0415
    from tlsward.scan import Identity, Target, judge_record, scan  # noqa: PLC0415
    from tlsward.scan.model import Listener  # noqa: PLC0415
    from tlsward.scan.netutil import resolve  # noqa: PLC0415

    progress = stderr.isatty()
    endpoints = list(dict.fromkeys(args.endpoints))  # each endpoint once, in the order given
    for ep in endpoints:
        try:
            resolve(ep.host, ep.port)
        except TlswardError as exc:
            _say(stderr, f"{ep.label} - {'; '.join(exc.problems)}")
            return EXIT_UNREACHABLE
    client = (
        Identity(args.client_cert.expanduser(), args.client_key.expanduser()) if args.client_cert else None
    )
    targets = [
        Target(
            host=ep.host,
            port=ep.port,
            server_name=args.sni,
            name=ep.label,
            policy=args.policy_data,
            environment=args.environment,
            ca_file=args.ca_file.expanduser() if args.ca_file else None,
            client=client,
            timeout=float(args.timeout),
            resumption_peers=tuple(Listener(p.host, p.port, p.server_name) for p in args.resumption_peers),
            openssl_version=args.target_openssl,
        )
        for ep in endpoints
    ]
    if progress:
        _say(stderr, f"scanning {', '.join(ep.label for ep in endpoints)} against {args.policy_data['name']}")
    try:
        records = scan(targets)
    except TlswardError as exc:
        _say(stderr, "; ".join(exc.problems))
        return EXIT_USAGE
    results = [judge_record(r, t, fail_severity=args.fail_on) for r, t in zip(records, targets, strict=True)]
    unreachable = False
    for result in results:
        reason = unreachable_reason(result)
        if reason is not None:
            unreachable = True
            _say(stderr, f"{result['name']} - {reason}")
            continue
        if progress:
            _say(stderr, f"{result['name']} - {_summary(result)}")
        if client is None and needs_client_certificate(result):
            # Not an error (the endpoint was judged), but the checks that need a handshake past the
            # client certificate are undecided: say why, terminal or not.
            _say(
                stderr,
                f"{result['name']} - the endpoint requires a client certificate; without --client-cert "
                "and --client-key the checks that need one are undecided",
            )
    text = render(
        args.format,
        results,
        policy_name=args.policy_data["name"],
        fail_on=args.fail_on,
        single=len(results) == 1,
        renderer=renderer,
        sslyze_version=str(records[0].get("scanner", {}).get("sslyze", "")),
    )
    _write(stdout, text)
    return EXIT_UNREACHABLE if unreachable else exit_code(results, args.fail_on)


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: parse and check the arguments (exit 2 on a bad one), scan, judge, write."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_arguments(parser, args)
    try:
        return run(args, sys.stdout, sys.stderr)
    except KeyboardInterrupt:
        _say(sys.stderr, "interrupted")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
