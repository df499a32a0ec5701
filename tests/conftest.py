"""Fixtures in the shape of the Flask tutorial's: app, client, runner, auth.

Each test gets an empty database: a SQLite file of its own, or, when
TEST_DATABASE_URL is set, that PostgreSQL database emptied before and after.
"""

from __future__ import annotations

import pytest
from support import BANK_PATH, PASSWORD, PEOPLE, make_app

from quizapp.bank import load_bank
from quizapp.bank_store import import_bank
from quizapp.extensions import db


@pytest.fixture
def app_config():
    """Settings a test module can override before `app` is built."""
    return {}


@pytest.fixture
def app(tmp_path, app_config):
    app = make_app(tmp_path, **app_config)
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(scope="session")
def shipped_bank():
    bank, problems = load_bank(BANK_PATH)
    assert not [p for p in problems if p.level == "error"]
    return bank


@pytest.fixture
def bank_loaded(app, shipped_bank):
    """The app with the shipped question bank imported."""
    import_bank(shipped_bank)
    db.session.commit()
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def users(app):
    """One account per role, plus a second trainee."""
    from quizapp.accounts import create_user

    made = {key: create_user(email, name, PASSWORD, roles)
            for key, (email, name, roles) in PEOPLE.items()}
    db.session.commit()
    return made


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, who: str = "trainee", password: str = PASSWORD):
        email = PEOPLE[who][0] if who in PEOPLE else who
        return self._client.post("/auth/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client, users):
    return AuthActions(client)
