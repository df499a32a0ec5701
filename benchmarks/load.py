"""The exam flow under load: gunicorn serving the app as in production, wrk driving it.

Each page is measured at several numbers of concurrent clients next to a bare Flask
"hello" served by the same gunicorn settings in the same run; the ratio of the two
throughputs is the figure that holds from one machine to another.

The trainees taking part are made here (`load-N@example.com`) and start a real
certification attempt through `attempts.start`, then sign in over HTTP like a
browser; wrk then replays their pages with their session cookies, spread round robin
over the trainees so no two requests race for one answer.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from quizapp import accounts, attempts
from quizapp.extensions import db
from quizapp.models import AttemptItem, Certificate, Exam, User, utcnow

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4",
            "--worker-class", "gthread", "--log-level", "warning"]
LOAD_PASSWORD = "copper meadow signal drift"
WRK_THREADS = 2

# wrk's Lua side: `requests` is filled per thread from a JSON file of request
# templates; each request takes the next template (round robin), and an answer save
# carries the sequence number the item has by then: the number it had when the run
# began (`base`) plus the rounds since (its previous save was issued a whole round
# earlier, so it has long been answered).
LUA = r"""
local templates = {}
local counter = 0
local per_round = 0

function setup(thread)
  thread:set("tid", THREAD_ID)
  THREAD_ID = THREAD_ID + 1
end
THREAD_ID = 0

function init(args)
  local f = io.open(args[1] .. "." .. tid .. ".txt", "r")
  for line in f:lines() do
    local field = "([^\t]*)"
    local method, path, cookie, even, odd, base = line:match(
      "^" .. field .. "\t" .. field .. "\t" .. field .. "\t" .. field .. "\t" .. field
      .. "\t" .. field .. "$")
    table.insert(templates, {method = method, path = path, cookie = cookie,
                             bodies = {[0] = even, [1] = odd}, base = tonumber(base)})
  end
  f:close()
  per_round = #templates
end

function request()
  local t = templates[(counter % per_round) + 1]
  local round = math.floor(counter / per_round)
  counter = counter + 1
  local headers = {}
  if t.cookie ~= "-" then headers["Cookie"] = t.cookie end
  local body = nil
  if t.method == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers["Accept"] = "application/json"
    body = t.bodies[round % 2]:gsub("{round}", tostring(round + t.base))
  end
  return wrk.format(t.method, t.path, headers, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, ' ..
    '"non_2xx_3xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn on a free loopback port, stopped on exit."""

    def __init__(self, app_spec: str, env: dict):
        self.port = free_port()
        self.process = subprocess.Popen(
            [*GUNICORN, "--bind", f"127.0.0.1:{self.port}", app_spec],
            cwd=ROOT, env={**os.environ, **env},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start: {app_spec}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


@dataclass
class Sitter:
    """A load-test trainee with an open certification attempt and a signed-in session."""

    attempt_id: int
    tokens: list[list[str]]  # option tokens per position
    cookie: str = ""
    csrf: str = ""


def make_sitters(app, count: int) -> list[Sitter]:
    """Trainees with an open certification attempt each (drawn by the app's own rules)."""
    sitters = []
    with app.app_context():
        exam = db.session.get(Exam, "certification")
        for n in range(count):
            email = f"load-{n}@example.com"
            user = db.session.scalar(select(User).where(User.email == email))
            if user is None:
                user = accounts.create_user(email, f"Load Trainee {n}", LOAD_PASSWORD,
                                            ["trainee"])
                db.session.commit()
            attempt = attempts.start(user, exam, utcnow())
            sitters.append(Sitter(attempt.id, [item.option_tokens for item in attempt.items]))
    return sitters


def _request(port: int, method: str, path: str, cookie: str = "", body: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    data = None
    if body is not None:
        data = urllib.parse.urlencode(body, doseq=True)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=data, headers=headers)
    response = connection.getresponse()
    text = response.read().decode()
    cookies = [value.split(";", 1)[0] for key, value in response.getheaders()
               if key.lower() == "set-cookie"]
    connection.close()
    return response.status, text, cookies


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def sign_in(port: int, sitter: Sitter, email: str) -> None:
    """Sign in as a browser does: fetch the form (session + CSRF token), post it."""
    _, html, cookies = _request(port, "GET", "/auth/login")
    cookie = "; ".join(cookies)
    status, _, cookies = _request(port, "POST", "/auth/login", cookie, {
        "csrf_token": _csrf(html), "email": email, "password": LOAD_PASSWORD})
    if status != 302 or not cookies:
        raise RuntimeError(f"sign-in failed for {email}: {status}")
    jar = dict(cookie.split("=", 1) for cookie in cookies)
    _, page, cookies = _request(port, "GET",
                                f"/trainee/attempts/{sitter.attempt_id}/questions/1",
                                "; ".join(f"{k}={v}" for k, v in jar.items()))
    # The page put its CSRF token in the session: keep the cookie it came back in.
    jar.update(cookie.split("=", 1) for cookie in cookies)
    sitter.cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    sitter.csrf = _csrf(page)


def templates_for(page: str, sitters: list[Sitter], code: str,
                  sequences: dict | None = None) -> list[tuple]:
    """The request templates of one page type: (method, path, cookie, body of even
    rounds, body of odd rounds, the item's sequence number now); "-" stands for no
    cookie. `sequences` maps (attempt id, position) to the sequence number stored."""
    rows = []
    for sitter in sitters:
        base = f"/trainee/attempts/{sitter.attempt_id}"
        if page == "question":
            rows += [("GET", f"{base}/questions/{p}", sitter.cookie, "", "")
                     for p in range(1, len(sitter.tokens) + 1)]
        elif page == "answer_save":
            # Saves alternate between the first two options, so each one writes;
            # {round} becomes the sequence number the item carries by then.
            csrf = urllib.parse.quote(sitter.csrf)
            for position, tokens in enumerate(sitter.tokens, start=1):
                even, odd = (f"csrf_token={csrf}&sequence={{round}}&answer={token}"
                             for token in tokens[:2])
                rows.append(("POST", f"{base}/questions/{position}/autosave", sitter.cookie,
                             even, odd,
                             str((sequences or {}).get((sitter.attempt_id, position), 0))))
        elif page == "summary":
            rows.append(("GET", f"{base}/summary", sitter.cookie, "", ""))
        elif page == "result":
            rows.append(("GET", f"{base}/result", sitter.cookie, "", ""))
        elif page == "dashboard":
            rows.append(("GET", "/trainee/", sitter.cookie, "", ""))
        elif page == "verify":
            rows.append(("GET", f"/verify/{code}", "-", "", ""))
        elif page == "hello":
            rows.append(("GET", "/", "-", "", ""))
    return rows


def run_wrk(port: int, rows: list[tuple], clients: int, seconds: int, workdir: Path) -> dict:
    """wrk against the server with these request templates; its summary as a dict."""
    script = workdir / "flow.lua"
    script.write_text(LUA)
    stem = workdir / "templates"
    for thread in range(WRK_THREADS):
        mine = rows[thread::WRK_THREADS] or rows
        (workdir / f"templates.{thread}.txt").write_text(
            "".join("\t".join(row if len(row) == 6 else (*row, "0")) + "\n"
                    for row in mine))
    output = subprocess.run(
        ["wrk", "-t", str(WRK_THREADS), "-c", str(clients), "-d", f"{seconds}s",
         "-s", str(script), f"http://127.0.0.1:{port}", "--", str(stem)],
        capture_output=True, text=True, check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK_JSON "))
    result = json.loads(line.removeprefix("WRK_JSON "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def sequences_now(app, people: list[Sitter]) -> dict:
    """The sequence number each sitter's item carries now, by (attempt id, position)."""
    with app.app_context():
        rows = db.session.execute(
            select(AttemptItem.attempt_id, AttemptItem.position, AttemptItem.sequence)
            .where(AttemptItem.attempt_id.in_([p.attempt_id for p in people]))).all()
        db.session.rollback()
    return {(attempt_id, position): sequence for attempt_id, position, sequence in rows}


def _median_run(runs: list[dict]) -> dict:
    """The run with the median throughput, with every run's throughput beside it."""
    ordered = sorted(runs, key=lambda r: r["rps"])
    middle = dict(ordered[len(ordered) // 2])
    middle["rps_runs"] = [round(r["rps"], 1) for r in runs]
    return middle


def measure_flow(app, env: dict, *, clients=(8, 32, 64), seconds: int = 5,
                 sitters: int = 64, repeats: int = 3, log=print) -> dict:
    """Throughput and latency of each exam page at each client count, and of hello:
    `repeats` rounds of (hello, then each page), the median round of each kept, and
    each page's median throughput divided by hello's median of the same run."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    started = time.perf_counter()
    people = make_sitters(app, sitters)
    log(f"  {sitters} sitters started their attempts in {time.perf_counter() - started:.1f} s")
    with app.app_context():
        code = db.session.scalar(select(Certificate.code).limit(1)) or "NONE"
    server = Server("quizapp:create_app()", env)
    hello = Server("benchmarks.hello:app", env)
    results: dict = {}

    def measure(pages, workdir):
        for count in clients:
            runs: dict = {}
            for _ in range(repeats):
                runs.setdefault("hello", []).append(run_wrk(
                    hello.port, templates_for("hello", people, code), count, seconds,
                    workdir))
                for page in pages:
                    sequences = sequences_now(app, people) if page == "answer_save" else None
                    runs.setdefault(page, []).append(run_wrk(
                        server.port, templates_for(page, people, code, sequences), count,
                        seconds, workdir))
            base = _median_run(runs.pop("hello"))
            results.setdefault("hello", {})[count] = base
            for page, page_runs in runs.items():
                figures = _median_run(page_runs)
                figures["ratio_to_hello"] = figures["rps"] / base["rps"]
                results.setdefault(page, {})[count] = figures
                log(f"  {page:<12} {count:>3} clients: {figures['rps']:7.1f} req/s"
                    f" ({figures['ratio_to_hello']:.1%} of hello {base['rps']:.0f}),"
                    f" p50 {figures['p50_ms']:.0f} ms, p99 {figures['p99_ms']:.0f} ms,"
                    f" errors: {figures['non_2xx_3xx']} statuses,"
                    f" {figures['socket_errors']} socket/timeouts")

    try:
        for n, sitter in enumerate(people):
            sign_in(server.port, sitter, f"load-{n}@example.com")
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            measure(("question", "answer_save", "summary", "dashboard", "verify"), workdir)
            started = time.perf_counter()
            for n, sitter in enumerate(people):
                status, _, _ = _request(server.port, "POST",
                                        f"/trainee/attempts/{sitter.attempt_id}/submit",
                                        sitter.cookie, {"csrf_token": sitter.csrf})
                if status != 302:
                    raise RuntimeError(f"submit failed for load-{n}: {status}")
            results["submit"] = {"sequential_ms": (time.perf_counter() - started) * 1000
                                 / len(people)}
            log(f"  submit: {results['submit']['sequential_ms']:.0f} ms each, one at a time")
            measure(("result",), workdir)
    finally:
        server.stop()
        hello.stop()
    return results
