"""A large synthetic dataset for the benchmarks, written in bulk (never through HTTP).

`grow(app, questions=..., trainees=..., attempts=...)` brings the database up to the
given sizes and can be called again with larger ones: the report benchmarks measure
at 1,000 attempts, grow to 10,000, measure, and so on, on one database.

The questions are copies of the shipped bank's questions (same topics, types and
option counts) under new ids, so the exam rules draw from a pool of the requested
size. Attempts are finished certification attempts of 30 items drawn per the
certification blueprint; each trainee's answers follow an ability score, so item
statistics look like a real cohort's.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text

from quizapp.attempts import record_topic_marks
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    Certificate,
    Cohort,
    CohortManager,
    CohortMember,
    Exam,
    Question,
    QuestionVersion,
    User,
    UserRole,
)

CHUNK = 5_000  # rows per INSERT batch
EXAM_ID = "certification"
TRAINEES_PER_COHORT = 100
BENCH_PASSWORD = "bench passphrase for load tests"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
WORD = re.compile(r"[A-Za-z0-9_-]+")


def _chunks(rows, size=CHUNK):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(model, rows) -> None:
    for batch in _chunks(rows):
        db.session.execute(insert(model), batch)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def grow_questions(total: int) -> None:
    """Add published copies of the shipped questions until the bank holds `total`."""
    have = _count(Question)
    if have >= total:
        return
    shipped = db.session.execute(
        select(Question.id, Question.topic_id, QuestionVersion.content)
        .join(QuestionVersion, (QuestionVersion.question_id == Question.id)
              & (QuestionVersion.version == Question.current_version))
        .where(Question.status == "published").order_by(Question.id)
    ).all()
    new = [(f"bench-{n:05d}", shipped[n % len(shipped)]) for n in range(have, total)]
    _insert(Question, ({"id": qid, "topic_id": topic, "status": "published",
                        "current_version": 1, "needs_review": False}
                       for qid, (_, topic, _) in new))
    now = datetime.now(UTC)
    _insert(QuestionVersion, (
        {"question_id": qid, "version": 1, "content": content, "created_at": now,
         "content_hash": hashlib.sha256(json.dumps(content, sort_keys=True).encode())
         .hexdigest(), "key_correction": False}
        for qid, (_, _, content) in new))
    db.session.commit()


def grow_trainees(total: int, password_hash: str) -> None:
    """Add trainees (in cohorts of 100, each with a manager) until there are `total`."""
    have = db.session.scalar(
        select(func.count()).select_from(UserRole).where(UserRole.role == "trainee"))
    if have >= total:
        return
    now = datetime.now(UTC)
    first_id = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    people = [
        {"id": first_id + n, "email": f"bench-trainee-{have + n}@example.com",
         "name": f"Bench Trainee {have + n}", "password_hash": password_hash,
         "active": True, "session_version": 1, "created_at": now}
        for n in range(total - have)
    ]
    _insert(User, people)
    _insert(UserRole, ({"user_id": p["id"], "role": "trainee"} for p in people))
    _reset_sequences()
    cohort_count = _count(Cohort)
    for start in range(0, len(people), TRAINEES_PER_COHORT):
        group = people[start:start + TRAINEES_PER_COHORT]
        number = cohort_count + start // TRAINEES_PER_COHORT + 1
        cohort = Cohort(name=f"Bench cohort {number}", description="", created_at=now)
        manager = User(email=f"bench-manager-{number}@example.com",
                       name=f"Bench Manager {number}", password_hash=password_hash,
                       created_at=now)
        manager.role_rows = []
        db.session.add_all([cohort, manager])
        db.session.flush()
        db.session.add(UserRole(user_id=manager.id, role="manager"))
        db.session.add(CohortManager(cohort_id=cohort.id, user_id=manager.id))
        _insert(CohortMember, ({"cohort_id": cohort.id, "user_id": p["id"]} for p in group))
    db.session.commit()


def _stamp(value: datetime, dialect: str):
    """A UTC time as the dialect's driver takes it raw (SQLite: SQLAlchemy's text)."""
    if dialect == "sqlite":
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _json_strings(values) -> str:
    # The option ids are checked to be plain words, so this is valid JSON, made
    # several times faster than json.dumps for the millions of small lists.
    return '["' + '", "'.join(values) + '"]' if values else "[]"


ITEM_COLUMNS = ("attempt_id", "position", "question_version_id", "option_order",
                "option_tokens", "response", "flagged", "sequence", "answered_at",
                "locked", "mark", "seconds_spent")


def _insert_items(rows: list[tuple]) -> None:
    """Attempt items straight through the driver: COPY on PostgreSQL, executemany on
    SQLite; the rows are already in the driver's types."""
    connection = db.session.connection()
    dialect = connection.dialect.name
    columns = ", ".join(ITEM_COLUMNS)
    if dialect == "postgresql":
        raw = connection.connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(
                f"COPY attempt_item ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(ITEM_COLUMNS))
    connection.exec_driver_sql(f"INSERT INTO attempt_item ({columns}) VALUES ({marks})",
                               rows)


def _reset_sequences() -> None:
    """PostgreSQL: move the id sequences past the ids written here explicitly."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in ("user", "attempt", "certificate", "cohort"):
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'),"
            f" (SELECT coalesce(max(id), 1) FROM \"{table}\"))"))


def grow_attempts(total: int, seed: int = 7) -> None:
    """Add finished certification attempts, spread over the trainees and over 2026,
    until there are `total`; passes get a certificate."""
    have = db.session.scalar(select(func.count()).select_from(Attempt)
                             .where(Attempt.exam_id == EXAM_ID))
    if have >= total:
        return
    dialect = db.session.get_bind().dialect.name
    rng = random.Random(seed + have)
    bits = rng.getrandbits
    exam = db.session.get(Exam, EXAM_ID)
    rules = exam.rules
    pool = defaultdict(list)  # topic -> [(version id, option ids, key as JSON)]
    for version_id, topic, content in db.session.execute(
        select(QuestionVersion.id, Question.topic_id, QuestionVersion.content)
        .join(Question, Question.id == QuestionVersion.question_id)
        .where(Question.status == "published")
    ):
        options = [o["id"] for o in content["options"]]
        if not all(WORD.fullmatch(o) for o in options):
            raise ValueError(f"option ids that are not plain words: {options}")
        correct = sorted(o["id"] for o in content["options"] if o.get("correct"))
        wrong = [o for o in options if o not in correct]
        pool[topic].append((version_id, options, _json_strings(correct), wrong))
    blueprint = list(rules.blueprint.topics.items())
    trainees = db.session.execute(
        select(User.id, User.name).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "trainee", User.email.like("bench-%")).order_by(User.id)
    ).all()
    ability = {uid: rng.gauss(0.8, 0.12) for uid, _ in trainees}
    numbers = dict(db.session.execute(
        select(Attempt.user_id, func.count()).where(Attempt.exam_id == EXAM_ID)
        .group_by(Attempt.user_id)).all())
    next_attempt = first_new = (db.session.scalar(select(func.max(Attempt.id))) or 0) + 1
    next_cert = (db.session.scalar(select(func.max(Certificate.id))) or 0) + 1
    rules_data = exam.rules_data
    attempts, items, certificates = [], [], []
    yes, no = (True, False) if dialect == "postgresql" else (1, 0)

    def flush() -> None:
        if attempts:
            db.session.execute(Attempt.__table__.insert(), attempts)
        if items:
            _insert_items(items)
        if certificates:
            db.session.execute(Certificate.__table__.insert(), certificates)
        attempts.clear()
        items.clear()
        certificates.clear()

    for n in range(total - have):
        user_id, name = trainees[(have + n) % len(trainees)]
        numbers[user_id] = numbers.get(user_id, 0) + 1
        started = EPOCH + timedelta(minutes=rng.randrange(300 * 24 * 60))
        finished = started + timedelta(minutes=rng.randrange(10, 45))
        answered = _stamp(finished, dialect)
        right = 0
        position = 0
        skill = ability[user_id]
        for topic, count in blueprint:
            for version_id, options, key, wrong in rng.sample(pool[topic], count):
                position += 1
                order = options[:]
                rng.shuffle(order)
                got_it = rng.random() < skill
                right += got_it
                items.append((
                    next_attempt, position, version_id, _json_strings(order),
                    _json_strings([f"{bits(32):08x}" for _ in order]),
                    key if got_it else f'["{wrong[0]}"]', no, 1, answered, no,
                    1.0 if got_it else 0.0, 10 + 80 * rng.random(),
                ))
        score = 100 * right / position
        passed = score >= rules.pass_mark_percent
        attempts.append({
            "id": next_attempt, "user_id": user_id, "exam_id": EXAM_ID,
            "state": "finished", "seed": bits(62), "rules_data": rules_data,
            "number": numbers[user_id], "exam_version": exam.version,
            "pass_mark_percent": float(rules.pass_mark_percent), "pass_mark_method": "fixed",
            "started_at": started, "deadline": started + timedelta(minutes=45),
            "finished_at": finished, "score_percent": score, "passed": passed,
            "fail_reasons": [] if passed else ["Below the pass mark."],
        })
        if passed:
            certificates.append({
                "id": next_cert, "code": f"{bits(48):012X}", "user_id": user_id,
                "exam_id": EXAM_ID, "attempt_id": next_attempt, "holder_name": name,
                "title": rules.title, "issued_at": finished,
                "expires_at": finished + timedelta(days=730),
            })
            next_cert += 1
        next_attempt += 1
        if len(items) >= 20 * CHUNK:
            flush()
    flush()
    # The per-topic sums that grading keeps, made the same way for the new attempts.
    record_topic_marks(select(Attempt.id).where(Attempt.id >= first_new))
    _reset_sequences()
    db.session.commit()


def grow(app, *, questions: int, trainees: int, attempts: int, password_hash: str) -> None:
    with app.app_context():
        grow_questions(questions)
        grow_trainees(trainees, password_hash)
        grow_attempts(attempts)
