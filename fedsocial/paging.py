"""Core layer: OrderedCollection and OrderedCollectionPage documents, paged by number."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE = 1_000_000


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which page of a collection was asked for (None: the collection itself)."""

    page: int | None
    size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        """How many items come before this page."""
        return 0 if self.page is None else (self.page - 1) * self.size


def parse_page(value: str | None, *, size: int = DEFAULT_PAGE_SIZE) -> PageRequest:
    """Read the `page` query parameter: absent → the collection; `true` → 1; N ≥ 1 → N.

    Raise ValueError for anything else.
    """
    if value is None:
        return PageRequest(None, size)
    if value == "true":
        return PageRequest(1, size)
    # ASCII digits only: str.isdigit() also takes '²' (which int() refuses) and other scripts'
    # digits; the length bound keeps int() away from huge strings.
    number = int(value) if value.isascii() and value.isdigit() and len(value) <= 7 else 0
    if not 1 <= number <= MAX_PAGE:
        raise ValueError(f"page must be an integer from 1 to {MAX_PAGE}, got {value!r}")
    return PageRequest(number, size)


def collection_document(collection_id: str, *, total: int) -> dict[str, Any]:
    """An OrderedCollection that points to its first page."""
    doc: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": f"{collection_id}?page=1",
    }
    if total > 0:
        last = (total - 1) // DEFAULT_PAGE_SIZE + 1
        doc["last"] = f"{collection_id}?page={last}"
    return doc


def page_document(
    collection_id: str,
    request: PageRequest,
    *,
    items: list[Any],
    total: int,
    context: Any = AS_CONTEXT,
) -> dict[str, Any]:
    """One OrderedCollectionPage with `partOf`, and `next`/`prev` where those pages exist.

    `context` must define every term the embedded items use (they carry no @context).
    """
    page = request.page or 1
    doc: dict[str, Any] = {
        "@context": context,
        "id": f"{collection_id}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "totalItems": total,
        "orderedItems": items,
    }
    if request.offset + len(items) < total:
        doc["next"] = f"{collection_id}?page={page + 1}"
    if page > 1:
        doc["prev"] = f"{collection_id}?page={page - 1}"
    return doc
