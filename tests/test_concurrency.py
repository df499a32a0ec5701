"""A class sitting the exam at once, against the real server.

gunicorn (several worker processes, threads in each) serves the app on loopback over
the test database (SQLite in WAL mode, or PostgreSQL). Fifty simulated trainees sign
in, start the certification, answer with the page's background save, and submit, some
with saves fired at the very moment of the submit. Then the database must hold every
answer the server acknowledged, graded, with one result and at most one certificate
per attempt, and the server must never have answered 500. The second run kills a
worker in the middle; the clients retry as the page does, and nothing acknowledged
may be lost.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from support import PASSWORD, latin_certificate_font, make_app

from quizapp import accounts
from quizapp.bank_store import import_bank
from quizapp.extensions import db
from quizapp.models import Attempt, AttemptItem, Certificate

TRAINEES = 50
ANSWERS_EACH = 8  # of the 30 questions: enough to load the server, quick enough for CI
RACING_SAVES = 3  # saves sent at the same moment as the submit, by some trainees
ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120  # seconds for the whole class; a hang fails the test instead of CI


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, database_url: str, workers: int = 3):
        self.port = _free_port()
        env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "concurrency-test",
               "QUIZAPP_ENV": "production", "SESSION_COOKIE_SECURE": "false",
               "LOG_FORMAT": "json", "LOG_LEVEL": "WARNING",
               # One address signs in the whole class here; throttling is tested apart.
               "THROTTLE_ENABLED": "false",
               "CERTIFICATE_FONT": latin_certificate_font()}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--threads", "4", "--worker-class", "gthread",
             "--timeout", "60", "quizapp:create_app()"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not start:\n" + self.output)

    def workers(self) -> list[int]:
        listed = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)],
                                capture_output=True, text=True).stdout
        return [int(pid) for pid in listed.split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.output = self.process.stdout.read()
        self.process.stdout.close()


@dataclass
class Trainee:
    email: str
    port: int
    cookie: str = ""
    csrf: str = ""
    attempt_id: int = 0
    statuses: list[int] = field(default_factory=list)
    acknowledged: dict[int, str] = field(default_factory=dict)  # position -> token

    def request(self, method: str, path: str, form: dict | None = None,
                retries: int = 20) -> tuple[int, dict, str]:
        """One request as a browser sends it; a dropped connection (a worker killed)
        is retried after a pause, as the page's background save does."""
        body = urllib.parse.urlencode(form, doseq=True) if form is not None else None
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(retries):
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                text_body = response.read().decode()
            except (ConnectionError, http.client.HTTPException, OSError):
                time.sleep(0.2 * (attempt + 1))
                continue
            finally:
                connection.close()
            self.statuses.append(response.status)
            for key, value in response.getheaders():
                if key.lower() == "set-cookie":
                    self.cookie = value.split(";", 1)[0]
            return response.status, dict(response.getheaders()), text_body
        raise ConnectionError(f"{self.email}: no answer from the server for {path}")

    def page_csrf(self, html: str) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _options(html: str) -> list[str]:
    return re.findall(r'name="answer" value="([^"]+)"', html)


def _sequence(html: str) -> int:
    return int(re.search(r'name="sequence"[^>]*value="(\d+)"', html).group(1))


def sit_the_exam(trainee: Trainee, racing: bool, midway: threading.Barrier | None) -> None:
    status, _, html = trainee.request("GET", "/auth/login")
    status, _, _ = trainee.request("POST", "/auth/login", {
        "csrf_token": trainee.page_csrf(html), "email": trainee.email, "password": PASSWORD})
    assert status == 302, f"sign-in of {trainee.email}: {status}"
    status, _, html = trainee.request("GET", "/trainee/exams/certification")
    status, headers, _ = trainee.request("POST", "/trainee/exams/certification/start",
                                         {"csrf_token": trainee.page_csrf(html)})
    assert status == 302, f"start for {trainee.email}: {status}"
    trainee.attempt_id = int(re.search(r"/attempts/(\d+)", headers["Location"]).group(1))
    base = f"/trainee/attempts/{trainee.attempt_id}"
    pages = {}
    for position in range(1, ANSWERS_EACH + 1 + (RACING_SAVES if racing else 0)):
        status, _, html = trainee.request("GET", f"{base}/questions/{position}")
        assert status == 200
        pages[position] = html
        trainee.csrf = trainee.page_csrf(html)
    for position in range(1, ANSWERS_EACH + 1):
        if midway is not None and position == ANSWERS_EACH // 2:
            midway.wait(timeout=TIMEOUT)
        save(trainee, base, position, pages[position])
    if racing:
        # The last answers and the submit leave together, as when the clock runs out
        # while the page is still saving.
        with ThreadPoolExecutor(RACING_SAVES + 1) as pool:
            futures = [pool.submit(save, trainee, base, p, pages[p])
                       for p in range(ANSWERS_EACH + 1, ANSWERS_EACH + 1 + RACING_SAVES)]
            futures.append(pool.submit(trainee.request, "POST", f"{base}/submit",
                                       {"csrf_token": trainee.csrf}))
            for future in futures:
                future.result()
    else:
        status, _, _ = trainee.request("POST", f"{base}/submit", {"csrf_token": trainee.csrf})
        assert status == 302


def save(trainee: Trainee, base: str, position: int, html: str) -> None:
    token = _options(html)[position % 2]
    status, _, body = trainee.request(
        "POST", f"{base}/questions/{position}/autosave",
        {"csrf_token": trainee.csrf, "answer": token, "sequence": _sequence(html)})
    if status == 200 and '"saved":true' in body.replace(" ", ""):
        trainee.acknowledged[position] = token
    else:
        # Refused (the submit came first, or a retried save after a worker died was
        # already stored): fine, as long as it was not acknowledged.
        assert status in (200, 400, 403, 409), (status, body)


@pytest.fixture
def class_database(tmp_path, shipped_bank):
    """The test database with the bank and fifty trainees, and its URL for the server."""
    app = make_app(tmp_path)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        db.drop_all()
        db.create_all()
        import_bank(shipped_bank)
        for n in range(TRAINEES):
            accounts.create_user(f"class-{n}@example.com", f"Class Trainee {n}", PASSWORD,
                                 ["trainee"])
        db.session.commit()
        if url.startswith("sqlite"):
            db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
    yield app, url
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def _run_class(url: str, kill_a_worker: bool) -> tuple[list[Trainee], Server]:
    server = Server(url)
    midway = threading.Barrier(TRAINEES + 1) if kill_a_worker else None
    trainees = [Trainee(f"class-{n}@example.com", server.port) for n in range(TRAINEES)]
    try:
        with ThreadPoolExecutor(TRAINEES) as pool:
            futures = [pool.submit(sit_the_exam, t, n % 5 == 0, midway)
                       for n, t in enumerate(trainees)]
            if midway is not None:
                midway.wait(timeout=TIMEOUT)
                os.kill(server.workers()[0], signal.SIGKILL)
            for future in futures:
                future.result(timeout=TIMEOUT)
    finally:
        server.stop()
    return trainees, server


def _check(app, trainees: list[Trainee], server: Server) -> None:
    assert all(status != 500 for t in trainees for status in t.statuses)
    assert "database is locked" not in server.output
    assert "Traceback" not in server.output
    with app.app_context():
        for trainee in trainees:
            attempt = db.session.get(Attempt, trainee.attempt_id)
            assert attempt.state == "finished" and attempt.score_percent is not None
            stored = {
                position: (tokens, order, response)
                for position, tokens, order, response in db.session.execute(
                    select(AttemptItem.position, AttemptItem.option_tokens,
                           AttemptItem.option_order, AttemptItem.response)
                    .where(AttemptItem.attempt_id == attempt.id))
            }
            for position, token in trainee.acknowledged.items():
                tokens, order, response = stored[position]
                assert response == [order[tokens.index(token)]], (trainee.email, position)
            marked = db.session.scalar(
                select(func.count()).select_from(AttemptItem)
                .where(AttemptItem.attempt_id == attempt.id, AttemptItem.mark.is_(None)))
            assert marked == 0, "every item is graded"
        per_attempt = db.session.execute(
            select(Certificate.attempt_id, func.count()).group_by(Certificate.attempt_id)
            .having(func.count() > 1)).all()
        assert per_attempt == []
        opened = db.session.scalar(select(func.count()).select_from(Attempt))
        assert opened == TRAINEES, "one attempt per trainee, even with retried starts"


def test_fifty_trainees_at_once_lose_nothing(class_database):
    app, url = class_database
    trainees, server = _run_class(url, kill_a_worker=False)
    _check(app, trainees, server)
    assert sum(len(t.acknowledged) for t in trainees) >= TRAINEES * ANSWERS_EACH


def test_a_worker_killed_mid_exam_loses_nothing_acknowledged(class_database):
    app, url = class_database
    trainees, server = _run_class(url, kill_a_worker=True)
    _check(app, trainees, server)
