"""Signing in and out, registration, and who may see what."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

# Where each role starts; a person with several roles sees each in the menu.
ROLE_HOMES = {
    "trainee": ("trainee.dashboard", "My exams"),
    "trainer": ("trainer.questions", "Question bank"),
    "manager": ("manager.users", "People"),
    "admin": ("manager.users", "People"),
}



def nav_links() -> list[tuple[str, str]]:
    """The signed-in person's start pages, one per role, without repeats."""
    from flask_login import current_user

    links = []
    for role, link in ROLE_HOMES.items():
        if current_user.has_role(role) and link not in links:
            links.append(link)
    return links


from quizapp.auth import views  # noqa: E402,F401  (registers the routes)
