"""Tests for outbox.text: finding mentions, hashtags and URLs, and rendering like Mastodon."""

from __future__ import annotations

import time

import pytest

from outbox.text import (
    ResolvedMention,
    extract_entities,
    extract_hashtags,
    extract_mentions,
    render_text,
)

TAGS = "https://a.example/tags"
BOB = ResolvedMention(
    handle="bob@127.0.0.1:8081",
    actor_id="http://127.0.0.1:8081/users/bob",
    profile_url="http://127.0.0.1:8081/@bob",
)
ALICE = ResolvedMention(
    handle="alice@b.example",
    actor_id="https://b.example/users/alice",
    profile_url="https://b.example/@alice",
)
REL = 'target="_blank" rel="nofollow noopener noreferrer" translate="no"'


def render(text: str, *mentions: ResolvedMention) -> str:
    return render_text(text, mentions={m.handle: m for m in mentions}, tag_base_url=TAGS)


def mention_html(mention: ResolvedMention, shown: str) -> str:
    return (
        f'<span class="h-card" translate="no"><a href="{mention.profile_url}" '
        f'class="u-url mention">@<span>{shown}</span></a></span>'
    )


# --- paragraphs and escaping --------------------------------------------------------------------


def test_paragraphs_and_line_breaks() -> None:
    text = "First line\nsecond line\n\nNew paragraph\n\n\n\nThird"
    assert render(text) == ("<p>First line<br />second line</p><p>New paragraph</p><p>Third</p>")


def test_windows_newlines_and_trimming() -> None:
    assert render("  \r\nA\r\nB\r\n\r\nC\n  ") == "<p>A<br />B</p><p>C</p>"


def test_empty_text() -> None:
    assert render("") == ""
    assert render(" \n\n ") == ""


def test_plain_text_is_escaped() -> None:
    out = render("<script>alert('x') & \"y\"</script>")
    assert out == ("<p>&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;</p>")


# --- URLs -----------------------------------------------------------------------------------------


def test_url_linkify_shape() -> None:
    out = render("see https://example.com/path ok")
    assert out == (
        f'<p>see <a href="https://example.com/path" {REL}>'
        '<span class="invisible">https://</span><span class="">example.com/path</span>'
        '<span class="invisible"></span></a> ok</p>'
    )


def test_long_url_gets_ellipsis_and_www_is_hidden() -> None:
    url = "https://www.example.com/a/very/long/path/indeed/to/file.html"
    out = render(url)
    assert out == (
        f'<p><a href="{url}" {REL}><span class="invisible">https://www.</span>'
        '<span class="ellipsis">example.com/a/very/long/path/i</span>'
        '<span class="invisible">ndeed/to/file.html</span></a></p>'
    )


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("go to https://example.com.", "https://example.com"),
        ("(https://example.com/x)", "https://example.com/x"),
        ("https://en.wikipedia.org/wiki/Foo_(bar), yes", "https://en.wikipedia.org/wiki/Foo_(bar)"),
        ("https://example.com/?q=1&r=2!", "https://example.com/?q=1&r=2"),
        ("http://127.0.0.1:8081/users/bob?", "http://127.0.0.1:8081/users/bob"),
        ("'https://example.com/a'", "https://example.com/a"),
    ],
)
def test_url_boundaries(text: str, url: str) -> None:
    assert [e.value for e in extract_entities(text) if e.kind == "url"] == [url]


@pytest.mark.parametrize("text", ["xhttps://example.com", "ftp://example.com", "https://nodot"])
def test_not_urls(text: str) -> None:
    assert [e for e in extract_entities(text) if e.kind == "url"] == []


def test_url_attribute_is_escaped() -> None:
    # A quote ends the URL, and the rest of the text is escaped.
    out = render('https://example.com/a"b')
    assert out.startswith('<p><a href="https://example.com/a" ')
    assert out.endswith("</a>&quot;b</p>")


def test_mention_inside_url_stays_url() -> None:
    entities = extract_entities("https://mastodon.social/@bob@example.com/1 and #tag")
    assert [e.kind for e in entities] == ["url", "hashtag"]


# --- mentions -------------------------------------------------------------------------------------


def test_extract_mentions() -> None:
    text = "@bob@127.0.0.1:8081 hi @Alice@B.example and @local, also @alice@b.example again"
    assert extract_mentions(text) == ["bob@127.0.0.1:8081", "Alice@B.example", "local"]


@pytest.mark.parametrize(
    "text",
    [
        "mail me at foo@bar.example",
        "foo@bar",
        "a=@b",
        "https://x.example/@bob",
        "@bob@x.example@y.example",
        "@bob://x",
        "@josé",
        "@",
    ],
)
def test_not_mentions(text: str) -> None:
    assert extract_mentions(text) == []


def test_mention_before_punctuation() -> None:
    assert extract_mentions("(@bob@b.example), @carol: hi. @dan@d.example.") == [
        "bob@b.example",
        "carol",
        "dan@d.example",
    ]


def test_resolved_mention_rendering() -> None:
    out = render("hi @bob@127.0.0.1:8081!", BOB)
    assert out == f"<p>hi {mention_html(BOB, 'bob')}!</p>"


def test_mention_lookup_ignores_case() -> None:
    out = render("hi @ALICE@B.EXAMPLE", ALICE)
    assert out == f"<p>hi {mention_html(ALICE, 'alice')}</p>"


def test_unresolved_mention_left_as_text() -> None:
    assert render("hi @nobody@nowhere.example & @bob", ALICE) == (
        "<p>hi @nobody@nowhere.example &amp; @bob</p>"
    )


def test_mention_in_email_not_taken() -> None:
    out = render("write to alice@b.example", ALICE)
    assert out == "<p>write to alice@b.example</p>"


def test_same_username_on_two_servers_shows_domains() -> None:
    other = ResolvedMention("alice@c.example", "https://c.example/u/alice", "https://c.example/@a")
    out = render("@alice@b.example @alice@c.example", ALICE, other)
    assert mention_html(ALICE, "alice@b.example") in out
    assert mention_html(other, "alice@c.example") in out


def test_mention_profile_url_is_escaped() -> None:
    odd = ResolvedMention("eve@e.example", "https://e.example/u/eve", 'https://e.example/"><x>')
    assert 'href="https://e.example/&quot;&gt;&lt;x&gt;"' in render("@eve@e.example", odd)


# --- hashtags -------------------------------------------------------------------------------------


def test_hashtag_rendering() -> None:
    assert render("#Fediverse rocks") == (
        '<p><a href="https://a.example/tags/Fediverse" class="mention hashtag" rel="tag">'
        "#<span>Fediverse</span></a> rocks</p>"
    )


def test_unicode_hashtags() -> None:
    text = "#Café #日本語 #über_cool #русский #a·b ＃全角 #हिन्दी"
    assert extract_hashtags(text) == [
        "Café",
        "日本語",
        "über_cool",
        "русский",
        "a·b",
        "全角",
        "हिन्दी",
    ]
    out = render("#日本語")
    assert 'href="https://a.example/tags/%E6%97%A5%E6%9C%AC%E8%AA%9E"' in out
    assert "#<span>日本語</span>" in out


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("#123", []),
        ("#123abc", ["123abc"]),
        ("#_", []),
        ("#1_2", ["1_2"]),
        ("#1__", ["1__"]),
        ("#1_", []),
        ("#_1", []),
        ("#_test #test_", ["_test", "test_"]),
        ("#foohttps://example.com", ["foo"]),
        ("#https://example.com", ["https"]),
        ("#1·2·", ["1·2"]),
        ("#·a", []),
        ("a#b", []),
        ("x.#tag", []),
        ("(#tag)", []),
        ("#tag.", ["tag"]),
        ("#tag's", ["tag"]),
        ("#foo-bar", ["foo"]),
        ("#Tag #tag #TAG", ["Tag"]),
        ("line\n#tag", ["tag"]),
        ("https://example.com/#anchor", []),
    ],
)
def test_hashtag_rules(text: str, tags: list[str]) -> None:
    assert extract_hashtags(text) == tags


def test_hashtag_and_mention_and_url_together() -> None:
    out = render("Hi @alice@b.example, #news: https://example.com/x\n\nbye", ALICE)
    assert out == (
        f"<p>Hi {mention_html(ALICE, 'alice')}, "
        '<a href="https://a.example/tags/news" class="mention hashtag" rel="tag">'
        "#<span>news</span></a>: "
        f'<a href="https://example.com/x" {REL}><span class="invisible">https://</span>'
        '<span class="">example.com/x</span><span class="invisible"></span></a></p>'
        "<p>bye</p>"
    )


# --- robustness -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "#" + "a" * 200_000,
        "@" + "a." * 100_000,
        "https://example.com/" + ")" * 200_000,
        "https://example.com/" + "(" * 100_000 + "." * 100_000,
        "@a@" + "b-" * 100_000,
        "# " * 100_000,
    ],
)
def test_long_inputs_stay_fast(text: str) -> None:
    start = time.perf_counter()
    render(text)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("https://münchen.de/x", ["https://münchen.de/x"]),
        ("see https://пример.рф.", ["https://пример.рф"]),
        ("https://日本.jp/", ["https://日本.jp/"]),
        ("https://example.comです", ["https://example.com"]),
        ("https://example.com日本/x", ["https://example.com"]),
        ("https://xn--mnchen-3ya.de", ["https://xn--mnchen-3ya.de"]),
        ("https://-a.de https://a-.de", []),
    ],
)
def test_idn_hosts_are_linked_as_written(text: str, urls: list[str]) -> None:
    # Given a URL whose host is written in another script (Mastodon links it as written)
    found = [e.value for e in extract_entities(text) if e.kind == "url"]
    # Then it is one link, and an ASCII top-level domain glued to other text ends it
    assert found == urls


def test_idn_link_html() -> None:
    assert render("https://münchen.de/x") == (
        f'<p><a href="https://münchen.de/x" {REL}><span class="invisible">https://</span>'
        '<span class="">münchen.de/x</span><span class="invisible"></span></a></p>'
    )


@pytest.mark.parametrize("profile", ["javascript:alert(1)", " https://e.example/@eve", "data:x"])
def test_mention_with_a_hostile_profile_url_links_to_the_actor(profile: str) -> None:
    # Given a remote account whose actor document gives a non-http(s) profile `url`
    eve = ResolvedMention("eve@e.example", "https://e.example/users/eve", profile)
    # When a post mentions it
    out = render("@eve@e.example", eve)
    # Then the link goes to the actor id, never to the hostile URL
    assert out == f"<p>{mention_html(eve, 'eve').replace(profile, eve.actor_id)}</p>"
    assert profile not in out


def test_mention_without_any_http_url_stays_text() -> None:
    eve = ResolvedMention("eve@e.example", "javascript:1", "javascript:2")
    assert render("@eve@e.example", eve) == "<p>@eve@e.example</p>"
