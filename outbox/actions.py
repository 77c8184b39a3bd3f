"""Outbox layer: what a person does — post, edit, delete, follow, like, boost, block, move.

Each action builds its activity with `outbox.compose`, records local state (a pending follow,
a block, a new profile) and publishes through `send`. Used by the CLI, C2S and the inbox.
The actions live in one mixin per family; `OutboxActions` gathers them.
"""

from __future__ import annotations

from outbox.action_base import ActionBase, ObjectInfo
from outbox.actions_posts import PostActions
from outbox.actions_profile import ProfileActions
from outbox.actions_social import SocialActions

__all__ = ["ActionBase", "ObjectInfo", "OutboxActions"]


class OutboxActions(PostActions, SocialActions, ProfileActions):
    """Every high-level action; `outbox.service.Outbox` provides the state and `send`."""
