"""What trainees see: their exams, attempts, results and certificates."""

from flask import Blueprint

from quizapp.auth.guard import require_role

bp = Blueprint("trainee", __name__, url_prefix="/trainee")
bp.before_request(require_role("trainee"))


@bp.after_request
def no_store(response):
    # Exam pages hold answers: never keep them in a shared or back-button cache.
    response.headers["Cache-Control"] = "no-store"
    return response


from quizapp.trainee import views  # noqa: E402,F401
