"""The audit trail: the admin's page (newest first, paginated, filtered by kind, who,
subject and dates; read-only) and the trail being append-only: no code but
`audit.record` writes an event, the session refuses to change or delete one, and
posting to every route as an admin only ever adds events."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from flask import url_for
from helpers import statements
from sqlalchemy import delete, func, select, update
from support import PASSWORD

from quizapp import audit
from quizapp.extensions import db
from quizapp.models import AuditEvent

QUIZAPP = Path(__file__).resolve().parent.parent / "quizapp"
T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def _add(count: int, kind="test.event", subject="user:1", actor=None, at=T0):
    for n in range(count):
        db.session.add(AuditEvent(at=at + timedelta(minutes=n), actor_id=actor,
                                  subject=subject, kind=kind, message=f"Event {n}"))
    db.session.commit()


def _rows(html: str) -> int:
    return max(0, html.count('<tr role="row">') - 1)  # less the header row


def test_only_admins_read_the_trail(client, auth):
    assert client.get("/manager/audit").status_code == 302
    for who in ("trainee", "trainer", "manager"):
        auth.login(who)
        assert client.get("/manager/audit").status_code == 403, who
        auth.logout()
    auth.login("admin")
    page = client.get("/manager/audit")
    assert page.status_code == 200 and "<h1>Audit trail</h1>" in page.get_data(as_text=True)


def test_events_newest_first_in_pages_of_50(client, auth, users):
    _add(120, at=T0 - timedelta(days=30))
    auth.login("admin")
    first = client.get("/manager/audit").get_data(as_text=True)
    # The newest: the admin's own sign-in, then the newest test event.
    assert first.index("auth.signin") < first.index("Event 119") < first.index("Event 118")
    total = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert f"{total} events, page 1 of 3" in first and _rows(first) == 50
    last = client.get("/manager/audit?page=3").get_data(as_text=True)
    assert _rows(last) == total - 100 and "Event 0" in last
    assert "page 3 of 3" in client.get("/manager/audit?page=99").get_data(as_text=True)


def test_the_filters(client, auth, users):
    admin = users["admin"].id
    _add(3, kind="account.roles", subject="user:7", actor=admin, at=T0)
    _add(2, kind="certificate_revoked", subject="certificate:4", at=T0 + timedelta(days=2))
    _add(1, kind="account.roles", subject="user:70", actor=users["manager"].id,
         at=T0 + timedelta(days=5))
    auth.login("admin")

    def count(query: str) -> int:
        response = client.get("/manager/audit?" + query)
        assert response.status_code == 200, query
        return _rows(response.get_data(as_text=True))

    assert count("kind=account.roles") == 4
    assert count("kind=account.roles&actor=alex") == 3  # Alex Admin, by name
    assert count("actor=MANAGER%40example") == 1  # by email, any case
    assert count("actor=nobody&kind=certificate_revoked") == 2
    assert count("subject=user:7") == 3  # exactly: not user:70
    assert count("subject=certificate:") == 2  # every certificate
    assert count("kind=account.roles&since=2026-05-06&until=2026-05-09") == 1
    assert count("kind=account.roles&until=2026-05-04") == 3  # the end day is included
    assert count("kind=no.such.kind") == 0
    page = client.get("/manager/audit?kind=account.roles&actor=alex").get_data(as_text=True)
    assert '<option selected value="account.roles">' in page
    assert 'value="alex"' in page


def test_a_wrong_filter_is_a_clear_400_showing_the_whole_trail(client, auth, users):
    auth.login("admin")
    for query in ("since=yesterday", "since=2026-05-09&until=2026-05-01", "page=0",
                  "page=abc", "subject=" + "x" * 101, "actor=%07"):
        response = client.get("/manager/audit?" + query)
        assert response.status_code == 400, query
        assert 'class="error"' in response.get_data(as_text=True), query


def test_the_page_costs_the_same_queries_for_10_and_500_events(client, auth, users):
    auth.login("admin")
    _add(10, actor=users["manager"].id)
    with statements() as few:
        client.get("/manager/audit?kind=test.event")
    _add(490, actor=users["admin"].id)
    with statements() as many:
        html = client.get("/manager/audit?kind=test.event").get_data(as_text=True)
    assert len(many) == len(few) and _rows(html) == 50


def test_nothing_on_the_page_changes_anything(client, auth, users):
    _add(3)
    auth.login("admin")
    html = client.get("/manager/audit").get_data(as_text=True)
    main = html.split('<main id="main"', 1)[1]
    assert 'method="post"' not in main.lower()
    assert {rule.endpoint for rule in client.application.url_map.iter_rules()
            if rule.rule.startswith("/manager/audit")} == {"manager.audit"}
    with client.application.test_request_context():
        methods = [r.methods for r in client.application.url_map.iter_rules()
                   if r.endpoint == "manager.audit"][0]
        assert methods - {"HEAD", "OPTIONS"} == {"GET"}
        assert url_for("manager.audit") == "/manager/audit"


# --- Append-only ------------------------------------------------------------------------


def test_the_session_refuses_to_change_or_delete_an_event(app, users):
    _add(1)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "test.event")).one()
    event.message = "rewritten"
    with pytest.raises(audit.AppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalars(select(AuditEvent)).first())
    with pytest.raises(audit.AppendOnly):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(audit.AppendOnly):
        db.session.execute(update(AuditEvent).values(message="rewritten"))
    with pytest.raises(audit.AppendOnly):
        db.session.execute(delete(AuditEvent))
    db.session.rollback()
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "test.event")
                              ).one().message == "Event 0"


def test_no_code_but_audit_record_writes_an_event():
    """AuditEvent( ... ) is built only in audit.record; no update/delete/insert names
    AuditEvent anywhere in the app (the export/import of data moves whole tables)."""
    offenders = []
    for path in sorted(QUIZAPP.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            args = [getattr(a, "id", None) for a in node.args]
            if name == "AuditEvent" and path.name != "audit.py":
                offenders.append(f"{path.name}:{node.lineno} builds an AuditEvent")
            if name in ("update", "delete", "insert") and "AuditEvent" in args:
                offenders.append(f"{path.name}:{node.lineno} {name}(AuditEvent)")
            if name == "delete" and isinstance(node.func, ast.Attribute) \
                    and re.search(r"event", ast.unparse(node), re.IGNORECASE) \
                    and "session" in ast.unparse(node.func):
                offenders.append(f"{path.name}:{node.lineno} session.delete of an event")
    assert offenders == []


def _snapshot() -> dict:
    return {row.id: (row.at, row.actor_id, row.subject, row.kind, row.message, row.data)
            for row in db.session.scalars(select(AuditEvent))}


def test_posting_to_every_route_as_an_admin_only_adds_events(bank_loaded, client, auth,
                                                              users):
    from test_security import SAMPLE_ARGS

    with time_machine.travel(T0, tick=False):
        auth.login("admin")
        _add(5, subject=f"user:{users['trainee'].id}", actor=users["admin"].id)
        before = _snapshot()
        with bank_loaded.test_request_context():
            posts = [(rule.endpoint, url_for(rule.endpoint, **{
                a: SAMPLE_ARGS.get(a, 1) for a in rule.arguments}))
                for rule in bank_loaded.url_map.iter_rules() if "POST" in rule.methods
                and rule.endpoint not in ("auth.logout", "auth.logout_everywhere")]
        hostile = {"message": "rewritten", "kind": "x", "subject": "user:1", "id": "1",
                   "event_id": "1", "delete": "1", "roles": ["trainee"], "name": "X",
                   "email": "admin@example.com", "password": PASSWORD, "note": "n"}
        for endpoint, url in posts:
            for data in ({}, hostile):
                response = client.post(url, data=data)
                assert response.status_code < 500, (endpoint, response.status_code)
        db.session.expire_all()
        after = _snapshot()
    assert len(after) >= len(before)
    assert {key: after.get(key) for key in before} == before
