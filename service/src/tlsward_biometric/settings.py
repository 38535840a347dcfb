"""Service settings, read from ``TLSWARD_BIO_*`` environment variables (pydantic-settings).

Ansible renders them into the unit's EnvironmentFile; complex values (lists, dicts) are JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KEY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
REMOVED_SETTINGS = ("operator_fingerprints", "operator_ous")

PositiveInt = Annotated[int, Field(ge=1)]


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="TLSWARD_BIO_", extra="forbid", frozen=True)

    socket_path: Path = Field(
        default=Path("/run/tlsward-biometric/api.sock"),
        description="unix socket to listen on when not started by systemd socket activation",
    )
    database_path: Path = Field(
        default=Path("/var/lib/tlsward-biometric/biometric.db"),
        description="SQLite database file (used when no PostgreSQL DSN is set)",
    )
    database_dsn: SecretStr | None = Field(
        default=None, description="PostgreSQL connection string; when set, PostgreSQL is the store"
    )
    key_dir: Path = Field(
        default=Path("/etc/tlsward-biometric/keys"),
        description="directory of template keys, one file <key id>.key (64 hex characters, mode 0400)",
    )
    active_key_id: str = Field(
        default="k1", pattern=KEY_ID_PATTERN, description="key id new templates are encrypted with"
    )
    audit_log_path: Path | None = Field(
        default=Path("/var/log/tlsward-biometric/audit.jsonl"),
        description="JSON-lines audit log (the database table audit_events holds the same events)",
    )
    target_fmr: float = Field(
        default=1e-4, gt=0, lt=1, description="target false match rate the thresholds are chosen for"
    )
    thresholds: dict[str, float] = Field(
        default_factory=dict, description="explicit per-modality thresholds, overriding calibration"
    )
    calibration: dict[str, list[tuple[float, float]]] = Field(
        default_factory=dict,
        description="per-modality [false match rate, threshold] points from the extractor's DET curve",
    )
    lockout_soft_limit: PositiveInt = Field(
        default=5, description="consecutive failed verifications allowed before delays start"
    )
    lockout_base_delay_seconds: Annotated[int, Field(ge=30)] = Field(
        default=30, description="first delay after the soft limit; doubles with each further failure"
    )
    lockout_max_delay_seconds: PositiveInt = Field(default=3600, description="ceiling of the delay")
    lockout_hard_limit: PositiveInt = Field(
        default=10, description="consecutive failures after which only an operator can re-enable"
    )
    device_failure_budget: PositiveInt = Field(
        default=15,
        description="failed verifications one device may have, across subjects, within the window",
    )
    device_failure_window_seconds: PositiveInt = Field(
        default=3600, description="sliding window of the per-device failure budget, in seconds"
    )
    max_body_bytes: PositiveInt = Field(default=65536, description="largest accepted request body")
    workers: PositiveInt = Field(default=1, description="uvicorn worker processes")
    log_level: str = Field(default="info", pattern=r"^(critical|error|warning|info|debug)$")

    @model_validator(mode="before")
    @classmethod
    def _removed_settings(cls, data: object) -> object:
        if isinstance(data, dict):
            for name in REMOVED_SETTINGS:
                if name in data or name.upper() in data or f"tlsward_bio_{name}" in data:
                    raise ValueError(
                        f"{name} is no longer read: an operator is a device whose certificate carries "
                        "the URI subjectAltName urn:tlsward:role:operator; remove the setting"
                    )
        return data

    @model_validator(mode="after")
    def _check_limits(self) -> Settings:
        if self.lockout_hard_limit <= self.lockout_soft_limit:
            raise ValueError(
                f"lockout_hard_limit ({self.lockout_hard_limit}) must exceed "
                f"lockout_soft_limit ({self.lockout_soft_limit})"
            )
        if self.device_failure_budget < self.lockout_soft_limit:
            raise ValueError(
                f"device_failure_budget ({self.device_failure_budget}) must be at least "
                f"lockout_soft_limit ({self.lockout_soft_limit}), or one device could never see a delay"
            )
        if self.lockout_max_delay_seconds < self.lockout_base_delay_seconds:
            raise ValueError("lockout_max_delay_seconds must be at least lockout_base_delay_seconds")
        return self
