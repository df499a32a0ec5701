"""Sources as people read them: each citation as 'Document title — section'."""

from __future__ import annotations

from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Document


def document_titles() -> dict[str, str]:
    return {d.id: d.title for d in db.session.scalars(select(Document))}


def citation_labels(content: dict, titles: dict[str, str] | None = None) -> tuple[str, ...]:
    """Each source of a question's content as 'Document title — section'."""
    titles = document_titles() if titles is None else titles
    return tuple(
        f"{titles.get(s['document'], s['document'])} — {s['section']}" for s in content["sources"]
    )
