"""Core layer: answering a GET of a paged OrderedCollection (`?page=N`), for every layer's routes.

Without `page` the answer is the collection (its total and a link to the first page); with it,
one page of items, listed only then. A `page` that is not a page number is a 400.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from fedsocial.errors import BadRequest
from fedsocial.paging import AS_CONTEXT, PageRequest, collection_document, page_document, parse_page
from fedsocial.web.negotiation import activity_response


def requested_page(request: web.Request) -> PageRequest:
    """The page the request asks for; BadRequest when `page` is not a page number."""
    try:
        return parse_page(request.query.get("page"))
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc


async def collection_response(
    request: web.Request,
    collection_id: str,
    *,
    total: int,
    items: Callable[[PageRequest], Awaitable[list[Any]]],
    context_of: Callable[[list[Any]], Any] | None = None,
) -> web.Response:
    """The collection, or the page of it the request asks for (`items` lists that page).

    `context_of` gives the page's @context from its items (default: ActivityStreams).
    """
    page = requested_page(request)
    if page.page is None:
        return activity_response(request, collection_document(collection_id, total=total))
    listed = await items(page)
    context = AS_CONTEXT if context_of is None else context_of(listed)
    return activity_response(
        request, page_document(collection_id, page, items=listed, total=total, context=context)
    )
