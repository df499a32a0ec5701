"""`/healthz` for load balancers, and logs as JSON lines with a request id."""

from __future__ import annotations

import json
import logging

from support import make_app

from quizapp.extensions import db


def test_healthz_says_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": True}


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path):
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/no/such/dir/x.db")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": False}


def test_logs_are_json_lines_with_the_request(tmp_path, capsys):
    app = make_app(tmp_path, LOG_FORMAT="json")

    @app.get("/log-something")
    def log_something():
        logging.getLogger("quizapp.probe").warning("probe %s", "ü")
        return "ok"

    with app.app_context():
        db.create_all()
    response = app.test_client().get("/log-something", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()
             if line.startswith("{")]
    probe = next(entry for entry in lines if entry["logger"] == "quizapp.probe")
    assert probe["message"] == "probe ü"
    assert probe["level"] == "warning"
    assert probe["path"] == "/log-something"
    assert probe["request_id"] == "abc-123"
    assert probe["time"].endswith("+00:00")


def test_a_request_without_an_id_gets_one(client):
    response = client.get("/healthz")
    assert len(response.headers["X-Request-ID"]) == 32
