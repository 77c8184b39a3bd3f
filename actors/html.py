"""Actors layer: the small HTML pages a browser gets instead of JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from actors.documents import summary_html
from actors.local import LocalActor


def profile_page(actor: LocalActor, *, actor_id: str, handle: str, followers: int) -> str:
    """A minimal, self-contained HTML profile page; every text is escaped (the plain-text
    summary rendered as in the actor document)."""
    row = actor.row
    title = escape(row.display_name or row.name)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title} ({escape(handle)})</title>"
        f'<link rel="alternate" type="application/activity+json" href="{escape(actor_id)}">'
        "</head><body>"
        f"<h1>{title}</h1><p>{escape(handle)}</p>"
        f'<div class="summary">{summary_html(row.summary)}</div>'
        f"<p>{followers} followers</p>"
        "</body></html>\n"
    )


@dataclass(frozen=True, slots=True)
class ListedActor:
    """One local actor as the home page lists it."""

    name: str
    display_name: str
    profile_url: str


def home_page(
    *, title: str, description: str, domain: str, base_url: str, actors: Sequence[ListedActor]
) -> str:
    """The instance's home and about page: its name and description, its actors (each linked
    to its profile, with its handle), and how to find an actor with WebFinger. Every text is
    escaped."""
    items = "".join(
        f'<li><a href="{escape(a.profile_url)}">{escape(a.display_name or a.name)}</a>'
        f" <code>@{escape(a.name)}@{escape(domain)}</code></li>"
        for a in actors
    )
    example = actors[0].name if actors else "name"
    lookup = f"{base_url}/.well-known/webfinger?resource=acct:{example}@{domain}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body>"
        f"<h1>{escape(title)}</h1><p>{escape(description)}</p>"
        "<h2>People here</h2>"
        + (f'<ul class="actors">{items}</ul>' if items else "<p>No one yet.</p>")
        + "<h2>Follow them from elsewhere</h2>"
        f"<p>Search for a handle such as <code>@{escape(example)}@{escape(domain)}</code> on"
        " your own server (Mastodon, GoToSocial, …): it finds the account with WebFinger, at"
        f' <a href="{escape(lookup)}"><code>{escape(lookup)}</code></a>.</p>'
        "</body></html>\n"
    )
