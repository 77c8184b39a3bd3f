"""Outbox layer: hashtag pages, `/tags/{tag}` — where the Hashtag links of our posts point.

The outbox composes those links (`outbox.compose`), so it serves them too. A browser gets an
HTML page listing our live public posts with the tag, newest first; an ActivityPub client gets
an OrderedCollection of their ids, paged like our other collections (Mastodon answers
`/tags/{tag}` with the same shape). The tag is matched on its normalised form
(`outbox.text.normalize_hashtag`: NFKC, lowercase), so `/tags/Python` and `/tags/python` are
one page, whose id is the link our posts carry.
"""

from __future__ import annotations

from html import escape
from typing import Any

from aiohttp import web

from fedsocial import appkeys
from fedsocial.clock import iso
from fedsocial.errors import NotFound
from fedsocial.paging import PageRequest
from fedsocial.sanitize import plain_text
from fedsocial.storage import objects
from fedsocial.storage.objects import ObjectRow
from fedsocial.web.collections import collection_response, requested_page
from fedsocial.web.negotiation import wants_html
from outbox.text import normalize_hashtag, tag_url


def requested_tag(raw: str) -> str:
    """The normalised tag a `/tags/{tag}` path names (a leading `#` allowed); NotFound when
    nothing is left."""
    tag = normalize_hashtag(raw.strip().removeprefix("#"))
    if not tag:
        raise NotFound("no tag named")
    return tag


async def tag_handler(request: web.Request) -> web.StreamResponse:
    """GET /tags/{tag}: the HTML page (browsers) or the OrderedCollection of post ids."""
    tag = requested_tag(request.match_info["tag"])
    db = request.app[appkeys.DB]
    collection_id = tag_url(request.app[appkeys.URLS].tag_base, tag)
    page = requested_page(request)
    total = await objects.count_local_public_tagged(db, href=collection_id, name=tag)
    if wants_html(request):
        shown = PageRequest(page.page or 1, page.size)
        rows = await objects.list_local_public_tagged(
            db, href=collection_id, name=tag, limit=shown.size, offset=shown.offset
        )
        html = tag_page(tag, collection_id, rows, page=shown, total=total)
        return web.Response(text=html, content_type="text/html", headers={"Vary": "Accept"})

    async def items(page: PageRequest) -> list[Any]:
        rows = await objects.list_local_public_tagged(
            db, href=collection_id, name=tag, limit=page.size, offset=page.offset
        )
        return [r.id for r in rows]

    return await collection_response(request, collection_id, total=total, items=items)


def tag_page(
    tag: str, collection_id: str, rows: list[ObjectRow], *, page: PageRequest, total: int
) -> str:
    """A self-contained HTML page of one page of posts with `tag`; every text is escaped.

    Post content (HTML we rendered) is shown as its plain text, after its content warning;
    each post links to its page. Links to newer/older pages where they exist.
    """
    items = "".join(_post_item(row) for row in rows) or "<li>No public posts yet.</li>"
    number = page.page or 1
    nav = []
    if number > 1:
        nav.append(f'<a href="{escape(collection_id)}?page={number - 1}" rel="prev">Newer</a>')
    if page.offset + len(rows) < total:
        nav.append(f'<a href="{escape(collection_id)}?page={number + 1}" rel="next">Older</a>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>#{escape(tag)}</title>"
        f'<link rel="alternate" type="application/activity+json" href="{escape(collection_id)}">'
        f"</head><body><h1>#{escape(tag)}</h1>"
        f"<p>{total} public post{'' if total == 1 else 's'}</p>"
        f'<ol class="posts">{items}</ol>'
        + (f"<nav>{' '.join(nav)}</nav>" if nav else "")
        + "</body></html>\n"
    )


def _post_item(row: ObjectRow) -> str:
    doc = row.document
    link = _text(doc.get("url")) or row.id
    author = row.attributed_to or ""
    when = iso(row.published) if row.published is not None else ""
    summary, content = _text(doc.get("summary")), _text(doc.get("content"))
    # Our summaries are the content warning as typed (plain text, as Mastodon sends them).
    warning = f"<p><strong>{escape(summary)}</strong></p>" if summary else ""
    return (
        f'<li><article><p><a href="{escape(author)}">{escape(author)}</a> · '
        f'<a href="{escape(link)}"><time>{escape(when)}</time></a></p>'
        f"{warning}<p>{escape(plain_text(content))}</p></article></li>"
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
