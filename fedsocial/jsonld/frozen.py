"""Core layer: an exact, hashable image of a JSON value, so equal values can share a memo."""

from __future__ import annotations

from typing import Any


class TooLarge(Exception):
    """The value holds more JSON values than the limit `freeze` was given."""


def freeze(value: Any, *, limit: int) -> Any:
    """An exact hashable image of a JSON value.

    Containers become tuples tagged at position 0 ("[" list, "{" object); scalars other than
    strings are tagged with their type, so True, 1 and 1.0 stay apart. Raises TypeError for
    anything that is not JSON and TooLarge past `limit` values (checked as it goes, so a huge
    value costs no more than `limit` steps, and recursion stays within `limit` levels).
    """
    budget = [limit]
    return _freeze(value, budget)


def _freeze(value: Any, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise TooLarge
    kind = type(value)
    if kind is str:
        return value
    if kind is list:
        return ("[", *[_freeze(item, budget) for item in value])
    if kind is dict:
        return ("{", *[(_key(k), _freeze(v, budget)) for k, v in value.items()])
    if value is None or kind in (bool, int, float):
        return ("#", kind.__name__, value)
    raise TypeError(f"{kind.__name__} is not a JSON value")


def _key(name: Any) -> str:
    if type(name) is not str:
        raise TypeError("JSON object keys are strings")
    return str(name)


def thaw(frozen: Any) -> Any:
    """The JSON value `freeze` made `frozen` from."""
    if isinstance(frozen, str):
        return frozen
    tag = frozen[0]
    if tag == "[":
        return [thaw(item) for item in frozen[1:]]
    if tag == "{":
        return {name: thaw(item) for name, item in frozen[1:]}
    return frozen[2]
