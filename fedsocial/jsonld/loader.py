"""Core layer: the preloaded-only JSON-LD document loader.

fedsocial never fetches a JSON-LD context from the network. The contexts it understands are
shipped in ``fedsocial/jsonld/contexts/`` (their sources are listed in ``SOURCES.md`` there) and
are read from the package with :mod:`importlib.resources`. Any other URL is refused with
:class:`~fedsocial.errors.ContextNotAllowed`, so a document that names an unknown remote context
fails loudly instead of making the server talk to a third party.

URL variants served from the same file: ``http://`` for ``https://``, a trailing slash, and a
``.jsonld`` / ``.json`` suffix. Pleroma and Akkoma name the LitePub context by their own host
(``https://<instance>/schemas/litepub-0.1.jsonld``), so that path is served on any host.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from fedsocial.errors import ContextNotAllowed

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_V1 = "https://w3id.org/security/v1"
IDENTITY_V1 = "https://w3id.org/identity/v1"
DATA_INTEGRITY_V1 = "https://w3id.org/security/data-integrity/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
LITEPUB = "https://litepub.social/litepub/context.jsonld"
GOTOSOCIAL_NS = "https://gotosocial.org/ns"
WEBFINGER = "https://purl.archive.org/socialweb/webfinger"
LEMMY = "https://join-lemmy.org/context.json"

# Canonical context URL -> file name in fedsocial/jsonld/contexts/.
CONTEXT_FILES: dict[str, str] = {
    AS_CONTEXT: "activitystreams.json",
    SECURITY_V1: "security-v1.json",
    IDENTITY_V1: "identity-v1.json",
    DATA_INTEGRITY_V1: "data-integrity-v1.json",
    DATA_INTEGRITY_V2: "data-integrity-v2.json",
    MULTIKEY_V1: "multikey-v1.json",
    LITEPUB: "litepub-0.1.json",
    GOTOSOCIAL_NS: "gotosocial-ns.json",
    WEBFINGER: "webfinger.json",
    LEMMY: "join-lemmy.json",
}

_LITEPUB_INSTANCE_PATH = "/schemas/litepub-0.1.jsonld"
_SUFFIXES = (".jsonld", ".json")


def canonical_context_url(url: str) -> str | None:
    """Return the canonical URL of a shipped context that ``url`` names, or None.

    Pure string work, no I/O: accepts the exact canonical URL, its ``http://`` form, a trailing
    slash, a ``.jsonld``/``.json`` suffix, and Pleroma's per-instance LitePub path.
    """
    if url in CONTEXT_FILES:
        return url
    if url.startswith("http://"):
        url = "https://" + url[len("http://") :]
    candidates = [url, url.rstrip("/")]
    for candidate in list(candidates):
        for suffix in _SUFFIXES:
            if candidate.endswith(suffix):
                candidates.append(candidate[: -len(suffix)])
    for candidate in candidates:
        if candidate in CONTEXT_FILES:
            return candidate
    parts = urlsplit(url)
    is_litepub_path = parts.path == _LITEPUB_INSTANCE_PATH and not parts.query
    if parts.scheme == "https" and parts.netloc and is_litepub_path and not parts.fragment:
        return LITEPUB
    return None


def is_known_context(url: str) -> bool:
    """True when ``url`` names a context fedsocial ships (see :func:`canonical_context_url`)."""
    return canonical_context_url(url) is not None


@functools.cache
def _context_text(file_name: str) -> str:
    """Read one shipped context file once; the text is immutable, so caching it is safe."""
    return (resources.files("fedsocial.jsonld") / "contexts" / file_name).read_text("utf-8")


def load_context(url: str) -> dict[str, Any]:
    """Return a fresh copy of the shipped context document for ``url``.

    Raises ContextNotAllowed (naming the URL) for anything that is not shipped.
    """
    canonical = canonical_context_url(url)
    if canonical is None:
        raise ContextNotAllowed(f"JSON-LD context {url!r} is not one fedsocial ships")
    document = json.loads(_context_text(CONTEXT_FILES[canonical]))
    if not isinstance(document, dict):  # pragma: no cover - shipped files are objects
        raise ContextNotAllowed(f"shipped context for {url!r} is not a JSON object")
    return document


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld ``documentLoader``: serve shipped contexts only, never touch the network.

    Returns pyld's remote-document shape (``contextUrl``, ``documentUrl``, ``document``) with a
    fresh copy of the document; raises ContextNotAllowed naming ``url`` for anything else.
    """
    del options  # pyld passes its options; nothing in them changes what we serve
    return {"contextUrl": None, "documentUrl": url, "document": load_context(url)}
