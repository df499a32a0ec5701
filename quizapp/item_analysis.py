"""Item analysis of one exam, from the database: the response matrix counted in SQL
into `item_stats.analyse_tally`.

The report covers the finished attempts of the trainees the viewer may see
(`cohorts.visible_trainee_ids`; no viewer, as on the command line, means everyone),
in the report filter's cohort and date range, and by default only each trainee's
first attempt: a retake has seen questions before, which makes them look easier and
blurs how well they separate the able from the less able.

Three queries, whatever the number of attempts: the question versions the attempts
showed (one row each), then the attempts counted by each question's mark and the
attempt's total, and the responses counted by the options chosen. Grouped, they are
a few rows per question however many attempts there are: neither the rows nor their
JSON answers pass through Python one by one (at 100,000 attempts, 3 million of
them). The page, the CSV and the `report` commands all read the `ItemAnalysis` made
here, so they cannot disagree; `responses` still streams the matrix itself, for the
command that exports it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import groupby

from sqlalchemy import Text, cast, func, select

from quizapp import cohorts, item_stats
from quizapp.bank.model import Question as BankQuestion
from quizapp.errors import ServiceError
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    AttemptItem,
    CohortMember,
    Exam,
    Question,
    QuestionVersion,
    Topic,
    User,
)
from quizapp.paging import pages_of

STREAM_BATCH = 1000  # rows fetched at a time from the database
QUESTIONS_PAGE_SIZE = 100  # rows of the page's table of every question (the CSV: all)


class NotFound(ServiceError):
    """An exam that does not exist, or a cohort the viewer does not see (the same
    answer for both, so a manager cannot probe other managers' cohorts)."""

    status = 404


@dataclass(frozen=True)
class QuestionReport:
    """One question's line of the report."""

    question_id: str
    versions: tuple[int, ...]  # the versions the attempts showed
    topic: str  # its name
    safety_critical: bool
    key: frozenset[str]  # the option ids keyed right in the newest version shown
    stats: item_stats.ItemStats

    @property
    def flagged(self) -> bool:
        return bool(self.stats.flags)


@dataclass(frozen=True)
class ItemAnalysis:
    """The whole report, as the page, its CSV and the `report` commands show it."""

    exam: Exam
    filters: cohorts.ReportFilter
    all_attempts: bool
    min_responses: int
    stats: item_stats.ExamStats
    questions: list[QuestionReport]  # in the bank's topic order, then by id
    # (id, name) of the cohorts the viewer may filter by; none without a viewer.
    cohort_choices: list[tuple[int, str]]

    @property
    def flagged(self) -> list[QuestionReport]:
        return [q for q in self.questions if q.flagged]

    def questions_page(self, page: int) -> tuple[list[QuestionReport], int, int]:
        """One page of `questions`, with its number and the number of pages: a bank of
        10,000 questions is a table of 10,000 rows, too long to print or to read."""
        pages, page = pages_of(len(self.questions), page, QUESTIONS_PAGE_SIZE)
        start = (page - 1) * QUESTIONS_PAGE_SIZE
        return self.questions[start:start + QUESTIONS_PAGE_SIZE], page, pages


@dataclass(frozen=True)
class _Seen:
    """What the analysis knows of a question from the versions the attempts showed."""

    versions: tuple[int, ...]
    topic: str
    question: item_stats.Question


def exam_or_404(exam_id: str) -> Exam:
    """The exam, or NotFound (a 404 on a page, exit code 2 on the command line)."""
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        raise NotFound(f"There is no exam '{exam_id}'.")
    return exam


def _conditions(viewer: User | None, filters: cohorts.ReportFilter,
                all_attempts: bool) -> list:
    """The WHERE of the attempts in the analysis; raises NotFound for a cohort the
    viewer does not see."""
    if filters.cohort_id is not None and viewer is not None and cohorts.cohort_for(
            viewer, filters.cohort_id) is None:
        raise NotFound("There is no such cohort among yours.")
    where = [Attempt.exam_id == filters.exam_id, Attempt.state == "finished"]
    if viewer is not None:
        where.append(Attempt.user_id.in_(cohorts.visible_trainee_ids(viewer, filters.cohort_id)))
    elif filters.cohort_id is not None:
        where.append(Attempt.user_id.in_(
            select(CohortMember.user_id).where(CohortMember.cohort_id == filters.cohort_id)))
    if not all_attempts:
        where.append(Attempt.number == 1)
    if filters.starts is not None:
        where.append(Attempt.finished_at >= filters.starts)
    if filters.ends is not None:
        where.append(Attempt.finished_at < filters.ends)
    return where


def _seen_questions(where: list) -> tuple[dict[str, _Seen], dict[int, str]]:
    """The questions the attempts showed, each described by the newest version seen
    (its type, options and key), in the bank's topic order; and the question of each
    version id."""
    shown = (select(AttemptItem.question_version_id)
             .join(Attempt, Attempt.id == AttemptItem.attempt_id).where(*where))
    rows = db.session.execute(
        select(QuestionVersion.id, QuestionVersion.question_id, QuestionVersion.version,
               QuestionVersion.content, Question.topic_id, Topic.name)
        .join(Question, Question.id == QuestionVersion.question_id)
        .join(Topic, Topic.id == Question.topic_id)
        .where(QuestionVersion.id.in_(shown))
        .order_by(Topic.position, QuestionVersion.question_id, QuestionVersion.version)
    ).all()
    seen: dict[str, _Seen] = {}
    question_of: dict[int, str] = {}
    for version_id, question_id, version, content, topic_id, topic in rows:
        question_of[version_id] = question_id
        earlier = seen.get(question_id)
        bank = BankQuestion.from_content(question_id, topic_id, "published", content)
        seen[question_id] = _Seen(
            versions=(earlier.versions if earlier else ()) + (version,),
            topic=topic,
            question=item_stats.Question(bank.type, tuple(o.id for o in bank.options),
                                         bank.correct_ids, bank.safety_critical),
        )
    return seen, question_of


def _tally(where: list, question_of: Mapping[int, str]) -> item_stats.Tally:
    """The response matrix as counts grouped in SQL. A mark not given (None) counts as
    0, as in `_matrix_rows`: SUM skips it, and Python reads it as 0."""
    totals = (select(AttemptItem.attempt_id, func.sum(AttemptItem.mark).label("total"),
                     func.count().label("length"))
              .join(Attempt, Attempt.id == AttemptItem.attempt_id).where(*where)
              .group_by(AttemptItem.attempt_id).subquery())
    tally = item_stats.Tally()
    form_items: Counter = Counter()  # (total, length) -> items on forms with them
    # Core rows (the connection's, not the ORM session's): a hundred thousand of them
    # at 10,000 questions, and nothing here is an ORM entity.
    connection = db.session.connection()
    for version_id, mark, total, length, count in connection.execute(
        select(AttemptItem.question_version_id, AttemptItem.mark, totals.c.total,
               totals.c.length, func.count())
        .join(totals, totals.c.attempt_id == AttemptItem.attempt_id)
        # The same WHERE again, though the join implies it: PostgreSQL, unable to
        # estimate the grouped totals, would otherwise read every answer to join them.
        .join(Attempt, Attempt.id == AttemptItem.attempt_id).where(*where)
        .group_by(AttemptItem.question_version_id, AttemptItem.mark, totals.c.total,
                  totals.c.length)
    ):
        tally.marks[question_of[version_id]][mark or 0.0, total or 0.0] += count
        form_items[total or 0.0, length] += count
    # Each attempt put all its `length` items in the groups above, so the attempts
    # with a total and length are the items counted with them over the length: no
    # third pass over the items to count attempts.
    tally.totals.update({key: items // key[1] for key, items in form_items.items()})
    # Grouped by the answer's JSON text (PostgreSQL cannot compare JSON values), and
    # each distinct text decoded once: there are few (["a"], ["b", "d"]...).
    response = cast(AttemptItem.response, Text)
    decoded: dict[str | None, list[str]] = {}
    for version_id, text, count in connection.execute(
        select(AttemptItem.question_version_id, response, func.count())
        .join(Attempt, Attempt.id == AttemptItem.attempt_id).where(*where)
        .group_by(AttemptItem.question_version_id, response)
    ):
        if text not in decoded:
            decoded[text] = (json.loads(text) if text else None) or []
        tally.add_choices(question_of[version_id], decoded[text], count)
    return tally


def _matrix_rows(where: list) -> Iterator[tuple[int, item_stats.Responses]]:
    """Each attempt's marks and chosen options, streamed in attempt order."""
    rows = db.session.execute(
        select(AttemptItem.attempt_id, QuestionVersion.question_id, AttemptItem.mark,
               AttemptItem.response)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .join(QuestionVersion, QuestionVersion.id == AttemptItem.question_version_id)
        .where(*where)
        .order_by(AttemptItem.attempt_id, AttemptItem.position)
        .execution_options(yield_per=STREAM_BATCH)
    )
    for attempt_id, items in groupby(rows, key=lambda row: row[0]):
        marks, choices = {}, {}
        for _, question_id, mark, response in items:
            marks[question_id] = mark or 0.0  # finishing marks every item; None is 0
            choices[question_id] = response or ()
        yield attempt_id, item_stats.Responses(marks, choices)


def analyse(viewer: User | None, filters: cohorts.ReportFilter, all_attempts: bool = False,
            min_responses: int = item_stats.MIN_RESPONSES) -> ItemAnalysis:
    """The item analysis of `filters.exam_id` as `viewer` may see it."""
    exam = exam_or_404(filters.exam_id)
    where = _conditions(viewer, filters, all_attempts)
    seen, question_of = _seen_questions(where)
    result = item_stats.analyse_tally(
        _tally(where, question_of),
        {qid: s.question for qid, s in seen.items()},
        partial_credit=exam.rules.partial_credit,
        min_responses=min_responses,
    )
    questions = [
        QuestionReport(qid, s.versions, s.topic, s.question.safety_critical,
                       s.question.correct, result.items[qid])
        for qid, s in seen.items() if qid in result.items
    ]
    choices = cohorts.cohort_choices(viewer) if viewer is not None else []
    return ItemAnalysis(exam, filters, all_attempts, min_responses, result.exam, questions,
                        choices)


def responses(viewer: User | None, filters: cohorts.ReportFilter, all_attempts: bool = False
              ) -> tuple[list[str], Iterator[tuple[int, item_stats.Responses]]]:
    """The response matrix itself: the question ids (the columns) and, streamed, each
    attempt's id and marks. For checking the statistics independently."""
    exam_or_404(filters.exam_id)
    where = _conditions(viewer, filters, all_attempts)
    seen, _ = _seen_questions(where)
    return list(seen), _matrix_rows(where)


# --- As CSV and JSON (the page's download and the `report` commands) ----------------

ITEM_COLUMNS = ("question_id", "version", "responses", "facility", "discrimination",
                "efficiency", "flags", "topic", "safety_critical", "sd", "random_guess",
                "option_shares")
EXAM_COLUMNS = ("attempts", "mean", "median", "sd", "skewness", "kurtosis", "alpha",
                "error_ratio", "sem")


def _cell(value: float | None) -> float | str:
    """A number as a CSV cell: rounded past any difference a reader would see, and
    empty where the statistic is not available."""
    return "" if value is None else round(value, 6)


def item_rows(analysis: ItemAnalysis) -> Iterator[list]:
    """One CSV row per question, under ITEM_COLUMNS."""
    for q in analysis.questions:
        s = q.stats
        yield [q.question_id, ";".join(str(v) for v in q.versions), s.responses,
               _cell(s.facility), _cell(s.discrimination), _cell(s.efficiency),
               "; ".join(s.labels), q.topic, "yes" if q.safety_critical else "no",
               _cell(s.sd), _cell(s.random_guess),
               "; ".join(f"{o} {share:.4f}" for o, share in s.option_shares.items())]


def item_dicts(analysis: ItemAnalysis) -> list[dict]:
    """The questions as JSON objects, with the numbers unrounded."""
    return [{
        "question_id": q.question_id, "versions": list(q.versions), "topic": q.topic,
        "safety_critical": q.safety_critical, "responses": q.stats.responses,
        "facility": q.stats.facility, "sd": q.stats.sd,
        "random_guess": q.stats.random_guess, "discrimination": q.stats.discrimination,
        "efficiency": q.stats.efficiency, "option_shares": q.stats.option_shares,
        "enough_data": q.stats.enough_data, "flags": list(q.stats.labels),
    } for q in analysis.questions]


def exam_dict(analysis: ItemAnalysis) -> dict:
    return {name: getattr(analysis.stats, name) for name in EXAM_COLUMNS}


def exam_rows(analysis: ItemAnalysis) -> Iterator[list]:
    """The exam's statistics as the one CSV row under EXAM_COLUMNS."""
    yield [analysis.stats.attempts] + [_cell(getattr(analysis.stats, name))
                                       for name in EXAM_COLUMNS[1:]]


def response_rows(question_ids: list[str],
                  rows: Iterator[tuple[int, item_stats.Responses]]) -> Iterator[list]:
    """The matrix as CSV rows under ["attempt", *question_ids]: the mark where the
    question was on the form (1, 0 or a partial mark), empty where it was not."""
    for attempt_id, row in rows:
        yield [attempt_id] + [_mark(row.marks.get(qid)) for qid in question_ids]


def _mark(mark: float | None) -> float | int | str:
    if mark is None:
        return ""
    return int(mark) if mark in (0, 1) else round(mark, 6)
