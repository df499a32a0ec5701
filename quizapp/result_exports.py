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
    AttemptItem,
    Certificate,
    Cohort,
    CohortMember,
    Exam,
    Question,
    QuestionVersion,
    Topic,
    User,
)

BATCH = 500


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def _number(value: float | None) -> float | str:
    return "" if value is None else round(float(value), 1)


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
    where = finished_attempts(viewer, report)
    by_topic = (select(AttemptItem.attempt_id, Question.topic_id,
                       func.avg(AttemptItem.mark).label("mean"))
                .join(Attempt, Attempt.id == AttemptItem.attempt_id)
                .join(QuestionVersion, QuestionVersion.id == AttemptItem.question_version_id)
                .join(Question, Question.id == QuestionVersion.question_id)
                .where(*where, AttemptItem.mark.is_not(None))
                .group_by(AttemptItem.attempt_id, Question.topic_id)
                .subquery())
    query = (select(Attempt.id, User.id, User.name, User.email, Exam.id, Exam.kind,
                    Attempt.number, Attempt.started_at, Attempt.finished_at,
                    Attempt.score_percent, Attempt.pass_mark_percent, Attempt.rules_data,
                    Attempt.passed, by_topic.c.topic_id, by_topic.c.mean)
             .join(User, User.id == Attempt.user_id)
             .join(Exam, Exam.id == Attempt.exam_id)
             .outerjoin(by_topic, by_topic.c.attempt_id == Attempt.id)
             .where(*where)
             .order_by(Attempt.id, by_topic.c.topic_id)
             .execution_options(yield_per=BATCH))
    header = ["attempt_id", "trainee", "email", "cohorts", "exam", "exam_kind",
              "attempt_number", "started_utc", "finished_utc", "score_percent",
              "pass_mark_percent", "passed", *(f"{name} (%)" for _, name in topics)]

    def rows() -> Iterator[list]:
        for _, group in groupby(db.session.execute(query), key=lambda row: row[0]):
            group = list(group)  # one attempt's rows: one per topic on its form
            (attempt_id, user_id, name, email, exam_id, kind, number, started, finished,
             score, pass_mark, rules, passed, *_) = group[0]
            if pass_mark is None:  # attempts from before the mark was kept on them
                pass_mark = (rules or {}).get("pass_mark_percent")
            marks = {row[-2]: row[-1] for row in group if row[-2] is not None}
            yield [attempt_id, name, email, cohorts.get(user_id, ""), exam_id, kind, number,
                   _when(started), _when(finished), _number(score), _number(pass_mark),
                   "" if passed is None else ("yes" if passed else "no"),
                   *(_number(None if marks.get(t) is None else 100 * marks[t])
                     for t, _ in topics)]

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
    query = (select(Certificate, User.email)
             .join(User, User.id == Certificate.user_id)
             .where(*clauses)
             .order_by(Certificate.issued_at, Certificate.id)
             .execution_options(yield_per=BATCH))
    header = ["code", "holder", "email", "exam", "title", "issued_utc", "expires_utc",
              "status", "cohorts"]

    def rows() -> Iterator[list]:
        for certificate, email in db.session.execute(query):
            yield [certs.display_code(certificate.code), certificate.holder_name, email,
                   certificate.exam_id, certificate.title, _when(certificate.issued_at),
                   _when(certificate.expires_at), certificate.status(now),
                   cohorts.get(certificate.user_id, "")]

    return header, rows()
