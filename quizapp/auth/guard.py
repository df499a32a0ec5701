"""The one role check: each audience's blueprint calls `require_role` before every view."""

from __future__ import annotations

from flask import abort, current_app
from flask_login import current_user


def require_role(*roles: str):
    """A `before_request` hook that lets in only signed-in people with one of `roles`."""

    def guard():
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if not current_user.has_role(*roles):
            current_app.logger.warning(
                "Denied %s to user %s (roles %s)", roles, current_user.id, current_user.roles
            )
            abort(403)
        return None

    return guard
