"""Core layer: the one middleware that turns exceptions into HTTP answers.

Our own errors become JSON with their status, code and message; aiohttp's HTTP exceptions keep
their status but get a JSON body; anything else is logged with its traceback and answered as a
bare 500, so no traceback ever reaches a client.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from fedsocial.errors import FedsocialError, SignatureError, Unauthorized

log = logging.getLogger("fedsocial.web")

# Our only 401 besides a refused signature is a missing or bad bearer token (C2S); a 401 must
# say how to authenticate (RFC 9110 §15.5.2, RFC 6750 §3).
BEARER_CHALLENGE = 'Bearer realm="fedsocial"'

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_body(status: int, code: str, message: str, **extra: str) -> web.Response:
    """A JSON error answer: {"error": code, "message": message, ...extra}."""
    body = {"error": code, "message": message, **extra}
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every exception a handler raises into a clean HTTP answer."""
    try:
        return await handler(request)
    except SignatureError as exc:
        log.info(
            "signature refused on %s %s: %s (%s)", request.method, request.path, exc.reason, exc
        )
        return error_body(exc.status, exc.code, exc.message, reason=exc.reason)
    except FedsocialError as exc:
        if exc.status >= 500:
            log.warning("%s %s failed: %s", request.method, request.path, exc)
        response = error_body(exc.status, exc.code, exc.message)
        if isinstance(exc, Unauthorized):
            response.headers["WWW-Authenticate"] = BEARER_CHALLENGE
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_")
        response = error_body(exc.status, code, exc.reason)
        for name in ("Allow", "Retry-After", "WWW-Authenticate"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_body(500, "internal_error", "internal server error")
