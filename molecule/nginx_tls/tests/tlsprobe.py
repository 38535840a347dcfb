"""Probes for the nginx scenarios.

Handshake probes run `openssl s_client` inside a front-end container (so they use that host's
OpenSSL: 3.0 on Debian 12, 3.5 with X25519MLKEM768 on Debian 13) against the loopback endpoint;
HTTP probes run the scenario's https_client.py there. Re-converging runs ansible-playbook with
the scenario's own inventory.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

from tlsward.policy import load_policy, render_nginx

CLIENT_DIR = "/root/tlsward-test"
SNI = "biometric.tlsward.test"
TLS13_SUITES = (
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_CCM_8_SHA256",
)
TLS12_ONLY_GROUPS = ("brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1")
CANDIDATE_GROUPS = (
    "X25519MLKEM768",
    "SecP256r1MLKEM768",
    "X25519",
    "X448",
    "prime256v1",
    "secp384r1",
    "secp521r1",
    "brainpoolP256r1",
    "brainpoolP384r1",
    "brainpoolP512r1",
    "brainpoolP256r1tls13",
    "brainpoolP384r1tls13",
    "brainpoolP512r1tls13",
    "ffdhe2048",
    "ffdhe3072",
    "ffdhe4096",
)


def ephemeral() -> Path:
    return Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])


def controller_client() -> tuple[Path, Path]:
    """The test device's chain and key on the controller: from the tls_pki store when the
    scenario's PKI came from tls_pki, else from the fixture PKI."""
    store = ephemeral() / "pki-store" / "devices" / "device"
    if store.is_dir():
        return store / "chain.pem", store / "privkey.pem"
    return ephemeral() / "pki" / "device-chain.pem", ephemeral() / "pki" / "device.key"


def converge(*extra: str, check: bool = True, limit: str | None = None) -> subprocess.CompletedProcess:
    """Run the scenario's converge playbook again with extra arguments (e.g. -e JSON)."""
    scenario = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], str(scenario / "converge.yml")]
    if limit:
        cmd += ["--limit", limit]
    cmd += list(extra)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"converge {extra} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}")
    return proc


def extra_vars(**values: Any) -> tuple[str, str]:
    return ("-e", json.dumps(values))


def openssl_version(host: Any) -> str:
    return host.check_output("openssl version")


def rendered(host: Any, policy: str | dict = "biometric-strict") -> dict[str, Any]:
    return render_nginx(policy, openssl_version(host))


def profile(policy: str | dict = "biometric-strict") -> dict[str, Any]:
    return load_policy(policy)


def s_client_cmd(address: str, *args: str, cert: str | None = "device", port: int = 443) -> str:
    parts = ["openssl", "s_client", "-connect", f"{address}:{port}", "-servername", SNI]
    parts += ["-CAfile", f"{CLIENT_DIR}/server-root.pem", *args]
    if cert:
        parts += ["-cert", f"{CLIENT_DIR}/{cert}-chain.pem", "-key", f"{CLIENT_DIR}/{cert}.key"]
    return " ".join(shlex.quote(p) for p in parts)


def s_client(
    host: Any, address: str, *args: str, stdin: str = "", cert: str | None = "device", port: int = 443
) -> Any:
    cmd = s_client_cmd(address, *args, cert=cert, port=port)
    return host.run(f"printf %b {shlex.quote(stdin)} | timeout 10 {cmd} 2>&1")


def handshake(host: Any, address: str, *args: str, cert: str | None = "device") -> dict[str, str | None]:
    """Protocol, cipher, group and reuse of one handshake (protocol None when it failed)."""
    out = s_client(host, address, *args, cert=cert).stdout
    match = re.search(r"^(New|Reused), (\S+), Cipher is (\S+)", out, re.M)
    group = re.search(r"^(?:Negotiated TLS1\.3 group|Server Temp Key): (?:ECDH, )?([^,\s]+)", out, re.M)
    if not match or match.group(2) == "(NONE)":
        return {"protocol": None, "cipher": None, "group": None, "reused": None, "out": out}
    return {
        "protocol": match.group(2),
        "cipher": match.group(3),
        "group": group.group(1) if group else None,
        "reused": match.group(1),
        "out": out,
    }


def accepted_tls12_ciphers(host: Any, address: str) -> set[str]:
    """Every TLS 1.2 suite the client's OpenSSL knows, tried one at a time; the accepted ones."""
    probe = s_client_cmd(address, "-tls1_2", "-cipher", "CIPHER:@SECLEVEL=0")
    script = (
        "for c in $(openssl ciphers 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' | tr ':' ' '); do "
        'case "$c" in TLS_*) continue;; esac; '
        f"if timeout 5 {probe.replace('CIPHER', '$c')} </dev/null 2>/dev/null "
        '| grep -q "Cipher is $c$"; then echo "$c"; fi; done'
    )
    return set(host.check_output(script).split())


def accepted_tls13_suites(host: Any, address: str) -> set[str]:
    out = set()
    for suite in TLS13_SUITES:
        if handshake(host, address, "-tls1_3", "-ciphersuites", suite)["cipher"] == suite:
            out.add(suite)
    return out


def known_groups(host: Any) -> list[str]:
    """Candidate groups the client's OpenSSL knows (an unknown name fails before connecting)."""
    script = (
        f"for g in {' '.join(CANDIDATE_GROUPS)}; do "
        'if openssl s_client -groups "$g" -connect 127.0.0.1:1 </dev/null 2>&1 '
        '| grep -qiE "Error (with command|setting)|Call to SSL_CONF_cmd"; then :; else echo "$g"; fi; done'
    )
    return host.check_output(script).split()


def accepted_groups(host: Any, address: str) -> set[str]:
    """Groups that complete a handshake (TLS 1.3, or TLS 1.2 for the pre-1.3 brainpool curves)."""
    out = set()
    for group in known_groups(host):
        for proto in ("-tls1_3", "-tls1_2"):
            if handshake(host, address, proto, "-groups", group)["protocol"]:
                out.add(group)
                break
    return out


def request(host: Any, address: str, *args: str) -> dict[str, Any]:
    cmd = " ".join(shlex.quote(a) for a in ("python3", f"{CLIENT_DIR}/https_client.py", address, *args))
    result = host.run(cmd)
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def file_sha256(host: Any, path: str) -> str:
    return host.check_output(f"sha256sum {shlex.quote(path)}").split()[0]
