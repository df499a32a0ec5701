"""Rate limits kept in the database, so every worker and every server count together.

`hit(key, limit, window, now)` counts one request for `key` (say "verify:203.0.113.9")
and says whether it is allowed; `wait` says how long until one would be, counting
nothing; `refund` takes one count back (a request that should not count after all).
It is a sliding-window counter: the count of the current fixed window plus the previous
window's count weighted by how much of it still lies in the last `window` seconds,
which smooths the burst a plain fixed window allows at its edges. Each count is one
upsert (INSERT ... ON CONFLICT DO UPDATE ... RETURNING) on SQLite and PostgreSQL alike,
so two workers never lose an increment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from quizapp.extensions import db
from quizapp.models import ThrottleCounter


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until a request would be allowed again (when refused)
    count: float = 0.0  # the weighted count, this request included


def _insert():
    dialect = db.session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(ThrottleCounter)


def hit(key: str, limit: int, window: int, now: datetime) -> Verdict:
    """Count a request for `key` and say whether it stays within `limit` per `window`
    seconds. A refused request counts too (hammering does not reopen the door sooner).
    Runs in the caller's transaction; the caller commits."""
    moment = now.timestamp()
    start = int(moment // window) * window
    statement = _insert().values(key=key, window_start=start, count=1,
                                 expires_at=start + 2 * window)
    statement = statement.on_conflict_do_update(
        index_elements=[ThrottleCounter.key, ThrottleCounter.window_start],
        set_={"count": ThrottleCounter.count + 1},
    ).returning(ThrottleCounter.count)
    current = db.session.execute(statement).scalar_one()
    previous = db.session.scalar(
        select(ThrottleCounter.count).where(ThrottleCounter.key == key,
                                            ThrottleCounter.window_start == start - window)
    ) or 0
    # Rows no window can read any more: this key's and everyone else's.
    db.session.execute(delete(ThrottleCounter).where(ThrottleCounter.expires_at <= moment))
    elapsed = (moment - start) / window
    weighted = previous * (1 - elapsed) + current
    if weighted <= limit:
        return Verdict(True, 0, weighted)
    return Verdict(False, _retry_after(previous, current, limit, window, moment - start),
                   weighted)


def _retry_after(previous: int, current: int, limit: int, window: int,
                 into_window: float) -> int:
    """Seconds until the weighted count falls back to the limit (one more request
    then fits), counting the previous window's share fading and the window rolling."""
    if current < limit and previous:
        # previous * (1 - t / window) + current + 1 <= limit, solved for t.
        t = window * (1 - (limit - current - 1) / previous)
        if into_window <= t <= window:
            return max(1, math.ceil(t - into_window))
    # The current window is full: when it becomes the previous one, its count fades
    # in the same way.
    t = window * (1 - (limit - 1) / current) if current > limit - 1 else 0
    return max(1, math.ceil(window - into_window + t))


def refund(key: str, window: int, now: datetime) -> None:
    """Take back one request `hit(key, ..., window, now)` counted, with the same `now`
    (sign-in counts failures only: it counts first, so parallel guesses cannot slip
    past the limit, and gives the count back for a success or a refusal)."""
    start = int(now.timestamp() // window) * window
    db.session.execute(
        update(ThrottleCounter)
        .where(ThrottleCounter.key == key, ThrottleCounter.window_start == start,
               ThrottleCounter.count > 0)
        .values(count=ThrottleCounter.count - 1)
        .execution_options(synchronize_session=False))


def wait(key: str, limit: int, window: int, now: datetime) -> int:
    """Seconds until a `hit` for `key` would be allowed, from the stored counts and
    counting nothing (0: it would be allowed now)."""
    moment = now.timestamp()
    start = int(moment // window) * window
    counts = dict(db.session.execute(
        select(ThrottleCounter.window_start, ThrottleCounter.count)
        .where(ThrottleCounter.key == key,
               ThrottleCounter.window_start.in_([start, start - window]))).all())
    current, previous = counts.get(start, 0), counts.get(start - window, 0)
    if previous * (1 - (moment - start) / window) + current + 1 <= limit:
        return 0
    return _retry_after(previous, current, limit, window, moment - start)
