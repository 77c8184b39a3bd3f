"""The fast readers of the cavage Signature header and of HTTP dates accept and refuse exactly
what the plain readers they replaced did."""

from __future__ import annotations

import random
import re
from datetime import UTC
from email.utils import parsedate_to_datetime

import pytest

from fedsocial.crypto.cavage import _parse_params, format_http_date, parse_http_date
from fedsocial.errors import SignatureError

# The auth-param pattern before it was unrolled: (?:[^"\\]|\\.)* instead of [^"\\]*(?:\\.[^"\\]*)*
_REFERENCE = re.compile(
    r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(,|$)'
)
_UNESCAPE = re.compile(r"\\(.)")


def _reference_params(raw: str) -> dict[str, str] | None:
    """The previous parser; None where it refused the header."""
    params: dict[str, str] = {}
    position, text = 0, raw.strip()
    while position < len(text):
        match = _REFERENCE.match(text, position)
        if match is None or match.end() == position:
            return None
        name, quoted, token, separator = match.groups()
        if quoted is None:
            params[name.lower()] = token
        else:
            params[name.lower()] = _UNESCAPE.sub(r"\1", quoted) if "\\" in quoted else quoted
        position = match.end()
        if not separator:
            break
    return params


def _ours(raw: str) -> dict[str, str] | None:
    try:
        return _parse_params(raw)
    except SignatureError as exc:
        assert exc.reason == "invalid"
        return None


@pytest.mark.parametrize(
    "header",
    [
        'keyId="https://a.example/users/a#main-key",algorithm="rsa-sha256",'
        'headers="(request-target) host date digest",signature="' + "A" * 342 + '=="',
        'keyId="k", signature="AA=="',  # spaces after commas
        'keyId = "k" ,signature= "AA==" ,',  # spaces around = and a trailing comma
        'keyId="a\\"b\\\\c",signature="x"',  # escaped quote and backslash
        "keyId=k,created=1402170695,signature=AA==",  # tokens
        'keyId="k",signature="AAAA',  # unterminated quote
        'keyId="k",,signature="A"',  # empty member
        'keyId="k" signature="A"',  # missing comma
        'keyId="k\\',  # backslash at the end
        'keyId="a\\\nb"',  # an escaped newline is not an escape
        'keyId="k\nv"',  # a raw newline inside quotes
        '1d="k"',  # a name must start with a letter
        'KEYID="K"',
        "",
    ],
)
def test_known_headers_read_as_before(header: str) -> None:
    assert _ours(header) == _reference_params(header)


def test_random_headers_read_as_before() -> None:
    # Fuzz with the characters that matter to the grammar, in short and long runs
    alphabet = ['"', "\\", ",", "=", " ", "\t", "\n", "a", "Z", "0", "-", "_", "(", "é", "\xa0"]
    pieces = ['keyId="', 'signature="', '"', "headers=", "A" * 50, "\\\\", '\\"', ", "]
    rng = random.Random(20240501)
    for _ in range(20_000):
        parts = [rng.choice(alphabet if rng.random() < 0.7 else pieces) for _ in range(30)]
        header = "".join(parts)
        assert _ours(header) == _reference_params(header), header


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Thu, 29 Feb 2024 23:59:59 GMT",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Mon, 01 Jan 1000 00:00:00 GMT",
        "Tue, 29 Feb 2023 10:00:00 GMT",  # not a leap year
        "Wed, 31 Apr 2024 10:00:00 GMT",
        "Wed, 10 Apr 2024 24:00:00 GMT",
        "Wed, 10 Apr 2024 23:60:00 GMT",
        "Wed, 10 Apr 2024 23:59:60 GMT",
        "Wed, 00 Apr 2024 10:00:00 GMT",
        "Sun, 06 Nov 0094 08:49:37 GMT",  # a year below 1000: the email parser's rules apply
        "Xyz, 06 Nov 1994 08:49:37 GMT",  # any weekday word, as the email parser reads it
        "Sun, 06 NOV 1994 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",  # RFC 850
        "Sun Nov  6 08:49:37 1994",  # asctime
        "Sun, 06 Nov 1994 08:49:37 +0200",
        "Sun, 06 Nov 1994 08:49:37 GMT ",
        "not a date",
        "",
    ],
)
def test_http_dates_read_as_the_email_parser_reads_them(value: str) -> None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        expected: float | None = None
    else:
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        expected = parsed.timestamp()
    try:
        ours: float | None = parse_http_date(value)
    except ValueError:
        ours = None
    assert ours == expected


def test_our_own_dates_round_trip() -> None:
    for timestamp in (0.0, 784111777.0, 1714557600.0, 4102444799.0):
        assert parse_http_date(format_http_date(timestamp)) == timestamp
