"""Small steps shared by the tests that take exams through the web client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select

from quizapp.extensions import db
from quizapp.models import Attempt, AttemptItem


def start(client, exam_id: str = "certification") -> int:
    response = client.post(f"/trainee/exams/{exam_id}/start")
    assert response.status_code == 302, response.data
    attempt = db.session.scalars(select(Attempt).order_by(Attempt.id.desc())).first()
    assert attempt is not None
    return attempt.id


def items(attempt_id: int) -> list[AttemptItem]:
    db.session.expire_all()
    return db.session.scalars(
        select(AttemptItem).where(AttemptItem.attempt_id == attempt_id)
        .order_by(AttemptItem.position)
    ).all()


def right_answer(item: AttemptItem) -> list[str]:
    return sorted(o["id"] for o in item.version.content["options"] if o["correct"])


def wrong_answer(item: AttemptItem) -> list[str]:
    return [next(o["id"] for o in item.version.content["options"] if not o["correct"])]


def tokens(item: AttemptItem, option_ids: list[str]) -> list[str]:
    """What a page posts for these options: the attempt's tokens, not the bank's ids."""
    by_id = dict(zip(item.option_order, item.option_tokens, strict=True))
    return [by_id[option_id] for option_id in option_ids]


def answer(client, attempt_id: int, item: AttemptItem, choice: list[str], go: str = "next"):
    return client.post(
        f"/trainee/attempts/{attempt_id}/questions/{item.position}",
        data={"answer": tokens(item, choice), "sequence": str(item.sequence), "go": go},
    )


def answer_all(client, attempt_id: int, wrong: int = 0, wrong_safety: bool = False,
               over_http: bool = False):
    """Answer every question right, except `wrong` of them (safety-critical ones
    first if `wrong_safety`, otherwise ones that are not safety-critical).

    Through the answer service by default, which is what setting up a test needs;
    `over_http` posts each answer as a page would, for tests of that journey."""
    from datetime import timedelta

    from quizapp import attempts as services
    from quizapp.models import utcnow

    candidates = [i for i in items(attempt_id)
                  if i.version.content["safety_critical"] == wrong_safety]
    to_miss = {i.position for i in candidates[:wrong]}
    stored = attempt(attempt_id)
    for item in items(attempt_id):
        choice = wrong_answer(item) if item.position in to_miss else right_answer(item)
        if over_http:
            response = answer(client, attempt_id, item, choice)
            assert response.status_code == 302, response.data
        else:
            services.save_answer(stored, item.position,
                                 services.Answer(tuple(tokens(item, choice)), item.sequence),
                                 utcnow(), timedelta(seconds=30))


def submit(client, attempt_id: int):
    return client.post(f"/trainee/attempts/{attempt_id}/submit")


def attempt(attempt_id: int) -> Attempt:
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id)


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block, in order: `with statements() as seen:`,
    then `len(seen)` (the query-count tests compare it across data sizes)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
