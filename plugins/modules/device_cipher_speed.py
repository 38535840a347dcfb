#!/usr/bin/python
"""Ansible module device_cipher_speed: AEAD throughput of this host's OpenSSL (openssl speed)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: device_cipher_speed
short_description: Measure AES-128-GCM and ChaCha20-Poly1305 throughput on this host with openssl speed
description:
  - Runs C(openssl speed -evp CIPHER) for each cipher on the host it runs on (a device, or a
    device-like client) and returns bytes per second at one record size.
  - With I(mask_aes_instructions) the CPU's AES instructions are hidden from OpenSSL
    (C(OPENSSL_ia32cap) on x86, C(OPENSSL_armcap) keeping only NEON on ARM), which shows what a
    device class without AES hardware gets.
  - Returns the TLS 1.3 suite order this host should offer first (the faster AEAD first).
  - Read-only; supports check mode.
options:
  ciphers:
    description: OpenSSL EVP cipher names.
    type: list
    elements: str
    default: [aes-128-gcm, chacha20-poly1305]
  seconds:
    description: Seconds per cipher (bounds the run).
    type: int
    default: 1
  block_bytes:
    description: Buffer size per operation; 16384 is a full TLS record.
    type: int
    default: 16384
  mask_aes_instructions:
    description: Hide the CPU's AES instructions from OpenSSL.
    type: bool
    default: false
  openssl:
    description: The openssl binary.
    type: str
    default: openssl
author:
  - tlsward maintainers (@tlsward)
"""

EXAMPLES = r"""
- name: Measure AEAD throughput without AES instructions
  device_cipher_speed:
    mask_aes_instructions: true
  register: speed
"""

RETURN = r"""
bytes_per_second:
  description: Throughput per cipher name.
  type: dict
  returned: always
hardware_aes:
  description: Whether the CPU advertises AES instructions (/proc/cpuinfo), before any masking.
  type: bool
  returned: always
masked:
  description: The environment variable used to mask AES instructions, or null.
  type: str
  returned: always
preferred_tls13_ciphersuites:
  description: TLS 1.3 suites, the faster AEAD first, for this host as measured.
  type: list
  returned: always
openssl_version:
  description: C(openssl version) of the host.
  type: str
  returned: always
"""

import platform
import re
from typing import Any

from ansible.module_utils.basic import AnsibleModule

SUITES = {
    "aes-128-gcm": "TLS_AES_128_GCM_SHA256",
    "chacha20-poly1305": "TLS_CHACHA20_POLY1305_SHA256",
}
# x86: AES-NI (bit 57) and PCLMULQDQ (bit 33) off. The ":~0" keeps the extended-feature words:
# without it OpenSSL zeroes them too (AVX2, AVX-512), which also slows ChaCha20-Poly1305 and is not
# what a CPU lacking only AES instructions looks like.
IA32_MASK = "~0x200000200000000:~0"
# ARM: keep NEON (bit 0, which ChaCha20 uses), drop the AES/PMULL/SHA extensions.
ARM_MASK = "0x1"


def hardware_aes() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return False
    return bool(re.search(r"^(flags|Features)\s*:.*\baes\b", text, re.MULTILINE))


def mask_env() -> tuple[str, str] | None:
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64", "i386", "i686"):
        return ("OPENSSL_ia32cap", IA32_MASK)
    if machine.startswith(("arm", "aarch64")):
        return ("OPENSSL_armcap", ARM_MASK)
    return None


def parse_speed(text: str, cipher: str) -> float:
    """The cipher's line of ``openssl speed`` (1000s of bytes per second) in bytes per second."""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].lower() == cipher.lower() and parts[-1].endswith("k"):
            return float(parts[-1][:-1]) * 1000
    raise ValueError(f"no throughput line for {cipher} in openssl speed output")


def preferred(speeds: dict[str, float]) -> list[str]:
    ranked = sorted((c for c in speeds if c in SUITES), key=lambda c: speeds[c], reverse=True)
    return [SUITES[c] for c in ranked] + ["TLS_AES_256_GCM_SHA384"]


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "ciphers": {"type": "list", "elements": "str", "default": list(SUITES)},
            "seconds": {"type": "int", "default": 1},
            "block_bytes": {"type": "int", "default": 16384},
            "mask_aes_instructions": {"type": "bool", "default": False},
            "openssl": {"type": "str", "default": "openssl"},
        },
        supports_check_mode=True,
    )
    params: dict[str, Any] = module.params
    problems = []
    if not 1 <= params["seconds"] <= 30:
        problems.append(f"seconds={params['seconds']}: must be 1..30")
    if not 16 <= params["block_bytes"] <= 1 << 20:
        problems.append(f"block_bytes={params['block_bytes']}: must be 16..1048576")
    if problems:
        module.fail_json(msg="device_cipher_speed: " + "; ".join(problems), problems=problems)
    openssl = module.get_bin_path(params["openssl"], required=True)
    env: dict[str, str] = {}
    masked = None
    if params["mask_aes_instructions"]:
        mask = mask_env()
        if mask is None:
            module.fail_json(msg=f"device_cipher_speed: cannot mask AES instructions on {platform.machine()}")
        env[mask[0]] = mask[1]
        masked = f"{mask[0]}={mask[1]}"
    speeds: dict[str, float] = {}
    for cipher in params["ciphers"]:
        argv = [openssl, "speed", "-seconds", str(params["seconds"]), "-bytes", str(params["block_bytes"])]
        argv += ["-evp", cipher]
        rc, out, err = module.run_command(argv, environ_update=env)
        if rc != 0:
            module.fail_json(msg=f"device_cipher_speed: {' '.join(argv)} exited {rc}", stderr=err)
        try:
            speeds[cipher] = parse_speed(out, cipher)
        except ValueError as exc:
            module.fail_json(msg=f"device_cipher_speed: {exc}", stdout=out)
    _rc, version, _err = module.run_command([openssl, "version"])
    module.exit_json(
        changed=False,
        bytes_per_second=speeds,
        hardware_aes=hardware_aes(),
        masked=masked,
        preferred_tls13_ciphersuites=preferred(speeds),
        openssl_version=version.strip(),
        machine=platform.machine(),
        block_bytes=params["block_bytes"],
    )


if __name__ == "__main__":
    main()
