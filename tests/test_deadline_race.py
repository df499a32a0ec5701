"""An answer saved at the very moment the attempt is submitted, against the app served
over real HTTP by a threaded server: every answer the server acknowledges is in the
grade, and every other one is refused. Runs on SQLite and, with TEST_DATABASE_URL, on
PostgreSQL."""

from __future__ import annotations

import http.cookiejar
import json
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from helpers import items, right_answer, tokens
from sqlalchemy import select
from support import PASSWORD
from werkzeug.serving import make_server

from quizapp import attempts
from quizapp.extensions import db
from quizapp.models import Attempt, Exam, User, utcnow

ROUNDS = 40


@pytest.fixture
def live_server(bank_loaded, users):
    server = make_server("127.0.0.1", 0, bank_loaded, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


class Browser:
    """A signed-in HTTP client; its cookies are shared by every thread using it."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            NoRedirect(),
        )

    def post(self, path: str, data: dict, accept: str = "text/html") -> tuple[int, bytes]:
        body = urllib.parse.urlencode(data, doseq=True).encode()
        request = urllib.request.Request(self.base + path, data=body,
                                         headers={"Accept": accept})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _race(browser: Browser, attempt_id: int, choice: list[str]) -> dict:
    """Post the answer and the submit at the same moment, from two threads."""
    outcomes: dict[str, tuple[int, bytes]] = {}
    barrier = threading.Barrier(2)

    def save():
        barrier.wait()
        outcomes["save"] = browser.post(
            f"/trainee/attempts/{attempt_id}/questions/1/autosave",
            {"answer": choice, "sequence": "0"}, accept="application/json")

    def finish():
        barrier.wait()
        outcomes["submit"] = browser.post(f"/trainee/attempts/{attempt_id}/submit", {})

    threads = [threading.Thread(target=save), threading.Thread(target=finish)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_an_answer_racing_the_submit_is_graded_or_refused_never_lost(live_server):
    browser = Browser(live_server)
    status, _ = browser.post("/auth/login", {"email": "trainee@example.com",
                                             "password": PASSWORD})
    assert status == 302
    trainee = db.session.scalar(select(User).where(User.email == "trainee@example.com"))
    practice = db.session.get(Exam, "practice-contraindications")
    acknowledged = refused = 0
    for _ in range(ROUNDS):
        attempt = attempts.start(trainee, practice, utcnow())
        item = items(attempt.id)[0]
        choice = tokens(item, right_answer(item))
        outcomes = _race(browser, attempt.id, choice)
        assert outcomes["submit"][0] == 302
        db.session.expire_all()
        graded = db.session.get(Attempt, attempt.id)
        first = graded.items[0]
        assert graded.finished
        save_status, save_body = outcomes["save"]
        if save_status == 200:
            assert json.loads(save_body)["saved"] is True
            acknowledged += 1
            # Acknowledged, so graded: the stored answer carries its mark in the score.
            assert first.response == right_answer(item)
            assert first.mark == 1.0
            assert graded.score_percent == pytest.approx(100 / len(graded.items))
        else:
            assert save_status == 409, save_body
            assert json.loads(save_body)["closed"] is True
            refused += 1
            assert first.response is None and first.mark == 0.0
            assert graded.score_percent == 0
    # Every round ended one way or the other; neither is allowed to lose the answer.
    assert acknowledged + refused == ROUNDS
