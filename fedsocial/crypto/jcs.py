"""Core layer: RFC 8785 JSON Canonicalization Scheme (JCS).

``canonicalize(value)`` gives the one byte string RFC 8785 defines for a JSON value: no
whitespace, object members sorted by the UTF-16 code units of their names, strings escaped as
ECMAScript's ``JSON.stringify`` does, and numbers written as ECMAScript writes an IEEE 754 double
(shortest round-trip digits, exponent form outside 1e-7 .. 1e21, ``-0`` as ``0``). NaN and the
infinities have no JSON form and are refused with ValueError, as are non-JSON Python values.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def canonicalize(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 encoding of a JSON value.

    Accepts dict (str keys), list/tuple, str, int, float, bool and None. Raises ValueError for
    NaN, infinities, integers too large for a double, lone surrogates and non-string keys, and
    TypeError for any other type.
    """
    parts: list[str] = []
    _write(value, parts)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"string is not valid Unicode (lone surrogate?): {exc}") from exc


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int | float):
        out.append(format_number(value))
    elif isinstance(value, dict):
        _write_object(value, out)
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} is not a JSON value")


def _write_object(value: dict[Any, Any], out: list[str]) -> None:
    for key in value:
        if not isinstance(key, str):
            raise ValueError(f"object member name {key!r} is not a string")
    out.append("{")
    for index, key in enumerate(sorted(value, key=_utf16_key)):
        if index:
            out.append(",")
        out.append(_string(key))
        out.append(":")
        _write(value[key], out)
    out.append("}")


def _utf16_key(name: str) -> bytes:
    """Sort key comparing UTF-16 code units: big-endian UTF-16 bytes compare the same way."""
    return name.encode("utf-16-be", "surrogatepass")


def _string(text: str) -> str:
    chars = ['"']
    for char in text:
        escaped = _ESCAPES.get(char)
        if escaped is not None:
            chars.append(escaped)
        elif char < " ":
            chars.append(f"\\u{ord(char):04x}")
        else:
            chars.append(char)
    chars.append('"')
    return "".join(chars)


def format_number(number: int | float) -> str:
    """Write a number as ECMAScript's Number::toString does for the equivalent IEEE 754 double.

    Integers are first converted to a double (as a JSON parser in JavaScript would). Raises
    ValueError for NaN, infinities and integers beyond the double range.
    """
    try:
        value = float(number)
    except OverflowError as exc:
        raise ValueError(f"integer {number} does not fit an IEEE 754 double") from exc
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{value} has no JSON representation")
    if value == 0:
        return "0"  # covers -0.0
    sign = "-" if value < 0 else ""
    # repr() gives the shortest digit string that round-trips, as ECMAScript requires.
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(str(d) for d in digit_tuple).rstrip("0")
    assert isinstance(exponent, int)
    trailing_zeros = len(digit_tuple) - len(digits)
    k = len(digits)
    # value = 0.digits * 10**n  (ECMAScript's n)
    n = exponent + trailing_zeros + k
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{mantissa}e{'+' if e > 0 else '-'}{abs(e)}"
    return sign + text
