"""The manager's dashboard: what the trainees a manager sees have done, as numbers.

Every figure is an aggregate computed by the database over the attempts that
`cohorts.visible_trainee_ids` and the `ReportFilter` allow; no attempt is loaded into
Python to be counted, so the page costs the same number of queries for ten attempts or
a million. Certification and practice are kept apart: a practice quiz is never a result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, case, func, literal_column, select

from quizapp import certs, charts, transcripts
from quizapp.cohorts import CohortError, ReportFilter, cohort_for, visible_trainee_ids
from quizapp.errors import ServiceError
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    AttemptTopicMark,
    Certificate,
    Exam,
    Topic,
    User,
)

EXPIRY_HORIZON = timedelta(days=60)
LIST_LIMIT = 20  # rows of the expiring and locked-out lists; the page gives the total
MASTERY_LIMIT = 30  # trainees in the mastery table: the weakest first
BINS = 10  # score distribution: 0-9, 10-19, ..., 90-100


class ReportError(ServiceError):
    """A report asked about something that is not there (an unknown exam)."""

    status = 404


# --- Shapes the page reads ----------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    attempts: int = 0
    passed: int = 0
    mean_score: float | None = None
    trainees: int = 0  # distinct trainees with at least one such attempt
    first: datetime | None = None
    last: datetime | None = None

    @property
    def pass_rate(self) -> float | None:
        return 100 * self.passed / self.attempts if self.attempts else None


@dataclass(frozen=True)
class Period:
    """One step of the time line: a day, a week (from Monday) or a month."""

    start: date
    attempts: int
    passed: int

    @property
    def pass_rate(self) -> float | None:
        return 100 * self.passed / self.attempts if self.attempts else None


@dataclass(frozen=True)
class TraineeMastery:
    user_id: int
    name: str
    by_topic: dict[str, float]  # topic id -> mean mark, percent
    overall: float


@dataclass(frozen=True)
class Mastery:
    topics: list[tuple[str, str]]  # (id, name), in the bank's order
    means: dict[str, float]  # topic id -> mean mark over every trainee shown, percent
    rows: list[TraineeMastery]  # the weakest trainees first, at most MASTERY_LIMIT
    trainees: int  # how many trainees have a certification attempt in the report
    overall: float | None = None  # mean mark over every question, percent


@dataclass(frozen=True)
class ExpiringCertificate:
    user_id: int
    holder: str
    title: str
    expires_at: datetime


@dataclass(frozen=True)
class Dashboard:
    filter: ReportFilter
    cohorts: list[tuple[int, str]]  # the filter's choices
    exams: list[tuple[str, str]]
    trainees: int
    uncertified: int
    certification: Summary
    practice: Summary
    histogram: list[int]  # certification attempts per 10-point bin of score
    unit: str  # "day", "week" or "month": the time line's step
    timeline: list[Period]
    mastery: Mastery
    expiring: list[ExpiringCertificate]
    expiring_total: int
    locked: tuple[transcripts.TraineeRow, ...]  # the first LIST_LIMIT, by name
    locked_total: int
    now: datetime | None = field(repr=False, default=None)

    @property
    def empty(self) -> bool:
        return not (self.certification.attempts or self.practice.attempts)

    @property
    def bins(self) -> list[str]:
        return bin_labels()


def bin_labels() -> list[str]:
    return [f"{10 * n}–{10 * n + 9}" if n < BINS - 1 else "90–100" for n in range(BINS)]


# --- The SQL building blocks --------------------------------------------------------


def dialect_name() -> str:
    return db.session.get_bind().dialect.name


def period_start(column, unit: str, dialect: str) -> ColumnElement[str]:
    """The first day of the day, week (Monday) or month that a UTC timestamp falls in,
    as 'YYYY-MM-DD' text, so SQLite and PostgreSQL group and sort alike. SQLite keeps
    UTC as naive text that its date functions read; PostgreSQL's timestamptz is first
    turned into UTC wall time, whatever the session's time zone."""
    if dialect == "postgresql":
        return func.to_char(func.date_trunc(unit, func.timezone("UTC", column)), "YYYY-MM-DD")
    if unit == "day":
        return func.date(column)
    if unit == "week":
        # 'weekday 0' moves on to the Sunday ending the week (or stays on it).
        return func.date(column, "weekday 0", "-6 days")
    return func.strftime("%Y-%m-01", column)


def finished_attempts(viewer: User, report: ReportFilter) -> list[ColumnElement[bool]]:
    """The WHERE clause of every report on attempts: finished ones, by the trainees
    the viewer sees (in the chosen cohort), of the chosen exam and dates."""
    clauses = [Attempt.state == "finished",
               Attempt.user_id.in_(visible_trainee_ids(viewer, report.cohort_id))]
    if report.exam_id is not None:
        clauses.append(Attempt.exam_id == report.exam_id)
    if report.starts is not None:
        clauses.append(Attempt.finished_at >= report.starts)
    if report.ends is not None:
        clauses.append(Attempt.finished_at < report.ends)
    return clauses


def check_filter(viewer: User, report: ReportFilter) -> None:
    """Refuse (404) a cohort the viewer does not see, as if it did not exist, and an
    exam that does not exist."""
    if report.cohort_id is not None and cohort_for(viewer, report.cohort_id) is None:
        raise CohortError("There is no such cohort.", status=404)
    if report.exam_id is not None and db.session.get(Exam, report.exam_id) is None:
        raise ReportError("There is no such exam.")


def _percent(value) -> float | None:
    return None if value is None else 100 * float(value)


# --- The report ---------------------------------------------------------------------


def report(viewer: User, report_filter: ReportFilter, now: datetime) -> Dashboard:
    """Everything the dashboard shows, for the trainees `viewer` sees."""
    check_filter(viewer, report_filter)
    exams = db.session.execute(select(Exam.id, Exam.title).order_by(Exam.position, Exam.id)).all()
    where = finished_attempts(viewer, report_filter)
    # Not yet certified and locked out are states of trainees that the trainees list
    # (`transcripts`) defines and filters by; the dashboard counts what that list shows
    # (its "uncertified" and "locked" filters), so the two never disagree.
    uncertified = _trainee_list(viewer, report_filter, "uncertified", now)
    locked = _trainee_list(viewer, report_filter, "locked", now)
    summaries = _summaries(where)
    certification = summaries.get("certification", Summary())
    empty = not certification.attempts
    unit = _unit(certification)
    return Dashboard(
        filter=report_filter,
        cohorts=list(uncertified.cohorts),  # the trainees list read them already
        exams=[tuple(exam) for exam in exams],
        trainees=_trainee_count(viewer, report_filter),
        uncertified=uncertified.total,
        certification=certification,
        practice=summaries.get("practice", Summary()),
        histogram=[0] * BINS if empty else _histogram(where),
        unit=unit,
        timeline=[] if empty else _timeline(where, unit),
        mastery=Mastery([], {}, [], 0) if empty else _mastery(where, certification.trainees),
        **_expiring(viewer, report_filter, now),
        locked=locked.rows[:LIST_LIMIT],
        locked_total=locked.total,
        now=now,
    )


def _certification(where) -> list[ColumnElement[bool]]:
    return [*where, Exam.kind == "certification"]


def _trainee_count(viewer: User, report_filter: ReportFilter) -> int:
    return db.session.scalar(select(func.count()).select_from(
        visible_trainee_ids(viewer, report_filter.cohort_id).subquery()))


def _trainee_list(viewer: User, report_filter: ReportFilter, status: str,
                  now: datetime) -> transcripts.TraineePage:
    """The first page of the trainees list in one of its states (whatever the exam
    and dates: being certified or locked out is about now)."""
    return transcripts.trainee_list(
        viewer, transcripts.TraineeQuery(cohort_id=report_filter.cohort_id, status=status),
        1, now)


def _summaries(where) -> dict[str, Summary]:
    """Attempts, passes, mean score, trainees and first and last finish, per kind of
    exam (certification, practice): one grouped query."""
    rows = db.session.execute(
        select(Exam.kind, func.count(), func.coalesce(func.sum(case((Attempt.passed, 1),
                                                                     else_=0)), 0),
               func.avg(Attempt.score_percent), func.count(Attempt.user_id.distinct()),
               func.min(Attempt.finished_at), func.max(Attempt.finished_at))
        .join(Exam, Exam.id == Attempt.exam_id)
        .where(*where)
        .group_by(Exam.kind)
    )
    return {kind: Summary(count, passed, None if mean is None else float(mean), trainees,
                          first, last)
            for kind, count, passed, mean, trainees, first, last in rows}


def _histogram(where) -> list[int]:
    """Certification attempts per 10-point bin of score (100 falls in the last)."""
    score = Attempt.score_percent
    # Literal thresholds: the bin is a plain expression, the same text wherever it is
    # written, and grouped in an outer query so no database compares bind parameters.
    bin_of = case(*[(score >= literal_column(str(10 * n)), literal_column(str(n)))
                    for n in range(BINS - 1, 0, -1)], else_=literal_column("0"))
    binned = (select(bin_of.label("bin")).join(Exam, Exam.id == Attempt.exam_id)
              .where(*_certification(where), score.is_not(None)).subquery())
    counts = [0] * BINS
    for number, count in db.session.execute(
            select(binned.c.bin, func.count()).group_by(binned.c.bin)):
        counts[int(number)] = count
    return counts


def _unit(summary: Summary) -> str:
    """Days for a month of attempts, weeks for half a year, months beyond."""
    if summary.first is None or summary.last is None:
        return "week"
    span = summary.last - summary.first
    if span <= timedelta(days=31):
        return "day"
    if span <= timedelta(weeks=26):
        return "week"
    return "month"


def _next(start: date, unit: str) -> date:
    if unit == "day":
        return start + timedelta(days=1)
    if unit == "week":
        return start + timedelta(weeks=1)
    return certs.add_months(datetime.combine(start, datetime.min.time()), 1).date()


def _timeline(where, unit: str) -> list[Period]:
    """Certification attempts and passes per period, grouped by the database; the
    periods with none are filled in, so the chart's axis is even."""
    key = period_start(Attempt.finished_at, unit, dialect_name())
    periods = (select(key.label("period"), Attempt.passed)
               .join(Exam, Exam.id == Attempt.exam_id)
               .where(*_certification(where)).subquery())
    counted = {
        date.fromisoformat(period): (count, passed)
        for period, count, passed in db.session.execute(
            select(periods.c.period, func.count(),
                   func.coalesce(func.sum(case((periods.c.passed, 1), else_=0)), 0))
            .group_by(periods.c.period))
    }
    if not counted:
        return []
    timeline, day, last = [], min(counted), max(counted)
    while day <= last:
        count, passed = counted.get(day, (0, 0))
        timeline.append(Period(day, count, passed))
        day = _next(day, unit)
    return timeline


def _mastery(where, trainees: int) -> Mastery:
    """Mean mark per topic of the certification attempts' questions (each question
    counted under its topic when the attempt was graded), across the report's trainees
    and for the weakest of them one by one. It reads the per-topic sums kept for each
    attempt (`AttemptTopicMark`), a few rows per attempt rather than every answer."""
    marks = (select().select_from(AttemptTopicMark)
             .join(Attempt, Attempt.id == AttemptTopicMark.attempt_id)
             .join(Exam, Exam.id == Attempt.exam_id)
             .where(*_certification(where)))
    mean = func.sum(AttemptTopicMark.marks) / func.sum(AttemptTopicMark.items)
    items = func.sum(AttemptTopicMark.items)
    topics, means, total, count_all = [], {}, 0.0, 0
    # Grouped by the summary's own column, then named: grouping by the topic table's
    # columns made SQLite read every attempt once per topic.
    by_topic = (marks.add_columns(AttemptTopicMark.topic_id, mean.label("mean"),
                                  items.label("item_count"))
                .group_by(AttemptTopicMark.topic_id).subquery())
    for topic_id, name, topic_mean, count in db.session.execute(
        select(Topic.id, Topic.name, by_topic.c.mean, by_topic.c.item_count)
        .join(by_topic, by_topic.c.topic_id == Topic.id)
        .order_by(Topic.position, Topic.id)
    ):
        topics.append((topic_id, name))
        means[topic_id] = _percent(topic_mean)
        total, count_all = total + float(topic_mean) * count, count_all + count
    weakest = (marks.add_columns(Attempt.user_id).group_by(Attempt.user_id)
               .order_by(mean, Attempt.user_id).limit(MASTERY_LIMIT))
    cells: dict[int, dict] = {}
    for user_id, name, topic_id, topic_mean, count in db.session.execute(
        marks.add_columns(User.id, User.name, AttemptTopicMark.topic_id, mean, items)
        .join(User, User.id == Attempt.user_id)
        .where(Attempt.user_id.in_(weakest.scalar_subquery()))
        .group_by(User.id, User.name, AttemptTopicMark.topic_id)
    ):
        row = cells.setdefault(user_id, {"name": name, "topics": {}, "sum": 0.0, "n": 0})
        row["topics"][topic_id] = _percent(topic_mean)
        row["sum"] += float(topic_mean) * count
        row["n"] += count
    rows = sorted((TraineeMastery(user_id, row["name"], row["topics"],
                                  100 * row["sum"] / row["n"])
                   for user_id, row in cells.items()),
                  key=lambda r: (r.overall, r.name, r.user_id))
    return Mastery(topics, means, rows, trainees,
                   100 * total / count_all if count_all else None)


def _expiring(viewer: User, report_filter: ReportFilter, now: datetime) -> dict:
    """Certificates valid now that expire within EXPIRY_HORIZON, soonest first (the
    first LIST_LIMIT of them, and how many there are)."""
    clauses = [Certificate.valid_at(now), Certificate.expires_at.is_not(None),
               Certificate.expires_at < now + EXPIRY_HORIZON,
               Certificate.user_id.in_(visible_trainee_ids(viewer, report_filter.cohort_id))]
    if report_filter.exam_id is not None:
        clauses.append(Certificate.exam_id == report_filter.exam_id)
    rows = db.session.execute(
        select(Certificate.user_id, Certificate.holder_name, Certificate.title,
               Certificate.expires_at, func.count().over())
        .where(*clauses)
        .order_by(Certificate.expires_at, Certificate.id)
        .limit(LIST_LIMIT)
    ).all()
    return {"expiring": [ExpiringCertificate(*row[:4]) for row in rows],
            "expiring_total": rows[0][4] if rows else 0}


# --- Charts -------------------------------------------------------------------------


def period_label(start: date, unit: str, long: bool = False) -> str:
    """How a period is named: "17 Nov" (a day, or the week from that Monday) or
    "Nov 2026"; `long` for tables: "Week of 17 Nov 2026"."""
    if unit == "month":
        return start.strftime("%B %Y" if long else "%b %Y")
    text = f"{start.day} {start.strftime('%b')}" + (f" {start.year}" if long else "")
    return f"Week of {text}" if long and unit == "week" else text


def dashboard_charts(shown: Dashboard) -> dict[str, str]:
    """The dashboard's charts as inline SVG (none without certification attempts)."""
    if not shown.certification.attempts:
        return {}
    labels = [period_label(p.start, shown.unit) for p in shown.timeline]
    return {
        "scores": charts.bar_chart(
            "chart-scores", "Certification scores: number of attempts in each 10-point band",
            bin_labels(), shown.histogram, y_title="Attempts"),
        "attempts": charts.bar_chart(
            "chart-attempts", f"Certification attempts per {shown.unit}", labels,
            [p.attempts for p in shown.timeline], y_title="Attempts"),
        "pass_rate": charts.line_chart(
            "chart-pass-rate", f"Pass rate of certification attempts per {shown.unit}",
            labels, [p.pass_rate for p in shown.timeline], y_title="Passed (%)",
            percent=True, tone="ok"),
    }
