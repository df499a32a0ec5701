"""Microneedling training, exams and certification.

The package holds the web app and, importable on their own, the exam's rules
(`quizapp.exam_rules`, `quizapp.question_types`) and the question bank's reading and
checking (`quizapp.bank`): importing those loads neither Flask nor SQLAlchemy. The
app itself is built by `create_app`, in `quizapp.app`; `flask --app quizapp` and
`quizapp:create_app()` find it here.
"""


def create_app(config: dict | None = None):
    """Build the Flask app (see `quizapp.app.create_app`)."""
    from quizapp.app import create_app as build

    return build(config)
