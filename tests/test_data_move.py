"""Moving every record to another database: `data export` then `data import`.

The source is always a SQLite file, filled through the app; the target is the test
database (PostgreSQL when TEST_DATABASE_URL is set, so CI moves SQLite to PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC

import pytest
from helpers import answer_all, start, submit
from sqlalchemy import select, text
from support import BANK_PATH, PASSWORD, PEOPLE, make_app

from quizapp import accounts, audit, data_move
from quizapp.bank import load_bank
from quizapp.bank_store import import_bank
from quizapp.extensions import db
from quizapp.models import Cohort, CohortMember, User


def _bare(app):
    """Drop every table, Alembic's too, so `db upgrade` starts from nothing."""
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()


def _upgrade(app):
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def source(tmp_path):
    """A SQLite database at the latest revision, with the bank, people, a cohort, a
    passed certification (so a certificate) and audit events, all made by the app."""
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'source.db'}")
    _upgrade(app)
    with app.app_context():
        bank, _ = load_bank(BANK_PATH)
        import_bank(bank)
        made = {key: accounts.create_user(email, name, PASSWORD, roles)
                for key, (email, name, roles) in PEOPLE.items()}
        made["unicode"] = accounts.create_user("zoe@example.com", "Zoë Ångström 王芳",
                                               PASSWORD, ["trainee"])
        cohort = Cohort(name="Northside Clinic")
        db.session.add(cohort)
        db.session.flush()
        db.session.add(CohortMember(cohort_id=cohort.id, user_id=made["trainee"].id))
        audit.record(made["admin"], audit.subject("user", made["trainee"].id), "probe",
                     "a note with “quotes” and ü")
        db.session.commit()
        client = app.test_client()
        client.post("/auth/login", data={"email": PEOPLE["trainee"][0], "password": PASSWORD})
        attempt_id = start(client)
        answer_all(client, attempt_id)
        assert submit(client, attempt_id).status_code == 302
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def target(tmp_path):
    app = make_app(tmp_path)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'target.db'}")
    _bare(app)
    _upgrade(app)
    yield app
    _bare(app)


def _records(app) -> dict[str, list[tuple]]:
    """Every row of every table, in key order, with times made comparable."""
    with app.app_context():
        tables = {}
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(select(table).order_by(*table.primary_key.columns))
            tables[table.name] = [
                tuple(v.astimezone(UTC) if hasattr(v, "astimezone") else v for v in row)
                for row in rows
            ]
        return tables


def test_every_record_moves_and_a_second_import_is_refused(source, target, tmp_path):
    file = tmp_path / "records.jsonl"
    exported = source.test_cli_runner().invoke(args=["data", "export", str(file)])
    assert exported.exit_code == 0, exported.output

    imported = target.test_cli_runner().invoke(args=["data", "import", str(file)])
    assert imported.exit_code == 0, imported.output
    before, after = _records(source), _records(target)
    assert before == after
    assert before["attempt_item"] and before["certificate"] and before["audit_event"]
    assert any("Zoë Ångström 王芳" in row for row in after["user"])

    again = target.test_cli_runner().invoke(args=["data", "import", str(file)])
    assert again.exit_code == 2
    assert "not empty" in again.output
    assert _records(target) == after

    # Ids continue after the imported ones (PostgreSQL's sequences were moved on).
    with target.app_context():
        newcomer = accounts.create_user("new@example.com", "New Person", PASSWORD,
                                        ["trainee"])
        db.session.commit()
        assert newcomer.id > max(row[0] for row in after["user"])


def test_a_file_from_another_revision_or_not_an_export_writes_nothing(target, tmp_path):
    wrong_revision = tmp_path / "old.jsonl"
    wrong_revision.write_text('{"format": "quizapp-records", "version": 1,'
                              ' "revision": "0000"}\n')
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("name,email\n")
    for file, reason in ((wrong_revision, "schema revision"), (garbage, "not a records")):
        result = target.test_cli_runner().invoke(args=["data", "import", str(file)])
        assert result.exit_code == 2
        assert reason in result.output
    with target.app_context():
        assert sum(data_move.counts().values()) == 0
        assert db.session.scalar(select(User.id)) is None
