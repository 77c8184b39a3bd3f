"""Inbox layer: small checks every handler family shares (ids, origins, the undone activity)."""

from __future__ import annotations

from typing import Any

from fedsocial.activity_json import get_id, same_origin
from fedsocial.errors import ValidationError
from inbox.context import Received


def object_id(activity: Received) -> str:
    """The id of the activity's object; raise ValidationError when there is none."""
    ident = get_id(activity.document.get("object"))
    if ident is None:
        raise ValidationError(f"{activity.type} {activity.activity_id} has no object id")
    return ident


def embedded(activity: Received) -> dict[str, Any] | None:
    """The activity's object when it is embedded, else None."""
    obj = activity.document.get("object")
    return obj if isinstance(obj, dict) else None


def require_same_origin(activity: Received, iri: str, what: str) -> None:
    """Refuse an object that does not live on the actor's own origin (DESIGN.md §4)."""
    if not same_origin(iri, activity.actor):
        raise ValidationError(f"{what} {iri} is not on the origin of {activity.actor}")


def undone_actor_matches(activity: Received) -> None:
    """For an Undo with an embedded activity, refuse it unless the same actor made both."""
    inner = embedded(activity)
    if inner is None:
        return
    inner_actor = get_id(inner.get("actor"))
    if inner_actor is not None and inner_actor != activity.actor:
        raise ValidationError(f"{activity.actor} cannot undo an activity of {inner_actor}")
