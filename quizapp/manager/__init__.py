"""What managers and admins see: people and their accounts."""

from flask import Blueprint

from quizapp.auth.guard import require_role

bp = Blueprint("manager", __name__, url_prefix="/manager")
bp.before_request(require_role("manager", "admin"))

from quizapp.manager import views  # noqa: E402,F401
