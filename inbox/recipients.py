"""Inbox layer: which local actors received an activity (their C2S inbox lists it).

Delivered to a personal inbox: its owner. Delivered to the shared inbox: the local actors it
addresses, and the local followers of its actor (a shared-inbox delivery stands for them).
"""

from __future__ import annotations

from fedsocial.storage import inbox_queue
from inbox.context import Effects, Received, Services
from inbox.incoming_objects import addressed
from inbox.local_audience import local_user_name


def record_recipients(services: Services, activity: Received, effects: Effects) -> None:
    """Queue the inbox items of an applied activity."""
    names: set[str] = set()
    if activity.inbox != services.urls.shared_inbox:
        owner = local_user_name(services, activity.inbox.removesuffix("/inbox"))
        if owner is not None:
            names.add(owner)
    else:
        effects.add(
            inbox_queue.add_items_for_followers(
                activity.actor,
                activity.activity_id,
                local_actor_prefix=services.local_actor_prefix,
            )
        )
    for iri in addressed(activity.document):
        name = local_user_name(services, iri)
        if name is not None:
            names.add(name)
    for name in sorted(names):
        # A shared-inbox delivery names no recipient, so the receive path could not drop it
        # for a local actor who blocks the sender: the statement leaves them out.
        effects.add(
            inbox_queue.add_item(
                name,
                activity.activity_id,
                actor_id=services.urls.actor(name),
                sender=activity.actor,
            )
        )
