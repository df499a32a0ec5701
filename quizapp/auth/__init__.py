"""Signing in and out, registration, and who may see what."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

# Where each role starts; a person with several roles sees each in the menu.
ROLE_HOMES = {
    "trainee": ("trainee.dashboard", "My exams"),
    "trainer": ("trainer.questions", "Question bank"),
    "manager": ("manager.dashboard", "Dashboard"),
    "admin": ("manager.dashboard", "Dashboard"),
}
# Further pages in the menu, after the start page of the role. A manager's console:
# item analysis is reached from Exams (one report per exam), accommodations from a
# trainee's record and from Exams.
_CONSOLE = [("manager.trainees", "Trainees"), ("manager.cohorts", "Cohorts"),
            ("manager.exams", "Exams"), ("manager.certificates", "Certificates"),
            ("manager.users", "Accounts"), ("manager.regrades", "Regrades")]
ROLE_MORE_LINKS = {
    "manager": _CONSOLE,
    "admin": [*_CONSOLE, ("manager.audit", "Audit trail")],
}


def nav_links() -> list[tuple[str, str]]:
    """The signed-in person's pages, by role, without repeats."""
    from flask_login import current_user

    links = []
    for role, home in ROLE_HOMES.items():
        if current_user.has_role(role):
            for link in [home, *ROLE_MORE_LINKS.get(role, [])]:
                if link not in links:
                    links.append(link)
    return links


from quizapp.auth import views  # noqa: E402,F401  (registers the routes)
