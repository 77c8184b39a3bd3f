"""Core layer: the parts of an HTTP request that signers and verifiers read.

``HttpRequestParts`` is fed by the inbox (from an aiohttp request), by delivery (before sending)
and by the ``fedsocial sig verify FILE`` tool (from a raw HTTP/1.1 request via
``parse_raw_request``), so the signature code never touches a web framework.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar, overload
from urllib.parse import SplitResult, urlsplit

from fedsocial.errors import SignatureError

_T = TypeVar("_T")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Obsolete line folding inside a value is replaced by one space (RFC 9112 §5.2).
_OBS_FOLD = re.compile(r"\r?\n[ \t]+")


class Headers(Mapping[str, str]):
    """An immutable, case-insensitive header mapping with lowercase keys.

    Repeated fields are combined into one value joined by ", " (RFC 9110 §5.3), which is the value
    both signature schemes sign. Values are stripped of surrounding whitespace.
    """

    __slots__ = ("_data",)

    def __init__(self, source: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = source.items() if isinstance(source, Mapping) else source
        data: dict[str, str] = {}
        for name, value in pairs:
            key = name.strip().lower()
            # The regex only matters for folded values; skipping it keeps the inbox path cheap.
            cleaned = (_OBS_FOLD.sub(" ", value) if "\n" in value else value).strip()
            data[key] = f"{data[key]}, {cleaned}" if key in data else cleaned
        self._data = data

    def __getitem__(self, name: str) -> str:
        return self._data[name.lower()]

    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, /, default: str | _T) -> str | _T: ...
    def get(self, name: str, /, default: object = None) -> object:
        """The value of ``name`` in any case, else ``default`` (one dict look-up: a hot path)."""
        return self._data.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Headers({self._data!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == {str(k).lower(): v for k, v in other.items()}
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))


@dataclass(frozen=True, slots=True)
class HttpRequestParts:
    """One HTTP request as signatures see it: method, absolute URL, headers and body.

    ``headers`` accepts any mapping (an aiohttp ``CIMultiDictProxy`` included: repeated fields are
    combined) and is normalised into a case-insensitive ``Headers``. ``method`` is upper-cased.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""
    # The URL split once, on first use: verifying reads path, query and target several times.
    _url_split: SplitResult | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Normalise once here so every reader sees lowercase keys and combined values.
        object.__setattr__(self, "method", self.method.upper())
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))

    def header(self, name: str) -> str | None:
        """Return the (combined) value of header ``name`` in any case, or None when absent."""
        return self.headers.get(name.lower())

    def with_headers(self, extra: Mapping[str, str]) -> HttpRequestParts:
        """Return a copy whose headers are replaced or extended by ``extra``."""
        merged = {name: value for name, value in self.headers.items()}
        merged.update({name.lower(): value for name, value in extra.items()})
        return HttpRequestParts(self.method, self.url, Headers(merged), self.body)

    @property
    def _split(self) -> SplitResult:
        split = self._url_split
        if split is None:
            split = urlsplit(self.url)
            object.__setattr__(self, "_url_split", split)
        return split

    @property
    def scheme(self) -> str:
        """The URL scheme in lowercase ("https")."""
        return self._split.scheme.lower()

    @property
    def authority(self) -> str:
        """Host and port in lowercase, the port left out when it is the scheme's default."""
        split = self._split
        host = (split.hostname or "").lower()
        if ":" in host:  # an IPv6 literal keeps its brackets
            host = f"[{host}]"
        port = split.port
        if port is None or _DEFAULT_PORTS.get(split.scheme.lower()) == port:
            return host
        return f"{host}:{port}"

    @property
    def path(self) -> str:
        """The URL path as sent (still percent-encoded), "/" when empty."""
        return self._split.path or "/"

    @property
    def query(self) -> str:
        """The raw query string without "?", "" when there is none."""
        return self._split.query

    @property
    def target(self) -> str:
        """The origin-form request target: path plus "?query" when there is a query."""
        path, query = self._split.path or "/", self._split.query
        return f"{path}?{query}" if query else path


def wire_bytes(text: str) -> bytes:
    """Encode a signing string as the bytes the sender signed.

    Header bytes that are not UTF-8 reach us as surrogate escapes (aiohttp decodes them so), and
    go back to their original bytes here. Raises ``SignatureError("invalid")`` for text that
    cannot have come off the wire.
    """
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise SignatureError("invalid", "a signed value is not encodable text") from exc


def parse_raw_request(text: bytes, *, scheme: str = "https") -> HttpRequestParts:
    """Parse a raw HTTP/1.1 request (request line, headers, blank line, body).

    The URL is built from ``scheme``, the Host header and the request target (an absolute-form
    target is used as it is). Lines may end in CRLF or LF; folded header lines are joined. When
    Content-Length is present the body is cut to it (files often end with a stray newline).
    Raises ValueError for a malformed request or a chunked body.
    """
    head, body = _split_head(text)
    lines = head.decode("latin-1").splitlines()
    if not lines:
        raise ValueError("empty request")
    request_line = lines[0].split()
    if len(request_line) not in (2, 3):
        raise ValueError(f"malformed request line {lines[0]!r}")
    method, target = request_line[0], request_line[1]
    pairs: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and pairs:  # obs-fold continues the previous field
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise ValueError(f"malformed header line {line!r}")
        pairs.append((name, value.strip()))
    headers = Headers(pairs)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise ValueError("chunked request bodies are not supported")
    length = headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise ValueError(f"malformed Content-Length {length!r}")
        if int(length) > len(body):
            raise ValueError("body is shorter than Content-Length")
        body = body[: int(length)]
    if "://" in target:
        url = target
    else:
        host = headers.get("host")
        if not host:
            raise ValueError("request has no Host header and no absolute URL")
        url = f"{scheme}://{host}{target}"
    return HttpRequestParts(method, url, headers, body)


def _split_head(text: bytes) -> tuple[bytes, bytes]:
    crlf, lf = text.find(b"\r\n\r\n"), text.find(b"\n\n")
    if crlf != -1 and (lf == -1 or crlf < lf):
        return text[:crlf], text[crlf + 4 :]
    if lf != -1:
        return text[:lf], text[lf + 2 :]
    return text, b""
