"""Fixtures in the shape of the Flask tutorial's: app, client, runner, auth.

Each test gets an empty database: a SQLite file of its own, or, when
TEST_DATABASE_URL is set, that PostgreSQL database emptied before and after.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text
from support import BANK_PATH, DATABASE_FILE, PASSWORD, PEOPLE, make_app

from quizapp.bank import load_bank
from quizapp.bank_store import import_bank
from quizapp.extensions import db


@pytest.fixture
def app_config():
    """Settings a test module can override before `app` is built."""
    return {}


@pytest.fixture(scope="session")
def shipped_bank():
    bank, problems = load_bank(BANK_PATH)
    assert not [p for p in problems if p.level == "error"]
    return bank


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory, shipped_bank) -> dict[str, Path] | None:
    """On SQLite, two database files made once per test session, copied for each test:
    the empty schema, and the schema with the shipped bank imported. (PostgreSQL
    builds each test's database afresh.)"""
    if os.environ.get("TEST_DATABASE_URL"):
        return None
    templates = {}
    for name in ("empty", "bank"):
        folder = tmp_path_factory.mktemp(f"template-{name}")
        template_app = make_app(folder)
        with template_app.app_context():
            db.create_all()
            if name == "bank":
                import_bank(shipped_bank)
                db.session.commit()
            db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            db.session.remove()
            db.engine.dispose()
        templates[name] = folder / DATABASE_FILE
    return templates


@pytest.fixture
def app(tmp_path, app_config, request, sqlite_templates):
    with_bank = "bank_loaded" in request.fixturenames
    if sqlite_templates:
        shutil.copyfile(sqlite_templates["bank" if with_bank else "empty"],
                        tmp_path / DATABASE_FILE)
    app = make_app(tmp_path, **app_config)
    with app.app_context():
        if not sqlite_templates:
            db.drop_all()
            db.create_all()
        yield app
        db.session.remove()
        if not sqlite_templates:
            db.drop_all()
        db.engine.dispose()


@pytest.fixture
def bank_loaded(app, shipped_bank, sqlite_templates):
    """The app with the shipped question bank imported (on SQLite, copied in with the
    database by `app`)."""
    if not sqlite_templates:
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
