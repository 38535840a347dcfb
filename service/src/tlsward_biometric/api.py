"""The HTTP API (FastAPI): routes, error bodies, and the app factories uvicorn starts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tlsward_biometric import __version__
from tlsward_biometric.authz import Action, Grant, authorize
from tlsward_biometric.errors import ClientCertificateRequiredError, ServiceError
from tlsward_biometric.identity import NAME_PATTERN, DeviceIdentity
from tlsward_biometric.middleware import IDENTITY_STATE_KEY, GuardMiddleware
from tlsward_biometric.schemas import (
    SUBJECT_ID_PATTERN,
    EnrollResponse,
    ErrorResponse,
    HealthResponse,
    KeyStatusResponse,
    ReadyResponse,
    RetireResponse,
    RotateRequest,
    RotateResponse,
    TemplateRequest,
    UnlockResponse,
    VerifyResponse,
)
from tlsward_biometric.service import BiometricService
from tlsward_biometric.settings import KEY_ID_PATTERN, Settings

SubjectId = Annotated[str, Path(pattern=SUBJECT_ID_PATTERN, description="subject (user) identifier")]
KeyId = Annotated[str, Path(pattern=KEY_ID_PATTERN, description="template key id")]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    common = (400, 401, 403, 413, 422, 425, 500, 503)
    return {status: {"model": ErrorResponse} for status in sorted({*common, *statuses})}


def _device(request: Request) -> DeviceIdentity:
    identity = getattr(request.state, IDENTITY_STATE_KEY, None)
    if not isinstance(identity, DeviceIdentity):  # the guard middleware always sets it on /v1/
        raise ClientCertificateRequiredError("a verified client certificate is required")
    return identity


def _service(request: Request) -> BiometricService:
    return request.app.state.service


Device = Annotated[DeviceIdentity, Depends(_device)]
Service = Annotated[BiometricService, Depends(_service)]


GroupQuery = Annotated[
    str | None,
    Query(pattern=NAME_PATTERN, description="group of the subject (default: the calling device's group)"),
]


def permit(action: Action) -> Any:
    """The dependency every ``/v1/`` route declares: its action, checked by ``authz.authorize``."""

    def grant(device: Device, group: GroupQuery = None) -> Grant:
        return authorize(device, action, group)

    return Depends(grant)


def permit_ungrouped(action: Action) -> Any:
    """As ``permit``, for routes that act on no subject (the key endpoints)."""

    def grant(device: Device) -> Grant:
        return authorize(device, action)

    return Depends(grant)


EnrollGrant = Annotated[Grant, permit(Action.ENROLL)]
VerifyGrant = Annotated[Grant, permit(Action.VERIFY)]
DeleteGrant = Annotated[Grant, permit(Action.DELETE)]
AdminGrant = Annotated[Grant, permit(Action.ADMIN)]
KeysGrant = Annotated[Grant, permit_ungrouped(Action.ADMIN)]


def _rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


subjects = APIRouter(prefix="/v1/subjects", tags=["subjects"])
admin = APIRouter(prefix="/v1/admin", tags=["operators"])
probes = APIRouter(tags=["health"])


@subjects.post("/{subject_id}/enroll", status_code=201, response_model=EnrollResponse, responses=_errors(409))
def enroll(
    subject_id: SubjectId, body: TemplateRequest, grant: EnrollGrant, service: Service
) -> EnrollResponse:
    """Enrollers: enrol a subject of their group (encrypted at rest). One template; 409 if enrolled."""
    record = service.enroll(grant, subject_id, body.decode(service.registry))
    return EnrollResponse(
        subject_id=record.subject_id,
        group=record.subject_group,
        modality=record.modality,
        key_id=record.sealed.key_id,
        device_id=record.enrolled_by,
        enrolled_at=_rfc3339(record.enrolled_at),
    )


@subjects.post("/{subject_id}/verify", response_model=VerifyResponse, responses=_errors(423, 429))
def verify(
    subject_id: SubjectId, body: TemplateRequest, grant: VerifyGrant, service: Service
) -> VerifyResponse:
    """Verifiers and enrollers of the subject's group: compare a probe with the template (1:1).

    An unknown subject is a non-match. Failed attempts are throttled per subject and per device.
    """
    result = service.verify(grant, subject_id, body.decode(service.registry))
    return VerifyResponse(subject_id=result.subject_id, modality=result.modality, match=result.match)


@subjects.delete("/{subject_id}", status_code=204, response_class=Response, responses=_errors(404))
def delete(subject_id: SubjectId, grant: DeleteGrant, service: Service) -> Response:
    """Operators, and enrollers of the subject's group: delete a subject's template and counters."""
    service.delete(grant, subject_id)
    return Response(status_code=204)


@admin.post("/subjects/{subject_id}/unlock", response_model=UnlockResponse, responses=_errors(404))
def unlock(subject_id: SubjectId, grant: AdminGrant, service: Service) -> UnlockResponse:
    """Operators: reset a subject's failed-verification counters (re-enable after the hard cap)."""
    service.unlock(grant, subject_id)
    return UnlockResponse(subject_id=subject_id, group=grant.group, unlocked=True)


@admin.post("/keys/rotate", response_model=RotateResponse, responses=_errors(409))
def rotate(grant: KeysGrant, service: Service, body: RotateRequest | None = None) -> RotateResponse:
    """Operators: re-encrypt records to the target key (resumable; run again after interruption)."""
    body = body or RotateRequest()
    result = service.rotate(grant, body.target_key_id, body.max_records)
    return RotateResponse(
        target_key_id=result.target_key_id,
        reencrypted=result.reencrypted,
        remaining=result.remaining,
        key_usage=result.key_usage,
    )


@admin.post("/keys/{key_id}/retire", response_model=RetireResponse, responses=_errors(409))
def retire(key_id: KeyId, grant: KeysGrant, service: Service) -> RetireResponse:
    """Operators: retire a key; refused (409) while it is active or any record uses it."""
    service.retire(grant, key_id)
    return RetireResponse(key_id=key_id, retired=True)


@admin.get("/keys", response_model=KeyStatusResponse, responses=_errors())
def keys(grant: KeysGrant, service: Service) -> KeyStatusResponse:
    """Operators: loaded, active and retired keys, and how many records each key seals."""
    del grant
    status = service.key_status()
    return KeyStatusResponse(
        active_key_id=status.active_key_id, loaded=status.loaded, retired=status.retired, usage=status.usage
    )


@probes.get("/healthz", response_model=HealthResponse)
def healthz() -> HealthResponse:
    """Liveness: the process answers. The probes take no certificate (every role may reach them)."""
    return HealthResponse(status="ok")


@probes.get("/readyz", response_model=ReadyResponse, responses={503: {"model": ErrorResponse}})
def readyz(service: Service) -> ReadyResponse:
    """Readiness: the store answers."""
    service.ready()
    return ReadyResponse(status="ready", store=service.store.backend)


def _error_response(
    status: int, error: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return _error_response(exc.status, exc.error, exc.detail, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors()[:20]:
        where = ".".join(str(part) for part in err.get("loc", ()))
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return _error_response(422, "invalid_request", "; ".join(problems)[:4000] or "invalid request")


_HTTP_ERRORS = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed"}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return _error_response(
        exc.status_code, _HTTP_ERRORS.get(exc.status_code, "http_error"), str(exc.detail), exc.headers
    )


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    return _error_response(500, "internal_error", "internal error")


def create_app(service: BiometricService, settings: Settings) -> FastAPI:
    app = FastAPI(
        title="tlsward biometric service",
        version=__version__,
        description=(
            "Enrolment and 1:1 verification of biometric templates. Reached only through the "
            "tlsward nginx front end, which authenticates devices with mutual TLS and passes "
            "the verified client certificate (X-Client-Verify, X-Client-Cert). The certificate's "
            "URI subjectAltNames name the device, its role and its group; what each role may do "
            "is one authorisation matrix (see the service's README)."
        ),
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    app.state.settings = settings
    for router in (subjects, admin, probes):
        app.include_router(router)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _internal_error)
    app.add_middleware(GuardMiddleware, max_body_bytes=settings.max_body_bytes)
    return app


def create_app_from_env() -> FastAPI:
    """uvicorn factory: settings from the environment, components built from them."""
    from tlsward_biometric.wiring import build_service  # noqa: PLC0415 - keeps import of api light

    settings = Settings()
    return create_app(build_service(settings), settings)
