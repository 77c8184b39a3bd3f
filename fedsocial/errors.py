"""Core layer: the one exception tree of fedsocial.

Domain code raises these; a single middleware turns them into HTTP answers.
Each class carries the HTTP status it maps to and a short machine-readable code.

    FedsocialError (500)
    ├── ConfigError                    bad or unreadable configuration
    ├── StorageError                   database problems
    │   ├── SchemaTooNewError          database newer than this code
    │   └── StorageUnavailable (503)   busy, full or shutting down: try again later
    ├── BadRequest (400)
    │   ├── InvalidJson (400)
    │   ├── ValidationError (400)      well-formed but unacceptable input
    │   └── JsonLdError (400)
    │       └── ContextNotAllowed (400) a context we do not ship
    ├── Unauthorized (401)
    │   └── SignatureError (401)       carries a machine-readable reason
    ├── Forbidden (403)
    │   └── ProofError (403)           an LD signature or integrity proof failed
    ├── NotFound (404)
    ├── Conflict (409)                 e.g. a duplicate actor name
    ├── Gone (410)
    ├── PayloadTooLarge (413)
    ├── UnsupportedMediaType (415)
    └── FetchError (502)               an outgoing request failed
        └── BlockedAddress (502)       SSRF guard or a blocked domain refused it
"""

from __future__ import annotations

from typing import ClassVar


class FedsocialError(Exception):
    """Base of every error fedsocial raises on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(FedsocialError):
    """The configuration file is missing a value, has a wrong type or an unknown key."""

    code = "config_error"


class StorageError(FedsocialError):
    """The database could not do what was asked."""

    code = "storage_error"


class SchemaTooNewError(StorageError):
    """The database schema is newer than this version of fedsocial knows."""

    code = "schema_too_new"


class StorageUnavailable(StorageError):
    """The database cannot take the write now (locked by another process, disk full, shutting
    down); nothing was stored and the same request can succeed later."""

    status = 503
    code = "storage_unavailable"


class BadRequest(FedsocialError):
    """The client sent something we cannot accept."""

    status = 400
    code = "bad_request"


class InvalidJson(BadRequest):
    """The body is not a JSON object."""

    code = "invalid_json"


class ValidationError(BadRequest):
    """The input is well-formed but breaks a rule."""

    code = "invalid"


class JsonLdError(BadRequest):
    """A JSON-LD document could not be processed."""

    code = "jsonld_error"


class ContextNotAllowed(JsonLdError):
    """A JSON-LD context that is not shipped with fedsocial was requested."""

    code = "context_not_allowed"


class Unauthorized(FedsocialError):
    """The request lacks valid authentication."""

    status = 401
    code = "unauthorized"


class SignatureError(Unauthorized):
    """An HTTP signature is missing or invalid; ``reason`` says which rule failed.

    Reasons: missing, unsupported_algorithm, bad_digest, stale, future,
    missing_header, key_fetch_failed, invalid, not_owner.
    """

    code = "signature_error"
    REASONS: ClassVar[frozenset[str]] = frozenset(
        {
            "missing",
            "unsupported_algorithm",
            "bad_digest",
            "stale",
            "future",
            "missing_header",
            "key_fetch_failed",
            "invalid",
            "not_owner",
        }
    )

    def __init__(self, reason: str, message: str) -> None:
        if reason not in self.REASONS:
            raise ValueError(f"unknown signature failure reason {reason!r}")
        super().__init__(message)
        self.reason = reason


class Forbidden(FedsocialError):
    """Authenticated, but not allowed."""

    status = 403
    code = "forbidden"


class ProofError(Forbidden):
    """An LD signature or object integrity proof did not verify."""

    code = "proof_error"


class NotFound(FedsocialError):
    """The thing asked for does not exist here."""

    status = 404
    code = "not_found"


class RequestTimeout(FedsocialError):
    """The client did not send its request (its body) in time."""

    status = 408
    code = "request_timeout"


class Conflict(FedsocialError):
    """The thing to create already exists."""

    status = 409
    code = "conflict"


class Gone(FedsocialError):
    """The thing existed and was deleted."""

    status = 410
    code = "gone"


class PayloadTooLarge(FedsocialError):
    """The request body is over the size limit."""

    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(FedsocialError):
    """The request's content type is not one we accept."""

    status = 415
    code = "unsupported_media_type"


class FetchError(FedsocialError):
    """An outgoing HTTP request failed (network, status, size or content)."""

    status = 502
    code = "fetch_failed"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class BlockedAddress(FetchError):
    """The SSRF guard or a domain block refused an outgoing request."""

    code = "blocked_address"
