"""Core layer: incoming HTML sanitised to Mastodon's allowlist, and HTML to plain text.

:class:`HtmlSanitizer` follows Mastodon's ``MASTODON_STRICT`` rules
(``app/lib/sanitize_config.rb``):

- kept elements: p br span a del s pre blockquote code b strong u i em ul ol li ruby rt rp;
- ``h1``–``h6`` become ``<p><strong>…</strong></p>``;
- any other element is removed but its text kept, except script, style, iframe, svg, math and the
  other raw-text containers, whose content is dropped entirely;
- ``a`` keeps ``href`` only with a scheme from :data:`LINK_SCHEMES` (relative, padded or
  unparsable hrefs are refused) and gets ``rel="nofollow noopener"`` and ``target="_blank"``;
  an ``a`` left without ``href`` is replaced by its content;
- ``class`` on ``a``/``span``/``p`` keeps microformats (``h-``, ``p-``, ``u-``, ``dt-``, ``e-``)
  and ``mention``, ``hashtag``, ``ellipsis``, ``invisible``, ``quote-inline``; ``translate``
  survives only as ``"no"``;
- ``ol`` keeps ``start`` and ``reversed``, ``li`` keeps ``value`` (integers only); any kept element
  keeps ``lang``; no other attribute survives (not even ``title``).

Not done: Mastodon turns MathML into its LaTeX or plain-text annotation; we drop ``math`` content.

How: one :class:`nh3.Cleaner` (ammonia) parses and filters; a short pass over its output then
renames headings and unwraps ``a`` without ``href``. That pass can use a regular expression safely
because ammonia's serialisation escapes ``<`` and ``>`` in text and attribute values alike, so every
``<`` in its output opens a real tag, and tags are balanced (they come from a parsed tree).
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import nh3

__all__ = ["ALLOWED_TAGS", "LINK_SCHEMES", "MAX_TAGS", "HtmlSanitizer", "plain_text"]

# fmt: off
ALLOWED_TAGS: Final[frozenset[str]] = frozenset({
    "p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i", "em",
    "ul", "ol", "li", "ruby", "rt", "rp",
})
# fmt: on
"""Elements that survive sanitising (headings are kept too, but rewritten to ``p > strong``)."""

# fmt: off
LINK_SCHEMES: Final[frozenset[str]] = frozenset({
    "http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet", "gemini",
})
# fmt: on
"""URL schemes Mastodon accepts in ``a href`` (its ``LINK_PROTOCOLS``)."""

_HEADINGS: Final = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

MAX_TAGS: Final = 4000
"""Above this many tags, HTML is reduced to escaped text instead of parsed.

The HTML tree builder does work proportional to the nesting depth for many tags, so parse time
grows with tags times depth; bounding the tag count bounds it (about 40 ms at the limit)."""

MAX_ATTRIBUTES: Final = 1000
"""Above this many attributes in one tag, HTML is reduced to escaped text instead of parsed.

The tokenizer compares each new attribute of a tag with the ones before it, so one tag with
n distinct attributes costs n² (80,000 of them, under 1 MB, took 2 s); real tags have a few."""

# Content removed together with the element: Sanitize's default ``remove_contents`` plus template.
# fmt: off
_DROP_CONTENT: Final = frozenset({
    "script", "style", "iframe", "math", "noembed", "noframes", "noscript", "plaintext", "svg",
    "xmp", "template",
})
# fmt: on

_LINK_REL: Final = "nofollow noopener"

_ATTRIBUTES: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "a": frozenset({"href", "class", "translate"}),
        "span": frozenset({"class", "translate"}),
        "ol": frozenset({"start", "reversed"}),
        "li": frozenset({"value"}),
        "p": frozenset({"class"}),
    }
)
# Attributes allowed on every kept element (Mastodon's ``:all``). Ammonia's default adds ``title``.
_GENERIC_ATTRIBUTES: Final = frozenset({"lang"})

_CLASS_KEEP_RE: Final = re.compile(
    r"(?:h|p|u|dt|e)-.*|mention|hashtag|ellipsis|invisible|quote-inline"
)
_INTEGER_RE: Final = re.compile(r"-?[0-9]{1,9}")
_HTML_SPACE: Final = "\t\n\f\r "

# A tag in ammonia's output: every "<" there starts a tag (see the module docstring).
_TAG_RE: Final = re.compile(r"<(/?)([a-z0-9]+)([^>]*)>")
# One attribute there: values are double-quoted with '"' escaped as &quot;.
# Anything that may start a start or end tag for the HTML tokenizer.
_TAG_START_RE: Final = re.compile(r"</?[A-Za-z]")
# Tag-like runs for the linear fallback; "[^<>]" keeps every match attempt short.
_ANY_TAG_RE: Final = re.compile(r"<[^<>]*>")
# A start or end tag as the HTML tokenizer reads it: name, then attributes whose values may be
# quoted (a quoted ">" or "<" does not end the tag) or glued to the previous one, up to a ">"
# outside a value or the end of the input. It cannot fail once "<x" matched, so it is linear.
_OPEN_TAG_RE: Final = re.compile(
    r"</?[A-Za-z][^\t\n\f\r />]*"
    r"(?:[\t\n\f\r /]*(?:[^\t\n\f\r />][^\t\n\f\r />=]*"
    r"""(?:[\t\n\f\r ]*=[\t\n\f\r ]*(?:"[^"]*"?|'[^']*'?|[^\t\n\f\r >]*))?)?)*"""
)
# Where an attribute name may start in a tag: after a separator, or straight after a quote.
# (A lookbehind: a leading "[…]+" would rescan every long run of separators, quadratically.)
_ATTRIBUTE_START_RE: Final = re.compile(r"""(?<=[\t\n\f\r /"'])[^\t\n\f\r />"'=]""")
_BLANK_LINES_RE: Final = re.compile(r"[ \t]*\n(?:[ \t]*\n)+[ \t]*")
_ATTR_RE: Final = re.compile(r'([a-z-]+)="([^"]*)"')
_ATTR_ORDER: Final[dict[str, int]] = {
    name: rank
    for rank, name in enumerate(
        ["href", "class", "translate", "rel", "target", "start", "reversed"]
    )
}


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    """Decide one attribute of an allowed element (ammonia has already checked href schemes)."""
    if name == "class":
        kept = [c for c in value.split() if _CLASS_KEEP_RE.fullmatch(c)]
        return " ".join(kept) if kept else None
    if name == "translate":
        return "no" if value == "no" else None
    if name == "href":
        # Mastodon refuses hrefs it cannot parse, such as ones padded with spaces.
        if value != value.strip(_HTML_SPACE + "\v\x00") or any(ord(ch) < 0x20 for ch in value):
            return None
        return value
    if name in ("start", "value"):
        return value if _INTEGER_RE.fullmatch(value.strip()) else None
    if name == "reversed":
        return ""
    return value


class HtmlSanitizer:
    """Sanitises untrusted HTML (remote ``content``, ``summary``, actor bios) to Mastodon's rules.

    Build one per application and share it: construction compiles the allowlist into a single
    ammonia cleaner, and :meth:`sanitize` keeps no state between calls.
    """

    __slots__ = ("_cleaner", "_max_tags")

    def __init__(self, *, max_tags: int = MAX_TAGS) -> None:
        """Build the one underlying :class:`nh3.Cleaner` for Mastodon's allowlist; input with more
        than ``max_tags`` tags will be reduced to text rather than parsed."""
        self._max_tags = max_tags
        self._cleaner = nh3.Cleaner(
            tags=set(ALLOWED_TAGS | _HEADINGS),
            clean_content_tags=set(_DROP_CONTENT),
            attributes={
                "*": set(_GENERIC_ATTRIBUTES),
                **{tag: set(names) for tag, names in _ATTRIBUTES.items()},
            },
            attribute_filter=_filter_attribute,
            strip_comments=True,
            link_rel=_LINK_REL,
            set_tag_attribute_values={"a": {"target": "_blank"}},
            url_schemes=set(LINK_SCHEMES),
            url_relative="deny",
        )

    def sanitize(self, html: str) -> str:
        """Return ``html`` reduced to Mastodon's allowlist (see the module docstring).

        The result is safe to embed in a page: no scripts, event handlers, styles, frames or
        links with unlisted schemes survive. Text is kept; markup outside the list is unwrapped.
        Input with more than ``max_tags`` tags, or a tag with more than :data:`MAX_ATTRIBUTES`
        attributes, is not parsed: it comes back as one paragraph of its escaped text, so a
        hostile document cannot make sanitising slow.
        """
        if not html:
            return ""
        if _too_many_tags(html, self._max_tags) or _too_many_attributes(html, MAX_ATTRIBUTES):
            text = _escaped_text(html)
            return f"<p>{text}</p>" if text else ""
        return _rewrite(self._cleaner.clean(html))


def _ordered(attrs: str) -> str:
    """Re-emit ammonia's attributes in a fixed order (ammonia's own order varies between runs)."""
    pairs = _ATTR_RE.findall(attrs)
    pairs.sort(key=lambda pair: _ATTR_ORDER.get(pair[0], len(_ATTR_ORDER)))
    return "".join(f' {name}="{value}"' for name, value in pairs)


def _rewrite(cleaned: str) -> str:
    """Turn headings into ``p > strong``, unwrap ``a`` elements that lost their ``href``, and put
    attributes in a stable order (href, class, translate, rel, target; start, reversed)."""
    if "<h" not in cleaned and '="' not in cleaned:
        return cleaned
    dropped_links: list[bool] = []  # one entry per open <a>: True when it is being unwrapped

    def replace(match: re.Match[str]) -> str:
        closing, name, attrs = match.group(1), match.group(2), match.group(3)
        if name in _HEADINGS:
            return "</strong></p>" if closing else "<p><strong>"
        if name == "a":
            if closing:
                return "" if (dropped_links.pop() if dropped_links else False) else "</a>"
            drop = ' href="' not in attrs
            dropped_links.append(drop)
            if drop:
                return ""
        if attrs.count('="') < 2:
            return match.group(0)
        return f"<{name}{_ordered(attrs)}>"

    return _TAG_RE.sub(replace, cleaned)


# ---------------------------------------------------------------------------------------------
# Pathological input and plain text


def _too_many_tags(html: str, limit: int) -> bool:
    """Tell whether ``html`` may hold more than ``limit`` tags (an overestimate is fine)."""
    if len(html) < 3 * limit:  # every tag takes at least three characters, e.g. "<a>"
        return False
    return sum(1 for _ in _TAG_START_RE.finditer(html)) > limit


def _too_many_attributes(html: str, limit: int) -> bool:
    """Tell whether one tag of ``html`` may hold more than ``limit`` attributes (overestimated:
    words of quoted values count too). Linear: the tags scanned do not overlap."""
    if len(html) < 2 * limit:  # every attribute takes at least two characters, e.g. " a"
        return False
    for match in _OPEN_TAG_RE.finditer(html):
        start, end = match.span()
        if end - start > 2 * limit and (
            sum(1 for _ in _ATTRIBUTE_START_RE.finditer(html, start, end)) > limit
        ):
            return True
    return False


def _escaped_text(html: str) -> str:
    """Reduce any HTML to escaped text in linear time, without parsing it."""
    text = html_lib.unescape(_ANY_TAG_RE.sub(" ", html))
    return html_lib.escape(re.sub(r"[ \t\r\n\f]+", " ", text).strip(), quote=False)


_TEXT_BLOCKS: Final = frozenset({"p", "blockquote", "pre", "ul", "ol", "div", *_HEADINGS})


def plain_text(html: str) -> str:
    """Return the visible text of an untrusted HTML fragment, for terminals and logs.

    Tags are removed and character references decoded; ``<br>`` becomes a newline, paragraphs and
    other blocks are separated by a blank line, list items start on their own line. Script, style
    and similar content is dropped, and leading and trailing whitespace is trimmed. Runs in
    bounded time on hostile input. The result is plain text, not HTML: escape it before putting
    it into a page.
    """
    if not html:
        return ""
    if _too_many_tags(html, MAX_TAGS) or _too_many_attributes(html, MAX_ATTRIBUTES):
        return html_lib.unescape(_escaped_text(html))
    # A throwaway cleaner is fine here: this path serves the CLI, not the inbox.
    cleaned = nh3.clean(
        html,
        tags={"br", "li", *_TEXT_BLOCKS},
        clean_content_tags=set(_DROP_CONTENT),
        attributes={},
        link_rel=None,
    )

    def replace(match: re.Match[str]) -> str:
        name = match.group(2)
        if name == "br" or (name == "li" and not match.group(1)):
            return "\n"
        return "\n\n" if name in _TEXT_BLOCKS else ""

    text = html_lib.unescape(_TAG_RE.sub(replace, cleaned))
    return _BLANK_LINES_RE.sub("\n\n", text).strip()
