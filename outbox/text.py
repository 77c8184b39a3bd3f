"""Outbox layer: plain status text to Mastodon-shaped HTML, and the mentions and hashtags in it.

The rules follow Mastodon (``app/lib/text_formatter.rb``, ``app/lib/extractor.rb``,
``Account::MENTION_RE``, ``Tag::HASHTAG_RE``):

- a mention is ``@user`` or ``@user@host`` not preceded by a word character, ``=`` or ``/`` (so
  e-mail addresses and URL paths are not mentions) and not followed by another ``@`` or ``://``;
  unlike Mastodon the host may carry a port (``@bob@127.0.0.1:8081``) for loopback federation;
- a hashtag is ``#`` or ``＃`` at the start of the text or after whitespace, then word characters
  (letters, marks, digits, ``_``) with the separators ``·``, ``・`` and ZWNJ allowed inside; it
  must contain a letter, or a separator or ``_`` between two characters (``#123`` is not a tag,
  ``#1_2`` is);
- a URL starts with ``http://`` or ``https://`` not glued to a preceding letter or digit; trailing
  punctuation and unbalanced closing brackets are not part of it;
- where entities overlap the earliest wins (a mention inside a URL stays part of the URL).

Simplification: the top-level domain is not checked against a list (so a host needs a dot, or to
be ``localhost``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import quote

__all__ = [
    "URL_REL",
    "Entity",
    "ResolvedMention",
    "escape",
    "extract_entities",
    "extract_hashtags",
    "extract_mentions",
    "link_url",
    "normalize_hashtag",
    "render_text",
    "tag_url",
]

URL_REL: Final = "nofollow noopener noreferrer"
"""The ``rel`` Mastodon puts on links it makes from plain text."""

_URL_DISPLAY_LENGTH: Final = 30


@dataclass(frozen=True, slots=True)
class ResolvedMention:
    """A mention whose account is known.

    ``handle`` is how the text names it, without the leading ``@``: ``user@host``, or ``user`` for
    a local account. ``actor_id`` goes into addressing and the Mention tag; ``profile_url`` is the
    link shown to people.
    """

    handle: str
    actor_id: str
    profile_url: str

    @property
    def username(self) -> str:
        """The part of the handle before the host."""
        return self.handle.lstrip("@").split("@", 1)[0]


@dataclass(frozen=True, slots=True)
class Entity:
    """A mention, hashtag or URL found in text: its kind, its span ``[start, end)`` in the text
    and its value (the handle without ``@``, the tag without ``#``, or the URL)."""

    kind: Literal["mention", "hashtag", "url"]
    start: int
    end: int
    value: str


# --- extraction ---------------------------------------------------------------------------------

_MENTION_RE: Final = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*(?:@\w+(?:[.-]+\w+)*(?::[0-9]{1,5})?)?)",
    re.IGNORECASE,
)
_LATIN_ACCENT_RE: Final = re.compile(r"[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]")

_URL_RE: Final = re.compile(
    r"(?<![A-Za-z0-9@＠$#＃])https?://"
    # Labels of letters and digits of any script (IDNs as written), hyphens inside.
    r"(?P<host>[^\W_](?:(?:[^\W_]|-)*[^\W_])?(?:\.[^\W_](?:(?:[^\W_]|-)*[^\W_])?)*)"
    r"(?::[0-9]{1,5})?"
    r"(?:[/?#][A-Za-z0-9\u00c0-\u024f\u0400-\u04ff!*';:=+,.$/%#\[\]()\-\u2013_~&|@?]*)?",
    re.IGNORECASE,
)
_ASCII_LABEL_START_RE: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
_URL_TRAILING: Final = frozenset(".,:;!?'\"*$%|~@[")
_URL_PREFIX_RE: Final = re.compile(r"https?://(?:www\.)?|xmpp:", re.IGNORECASE)

_HASH_SIGNS: Final = frozenset("#＃")
_TAG_SEPARATORS: Final = frozenset("\u00b7\u30fb\u200c")
# Mastodon's HASHTAG_SEPARATORS also hold "_" (a word character anyway): in the long form it
# counts like a letter, so `#1_2` is a tag.
_TAG_LONG_FORM_MARKS: Final = _TAG_SEPARATORS | {"_"}


def _is_word(ch: str) -> bool:
    """Onigmo's ``[[:word:]]``: letters, marks, decimal digits, letter numbers, connectors."""
    category = unicodedata.category(ch)
    return category[0] in "LM" or category in ("Nd", "Nl", "Pc")


def _is_alpha(ch: str) -> bool:
    """Onigmo's ``[[:alpha:]]``, near enough: letters, marks and letter numbers."""
    category = unicodedata.category(ch)
    return category[0] in "LM" or category == "Nl"


def _hashtag_at(text: str, start: int) -> str | None:
    """Return the tag name that Mastodon's hashtag pattern reads after the sign at ``start``."""
    end = start + 1
    while end < len(text) and (_is_word(text[end]) or text[end] in _TAG_SEPARATORS):
        end += 1
    run = text[start + 1 : end]
    if not run or not _is_word(run[0]):
        return None
    # Long form: separators allowed inside, must end on a word character and hold a letter, a
    # separator or "_" somewhere strictly between the first and the last character. The longest such
    # prefix ends at the last word character after the first letter-or-separator.
    first = next(
        (k for k in range(1, len(run)) if _is_alpha(run[k]) or run[k] in _TAG_LONG_FORM_MARKS),
        None,
    )
    if first is not None:
        last = next((j for j in range(len(run) - 1, first, -1) if _is_word(run[j])), None)
        if last is not None:
            return run[: last + 1]
    # Short form: word characters only, at least one of them a letter.
    word_end = 0
    while word_end < len(run) and _is_word(run[word_end]):
        word_end += 1
    short = run[:word_end]
    return short if any(_is_alpha(ch) for ch in short) else None


def _hashtags(text: str) -> Iterator[Entity]:
    for index, ch in enumerate(text):
        if ch in _HASH_SIGNS and (index == 0 or text[index - 1].isspace()):
            name = _hashtag_at(text, index)
            if name is not None and text.startswith("://", index + 1 + len(name)):
                # `#tagHTTPS://…` glued to a URL: the scheme is not part of the tag (Mastodon).
                scheme = re.search(r"https?$", name[1:])
                name = name[: len(name) - len(scheme.group(0))] if scheme else name
            if name is not None:
                yield Entity("hashtag", index, index + 1 + len(name), name)


def _mentions(text: str) -> Iterator[Entity]:
    for match in _MENTION_RE.finditer(text):
        after = text[match.end() : match.end() + 3]
        if after[:1] in ("@", "＠") or after.startswith("://"):
            continue
        if _LATIN_ACCENT_RE.match(after[:1]):
            continue
        yield Entity("mention", match.start(), match.end(), match.group(1))


def _trim_url(url: str) -> str:
    """Drop trailing punctuation and unbalanced closing brackets, as twitter-text does (in one
    pass: bracket counts are kept up to date rather than recounted)."""
    opened = {")": url.count("("), "]": url.count("[")}
    closed = {")": url.count(")"), "]": url.count("]")}
    end = len(url)
    while end:
        last = url[end - 1]
        if last in closed and opened[last] < closed[last]:
            closed[last] -= 1
        elif last in _URL_TRAILING:
            if last == "[":
                opened["]"] -= 1
        else:
            break
        end -= 1
    return url[:end]


def _urls(text: str) -> Iterator[Entity]:
    for match in _URL_RE.finditer(text):
        host = match.group("host")
        if "." not in host and host.lower() != "localhost":
            continue
        tld = host.rsplit(".", 1)[-1]
        ascii_start = _ASCII_LABEL_START_RE.match(tld)
        if ascii_start and not tld.isascii():
            # `https://example.comです`: an ASCII top-level domain glued to text in another
            # script ends the URL there, as twitter-text's TLD boundary does.
            end = match.start("host") + len(host) - len(tld) + ascii_start.end()
            url = text[match.start() : end]
        else:
            # The host ends on a letter or digit, so trimming never reaches into it.
            url = _trim_url(match.group(0))
        yield Entity("url", match.start(), match.start() + len(url), url)


def extract_entities(text: str) -> list[Entity]:
    """Return the URLs, hashtags and mentions of ``text`` in order of position, without overlaps
    (of two overlapping entities the one starting first is kept; a URL wins at equal start)."""
    found = sorted(
        (*_urls(text), *_hashtags(text), *_mentions(text)),
        key=lambda entity: (entity.start, entity.kind != "url"),
    )
    kept: list[Entity] = []
    for entity in found:
        if not kept or entity.start >= kept[-1].end:
            kept.append(entity)
    return kept


def extract_mentions(text: str) -> list[str]:
    """Return the handles mentioned in ``text`` (``user@host`` or bare ``user``, without ``@``),
    in order of first appearance, each once (compared case-insensitively)."""
    handles: dict[str, str] = {}
    for entity in extract_entities(text):
        if entity.kind == "mention":
            handles.setdefault(entity.value.lower(), entity.value)
    return list(handles.values())


def normalize_hashtag(name: str) -> str:
    """Return the form of a tag name used for comparison and in tag URLs: NFKC-normalised (so
    full-width letters become ASCII) and lowercased."""
    return unicodedata.normalize("NFKC", name).lower()


def extract_hashtags(text: str) -> list[str]:
    """Return the hashtags of ``text`` as written (without ``#``), in order of first appearance,
    each once (compared by :func:`normalize_hashtag`)."""
    tags: dict[str, str] = {}
    for entity in extract_entities(text):
        if entity.kind == "hashtag":
            tags.setdefault(normalize_hashtag(entity.value), entity.value)
    return list(tags.values())


# --- rendering ----------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape text for HTML content and double-quoted attributes, as Rails' ``h`` does."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def link_url(url: str) -> str:
    """Return Mastodon's HTML for a URL in text: the scheme (and ``www.``) hidden, at most 30
    characters shown, the rest hidden behind an ellipsis."""
    prefix_match = _URL_PREFIX_RE.match(url)
    prefix = prefix_match.group(0) if prefix_match else ""
    rest = url[len(prefix) :]
    display, suffix = rest[:_URL_DISPLAY_LENGTH], rest[_URL_DISPLAY_LENGTH:]
    css = "ellipsis" if len(rest) > _URL_DISPLAY_LENGTH else ""
    return (
        f'<a href="{escape(url)}" target="_blank" rel="{URL_REL}" translate="no">'
        f'<span class="invisible">{escape(prefix)}</span>'
        f'<span class="{css}">{escape(display)}</span>'
        f'<span class="invisible">{escape(suffix)}</span></a>'
    )


def tag_url(tag_base_url: str, name: str) -> str:
    """Return the URL of a hashtag page: ``tag_base_url/name``, the name percent-encoded."""
    return f"{tag_base_url.rstrip('/')}/{quote(name, safe='')}"


def _link_hashtag(name: str, tag_base_url: str) -> str:
    href = escape(tag_url(tag_base_url, name))
    return f'<a href="{href}" class="mention hashtag" rel="tag">#<span>{escape(name)}</span></a>'


def _is_http(url: str) -> bool:
    return url.lower().startswith(("https://", "http://"))


def _link_mention(mention: ResolvedMention, *, full: bool) -> str | None:
    shown = mention.handle.lstrip("@") if full else mention.username
    # The profile URL comes from the remote actor document: a `javascript:` one must not
    # become a link in our post. The actor id (checked to be http(s) when fetched) serves then.
    href = next((url for url in (mention.profile_url, mention.actor_id) if _is_http(url)), None)
    if href is None:
        return None
    return (
        f'<span class="h-card" translate="no"><a href="{escape(href)}" '
        f'class="u-url mention">@<span>{escape(shown)}</span></a></span>'
    )


def _simple_format(html: str) -> str:
    """Rails' ``simple_format`` then newline removal: blank lines split paragraphs, single
    newlines become ``<br />``."""
    paragraphs = re.split(r"\n\n+", html.replace("\r\n", "\n").replace("\r", "\n"))
    parts = [re.sub(r"([^\n]\n)(?=[^\n])", r"\1<br />", paragraph) for paragraph in paragraphs]
    return "".join(f"<p>{part}</p>" for part in parts).replace("\n", "")


def render_text(
    text: str,
    *,
    mentions: Mapping[str, ResolvedMention],
    tag_base_url: str,
) -> str:
    """Return the HTML Mastodon would make of a plain-text status.

    The text is trimmed and HTML-escaped; blank lines separate ``<p>`` paragraphs and single
    newlines become ``<br />``. URLs become shortened links, hashtags link to
    ``tag_base_url/<tag>``, and mentions found in ``mentions`` (keys are handles without ``@``,
    matched case-insensitively) become h-card links to the profile URL. A mention not in
    ``mentions`` stays plain text. The username alone is shown unless two accounts mentioned in
    the text share it. Empty text gives ``""``.
    """
    text = text.strip()
    if not text:
        return ""
    resolved = {handle.lstrip("@").lower(): mention for handle, mention in mentions.items()}
    entities = extract_entities(text)
    used = [
        resolved[e.value.lower()]
        for e in entities
        if e.kind == "mention" and e.value.lower() in resolved
    ]
    usernames: dict[str, set[str]] = {}
    for known in used:
        # Two handles of one account (``@bob`` and ``@bob@here``) are not ambiguous.
        usernames.setdefault(known.username.lower(), set()).add(known.actor_id)

    out: list[str] = []
    position = 0
    for entity in entities:
        out.append(escape(text[position : entity.start]))
        original = text[entity.start : entity.end]
        if entity.kind == "url":
            out.append(link_url(entity.value))
        elif entity.kind == "hashtag":
            out.append(_link_hashtag(entity.value, tag_base_url))
        elif (mention := resolved.get(entity.value.lower())) is not None and (
            link := _link_mention(mention, full=len(usernames[mention.username.lower()]) > 1)
        ):
            out.append(link)
        else:
            out.append(escape(original))
        position = entity.end
    out.append(escape(text[position:]))
    return _simple_format("".join(out))
