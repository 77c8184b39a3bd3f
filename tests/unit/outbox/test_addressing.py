"""Tests for outbox.addressing: Mastodon's visibility mapping, both ways, and delivery lists."""

from __future__ import annotations

import pytest

from fedsocial.activity_json import AS_PUBLIC
from outbox.addressing import (
    Addressing,
    Visibility,
    address,
    boost_addressing,
    dedupe_inboxes,
    delivery_targets,
    visibility_of,
)

ME = "https://a.example/users/alice"
FOLLOWERS = "https://a.example/users/alice/followers"
BOB = "https://b.example/users/bob"
CAROL = "https://c.example/users/carol"


@pytest.mark.parametrize(
    ("visibility", "to", "cc"),
    [
        (Visibility.PUBLIC, (AS_PUBLIC,), (FOLLOWERS, BOB, CAROL)),
        (Visibility.UNLISTED, (FOLLOWERS,), (AS_PUBLIC, BOB, CAROL)),
        (Visibility.FOLLOWERS, (FOLLOWERS,), (BOB, CAROL)),
        (Visibility.DIRECT, (BOB, CAROL), ()),
    ],
)
def test_address_per_design(
    visibility: Visibility, to: tuple[str, ...], cc: tuple[str, ...]
) -> None:
    # Given a post mentioning Bob and Carol, When it is addressed, Then DESIGN.md §3 holds
    got = address(visibility, followers_url=FOLLOWERS, mentions=[BOB, CAROL])
    assert got == Addressing(to=to, cc=cc)


def test_address_without_mentions() -> None:
    got = address(Visibility.PUBLIC, followers_url=FOLLOWERS, mentions=[])
    assert got == Addressing(to=(AS_PUBLIC,), cc=(FOLLOWERS,))
    assert address(Visibility.DIRECT, followers_url=FOLLOWERS, mentions=[]).to == ()


def test_address_dedupes_mentions() -> None:
    got = address(Visibility.DIRECT, followers_url=FOLLOWERS, mentions=[BOB, BOB, CAROL, BOB])
    assert got.to == (BOB, CAROL)


def test_as_json() -> None:
    got = address(Visibility.UNLISTED, followers_url=FOLLOWERS, mentions=[BOB]).as_json()
    assert got == {"to": [FOLLOWERS], "cc": [AS_PUBLIC, BOB]}


ROUND_TRIPS = [
    (visibility, mentions)
    for visibility in Visibility
    for mentions in ([], [BOB], [BOB, CAROL])
    if mentions or visibility is not Visibility.DIRECT  # a DM to nobody has no audience
]


@pytest.mark.parametrize(("visibility", "mentions"), ROUND_TRIPS)
def test_visibility_round_trip(visibility: Visibility, mentions: list[str]) -> None:
    # Given addressing made for a visibility
    addressing = address(visibility, followers_url=FOLLOWERS, mentions=mentions)
    # When it is read back, with or without knowing the author's followers collection
    obj = addressing.as_json()
    # Then the same visibility comes out
    assert visibility_of(obj, followers_urls={FOLLOWERS}) is visibility
    assert visibility_of(obj) is visibility


@pytest.mark.parametrize("public", [AS_PUBLIC, "as:Public", "Public"])
def test_visibility_of_public_aliases(public: str) -> None:
    assert visibility_of({"to": public}) is Visibility.PUBLIC
    assert visibility_of({"to": [FOLLOWERS], "cc": [public]}) is Visibility.UNLISTED


def test_visibility_of_followers_needs_to() -> None:
    # Mastodon reads a followers collection in `to` only; in `cc` it is a limited/direct post.
    assert visibility_of({"to": [BOB], "cc": [FOLLOWERS]}) is Visibility.DIRECT


def test_visibility_of_given_followers_url() -> None:
    odd = "https://a.example/collections/abc"
    assert visibility_of({"to": [odd]}, followers_urls={odd}) is Visibility.FOLLOWERS
    assert visibility_of({"to": [odd]}) is Visibility.DIRECT


def test_visibility_of_odd_shapes() -> None:
    assert visibility_of({}) is Visibility.DIRECT
    assert visibility_of({"to": None, "cc": 5}) is Visibility.DIRECT
    assert visibility_of({"to": [{"id": AS_PUBLIC}]}) is Visibility.PUBLIC
    assert visibility_of({"to": "https://a.example/users/x/followers/"}) is Visibility.FOLLOWERS


def test_boost_cc_includes_original_author() -> None:
    got = boost_addressing(Visibility.PUBLIC, followers_url=FOLLOWERS, object_author=BOB)
    assert got == Addressing(to=(AS_PUBLIC,), cc=(BOB, FOLLOWERS))
    got = boost_addressing(Visibility.UNLISTED, followers_url=FOLLOWERS, object_author=BOB)
    assert got == Addressing(to=(FOLLOWERS,), cc=(BOB, AS_PUBLIC))


def test_boost_of_own_post_does_not_repeat_followers() -> None:
    got = boost_addressing(Visibility.FOLLOWERS, followers_url=FOLLOWERS, object_author=FOLLOWERS)
    assert got == Addressing(to=(FOLLOWERS,), cc=())


def test_direct_boost_is_refused() -> None:
    with pytest.raises(ValueError, match="direct"):
        boost_addressing(Visibility.DIRECT, followers_url=FOLLOWERS, object_author=BOB)


def test_delivery_targets_drop_public_and_self() -> None:
    # Given addressing with every Public spelling, ourselves and a duplicate
    to = [AS_PUBLIC, "as:Public", BOB, ME]
    cc = [FOLLOWERS, "Public", BOB, CAROL, ""]
    # When the delivery targets are computed
    got = delivery_targets(to, cc, exclude={ME})
    # Then only real recipients remain, once each, in order
    assert got == [BOB, FOLLOWERS, CAROL]


def test_dedupe_inboxes_prefers_shared_inbox() -> None:
    recipients = [
        ("https://b.example/users/bob/inbox", "https://b.example/inbox"),
        ("https://b.example/users/dan/inbox", "https://b.example/inbox"),
        ("https://c.example/users/carol/inbox", None),
        ("https://c.example/users/carol/inbox", None),
        ("https://d.example/u/eve/inbox", ""),
        ("", None),
    ]
    assert dedupe_inboxes(recipients) == [
        "https://b.example/inbox",
        "https://c.example/users/carol/inbox",
        "https://d.example/u/eve/inbox",
    ]


def test_visibility_values_are_api_names() -> None:
    assert [v.value for v in Visibility] == ["public", "unlisted", "followers", "direct"]
    assert Visibility("unlisted") is Visibility.UNLISTED
