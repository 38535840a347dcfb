"""CycloneDX 1.6 cryptographic bill of materials (CBOM): what each scanned endpoint speaks.

``to_cbom`` builds one BOM with cyclonedx-python-lib's model and writes it with its JSON
outputter for schema 1.6. Every inventory host with a TLS endpoint is a component (type
``application``) whose nested ``cryptographic-asset`` components are, as observed by the scan:

- ``protocol`` assets: each accepted protocol version, with the cipher suites accepted under it
  (IANA name, code point, references to their algorithms) and the key-exchange groups;
- ``algorithm`` assets: key exchange, authentication, bulk cipher (mode, key size), MAC or key
  derivation of those suites, each supported group, the leaf key's algorithm;
- ``certificate`` assets: every certificate of the chain (subject, issuer, validity); the leaf
  references its public key, a ``related-crypto-material`` asset holding the key size.

Everything comes from the report alone: protocols from the ``protocol.*`` findings, suites from
``cipher.<version>.not_in_policy``, groups from ``kex.groups``, the leaf key from
``cert.key_type`` and the chain from the host's ``certificates``. A suite is broken into its
algorithms with the local OpenSSL's description of it (``openssl ciphers -V``); a suite OpenSSL
does not know is listed by name alone.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.crypto import (
    AlgorithmProperties,
    CertificateProperties,
    CryptoAssetType,
    CryptoFunction,
    CryptoMode,
    CryptoPrimitive,
    CryptoProperties,
    ProtocolProperties,
    ProtocolPropertiesCipherSuite,
    ProtocolPropertiesType,
    RelatedCryptoMaterialProperties,
    RelatedCryptoMaterialType,
)
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion

from tlsward import __version__
from tlsward.openssl_ciphers import CipherSuite, OpenSSLError, lookup_suite
from tlsward.report.sarif import endpoint_label

SCHEMA_VERSION = SchemaVersion.V1_6
# Finding id suffix -> component name, protocol type, version.
PROTOCOLS = (
    ("ssl2_0", "SSLv2", ProtocolPropertiesType.OTHER, "2.0"),
    ("ssl3_0", "SSLv3", ProtocolPropertiesType.OTHER, "3.0"),
    ("tls1_0", "TLSv1.0", ProtocolPropertiesType.TLS, "1.0"),
    ("tls1_1", "TLSv1.1", ProtocolPropertiesType.TLS, "1.1"),
    ("tls1_2", "TLSv1.2", ProtocolPropertiesType.TLS, "1.2"),
    ("tls1_3", "TLSv1.3", ProtocolPropertiesType.TLS, "1.3"),
)
# Classical security strength (bits) of finite-field / RSA moduli (NIST SP 800-57 part 1, table 2).
_MODULUS_STRENGTH = ((15360, 256), (7680, 192), (3072, 128), (2048, 112), (1024, 80))
_CURVES = {  # OpenSSL / SECG name -> (curve name, classical strength)
    "prime256v1": ("secp256r1", 128),
    "secp256r1": ("secp256r1", 128),
    "secp384r1": ("secp384r1", 192),
    "secp521r1": ("secp521r1", 256),
    "brainpoolP256r1": ("brainpoolP256r1", 128),
    "brainpoolP384r1": ("brainpoolP384r1", 192),
    "brainpoolP512r1": ("brainpoolP512r1", 256),
    "X25519": ("Curve25519", 128),
    "X448": ("Curve448", 224),
}
# Hybrid post-quantum groups -> (classical curve, classical strength, NIST PQC category).
_HYBRIDS = {
    "X25519MLKEM768": ("Curve25519", 128, 3),
    "SecP256r1MLKEM768": ("secp256r1", 128, 3),
    "SecP384r1MLKEM1024": ("secp384r1", 192, 5),
}
_ENC = re.compile(r"^(?P<base>[A-Z0-9]+?)(?P<mode>GCM|CCM8|CCM)?\((?P<bits>\d+)\)$")
_KX = {  # OpenSSL Kx column -> (name, primitive)
    "ECDH": ("ECDHE", CryptoPrimitive.KEY_AGREE),
    "DH": ("DHE", CryptoPrimitive.KEY_AGREE),
    "RSA": ("RSA", CryptoPrimitive.PKE),
    "ECDHEPSK": ("ECDHE-PSK", CryptoPrimitive.KEY_AGREE),
    "DHEPSK": ("DHE-PSK", CryptoPrimitive.KEY_AGREE),
    "RSAPSK": ("RSA-PSK", CryptoPrimitive.PKE),
    "PSK": ("PSK", CryptoPrimitive.OTHER),
    "ECDH/RSA": ("ECDH", CryptoPrimitive.KEY_AGREE),
    "ECDH/ECDSA": ("ECDH", CryptoPrimitive.KEY_AGREE),
    "DH/RSA": ("DH", CryptoPrimitive.KEY_AGREE),
    "DH/DSS": ("DH", CryptoPrimitive.KEY_AGREE),
}
_AU = {"RSA": "RSA", "ECDSA": "ECDSA", "DSS": "DSA"}
_MAC = {"SHA1": "HMAC-SHA1", "SHA256": "HMAC-SHA256", "SHA384": "HMAC-SHA384", "MD5": "HMAC-MD5"}


def modulus_strength(bits: int) -> int | None:
    return next((strength for size, strength in _MODULUS_STRENGTH if bits >= size), None)


@dataclass(frozen=True)
class Algorithm:
    """One algorithm asset, before it becomes a component of an endpoint."""

    name: str
    primitive: CryptoPrimitive
    parameter_set: str | None = None
    curve: str | None = None
    mode: CryptoMode | None = None
    functions: tuple[CryptoFunction, ...] = ()
    classical: int | None = None
    quantum: int | None = None

    @property
    def key(self) -> str:
        return f"{self.primitive.value}:{self.name}"


# OpenSSL Enc column base names with a fixed shape: name, primitive, mode, key bits, classical strength.
_FIXED_CIPHERS = {
    "3DES": ("3DES-EDE-CBC", CryptoPrimitive.BLOCK_CIPHER, CryptoMode.CBC, 168, 112),
    "DES": ("DES-CBC", CryptoPrimitive.BLOCK_CIPHER, CryptoMode.CBC, 56, 56),
}


def cipher_algorithm(enc: str) -> Algorithm | None:
    """The bulk cipher of OpenSSL's ``Enc`` column (``AESGCM(128)``, ``CHACHA20/POLY1305(256)``...)."""
    if enc.upper() == "NONE":
        return None
    functions = (CryptoFunction.ENCRYPT, CryptoFunction.DECRYPT)
    if enc.startswith("CHACHA20/POLY1305"):
        return Algorithm("ChaCha20-Poly1305", CryptoPrimitive.AE, "256", functions=functions, classical=256)
    match = _ENC.match(enc)
    if not match:
        return Algorithm(enc, CryptoPrimitive.UNKNOWN)
    base, mode, bits = match.group("base"), match.group("mode"), int(match.group("bits"))
    if base in _FIXED_CIPHERS:
        name, primitive, fixed_mode, size, strength = _FIXED_CIPHERS[base]
        return Algorithm(name, primitive, str(size), mode=fixed_mode, functions=functions, classical=strength)
    if base == "RC4":
        return Algorithm(f"RC4-{bits}", CryptoPrimitive.STREAM_CIPHER, str(bits), functions=functions)
    if mode:
        name, primitive = f"{base}-{bits}-{mode}", CryptoPrimitive.AE
        crypto_mode = CryptoMode.GCM if mode == "GCM" else CryptoMode.CCM
    else:  # every block cipher of TLS <= 1.2 without an AEAD mode runs in CBC
        name, primitive, crypto_mode = f"{base}-{bits}-CBC", CryptoPrimitive.BLOCK_CIPHER, CryptoMode.CBC
    return Algorithm(name, primitive, str(bits), mode=crypto_mode, functions=functions, classical=bits)


def suite_algorithms(suite: CipherSuite) -> list[Algorithm]:
    """Key exchange, authentication, cipher and MAC (or the AEAD suite's KDF hash) of one suite."""
    out: list[Algorithm] = []
    if suite.kx in _KX:
        name, primitive = _KX[suite.kx]
        out.append(Algorithm(name, primitive, functions=(CryptoFunction.KEYDERIVE,)))
    elif suite.kx != "any":
        out.append(Algorithm(suite.kx, CryptoPrimitive.UNKNOWN))
    if suite.au in _AU:
        out.append(Algorithm(_AU[suite.au], CryptoPrimitive.SIGNATURE, functions=(CryptoFunction.VERIFY,)))
    cipher = cipher_algorithm(suite.enc)
    if cipher is not None:
        out.append(cipher)
    if suite.mac in _MAC:
        out.append(Algorithm(_MAC[suite.mac], CryptoPrimitive.MAC, functions=(CryptoFunction.TAG,)))
    elif suite.mac == "AEAD":
        name = suite.iana_name or suite.openssl_name
        digest = next((h for h in ("SHA384", "SHA256") if name.endswith(h)), None)
        if digest:
            kdf = "HKDF" if suite.tls13 else "TLS-PRF"
            name = f"{kdf}-{digest[:3]}-{digest[3:]}"
            out.append(Algorithm(name, CryptoPrimitive.KDF, functions=(CryptoFunction.KEYDERIVE,)))
    return out


def group_algorithm(group: str) -> Algorithm:
    """A key-exchange group as an algorithm asset (curve, parameter set, strength)."""
    if group in _HYBRIDS:
        curve, classical, category = _HYBRIDS[group]
        return Algorithm(
            group,
            CryptoPrimitive.KEM,
            group,
            curve,
            functions=(CryptoFunction.ENCAPSULATE, CryptoFunction.DECAPSULATE),
            classical=classical,
            quantum=category,
        )
    if group in _CURVES:
        curve, classical = _CURVES[group]
        return Algorithm(group, CryptoPrimitive.KEY_AGREE, None, curve, classical=classical, quantum=0)
    ffdhe = re.fullmatch(r"ffdhe(\d+)", group)
    if ffdhe:
        bits = int(ffdhe.group(1))
        strength = modulus_strength(bits)
        return Algorithm(group, CryptoPrimitive.KEY_AGREE, str(bits), classical=strength, quantum=0)
    return Algorithm(group, CryptoPrimitive.KEY_AGREE)


def key_algorithm(leaf_key: dict[str, Any]) -> Algorithm:
    """The leaf certificate key's algorithm (``cert.key_type`` evidence: type, bits, curve)."""
    kind, bits, curve = str(leaf_key.get("type")), int(leaf_key.get("bits") or 0), leaf_key.get("curve")
    functions = (CryptoFunction.SIGN, CryptoFunction.VERIFY)
    sign = CryptoPrimitive.SIGNATURE
    if kind == "EC":
        name, classical = _CURVES.get(str(curve), (str(curve), None))
        return Algorithm(
            f"ECDSA-{curve}", sign, curve=name, functions=functions, classical=classical, quantum=0
        )
    if kind in ("RSA", "DSA"):
        strength = modulus_strength(bits)
        return Algorithm(
            f"{kind}-{bits}", sign, str(bits), functions=functions, classical=strength, quantum=0
        )
    if kind in ("Ed25519", "Ed448"):
        strength = 128 if kind == "Ed25519" else 224
        return Algorithm(kind, sign, curve=kind, functions=functions, classical=strength, quantum=0)
    return Algorithm(kind, CryptoPrimitive.UNKNOWN)


def describe_suite(name: str) -> CipherSuite | None:
    """OpenSSL's description of a suite by its OpenSSL (or TLS 1.3 IANA) name; None if unknown."""
    try:
        return lookup_suite(name)
    except OpenSSLError:
        return None


def _finding(host: dict[str, Any], fid: str) -> dict[str, Any] | None:
    return next((f for f in host["findings"] if f["id"] == fid), None)


def _deployments(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    """Merged certificate deployments keep one evidence per deployment (judge_cert._merge)."""
    return list(evidence["deployments"]) if "deployments" in evidence else [evidence]


def _when(stamp: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(stamp)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


class _Endpoint:
    """The crypto assets of one endpoint, each once, with bom-refs unique in the BOM."""

    def __init__(self, host: dict[str, Any]) -> None:
        self.host = host
        self.name = host["name"]
        self.assets: dict[str, Component] = {}
        self.depends: dict[str, set[str]] = {}

    def ref(self, kind: str, key: str) -> str:
        return f"{self.name}/{kind}/{key}"

    def algorithm(self, alg: Algorithm) -> str:
        ref = self.ref("algorithm", alg.key)
        if ref not in self.assets:
            self.assets[ref] = Component(
                name=alg.name,
                type=ComponentType.CRYPTOGRAPHIC_ASSET,
                bom_ref=ref,
                crypto_properties=CryptoProperties(
                    asset_type=CryptoAssetType.ALGORITHM,
                    algorithm_properties=AlgorithmProperties(
                        primitive=alg.primitive,
                        parameter_set_identifier=alg.parameter_set,
                        curve=alg.curve,
                        mode=alg.mode,
                        crypto_functions=alg.functions,
                        classical_security_level=alg.classical,
                        nist_quantum_security_level=alg.quantum,
                    ),
                ),
            )
        return ref

    def add(self, ref: str, component: Component, depends_on: set[str]) -> None:
        self.assets.setdefault(ref, component)
        self.depends.setdefault(ref, set()).update(depends_on)

    def groups(self) -> list[str]:
        finding = _finding(self.host, "kex.groups")
        if not finding or finding["status"] == "error":
            return []
        return [self.algorithm(group_algorithm(str(g))) for g in finding["evidence"].get("supported", [])]

    def protocols(self, group_refs: list[str], leaf_refs: list[str]) -> list[str]:
        refs = []
        for suffix, label, kind, version in PROTOCOLS:
            finding = _finding(self.host, f"protocol.{suffix}")
            if not finding or finding["status"] == "error" or not finding["evidence"].get("accepted"):
                continue
            suites_finding = _finding(self.host, f"cipher.{suffix}.not_in_policy")
            accepted = (
                suites_finding["evidence"].get("accepted", [])
                if suites_finding and suites_finding["status"] != "error"
                else []
            )
            names = [str(n) for n in accepted]
            suites, used = [], set()
            for name in names:
                described = describe_suite(name)
                algorithms = [self.algorithm(a) for a in suite_algorithms(described)] if described else []
                used.update(algorithms)
                suites.append(
                    ProtocolPropertiesCipherSuite(
                        name=(described.iana_name if described and described.iana_name else name),
                        algorithms=[BomRef(a) for a in algorithms],
                        identifiers=[described.code] if described else [],
                    )
                )
            crypto_refs = [*group_refs, *leaf_refs]
            ref = self.ref("protocol", label)
            self.add(
                ref,
                Component(
                    name=label,
                    type=ComponentType.CRYPTOGRAPHIC_ASSET,
                    bom_ref=ref,
                    version=version,
                    crypto_properties=CryptoProperties(
                        asset_type=CryptoAssetType.PROTOCOL,
                        protocol_properties=ProtocolProperties(
                            type=kind,
                            version=version,
                            cipher_suites=suites,
                            crypto_refs=[BomRef(r) for r in crypto_refs],
                        ),
                    ),
                    properties=[Property(name="tlsward:openssl_suite_names", value=",".join(names))],
                ),
                used | set(group_refs),
            )
            refs.append(ref)
        return refs

    def leaf_keys(self) -> list[str]:
        """The leaf public key of each certificate deployment (``cert.key_type`` evidence)."""
        finding = _finding(self.host, "cert.key_type")
        if not finding or finding["status"] == "error":
            return []
        refs = []
        for evidence in _deployments(finding["evidence"]):
            leaf_key = evidence.get("leaf_key")
            if not leaf_key:
                refs.append("")
                continue
            alg = key_algorithm(leaf_key)
            alg_ref = self.algorithm(alg)
            bits = int(leaf_key.get("bits") or 0)
            ref = self.ref("key", f"{alg.name}/{len(refs)}")
            self.add(
                ref,
                Component(
                    name=f"{leaf_key.get('type')} {leaf_key.get('curve') or bits} public key",
                    type=ComponentType.CRYPTOGRAPHIC_ASSET,
                    bom_ref=ref,
                    crypto_properties=CryptoProperties(
                        asset_type=CryptoAssetType.RELATED_CRYPTO_MATERIAL,
                        related_crypto_material_properties=RelatedCryptoMaterialProperties(
                            type=RelatedCryptoMaterialType.PUBLIC_KEY,
                            algorithm_ref=BomRef(alg_ref),
                            size=bits or None,
                            format="SubjectPublicKeyInfo",
                        ),
                    ),
                ),
                {alg_ref},
            )
            refs.append(ref)
        return refs

    def certificates(self, key_refs: list[str]) -> tuple[list[str], list[str]]:
        """Every certificate of the chain; returns (all refs, leaf refs)."""
        refs, leaves = [], []
        for cert in self.host["certificates"]:
            ref = self.ref("certificate", f"{cert['role']}/{cert['serial']}")
            key_ref = None
            if cert["role"] == "leaf":
                index = len(leaves)
                key_ref = key_refs[index] if index < len(key_refs) and key_refs[index] else None
                leaves.append(ref)
            self.add(
                ref,
                Component(
                    name=cert["subject"],
                    type=ComponentType.CRYPTOGRAPHIC_ASSET,
                    bom_ref=ref,
                    crypto_properties=CryptoProperties(
                        asset_type=CryptoAssetType.CERTIFICATE,
                        certificate_properties=CertificateProperties(
                            subject_name=cert["subject"],
                            issuer_name=cert["issuer"],
                            not_valid_before=_when(cert["not_before"]),
                            not_valid_after=_when(cert["not_after"]),
                            subject_public_key_ref=BomRef(key_ref) if key_ref else None,
                            certificate_format="X.509",
                        ),
                    ),
                    properties=[
                        Property(name="tlsward:role", value=cert["role"]),
                        Property(name="tlsward:serial", value=cert["serial"]),
                        Property(name="tlsward:days_left", value=str(cert["days_left"])),
                    ],
                ),
                {key_ref} if key_ref else set(),
            )
            if ref not in refs:
                refs.append(ref)
        return refs, leaves

    def component(self) -> tuple[Component, list[str]]:
        """The endpoint's component (its assets nested) and the refs it depends on directly."""
        groups = self.groups()
        keys = self.leaf_keys()
        certs, leaves = self.certificates(keys)
        protocols = self.protocols(groups, leaves)
        endpoint = self.host["endpoint"]
        where = endpoint_label(endpoint)
        component = Component(
            name=self.name,
            type=ComponentType.APPLICATION,
            bom_ref=self.ref("endpoint", where or ""),
            description=f"TLS endpoint {where} (SNI {endpoint['server_name']})",
            properties=[
                Property(name="tlsward:endpoint", value=where),
                Property(name="tlsward:server_name", value=str(endpoint["server_name"])),
                Property(name="tlsward:environment", value=str(self.host.get("environment"))),
                Property(name="tlsward:compliant", value=str(self.host["compliant"]).lower()),
                Property(name="tlsward:scanned_at", value=str(self.host.get("scanned_at"))),
            ],
            components=list(self.assets.values()),
        )
        return component, [*protocols, *certs]


def to_bom(report: dict[str, Any]) -> Bom:
    """The CBOM of a compliance report as cyclonedx-python-lib's model."""
    generated = _when(report["generated_at"])
    root = Component(
        name="tlsward compliance scan",
        type=ComponentType.APPLICATION,
        bom_ref=f"tlsward-run/{report['run_id']}",
        version=report["run_id"],
        description=f"TLS endpoints scanned against policy {report['policy']}",
    )
    tools = [Component(name="tlsward", version=__version__, type=ComponentType.APPLICATION)]
    tools += [
        Component(name=name, version=str(version), type=ComponentType.LIBRARY)
        for name, version in sorted(report["tool"].items())
    ]
    serial = uuid.uuid5(
        uuid.NAMESPACE_URL, f"urn:tlsward:cbom:{report['run_id']}:{report['generated_at']}:{report['policy']}"
    )
    bom = Bom(
        serial_number=serial,
        metadata=BomMetaData(
            timestamp=generated,
            component=root,
            tools=ToolRepository(components=tools),
            properties=[
                Property(name="tlsward:run_id", value=report["run_id"]),
                Property(name="tlsward:policy", value=report["policy"]),
                Property(name="tlsward:fail_severity", value=report["fail_severity"]),
            ],
        ),
    )
    endpoints = []
    for host in report["hosts"]:
        if not host["endpoint"]:
            continue
        built = _Endpoint(host)
        component, direct = built.component()
        bom.components.add(component)
        endpoints.append(component)
        bom.register_dependency(component, [built.assets[r] for r in direct])
        for ref, needs in built.depends.items():
            if needs:
                bom.register_dependency(built.assets[ref], [built.assets[n] for n in sorted(needs)])
    bom.register_dependency(root, endpoints)
    return bom


def to_cbom(report: dict[str, Any]) -> str:
    """The CycloneDX 1.6 JSON of the report's cryptographic BOM."""
    return make_outputter(to_bom(report), OutputFormat.JSON, SCHEMA_VERSION).output_as_string(indent=1)
