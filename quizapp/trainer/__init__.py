"""What trainers see: the question bank as it stands in the database."""

from flask import Blueprint

from quizapp.auth.guard import require_role

bp = Blueprint("trainer", __name__, url_prefix="/trainer")
bp.before_request(require_role("trainer", "admin"))

from quizapp.trainer import angoff_views, exchange_views, sources_views, views  # noqa: E402,F401
