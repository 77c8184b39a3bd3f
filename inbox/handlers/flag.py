"""Inbox layer: Flag (a report about actors or posts), kept for the instance's admin."""

from __future__ import annotations

from fedsocial.activity_json import first_str, get_ids
from fedsocial.errors import ValidationError
from fedsocial.storage import reports
from inbox.context import Effects, Outcome, Received, Services
from inbox.router import Router


async def on_flag(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Store the report with its targets and the reporter's comment (sanitised to text)."""
    targets = get_ids(activity.document.get("object"))
    if not targets:
        raise ValidationError("a Flag needs at least one object")
    comment = first_str(activity.document.get("content")) or ""
    effects.add(
        reports.add(
            activity.activity_id,
            activity.actor,
            targets=targets,
            content=services.sanitizer.sanitize(comment),
            now=services.clock.now(),
        )
    )
    return Outcome.APPLIED


def register(router: Router) -> None:
    """Register Flag."""
    router.register("Flag", on_flag)
