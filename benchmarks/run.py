"""`make bench`: build a large synthetic dataset, measure the app on it, write the results.

One run, in this order (see benchmarks/RESULTS.md for what came out last time):

(b) drawing and scoring a certification form from pools of 100 to 10,000 questions
    (the pure rules, no database), and `attempts.start` on the shipped bank and on
    the grown one;
(c) the manager's pages (dashboard, trainee list and detail, item analysis, CSV
    exports) in process, at each size of the attempts table (1,000, 10,000, 100,000);
(d) the SQL statements each main page issues, at each size;
(a) the exam flow served by gunicorn and driven by wrk at 8, 32 and 64 connections,
    next to a bare Flask "hello" in the same run.

SQLite in a throwaway folder by default; BENCH_DATABASE_URL=postgresql+psycopg://...
runs it on PostgreSQL (the database is emptied first). `--quick` runs small sizes
for a check of the suite itself. Results go to benchmarks/results.json and
benchmarks/RESULTS.md (or `--out FOLDER`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # its statement counter, the one the tests use

from helpers import statements  # noqa: E402
from sqlalchemy import select, text  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from benchmarks import dataset, load  # noqa: E402
from quizapp import accounts, attempts, create_app, exam_rules  # noqa: E402
from quizapp.bank import load_bank  # noqa: E402
from quizapp.bank.check import pool_of  # noqa: E402
from quizapp.bank_store import import_bank  # noqa: E402
from quizapp.extensions import db  # noqa: E402
from quizapp.models import Attempt, Certificate, Exam, User, utcnow  # noqa: E402

SECRET = "benchmark secret key, not for production"
ADMIN = ("bench-admin@example.com", "Report Reader", "violet harbour lantern quarry")
PROBE_PASSWORD = "amber falcon orchard tide"
TARGETS = {
    "page_ratio": 0.25, "page_p99_ms": 50, "rules_growth": 1.5,
    "dashboard_ms": 150, "item_analysis_ms": 1500, "report_growth": 2.0,
}
REPORT_PAGES = {
    "dashboard": "/manager/",
    "trainee_list": "/manager/trainees",
    "trainee_detail": "/manager/trainees/{trainee}",
    "transcript": "/manager/attempts/{attempt}",
    "item_analysis": "/manager/exams/certification/items",
    "attempts_csv": "/manager/exports/attempts.csv",
    "certificates_csv": "/manager/exports/certificates.csv",
    "items_csv": "/manager/exams/certification/items.csv",
}


def log(message: str) -> None:
    print(message, flush=True)


# --- Setting up ---------------------------------------------------------------------


def database_url(folder: Path) -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    return url or f"sqlite:///{folder / 'bench.sqlite3'}"


def settings(url: str, folder: Path) -> dict:
    """The app's settings, for the in-process app and (as environment) for gunicorn."""
    return {
        "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(folder),
        "ISSUER_KEY_DIR": str(folder / "issuer_keys"), "THROTTLE_ENABLED": False,
        "VERIFY_RATE_LIMIT": 10**9, "LOG_LEVEL": "WARNING", "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
    }


def server_environment(url: str, folder: Path) -> dict:
    return {"DATABASE_URL": url, "SECRET_KEY": SECRET, "QUIZAPP_INSTANCE_PATH": str(folder),
            "ISSUER_KEY_DIR": str(folder / "issuer_keys"), "THROTTLE_ENABLED": "false",
            "VERIFY_RATE_LIMIT": str(10**9), "LOG_LEVEL": "WARNING",
            "SESSION_COOKIE_SECURE": "false", "QUIZAPP_ENV": "production",
            "PYTHONPATH": str(ROOT)}


def fresh_database(app) -> None:
    """An empty schema (PostgreSQL: everything dropped first) with the shipped bank."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.create_all()
        bank, _ = load_bank(Path(app.config["QUESTION_BANK_PATH"]))
        import_bank(bank)
        accounts.create_user(ADMIN[0], ADMIN[1], ADMIN[2], ["manager", "admin"])
        db.session.commit()


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "0")
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(int(memory) / 2**20, 1),
            "system": platform.platform(), "python": platform.python_version(),
            "load_average": os.getloadavg(),
            "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if wrk else "",
            "gunicorn": "2 workers x 4 threads (gthread)", "date": datetime.now(UTC).isoformat()}


def timed_get(app, client, path: str, runs: int) -> tuple[float, int]:
    """Median milliseconds of `runs` GETs (after one to warm up) and the statements
    one GET issues."""
    with app.app_context(), statements() as seen:
        response = client.get(path)
        response.get_data()
    assert response.status_code == 200, (path, response.status_code)
    count = len(seen)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        response.get_data()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), count


def signed_in(app, email: str, password: str):
    client = app.test_client()
    response = client.post("/auth/login", data={"email": email, "password": password})
    assert response.status_code == 302, (email, response.status_code)
    return client


# --- (b) the rules as the bank grows ------------------------------------------------


def rules_growth(sizes=(100, 1000, 10_000)) -> dict:
    """Draw and score a certification form from pools of each size: copies of the
    shipped bank's questions (same topics, kinds and options) under new ids. The pool
    is arranged for drawing once per size (timed apart, as `arrange_ms`), as the app
    arranges it once per state of the bank."""
    bank, _ = load_bank(ROOT / "question_bank")
    certification = next(e for e in bank.exams if e.kind == "certification")
    shipped = exam_rules.pool_for(certification,
                                  pool_of(bank.published(), bank.enemy_map())).items
    by_key = {item.key: bank.published()[item.key] for item in shipped}
    results: dict = {"draw_ms": {}, "score_ms": {}}
    for size in sizes:
        pool, origin = [], {}
        for n in range(size):
            item = shipped[n % len(shipped)]
            copy = n // len(shipped)
            pool.append(exam_rules.PoolItem(
                key=(key := item.key + copy * 1_000_000),
                question_id=f"{item.question_id}~{copy}" if copy else item.question_id,
                topic=item.topic, safety_critical=item.safety_critical,
                option_ids=item.option_ids, ordered=item.ordered, risk=item.risk,
                enemies=frozenset(f"{e}~{copy}" if copy else e for e in item.enemies)))
            origin[key] = item.key
        rng = random.Random(1)
        seen = {pool[rng.randrange(size)].question_id: rng.randrange(1, 4) for _ in range(60)}
        # Arranged once, as the app keeps one per state of the bank (`drawing_pool`).
        started = time.perf_counter()
        pool = exam_rules.pool_for(certification, pool)
        results.setdefault("arrange_ms", {})[str(size)] = round(
            (time.perf_counter() - started) * 1000, 2)
        form = exam_rules.draw_form(certification.blueprint, pool, rng, seen)
        questions = [by_key[origin[f.key]] for f in form]
        items = [exam_rules.ScoredItem(q.type, q.topic, q.safety_critical,
                                       tuple(sorted(q.correct_ids)), q.correct_ids)
                 for q in questions]
        for name, run in (
            ("draw_ms", lambda p=pool, r=rng, s=seen: exam_rules.draw_form(
                certification.blueprint, p, r, s)),
            ("score_ms", lambda i=items: exam_rules.score(i, certification)),
        ):
            number = 50 if name == "draw_ms" else 500
            best = min(timeit.repeat(run, number=number, repeat=5)) / number * 1000
            results[name][str(size)] = round(best, 4)
        log(f"  pool of {size:>6}: draw {results['draw_ms'][str(size)]:.3f} ms,"
            f" score {results['score_ms'][str(size)]:.3f} ms"
            f" (arranging the pool once: {results['arrange_ms'][str(size)]:.1f} ms)")
    return results


def time_start(app, label: str, runs: int = 3) -> float:
    """Median milliseconds of `attempts.start` (a certification attempt, drawn from the
    bank as it is now) for fresh trainees."""
    times = []
    with app.app_context():
        exam = db.session.get(Exam, "certification")
        for n in range(runs):
            user = accounts.create_user(f"start-{label}-{n}@example.com", f"Start {n}",
                                        PROBE_PASSWORD, ["trainee"])
            db.session.commit()
            started = time.perf_counter()
            attempts.start(user, exam, utcnow())
            times.append((time.perf_counter() - started) * 1000)
            db.session.remove()
            exam = db.session.get(Exam, "certification")
    return statistics.median(times)


# --- (c) and (d): pages in process --------------------------------------------------


def probe_trainee(app, label: str):
    """A fresh trainee, signed in, with an open certification attempt."""
    email = f"probe-{label}@example.com"
    with app.app_context():
        accounts.create_user(email, f"Probe {label}", PROBE_PASSWORD, ["trainee"])
        db.session.commit()
    client = signed_in(app, email, PROBE_PASSWORD)
    response = client.post("/trainee/exams/certification/start")
    assert response.status_code == 302, response.status_code
    attempt_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        tokens = [item.option_tokens for item in attempt.items]
    return client, attempt_id, tokens


def exam_page_queries(app, label: str) -> dict:
    """Statements per request of each exam page, for a fresh trainee's attempt."""
    client, attempt_id, tokens = probe_trainee(app, label)
    base = f"/trainee/attempts/{attempt_id}"
    counts = {}

    def count(name, method, path, **kwargs):
        with app.app_context(), statements() as seen:
            response = getattr(client, method)(path, **kwargs)
        assert response.status_code in (200, 302), (name, response.status_code)
        counts[name] = len(seen)

    count("question", "get", f"{base}/questions/2")
    count("answer_save", "post", f"{base}/questions/2/autosave",
          data={"sequence": 0, "answer": tokens[1][0]})
    count("summary", "get", f"{base}/summary")
    count("submit", "post", f"{base}/submit")
    count("result", "get", f"{base}/result")
    count("trainee_dashboard", "get", "/trainee/")
    with app.app_context():
        code = db.session.scalar(select(Certificate.code).order_by(Certificate.id).limit(1))
    if code:
        count("verify", "get", f"/verify/{code}")
    return counts


def report_pages(app, runs: int) -> tuple[dict, dict]:
    """Median milliseconds and statements of each manager page, as an admin who sees
    every trainee."""
    with app.app_context():
        # The first bench trainee: the one with the most attempts at every size.
        trainee = db.session.scalar(
            select(Attempt.user_id).join(User, User.id == Attempt.user_id)
            .where(User.email.like("bench-trainee-%")).order_by(Attempt.id).limit(1))
        attempt = db.session.scalar(select(Attempt.id).where(Attempt.user_id == trainee)
                                    .order_by(Attempt.id.desc()).limit(1))
    client = signed_in(app, ADMIN[0], ADMIN[2])
    times, counts = {}, {}
    for name, path in REPORT_PAGES.items():
        ms, count = timed_get(app, client, path.format(trainee=trainee, attempt=attempt),
                              runs if "csv" not in name else max(1, runs // 2))
        times[name], counts[name] = round(ms, 1), count
        log(f"    {name:<17} {ms:9.1f} ms  {count:3d} statements")
    return times, counts


# --- Writing the results ------------------------------------------------------------


def _errors(figures: dict) -> dict:
    """wrk's errors, and of them the answers with an error status and the requests that
    failed on the socket (a timeout after wrk's 2 s is one), kept apart."""
    return {"errors": figures["non_2xx_3xx"] + figures["socket_errors"],
            "error_statuses": figures["non_2xx_3xx"],
            "socket_errors": figures["socket_errors"]}


def page_summary(flow: dict, clients: int = 32) -> dict:
    pages = {}
    for page, by_clients in flow.items():
        if page in ("hello", "submit"):
            continue
        chosen = by_clients[clients]
        pages[page] = {
            "clients": clients, "ratio_to_hello": round(chosen["ratio_to_hello"], 3),
            "rps": round(chosen["rps"], 1), "p50_ms": round(chosen["p50_ms"], 1),
            "p99_ms": round(chosen["p99_ms"], 1),
            **_errors(chosen),
            "by_clients": {str(c): {"rps": round(f["rps"], 1),
                                    "ratio_to_hello": round(f["ratio_to_hello"], 3),
                                    "p50_ms": round(f["p50_ms"], 1),
                                    "p99_ms": round(f["p99_ms"], 1), **_errors(f)}
                           for c, f in by_clients.items()},
        }
    pages["hello"] = {"by_clients": {str(c): {"rps": round(f["rps"], 1),
                                              "p50_ms": round(f["p50_ms"], 1),
                                              "p99_ms": round(f["p99_ms"], 1)}
                                     for c, f in flow["hello"].items()}}
    if "submit" in flow:
        pages["submit"] = {"sequential_ms": round(flow["submit"]["sequential_ms"], 1)}
    return pages


def verdicts(results: dict) -> dict:
    """Each target of issue 12, met or not, with the figure."""
    out = {}
    pages = results.get("pages", {})
    for page in ("question", "answer_save"):
        if page in pages:
            figure = pages[page]
            out[f"{page}: >= 25% of hello at 32 clients"] = (
                figure["ratio_to_hello"] >= TARGETS["page_ratio"], figure["ratio_to_hello"])
            out[f"{page}: p99 < 50 ms at 32 clients"] = (
                figure["p99_ms"] < TARGETS["page_p99_ms"], figure["p99_ms"])
    rules = results.get("rules", {})
    for name in ("draw_ms", "score_ms"):
        values = rules.get(name, {})
        if len(values) > 1:
            sizes = sorted(values, key=int)
            growth = values[sizes[-1]] / values[sizes[0]]
            out[f"{name[:-3]}: grows < 1.5x from {sizes[0]} to {sizes[-1]} questions"] = (
                growth < TARGETS["rules_growth"], round(growth, 2))
    reports = results.get("reports", {})
    for name, limit in (("dashboard_ms", TARGETS["dashboard_ms"]),
                        ("item_analysis_ms", TARGETS["item_analysis_ms"])):
        values = reports.get(name, {})
        if values:
            sizes = sorted(values, key=int)
            largest = values[sizes[-1]]
            out[f"{name[:-3]}: < {limit} ms at {sizes[-1]} attempts"] = (largest < limit,
                                                                          largest)
            if len(sizes) > 1:
                growth = largest / values[sizes[0]]
                out[f"{name[:-3]}: grows < 2x from {sizes[0]} to {sizes[-1]} attempts"] = (
                    growth < TARGETS["report_growth"], round(growth, 2))
    queries = results.get("queries_per_page", {})
    varying = sorted(page for page, by_size in queries.items()
                     if len(set(by_size.values())) > 1)
    if queries:
        out["queries per page constant in data size"] = (not varying, varying)
    return {name: {"met": bool(met), "figure": figure} for name, (met, figure) in out.items()}


def _error_cell(figures: dict) -> str:
    if not figures["errors"]:
        return "0"
    return (f"{figures['errors']} ({figures['error_statuses']} error statuses,"
            f" {figures['socket_errors']} socket errors or timeouts)")


def write_markdown(results: dict, path: Path) -> None:
    m = results["machine"]
    lines = [
        "# Benchmark results", "",
        "Written by `make bench` (`benchmarks/run.py`); the numbers below are from the last"
        " run. Throughput is machine-bound; the ratio to the bare Flask \"hello\" served"
        " by the same gunicorn in the same run is the figure that holds across machines.",
        "", "## Machine", "",
        f"- {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; {m['system']};"
        f" Python {m['python']}; load average at start {m['load_average']}",
        f"- database: {results['database']}; server: gunicorn {m['gunicorn']};"
        f" load generator: {m['wrk']}, 2 threads",
        f"- run on {m['date']}, {results['seconds_total']:.0f} s in all", "",
        "## Dataset", "",
        "| step | rows | seconds |", "|---|---|---|",
    ]
    lines += [f"| {step['what']} | {step['rows']:,} | {step['seconds']:.1f} |"
              for step in results["dataset"]]
    pages = results.get("pages", {})
    if pages:
        lines += ["", "## (a) The exam flow under gunicorn + wrk", "",
                  "Median of the repeated runs at each number of connections; the ratio is"
                  " the page's throughput over hello's in the same run.", "",
                  "| page | clients | req/s | ratio to hello | p50 ms | p99 ms | errors |",
                  "|---|---|---|---|---|---|---|"]
        for clients in sorted({c for p in pages.values() for c in p.get("by_clients", {})},
                              key=int):
            hello = pages["hello"]["by_clients"][clients]
            lines.append(f"| hello | {clients} | {hello['rps']:.0f} | 1 |"
                         f" {hello['p50_ms']:.1f} | {hello['p99_ms']:.1f} | |")
            for page, figure in pages.items():
                if page in ("hello", "submit"):
                    continue
                f = figure["by_clients"][clients]
                lines.append(f"| {page} | {clients} | {f['rps']:.0f} |"
                             f" {f['ratio_to_hello']:.1%} | {f['p50_ms']:.1f} |"
                             f" {f['p99_ms']:.1f} | {_error_cell(f)} |")
        if "submit" in pages:
            lines += ["", f"Submitting (grading, certificate PDF and signature):"
                          f" {pages['submit']['sequential_ms']:.0f} ms per attempt, one at a"
                          " time."]
    rules = results.get("rules", {})
    if rules:
        sizes = sorted(rules["draw_ms"], key=int)
        lines += ["", "## (b) The rules as the bank grows", "",
                  "| questions | " + " | ".join(sizes) + " |",
                  "|---|" + "---|" * len(sizes),
                  "| draw a form, ms | " + " | ".join(f"{rules['draw_ms'][s]:.3f}"
                                                     for s in sizes) + " |",
                  "| score a form, ms | " + " | ".join(f"{rules['score_ms'][s]:.3f}"
                                                      for s in sizes) + " |"]
        if results.get("start_ms"):
            lines += ["", "Starting an attempt in the app (draw from the database, 30"
                      " items written), median ms: " + ", ".join(
                          f"{v:.0f} at {k} questions" for k, v in
                          results["start_ms"].items()) + "."]
    reports = results.get("reports", {})
    if reports:
        sizes = sorted(next(iter(reports.values())), key=int)
        lines += ["", "## (c) Reports as attempts grow (median ms, in process)", "",
                  "| page | " + " | ".join(f"{int(s):,} attempts" for s in sizes)
                  + " | growth |", "|---|" + "---|" * (len(sizes) + 1)]
        for name, values in reports.items():
            growth = values[sizes[-1]] / values[sizes[0]] if values[sizes[0]] else 0
            lines.append(f"| {name.removesuffix('_ms')} | "
                         + " | ".join(f"{values[s]:.0f}" for s in sizes)
                         + f" | {growth:.2f}x |")
    queries = results.get("queries_per_page", {})
    if queries:
        sizes = sorted({s for v in queries.values() for s in v}, key=int)
        lines += ["", "## (d) SQL statements per request", "",
                  "| page | " + " | ".join(f"{int(s):,} attempts" for s in sizes) + " |",
                  "|---|" + "---|" * len(sizes)]
        for page, by_size in queries.items():
            lines.append(f"| {page} | " + " | ".join(str(by_size.get(s, "")) for s in sizes)
                         + " |")
    lines += ["", "## Targets (issue 12)", "", "| target | figure | met |", "|---|---|---|"]
    for name, verdict in results["targets"].items():
        lines.append(f"| {name} | {verdict['figure']} | {'yes' if verdict['met'] else 'NO'} |")
    notes = ROOT / "benchmarks" / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    path.write_text("\n".join(lines) + "\n")


# --- The run ------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and short runs: a check of the suite itself")
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--trainees", type=int, default=5_000)
    parser.add_argument("--attempts", default="1000,10000,100000")
    parser.add_argument("--seconds", type=int, default=5, help="each wrk run")
    parser.add_argument("--repeats", type=int, default=3, help="wrk runs per page")
    parser.add_argument("--clients", default="8,32,64")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks")
    args = parser.parse_args()
    if args.quick:
        args.questions, args.trainees, args.attempts = 1_000, 200, "200,2000"
        args.seconds, args.repeats, args.clients = 2, 1, "8,32"
    sizes = [int(s) for s in args.attempts.split(",")]
    clients = tuple(int(c) for c in args.clients.split(","))
    begun = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="quizapp-bench-"))
    url = database_url(folder)
    app = create_app(settings(url, folder))
    fresh_database(app)
    results: dict = {"machine": machine(), "database": app.config[
        "SQLALCHEMY_DATABASE_URI"].split(":", 1)[0], "dataset": [], "queries_per_page": {}}
    log(f"database {results['database']}; {results['machine']['cpu']},"
        f" {results['machine']['cores']} cores")

    log("(b) drawing and scoring as the bank grows")
    results["rules"] = rules_growth()
    with app.app_context():
        shipped = db.session.scalar(text("SELECT count(*) FROM question"))
    results["start_ms"] = {str(shipped): round(time_start(app, "shipped"), 1)}

    def step(what, rows, function, *call):
        started = time.perf_counter()
        with app.app_context():
            function(*call)
        seconds = time.perf_counter() - started
        results["dataset"].append({"what": what, "rows": rows, "seconds": round(seconds, 1)})
        log(f"  {what}: {rows:,} in {seconds:.1f} s")

    log("dataset")
    password_hash = generate_password_hash(PROBE_PASSWORD, method="pbkdf2:sha256:1000")
    step("questions", args.questions, dataset.grow_questions, args.questions)
    step("trainees", args.trainees, dataset.grow_trainees, args.trainees, password_hash)
    results["start_ms"][str(args.questions)] = round(time_start(app, "grown"), 1)
    log(f"  start an attempt: {results['start_ms']}")
    reports: dict = {}
    for size in sizes:
        step(f"finished attempts (to {size:,}, with 30 answers each)", size,
             dataset.grow_attempts, size)
        log(f"(c) reports at {size:,} attempts")
        times, counts = report_pages(app, runs=3 if size >= 100_000 else 5)
        for name, ms in times.items():
            reports.setdefault(f"{name}_ms", {})[str(size)] = ms
        counts.update(exam_page_queries(app, f"at-{size}"))
        for page, count in counts.items():
            results["queries_per_page"].setdefault(page, {})[str(size)] = count
        log(f"(d) statements per page: {counts}")
    results["reports"] = reports

    if not args.skip_load:
        log(f"(a) the exam flow under load ({args.repeats} x {args.seconds} s per page)")
        flow = load.measure_flow(app, server_environment(url, folder), clients=clients,
                                 seconds=args.seconds, repeats=args.repeats, log=log)
        results["pages"] = page_summary(flow, 32 if 32 in clients else clients[-1])
    results["targets"] = verdicts(results)
    results["seconds_total"] = round(time.perf_counter() - begun, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    write_markdown(results, args.out / "RESULTS.md")
    for name, verdict in results["targets"].items():
        log(f"  {'met   ' if verdict['met'] else 'MISSED'} {name}: {verdict['figure']}")
    log(f"done in {results['seconds_total']:.0f} s; {args.out / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
