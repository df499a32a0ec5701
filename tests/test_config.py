"""Start-up configuration: secrets, database settings, migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from support import make_app

from quizapp import certs, create_app
from quizapp.config import from_environment
from quizapp.extensions import db


def test_a_missing_secret_key_outside_development_stops_start_up(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("QUIZAPP_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_the_tests_keep_issuer_keys_outside_the_checkout(app):
    # The checkout's instance folder is the one `make run` signs with.
    checkout = Path(__file__).resolve().parent.parent
    assert not certs.key_folder().resolve().is_relative_to(checkout)
    assert certs.key_folder() != Path(app.instance_path) / "issuer_keys"


def test_development_makes_a_secret_key_once_and_keeps_it(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("QUIZAPP_ENV", "development")
    first = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"]
    second = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_the_environment_configures_the_app(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("QUIZAPP_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.internal/quiz")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.internal/quiz"
    assert app.config["ALLOW_SELF_REGISTRATION"] is False
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_development_defaults_to_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("QUIZAPP_ENV", "development")
    settings = from_environment(str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'quizapp.sqlite3'}"
    assert settings["ALLOW_SELF_REGISTRATION"] is True


def test_the_csrf_token_lives_longer_than_any_exam(bank_loaded):
    from quizapp.models import Exam

    longest = max((e.rules.time_limit for e in db.session.scalars(db.select(Exam))
                   if e.rules.time_limit), default=None)
    limit = bank_loaded.config["WTF_CSRF_TIME_LIMIT"]
    assert limit is None or limit > longest.total_seconds() + 3600


def test_sqlite_uses_wal_and_a_busy_timeout(tmp_path):
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 10000
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()


@pytest.fixture
def empty_database(tmp_path):
    """An app whose database has no tables at all, not even Alembic's."""
    app = make_app(tmp_path)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        yield app
        db.session.remove()
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()


def test_migrations_build_the_schema_the_models_describe(empty_database):
    runner = empty_database.test_cli_runner()
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    tables = set(inspect(db.engine).get_table_names())
    assert {"user", "question", "question_version", "attempt", "attempt_item",
            "certificate", "exam"} <= tables
    checked = runner.invoke(args=["db", "check"])
    assert checked.exit_code == 0, checked.output
    downgraded = runner.invoke(args=["db", "downgrade", "base"])
    assert downgraded.exit_code == 0, downgraded.output
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
