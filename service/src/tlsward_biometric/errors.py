"""Service errors: each carries an HTTP status, a stable error id and a human message.

The API turns them into ``{"error": <id>, "detail": <message>}`` JSON bodies; the error id is
the contract clients and operators match on, the message is for people.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A request the service refuses, with the HTTP status and error id to answer with."""

    status: int = 400
    error: str = "bad_request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class InvalidTemplateError(ServiceError):
    """The template payload has the wrong shape, size, encoding or non-finite values."""

    status = 422
    error = "invalid_template"


class UnknownModalityError(ServiceError):
    """The modality is not in the registry."""

    status = 422
    error = "unknown_modality"


class ModalityMismatchError(ServiceError):
    """A probe's modality differs from the enrolled template's."""

    status = 422
    error = "modality_mismatch"


class SubjectNotFoundError(ServiceError):
    """No template is enrolled for the subject."""

    status = 404
    error = "subject_not_found"


class AlreadyEnrolledError(ServiceError):
    """The subject already has a template (delete it first to re-enrol)."""

    status = 409
    error = "already_enrolled"


class ThrottledError(ServiceError):
    """Too many consecutive failed verifications: wait ``Retry-After`` seconds."""

    status = 429
    error = "verification_throttled"


class SubjectLockedError(ServiceError):
    """The hard cap of failed verifications was reached: only an operator can re-enable."""

    status = 423
    error = "subject_locked"


class TooEarlyError(ServiceError):
    """The request arrived as TLS early data (0-RTT) and could be a replay (RFC 8470)."""

    status = 425
    error = "too_early"


class ClientCertificateRequiredError(ServiceError):
    """No verified client certificate was passed by the TLS front end."""

    status = 401
    error = "client_certificate_required"


class ClientCertificateRejectedError(ServiceError):
    """The TLS front end reported a failed verification, or the certificate does not parse."""

    status = 403
    error = "client_certificate_rejected"


class DeviceIdentityError(ServiceError):
    """The verified client certificate carries no usable tlsward device identity: exactly one
    ``urn:tlsward:device:``, ``urn:tlsward:role:`` and ``urn:tlsward:group:`` URI SAN each."""

    status = 403
    error = "device_identity_invalid"


class ForbiddenError(ServiceError):
    """The device's role may not perform this action (the authorisation matrix)."""

    status = 403
    error = "forbidden"


class DeviceThrottledError(ServiceError):
    """The device spent its failed-verification budget: wait ``Retry-After`` seconds."""

    status = 429
    error = "device_throttled"


class PayloadTooLargeError(ServiceError):
    """The request body exceeds the configured limit."""

    status = 413
    error = "payload_too_large"


class KeyInUseError(ServiceError):
    """A key cannot be retired while records are still encrypted with it."""

    status = 409
    error = "key_in_use"


class KeyUnavailableError(ServiceError):
    """A record's key id is not loaded, or a key is unusable (retired, missing, malformed)."""

    status = 500
    error = "key_unavailable"


class IntegrityError(ServiceError):
    """A stored ciphertext failed authentication: tampered, corrupted or moved (fail closed)."""

    status = 500
    error = "integrity_error"


class ConfigurationError(Exception):
    """The service configuration (settings, key files, calibration) is unusable."""


class StoreUnavailableError(ServiceError):
    """The database cannot be reached or refused the operation."""

    status = 503
    error = "store_unavailable"


class UnknownKeyError(ServiceError):
    """An operator asked for a key id that is not loaded."""

    status = 422
    error = "unknown_key"


class KeyRetiredError(ServiceError):
    """An operator asked to use a key that has been retired."""

    status = 409
    error = "key_retired"
