"""Build the service's components from its settings (fail fast on a bad configuration)."""

from __future__ import annotations

from tlsward_biometric.audit import AuditLog
from tlsward_biometric.crypto import KeyRing
from tlsward_biometric.lockout import DevicePolicy, LockoutPolicy
from tlsward_biometric.modalities import ModalityRegistry
from tlsward_biometric.service import BiometricService
from tlsward_biometric.settings import Settings
from tlsward_biometric.store import open_store


def check_config(settings: Settings) -> tuple[ModalityRegistry, KeyRing]:
    """The parts of the configuration that need no database: thresholds and keys."""
    registry = ModalityRegistry(
        target_fmr=settings.target_fmr, thresholds=settings.thresholds, calibration=settings.calibration
    )
    return registry, KeyRing.load(settings.key_dir, settings.active_key_id)


def build_service(settings: Settings) -> BiometricService:
    registry, keyring = check_config(settings)
    store = open_store(
        database_path=str(settings.database_path),
        database_dsn=settings.database_dsn.get_secret_value() if settings.database_dsn else None,
    )
    policy = LockoutPolicy(
        soft_limit=settings.lockout_soft_limit,
        base_delay=settings.lockout_base_delay_seconds,
        max_delay=settings.lockout_max_delay_seconds,
        hard_limit=settings.lockout_hard_limit,
    )
    service = BiometricService(
        store=store,
        keyring=keyring,
        registry=registry,
        policy=policy,
        audit_log=AuditLog(settings.audit_log_path),
        device_policy=DevicePolicy(
            budget=settings.device_failure_budget, window=settings.device_failure_window_seconds
        ),
    )
    service.check_keys()
    return service
