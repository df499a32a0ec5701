"""The issuer's public keys travel with the records: a credential issued before the
move still verifies against the new installation's published keys. The private
signing key never goes into the file."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from cert_support import pass_certification
from sqlalchemy import func, select, text
from support import make_app

from quizapp import certs, credentials
from quizapp.extensions import db
from quizapp.models import User, utcnow


@pytest.fixture
def app_config(tmp_path):
    return {"ISSUER_KEY_DIR": str(tmp_path / "keys")}


def export_records(app, tmp_path):
    """`flask data export` of the test's database, into a file; returns the file."""
    file = tmp_path / "records.jsonl"
    cli = app.test_cli_runner()
    # The test database is made from the models (as the head revision): say so, as a
    # migrated one would, for the export's header.
    assert cli.invoke(args=["db", "stamp", "head"]).exit_code == 0
    try:
        exported = cli.invoke(args=["data", "export", str(file)])
    finally:
        db.session.rollback()  # the export's read ends here (PostgreSQL would wait on it)
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
    assert exported.exit_code == 0, exported.output
    return file


@contextmanager
def other_installation(tmp_path):
    """Another installation, migrated and empty: its own database and instance folder,
    so its own signing key. Its commands run in its own app context (the test's is the
    source's); yields its command runner, and closes its database after."""
    target = make_app(tmp_path, ISSUER_KEY_DIR=str(tmp_path / "other-keys"),
                      SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'target.db'}")
    with target.app_context():
        cli = target.test_cli_runner()
        assert cli.invoke(args=["db", "upgrade"]).exit_code == 0
        try:
            yield cli
        finally:
            db.session.remove()
            db.engine.dispose()


def test_a_credential_signed_before_the_move_verifies_after_it(bank_loaded, users, tmp_path):
    certificate = pass_certification(users["trainee"], utcnow())
    token = certs.signed_credential(certificate)
    source_kid = certs.issuer_keys().kid
    file = export_records(bank_loaded, tmp_path)
    lines = file.read_text(encoding="utf-8").splitlines()
    keys = [json.loads(line)["issuer_key"] for line in lines if '"issuer_key"' in line[:20]]
    assert len(keys) == 1 and "PUBLIC KEY" in keys[0]
    assert "PRIVATE" not in file.read_text(encoding="utf-8")

    with other_installation(tmp_path) as cli:
        imported = cli.invoke(args=["data", "import", str(file)])
        assert imported.exit_code == 0, imported.output
        assert "The issuer's 1 public key(s) are kept here (1 new" in imported.output
        published = certs.issuer_keys().jwks()
        assert certs.issuer_keys().kid != source_kid
    assert source_kid in [key["kid"] for key in published["keys"]]
    claims = credentials.verify(token, published)
    assert certificate.code in claims["jti"]


@pytest.mark.parametrize("key", ["not a key at all", "private"])
def test_a_file_with_a_refused_key_imports_nothing(bank_loaded, users, tmp_path, key):
    file = export_records(bank_loaded, tmp_path)
    if key == "private":
        key = (tmp_path / "keys" / credentials.SIGNING_FILE).read_text()
    lines = [json.dumps({"issuer_key": key}) + "\n" if '"issuer_key"' in line[:20] else line
             for line in file.read_text(encoding="utf-8").splitlines(keepends=True)]
    file.write_text("".join(lines), encoding="utf-8")

    with other_installation(tmp_path) as cli:
        imported = cli.invoke(args=["data", "import", str(file)])
        assert imported.exit_code == 2
        assert "Nothing imported" in imported.output and "key" in imported.output
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        assert not (tmp_path / "other-keys" / credentials.RETIRED_FOLDER).exists()
