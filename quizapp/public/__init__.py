"""Pages for anyone: the front page and certificate verification."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from quizapp.public import views  # noqa: E402,F401
