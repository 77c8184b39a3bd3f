"""Core layer: signing an outgoing request in two steps, so the RSA step can run in a thread.

``fedsocial.crypto.cavage.sign_cavage`` does everything at once. For delivery, the HTTP client
prepares the draft-cavage headers and the signing string on the event loop (cheap Python work
that needs the GIL) and hands only the RSA signature — which releases the GIL — to its signing
threads; ``PreparedCavage.headers`` then assembles exactly what ``sign_cavage`` would have
returned for the same request and instant (RSASSA-PKCS1-v1_5 is deterministic, the tests
compare both byte for byte).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from fedsocial.crypto.cavage import RSA_SHA256, default_headers, format_http_date, signing_string
from fedsocial.crypto.digests import digest_header
from fedsocial.crypto.http_request import HttpRequestParts


@dataclass(frozen=True, slots=True)
class PreparedCavage:
    """A draft-cavage rsa-sha256 signature ready to be made: what to sign and the headers."""

    added: Mapping[str, str]
    names: tuple[str, ...]
    signing_string: bytes
    key_id: str

    def headers(self, signature: bytes) -> dict[str, str]:
        """The headers to add to the request, ``Signature`` made of ``signature``."""
        key_id = self.key_id.replace("\\", "\\\\").replace('"', '\\"')
        encoded = base64.b64encode(signature).decode("ascii")
        value = (
            f'keyId="{key_id}",algorithm="{RSA_SHA256}",'
            f'headers="{" ".join(self.names)}",signature="{encoded}"'
        )
        return {**self.added, "Signature": value}


def prepare_cavage(
    method: str, url: str, headers: Mapping[str, str], body: bytes, *, key_id: str, now: float
) -> PreparedCavage:
    """Prepare the default draft-cavage signature of a request (what ``sign_cavage`` signs).

    Adds ``Host`` and ``Date`` when the request lacks them, and ``Digest`` on a POST or any
    request with a body. Raises ValueError when a header to sign is absent.
    """
    parts = HttpRequestParts(method, url, headers, body)
    added: dict[str, str] = {}
    if parts.header("host") is None:
        added["Host"] = parts.authority
    if parts.header("date") is None:
        added["Date"] = format_http_date(now)
    names = tuple(default_headers(parts))
    if "digest" in names:
        added["Digest"] = digest_header(body)
    text, missing = signing_string(parts.with_headers(added), names)
    if missing:
        raise ValueError(f"cannot sign absent headers: {', '.join(missing)}")
    return PreparedCavage(added, names, text.encode("utf-8"), key_id)


def rsa_sha256(private_key: RSAPrivateKey, data: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 with SHA-256 of ``data`` (``cryptography`` releases the GIL meanwhile)."""
    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
