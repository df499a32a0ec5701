"""The console's CSV exports: attempts with their results, and certificates.

Each returns the header and an iterator of rows for `exports.csv_lines`. The rows come
from one query read in batches (`yield_per`), so a large export never sits in memory:
what is held besides is the list of topics and each visible trainee's cohort names.
Both take the dashboard's `ReportFilter` and see only the trainees the viewer sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import groupby

from sqlalchemy import func, select

from quizapp import certs
from quizapp.cohorts import ReportFilter, managed_cohort_ids, sees_everyone, visible_trainee_ids
from quizapp.dashboard import check_filter, finished_attempts
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    AttemptTopicMark,
    Certificate,
    Cohort,
    CohortMember,
    Exam,
    Topic,
    User,
)

BATCH = 500
# What `Certificate.status` reads.
_STATUS_COLUMNS = (Certificate.revoked_at, Certificate.suspended_at, Certificate.superseded_at,
                   Certificate.expires_at, Certificate.renew_from)


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def _number(value: float | None) -> float | str:
    # Two decimals: an Angoff pass mark is kept to two (80.83), and the pages show it so.
    return "" if value is None else round(float(value), 2)


def _cohort_names(viewer: User, report: ReportFilter) -> dict[int, str]:
    """Each visible trainee's cohorts (those the viewer sees), as one cell of text."""
    query = (select(CohortMember.user_id, Cohort.name)
             .join(Cohort, Cohort.id == CohortMember.cohort_id)
             .where(CohortMember.user_id.in_(visible_trainee_ids(viewer, report.cohort_id)))
             .order_by(CohortMember.user_id, Cohort.name))
    if not sees_everyone(viewer):
        query = query.where(Cohort.id.in_(managed_cohort_ids(viewer)))
    return {user_id: "; ".join(name for _, name in rows)
            for user_id, rows in groupby(db.session.execute(query), key=lambda r: r[0])}


def attempts(viewer: User, report: ReportFilter) -> tuple[list[str], Iterator[list]]:
    """One row per finished attempt (practice and certification, oldest first), with
    the percent scored on each topic the form had; empty for topics it did not have."""
    check_filter(viewer, report)
    topics = db.session.execute(select(Topic.id, Topic.name)
                                .order_by(Topic.position, Topic.id)).all()
    cohorts = _cohort_names(viewer, report)
    # Each topic's mean mark from the sums kept at grading (`AttemptTopicMark`): a
    # lookup by primary key per attempt and topic, where grouping the items by topic
    # read every answer with its question (3,000,000 rows at 100,000 attempts).
    topic_means = [
        select(AttemptTopicMark.marks / AttemptTopicMark.items)
        .where(AttemptTopicMark.attempt_id == Attempt.id, AttemptTopicMark.topic_id == topic_id)
        .scalar_subquery()
        for topic_id, _ in topics
    ]
    # Attempts from before the pass mark was kept on them have it in their rules only:
    # read from the JSON in SQL, so no row's rules are decoded in Python.
    pass_mark = func.coalesce(Attempt.pass_mark_percent,
                              Attempt.rules_data["pass_mark_percent"].as_float())
    query = (select(Attempt.id, User.id, User.name, User.email, Exam.id, Exam.kind,
                    Attempt.number, Attempt.started_at, Attempt.finished_at,
                    Attempt.score_percent, pass_mark, Attempt.passed, *topic_means)
             .join(User, User.id == Attempt.user_id)
             .join(Exam, Exam.id == Attempt.exam_id)
             .where(*finished_attempts(viewer, report))
             .order_by(Attempt.id)
             .execution_options(yield_per=BATCH))
    header = ["attempt_id", "trainee", "email", "cohorts", "exam", "exam_kind",
              "attempt_number", "started_utc", "finished_utc", "score_percent",
              "pass_mark_percent", "passed", *(f"{name} (%)" for _, name in topics)]

    def rows() -> Iterator[list]:
        for (attempt_id, user_id, name, email, exam_id, kind, number, started, finished,
             score, pass_mark, passed, *means) in db.session.execute(query):
            yield [attempt_id, name, email, cohorts.get(user_id, ""), exam_id, kind, number,
                   _when(started), _when(finished), _number(score), _number(pass_mark),
                   "" if passed is None else ("yes" if passed else "no"),
                   *(_number(None if mean is None else 100 * mean) for mean in means)]

    return header, rows()


def certificates(viewer: User, report: ReportFilter,
                 now: datetime) -> tuple[list[str], Iterator[list]]:
    """One row per certificate of the visible trainees (issued in the date range),
    oldest first, with its status at `now`."""
    check_filter(viewer, report)
    cohorts = _cohort_names(viewer, report)
    clauses = [Certificate.user_id.in_(visible_trainee_ids(viewer, report.cohort_id))]
    if report.exam_id is not None:
        clauses.append(Certificate.exam_id == report.exam_id)
    if report.starts is not None:
        clauses.append(Certificate.issued_at >= report.starts)
    if report.ends is not None:
        clauses.append(Certificate.issued_at < report.ends)
    # Plain columns, not Certificate objects (57,000 rows at 100,000 attempts): the
    # status is `Certificate.status` read from a row carrying the columns it reads.
    query = (select(Certificate.code, Certificate.holder_name, User.email,
                    Certificate.exam_id, Certificate.title, Certificate.issued_at,
                    Certificate.user_id, *_STATUS_COLUMNS)
             .join(User, User.id == Certificate.user_id)
             .where(*clauses)
             .order_by(Certificate.issued_at, Certificate.id)
             .execution_options(yield_per=BATCH))
    header = ["code", "holder", "email", "exam", "title", "issued_utc", "expires_utc",
              "status", "cohorts"]

    def rows() -> Iterator[list]:
        for row in db.session.execute(query):
            code, holder, email, exam_id, title, issued, user_id, *_ = row
            yield [certs.display_code(code), holder, email, exam_id, title, _when(issued),
                   _when(row.expires_at), Certificate.status(row, now),
                   cohorts.get(user_id, "")]

    return header, rows()
