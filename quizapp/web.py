"""Small request helpers shared by the blueprints."""

from __future__ import annotations

from flask import request


def wants_json() -> bool:
    """The page's script asked (autosave and the like): answer in JSON, not HTML."""
    return request.is_json or request.accept_mimetypes.best == "application/json"
