"""Core layer: RFC 9421 HTTP Message Signatures for requests.

Signature-Input and Signature are RFC 8941 dictionaries, read and written with ``http_sfv``.
Supported components: ``@method``, ``@target-uri``, ``@authority``, ``@scheme``,
``@request-target``, ``@path``, ``@query`` and plain header fields (no component parameters).
"""

from __future__ import annotations

from collections.abc import Sequence

from http_sfv.dictionary import Dictionary
from http_sfv.item import InnerList, Item

from fedsocial.crypto.algorithms import SUPPORTED, default_algorithm, key_fits, sign_bytes
from fedsocial.crypto.digests import content_digest_header
from fedsocial.crypto.http_request import HttpRequestParts, wire_bytes
from fedsocial.crypto.keys import PrivateKey
from fedsocial.crypto.signature_input import SignatureInput
from fedsocial.errors import SignatureError

DERIVED = frozenset(
    {"@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query"}
)


def default_components(parts: HttpRequestParts) -> list[str]:
    """Return what fedsocial covers by default: ``@method``, ``@target-uri`` and, for a POST or
    any request with a body, ``content-digest`` (Mastodon requires it on POST)."""
    names = ["@method", "@target-uri"]
    if parts.method == "POST" or parts.body:
        names.append("content-digest")
    return names


def component_value(parts: HttpRequestParts, name: str) -> str | None:
    """Return a component's value for the signature base, or None when the request lacks it.

    Raises ValueError for a derived component this module does not support.
    """
    if name.startswith("@"):
        derived = {
            "@method": lambda: parts.method,
            "@target-uri": lambda: parts.url,
            "@authority": lambda: parts.authority,
            "@scheme": lambda: parts.scheme,
            "@request-target": lambda: parts.target,
            "@path": lambda: parts.path,
            "@query": lambda: "?" + parts.query,
        }.get(name)
        if derived is None:
            raise ValueError(f"unsupported derived component {name}")
        return derived()
    return parts.header(name)


def signature_base(
    parts: HttpRequestParts, covered: InnerList
) -> tuple[bytes, tuple[str, ...], tuple[str, ...]]:
    """Build the RFC 9421 §2.5 signature base for ``covered`` (an inner list with parameters).

    Returns the base, the component names, and the names the request lacks (their lines carry an
    empty value, so the signature cannot match). Raises ValueError for components or component
    parameters this module does not support, and for duplicates.
    """
    lines: list[str] = []
    names: list[str] = []
    missing: list[str] = []
    for member in covered:
        if not isinstance(member, Item) or not isinstance(member.value, str):
            raise ValueError("a covered component is not a string")
        if member.params:
            raise ValueError(f"component parameters are not supported ({member})")
        name = member.value
        if name in names or name == "@signature-params":
            raise ValueError(f"component {name} cannot be covered twice or at all")
        value = component_value(parts, name)
        if value is None:
            missing.append(name)
        names.append(name)
        lines.append(f"{member}: {value or ''}")
    lines.append(f'"@signature-params": {covered}')
    return wire_bytes("\n".join(lines)), tuple(names), tuple(missing)


def sign_rfc9421(
    parts: HttpRequestParts,
    *,
    key_id: str,
    private_key: PrivateKey,
    algorithm: str | None = None,
    components: Sequence[str] | None = None,
    now: float,
    expires_in: float | None = None,
    label: str = "sig1",
    include_alg: bool = True,
) -> dict[str, str]:
    """Sign a request with RFC 9421 and return the headers to add to it.

    Returns ``Signature-Input`` and ``Signature`` (appended to any the request already has, so a
    request can carry several signatures) and ``Content-Digest`` (sha-256 of the body) whenever
    ``content-digest`` is covered. ``algorithm`` defaults to rsa-v1_5-sha256 for RSA keys and
    ed25519 for Ed25519 keys; rsa-pss-sha512 is also accepted. Parameters are ``created`` (``now``),
    ``expires`` (with ``expires_in``), ``keyid`` and, with ``include_alg``, ``alg``.
    Raises ValueError for an unsupported or ill-fitting algorithm, or an absent covered header.
    """
    chosen = algorithm or default_algorithm(private_key)
    if chosen not in SUPPORTED or not key_fits(chosen, private_key):
        raise ValueError(f"cannot sign with {chosen} using a {type(private_key).__name__}")
    names = list(components) if components is not None else default_components(parts)
    added: dict[str, str] = {}
    if "content-digest" in names:
        added["Content-Digest"] = content_digest_header(parts.body)
    covered = InnerList(list(names))
    covered.params["created"] = int(now)
    if expires_in is not None:
        covered.params["expires"] = int(now + expires_in)
    covered.params["keyid"] = key_id
    if include_alg:
        covered.params["alg"] = chosen
    base, _, missing = signature_base(parts.with_headers(added), covered)
    if missing:
        raise ValueError(f"cannot sign absent components: {', '.join(missing)}")
    inputs, signatures = Dictionary(), Dictionary()
    inputs[label] = covered
    signatures[label] = sign_bytes(private_key, chosen, base)
    added["Signature-Input"] = _append(parts.header("signature-input"), str(inputs))
    added["Signature"] = _append(parts.header("signature"), str(signatures))
    return added


def parse_rfc9421(parts: HttpRequestParts) -> list[SignatureInput]:
    """Parse every RFC 9421 signature on a request, in header order.

    Returns ``[]`` when there is no Signature-Input. Raises ``SignatureError("invalid")`` when
    Signature-Input or Signature is not a structured dictionary. A signature that cannot be
    checked (unsupported component, no matching Signature member, wrong types) is still returned,
    with ``unusable`` saying why, so the caller can try the others.
    """
    raw_inputs = parts.header("signature-input")
    if raw_inputs is None:
        return []
    inputs = _parse_dictionary(raw_inputs, "Signature-Input")
    signatures = _parse_dictionary(parts.header("signature") or "", "Signature")
    results: list[SignatureInput] = []
    for label, covered in inputs.items():
        results.append(_one_signature(parts, label, covered, signatures.get(label)))
    return results


def _one_signature(
    parts: HttpRequestParts, label: str, covered: object, signature: object
) -> SignatureInput:
    problem: str | None = None
    base = b""
    names: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    params: dict[str, object] = {}
    if not isinstance(covered, InnerList):
        problem = f"Signature-Input {label} is not an inner list"
    else:
        params = dict(covered.params)
        try:
            base, names, missing = signature_base(parts, covered)
        except ValueError as exc:
            problem = str(exc)
    value = b""
    if isinstance(signature, Item) and isinstance(signature.value, bytes):
        value = signature.value
    elif problem is None:
        problem = f"no byte-sequence Signature member for label {label}"
    key_id, alg = params.get("keyid"), params.get("alg")
    created, expires = params.get("created"), params.get("expires")
    return SignatureInput(
        scheme="rfc9421",
        key_id=key_id if isinstance(key_id, str) else "",
        algorithm=alg if isinstance(alg, str) else None,
        components=names,
        signing_string=base,
        signature=value,
        created=float(created) if isinstance(created, int | float) else None,
        expires=float(expires) if isinstance(expires, int | float) else None,
        label=label,
        missing_headers=missing,
        unusable=problem,
    )


def _parse_dictionary(value: str, header: str) -> Dictionary:
    parsed = Dictionary()
    if not value.strip():
        return parsed
    try:
        parsed.parse(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SignatureError("invalid", f"{header} is not a structured dictionary") from exc
    return parsed


def _append(existing: str | None, value: str) -> str:
    return f"{existing}, {value}" if existing else value
