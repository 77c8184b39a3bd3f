"""Tests for outbox.compose: Mastodon-shaped Notes and the activities around them."""

from __future__ import annotations

from typing import Any

import pytest

from fedsocial.activity_json import AS_PUBLIC
from outbox.addressing import Visibility, visibility_of
from outbox.compose import (
    NoteDraft,
    build_accept,
    build_announce,
    build_block,
    build_create,
    build_delete,
    build_follow,
    build_like,
    build_move,
    build_note,
    build_reject,
    build_tombstone,
    build_undo,
    build_update,
)
from outbox.text import ResolvedMention

ME = "https://a.example/users/alice"
FOLLOWERS = f"{ME}/followers"
NOTE_ID = f"{ME}/statuses/1"
NOW = "2024-05-01T12:00:00Z"
BOB = ResolvedMention(
    handle="bob@127.0.0.1:8081",
    actor_id="http://127.0.0.1:8081/users/bob",
    profile_url="http://127.0.0.1:8081/@bob",
)
CAROL = "https://c.example/users/carol"


def note(draft: NoteDraft) -> dict[str, Any]:
    return build_note(
        draft,
        object_id=NOTE_ID,
        actor_id=ME,
        followers_url=FOLLOWERS,
        published=NOW,
        url="https://a.example/@alice/1",
        tag_base_url="https://a.example/tags",
    )


def test_public_note_shape() -> None:
    # Given a public post mentioning Bob with a hashtag
    draft = NoteDraft(text="Hello @bob@127.0.0.1:8081 #Fediverse", mentions=(BOB,), language="en")
    # When it is built
    got = note(draft)
    # Then it looks like Mastodon's Note
    assert got["id"] == NOTE_ID
    assert got["type"] == "Note"
    assert got["attributedTo"] == ME
    assert got["summary"] is None
    assert got["sensitive"] is False
    assert got["inReplyTo"] is None
    assert got["published"] == NOW
    assert got["url"] == "https://a.example/@alice/1"
    assert got["to"] == [AS_PUBLIC]
    assert got["cc"] == [FOLLOWERS, BOB.actor_id]
    assert got["content"].startswith('<p>Hello <span class="h-card" translate="no">')
    assert got["contentMap"] == {"en": got["content"]}
    assert got["attachment"] == []
    assert got["tag"] == [
        {"type": "Mention", "href": BOB.actor_id, "name": "@bob@127.0.0.1:8081"},
        {"type": "Hashtag", "href": "https://a.example/tags/fediverse", "name": "#Fediverse"},
    ]
    assert "@context" not in got
    assert "replies" not in got
    assert "conversation" not in got


def test_content_warning_sets_summary_and_sensitive() -> None:
    got = note(NoteDraft(text="spoiler", content_warning="  film plot "))
    assert got["summary"] == "film plot"
    assert got["sensitive"] is True
    assert note(NoteDraft(text="x", content_warning="  "))["sensitive"] is False


def test_no_language_no_content_map() -> None:
    assert "contentMap" not in note(NoteDraft(text="x"))


def test_reply_addresses_the_author() -> None:
    draft = NoteDraft(
        text="agreed",
        in_reply_to="https://c.example/notes/9",
        in_reply_to_author=CAROL,
        conversation="https://c.example/contexts/9",
    )
    got = note(draft)
    assert got["inReplyTo"] == "https://c.example/notes/9"
    assert got["cc"] == [FOLLOWERS, CAROL]
    assert got["conversation"] == got["context"] == "https://c.example/contexts/9"


def test_reply_to_self_does_not_address_self() -> None:
    got = note(NoteDraft(text="thread", in_reply_to=f"{ME}/statuses/0", in_reply_to_author=ME))
    assert ME not in got["to"] + got["cc"]


def test_direct_reply_reaches_only_the_mentioned() -> None:
    draft = NoteDraft(
        text="@bob@127.0.0.1:8081 psst",
        visibility=Visibility.DIRECT,
        mentions=(BOB,),
        in_reply_to_author=CAROL,
    )
    got = note(draft)
    assert got["to"] == [BOB.actor_id]
    assert got["cc"] == []


@pytest.mark.parametrize("visibility", [v for v in Visibility if v is not Visibility.DIRECT])
def test_note_visibility_round_trips(visibility: Visibility) -> None:
    got = note(NoteDraft(text="x", visibility=visibility, mentions=(BOB,)))
    assert visibility_of(got, followers_urls={FOLLOWERS}) is visibility


def test_duplicate_hashtags_make_one_tag() -> None:
    tags = note(NoteDraft(text="#Cats #cats #CATS #dogs"))["tag"]
    assert [t["name"] for t in tags] == ["#Cats", "#dogs"]


def test_unresolved_mention_is_not_tagged_or_addressed() -> None:
    got = note(NoteDraft(text="hi @ghost@nowhere.example"))
    assert got["tag"] == []
    assert got["cc"] == [FOLLOWERS]
    assert got["content"] == "<p>hi @ghost@nowhere.example</p>"


# --- activities ---------------------------------------------------------------------------------


def test_create_copies_addressing_and_published() -> None:
    obj = note(NoteDraft(text="x", visibility=Visibility.UNLISTED))
    got = build_create(obj, activity_id=f"{NOTE_ID}/activity", actor_id=ME)
    assert got == {
        "id": f"{NOTE_ID}/activity",
        "type": "Create",
        "actor": ME,
        "published": NOW,
        "to": [FOLLOWERS],
        "cc": [AS_PUBLIC],
        "object": obj,
    }
    assert got["object"] is not obj
    assert got["to"] is not obj["to"]


def test_update_sets_updated() -> None:
    obj = note(NoteDraft(text="x"))
    later = "2024-05-01T13:00:00Z"
    got = build_update(obj, activity_id=f"{NOTE_ID}#updates/1", actor_id=ME, updated=later)
    assert got["type"] == "Update"
    assert got["published"] == later
    assert got["object"]["updated"] == later
    assert (got["to"], got["cc"]) == (obj["to"], obj["cc"])
    assert "updated" not in obj


def test_update_of_actor_is_public() -> None:
    actor = {"id": ME, "type": "Person"}
    got = build_update(actor, activity_id=f"{ME}#updates/1", actor_id=ME, updated=NOW)
    assert got["to"] == [AS_PUBLIC]


def test_delete_uses_bare_tombstone() -> None:
    got = build_delete(NOTE_ID, activity_id=f"{NOTE_ID}#delete", actor_id=ME, to=[AS_PUBLIC])
    assert got == {
        "id": f"{NOTE_ID}#delete",
        "type": "Delete",
        "actor": ME,
        "to": [AS_PUBLIC],
        "object": {"id": NOTE_ID, "type": "Tombstone"},
    }
    with_cc = build_delete(NOTE_ID, activity_id="x", actor_id=ME, to=[FOLLOWERS], cc=[CAROL])
    assert with_cc["cc"] == [CAROL]


def test_tombstone() -> None:
    assert build_tombstone(NOTE_ID, deleted=NOW, former_type="Note") == {
        "id": NOTE_ID,
        "type": "Tombstone",
        "formerType": "Note",
        "deleted": NOW,
    }


def test_follow_undo_and_accept() -> None:
    follow = build_follow(CAROL, activity_id=f"{ME}#follows/1", actor_id=ME)
    assert follow == {"id": f"{ME}#follows/1", "type": "Follow", "actor": ME, "object": CAROL}
    undo = build_undo(follow, activity_id=f"{ME}#follows/1/undo", actor_id=ME)
    assert undo == {"id": f"{ME}#follows/1/undo", "type": "Undo", "actor": ME, "object": follow}

    incoming = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://c.example/f/1",
        "type": "Follow",
        "actor": CAROL,
        "object": {"id": ME, "type": "Person"},
    }
    accept = build_accept(incoming, activity_id=f"{ME}#accepts/follows/1", actor_id=ME)
    assert accept == {
        "id": f"{ME}#accepts/follows/1",
        "type": "Accept",
        "actor": ME,
        "object": {"id": "https://c.example/f/1", "type": "Follow", "actor": CAROL, "object": ME},
    }
    reject = build_reject(incoming, activity_id="r", actor_id=ME)
    assert reject["type"] == "Reject"
    assert reject["object"] == accept["object"]


def test_like_block_and_their_undo() -> None:
    like = build_like("https://c.example/notes/9", activity_id=f"{ME}#likes/1", actor_id=ME)
    assert like == {
        "id": f"{ME}#likes/1",
        "type": "Like",
        "actor": ME,
        "object": "https://c.example/notes/9",
    }
    block = build_block(CAROL, activity_id=f"{ME}#blocks/1", actor_id=ME)
    assert block["type"] == "Block"
    assert block["object"] == CAROL
    assert build_undo(block, activity_id="u", actor_id=ME)["object"] == block


def test_announce_ccs_the_author_and_undo_keeps_addressing() -> None:
    boost = build_announce(
        "https://c.example/notes/9",
        activity_id=f"{ME}/statuses/2/activity",
        actor_id=ME,
        object_author=CAROL,
        visibility=Visibility.PUBLIC,
        followers_url=FOLLOWERS,
        published=NOW,
    )
    assert boost == {
        "id": f"{ME}/statuses/2/activity",
        "type": "Announce",
        "actor": ME,
        "published": NOW,
        "to": [AS_PUBLIC],
        "cc": [CAROL, FOLLOWERS],
        "object": "https://c.example/notes/9",
    }
    undo = build_undo(boost, activity_id=f"{ME}/statuses/2#undo", actor_id=ME)
    assert (undo["to"], undo["cc"]) == (boost["to"], boost["cc"])
    assert undo["object"] == {
        "id": boost["id"],
        "type": "Announce",
        "actor": ME,
        "object": "https://c.example/notes/9",
    }


def test_direct_announce_is_refused() -> None:
    with pytest.raises(ValueError, match="direct"):
        build_announce(
            "https://c.example/notes/9",
            activity_id="x",
            actor_id=ME,
            object_author=CAROL,
            visibility=Visibility.DIRECT,
            followers_url=FOLLOWERS,
            published=NOW,
        )


def test_move() -> None:
    target = "https://n.example/users/alice"
    got = build_move(ME, target, activity_id=f"{ME}#moves/1", followers_url=FOLLOWERS)
    assert got == {
        "id": f"{ME}#moves/1",
        "type": "Move",
        "actor": ME,
        "to": [FOLLOWERS],
        "object": ME,
        "target": target,
    }


def test_one_account_mentioned_by_two_handles_is_one_mention() -> None:
    # Given a local account written both as @dan and @dan@a.example (resolved to one actor)
    dan_id, dan_url = "https://a.example/users/dan", "https://a.example/@dan"
    short = ResolvedMention(handle="dan", actor_id=dan_id, profile_url=dan_url)
    full = ResolvedMention(handle="dan@a.example", actor_id=dan_id, profile_url=dan_url)
    draft = NoteDraft(text="@dan and @dan@a.example", mentions=(short, full))
    # When the note is built
    got = note(draft)
    # Then it has one Mention tag, and both links show the bare username (not "ambiguous")
    assert got["tag"] == [{"type": "Mention", "href": dan_id, "name": "@dan"}]
    assert got["content"].count("@<span>dan</span>") == 2
    assert got["cc"] == [FOLLOWERS, dan_id]
