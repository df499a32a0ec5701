"""The issuer's public keys travel with the records: a credential issued before the
move still verifies against the new installation's published keys. The private
signing key never goes into the file."""

from __future__ import annotations

import json

import pytest
from cert_support import pass_certification
from sqlalchemy import text
from support import make_app

from quizapp import certs, credentials
from quizapp.extensions import db
from quizapp.models import utcnow


@pytest.fixture
def app_config(tmp_path):
    return {"ISSUER_KEY_DIR": str(tmp_path / "keys")}


def test_a_credential_signed_before_the_move_verifies_after_it(bank_loaded, users, tmp_path):
    certificate = pass_certification(users["trainee"], utcnow())
    token = certs.signed_credential(certificate)
    source_kid = certs.issuer_keys().kid
    file = tmp_path / "records.jsonl"
    cli = bank_loaded.test_cli_runner()
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
    lines = file.read_text(encoding="utf-8").splitlines()
    keys = [json.loads(line)["issuer_key"] for line in lines if '"issuer_key"' in line[:20]]
    assert len(keys) == 1 and "PUBLIC KEY" in keys[0]
    assert "PRIVATE" not in file.read_text(encoding="utf-8")

    # Another installation: its own instance folder, so its own signing key.
    target = make_app(tmp_path, ISSUER_KEY_DIR=str(tmp_path / "other-keys"),
                      SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'target.db'}")
    # (Its commands run in its own app context: the test's is the source's.)
    with target.app_context():
        cli = target.test_cli_runner()
        assert cli.invoke(args=["db", "upgrade"]).exit_code == 0
        imported = cli.invoke(args=["data", "import", str(file)])
        assert imported.exit_code == 0, imported.output
        assert "Kept 1 public key(s)" in imported.output
        published = certs.issuer_keys().jwks()
        assert certs.issuer_keys().kid != source_kid
        db.session.remove()
        db.engine.dispose()
    assert source_kid in [key["kid"] for key in published["keys"]]
    claims = credentials.verify(token, published)
    assert certificate.code in claims["jti"]
