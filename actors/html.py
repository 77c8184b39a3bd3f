"""Actors layer: the small HTML pages a browser gets instead of JSON."""

from __future__ import annotations

from html import escape

from actors.local import LocalActor


def profile_page(actor: LocalActor, *, actor_id: str, handle: str, followers: int) -> str:
    """A minimal, self-contained HTML profile page (the summary is our own sanitised HTML)."""
    row = actor.row
    title = escape(row.display_name or row.name)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title} ({escape(handle)})</title>"
        f'<link rel="alternate" type="application/activity+json" href="{escape(actor_id)}">'
        "</head><body>"
        f"<h1>{title}</h1><p>{escape(handle)}</p>"
        f'<div class="summary">{escape(row.summary)}</div>'
        f"<p>{followers} followers</p>"
        "</body></html>\n"
    )
