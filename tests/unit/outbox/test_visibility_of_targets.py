"""Acting on a post one may not see: a local actor cannot like, boost or reply to another
local actor's followers-only or direct post unless addressed or following (404, as Mastodon)."""

from __future__ import annotations

import pytest

from actors.state import local_actors
from fedsocial.errors import NotFound
from fedsocial.storage import follows, reactions
from outbox.addressing import Visibility
from outbox.compose import NoteDraft
from outbox.service import outbox_of
from tests.conftest import StartInstance
from tests.harness import drain


async def test_a_private_post_is_out_of_reach_until_one_may_see_it(
    start_instance: StartInstance,
) -> None:
    # Given alice's followers-only post, and dora who does not follow her
    alpha = await start_instance("alpha")
    alice_id = await alpha.add_actor("alice")
    dora_id = await alpha.add_actor("dora")
    assert alpha.app is not None
    outbox = outbox_of(alpha.app)
    alice = await local_actors(alpha.app).require("alice")
    dora = await local_actors(alpha.app).require("dora")
    post = await outbox.post(alice, NoteDraft(text="friends only", visibility=Visibility.FOLLOWERS))
    # When dora likes, boosts or replies to it, Then it is as if it did not exist
    with pytest.raises(NotFound):
        await outbox.like(dora, post)
    with pytest.raises(NotFound):
        await outbox.boost(dora, post)
    with pytest.raises(NotFound):
        await outbox.post(dora, NoteDraft(text="hi", in_reply_to=post))
    await drain(alpha)
    assert await reactions.count_likes(alpha.db, post) == 0
    # And alice's direct post to someone else is out of reach the same way
    direct = await outbox.post(alice, NoteDraft(text="psst", visibility=Visibility.DIRECT))
    with pytest.raises(NotFound):
        await outbox.like(dora, direct)
    # When dora follows alice, Then she may like and reply to the followers-only post
    await follows.upsert(alpha.db, dora_id, alice_id, activity_id=None, state="accepted", now=0)
    await outbox.like(dora, post)
    await drain(alpha)
    assert await reactions.count_likes(alpha.db, post) == 1
    reply = await outbox.post(dora, NoteDraft(text="hi", in_reply_to=post))
    assert reply.startswith(dora_id)
    # And alice may always act on her own post
    await outbox.like(alice, direct)
