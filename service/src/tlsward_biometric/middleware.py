"""ASGI guard in front of the API, applied before any request body is parsed.

For every ``/v1/`` request, in this order: the caller must present a verified client certificate
(401/403), a state-changing request must not have arrived as TLS early data (425, RFC 8470), and
the body must fit the size limit (413, checked on Content-Length and on the bytes received).
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tlsward_biometric.errors import PayloadTooLargeError, ServiceError, TooEarlyError
from tlsward_biometric.identity import identify

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDENTITY_STATE_KEY = "identity"


async def send_error(send: Send, error: ServiceError) -> None:
    body = json.dumps({"error": error.error, "detail": error.detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            if scope["path"].startswith("/v1/"):
                identity = identify(headers)
                if headers.get("early-data") == "1" and scope["method"] in UNSAFE_METHODS:
                    raise TooEarlyError("request sent as TLS early data; retry after the handshake")
                scope.setdefault("state", {})[IDENTITY_STATE_KEY] = identity
            body = await self._read_body(headers, receive)
        except ServiceError as exc:
            await send_error(send, exc)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read_body(self, headers: Headers, receive: Receive) -> bytes:
        limit = self.max_body_bytes
        declared = headers.get("content-length")
        too_large = PayloadTooLargeError(f"request body larger than {limit} bytes")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)
