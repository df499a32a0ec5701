"""The heart of the app stands on its own: the exam rules, the question types and the
bank's reading and checking import neither Flask nor SQLAlchemy."""

from __future__ import annotations

import subprocess
import sys

PURE = ["quizapp.exam_rules", "quizapp.question_types", "quizapp.bank",
        "quizapp.bank.guess", "quizapp.bank.similar", "quizapp.bank.gift",
        "quizapp.bank.csv_exchange", "quizapp.bank.documents", "quizapp.bank.drafting",
        "quizapp.item_stats", "quizapp.passwords", "quizapp.charts",
        "quizapp.certificate_pdf", "quizapp.credentials", "quizapp.mailer"]


def test_the_rules_and_the_bank_load_no_web_or_database_library():
    code = (
        "import sys\n"
        + "".join(f"import {module}\n" for module in PURE)
        + "loaded = sorted(m for m in ('flask', 'sqlalchemy', 'flask_sqlalchemy', 'werkzeug')"
        " if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""


def test_the_app_is_still_found_where_flask_and_gunicorn_look():
    code = ("import quizapp\n"
            "app = quizapp.create_app({'SECRET_KEY': 'x', 'TESTING': True,"
            " 'SQLALCHEMY_DATABASE_URI': 'sqlite://'})\n"
            "print(type(app).__name__, 'trainee' in app.blueprints)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "Flask True"
