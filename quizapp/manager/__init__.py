"""What managers and admins see: people and their accounts, regrades after a key correction."""

from flask import Blueprint

from quizapp.auth.guard import require_role

bp = Blueprint("manager", __name__, url_prefix="/manager")
bp.before_request(require_role("manager", "admin"))

from quizapp.manager import regrade_views, views  # noqa: E402,F401
