"""What a manager reads about trainees: the list of those they see, one trainee's
record, and the transcript of one attempt.

Every lookup is narrowed by `cohorts.visible_trainee_ids`, so a trainee the viewer
may not see is not found, exactly like one that does not exist (the views answer 404
for both). Each function issues the same number of queries however many attempts
there are: counts, means and "the latest certification attempt" are computed in SQL,
and only the rows a page shows are loaded. Like the other services, nothing here
reads the request or the session: the viewer and the time are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pygal
from markupsafe import Markup
from pygal.style import Style
from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import aliased, selectinload

from quizapp import charts
from quizapp.attempts import ShownItem, shown_item
from quizapp.audit import subject
from quizapp.certs import STATUS_LABELS
from quizapp.citations import document_titles
from quizapp.cohorts import (
    cohort_choices,
    managed_cohort_ids,
    sees_everyone,
    visible_trainee_ids,
)
from quizapp.errors import ServiceError
from quizapp.extensions import db
from quizapp.models import (
    Accommodation,
    Attempt,
    AttemptItem,
    AuditEvent,
    Certificate,
    Cohort,
    CohortMember,
    Exam,
    Question,
    QuestionVersion,
    Topic,
    User,
)
from quizapp.paging import pages_of

PAGE_SIZE = 50  # trainees per page of the list
ATTEMPTS_PAGE_SIZE = 25  # attempts per page of a trainee's record
TOPIC_HISTORY = 12  # certification attempts shown in "results by topic over time"
TRAIL_LIMIT = 100  # audit events shown on a trainee's record, newest first
EXPIRING_DAYS = 60
SEARCH_MAX = 200
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # before any attempt: "no pass yet"
# Ids come from URLs; one past a 64-bit integer would fail inside the database driver.
LARGEST_ID = 2**63 - 1

STATUS_FILTERS = {
    "": "Any",
    "certified": "Certified",
    "uncertified": "Not certified",
    "expiring": f"Certificate expiring within {EXPIRING_DAYS} days",
    "locked": "Locked out (no attempts left)",
}
CERTIFICATION_LABELS = {
    "certified": "Certified",
    "suspended": "Certificate suspended",
    "expired": "Certificate expired",
    "revoked": "Certificate revoked",
    "none": "Not yet certified",
}


class TranscriptError(ServiceError):
    """A request about trainees these pages cannot answer."""


class NotFound(TranscriptError):
    """No such trainee, cohort or attempt, or one the viewer may not see."""

    status = 404


# --- The list of trainees -------------------------------------------------------------


@dataclass(frozen=True)
class TraineeQuery:
    """The list's filters: one cohort (None: every cohort the viewer sees), text found
    in the name or email, and one of `STATUS_FILTERS`."""

    cohort_id: int | None = None
    text: str = ""
    status: str = ""


@dataclass(frozen=True)
class CertificationResult:
    """A finished certification attempt, as the list and the record summarise it."""

    attempt_id: int
    exam_title: str
    score_percent: float | None
    passed: bool | None
    finished_at: datetime


@dataclass(frozen=True)
class TraineeRow:
    id: int
    name: str
    email: str
    active: bool
    cohorts: tuple[str, ...]
    certification: str  # a key of CERTIFICATION_LABELS
    valid_until: datetime | None  # the latest expiry among valid certificates
    expiring: bool  # certified, but every valid certificate expires within EXPIRING_DAYS
    latest: CertificationResult | None  # never a practice attempt
    practice_attempts: int
    locked: bool  # every certification attempt allowed has been used, and no certificate

    @property
    def certification_label(self) -> str:
        return CERTIFICATION_LABELS[self.certification]


@dataclass(frozen=True)
class TraineePage:
    rows: tuple[TraineeRow, ...]
    total: int
    page: int
    pages: int
    query: TraineeQuery
    cohorts: tuple[tuple[int, str], ...]  # the cohorts the viewer may filter by


def _visible_cohorts(viewer: User):
    """A condition on Cohort.id: the cohorts the viewer manages (an admin: all)."""
    if sees_everyone(viewer):
        return literal(True)
    return Cohort.id.in_(managed_cohort_ids(viewer))


def _row_query(viewer: User, query: TraineeQuery, now: datetime):
    """One SELECT of the trainees the viewer sees with everything the list shows.

    Each figure is a subquery correlated with the trainee's row, answered from the
    indexes on `user_id`: its cost follows the number of trainees, and a trainee's own
    attempts, never the size of the attempts table. (Grouped subqueries over every
    attempt, joined to the trainees, cost a minute at 100,000 attempts on SQLite,
    whose planner scanned one of them once per trainee.)"""
    valid = Certificate.valid_at(now)

    def certificates(aggregate, *where):
        return select(aggregate).where(Certificate.user_id == User.id, *where).scalar_subquery()

    def finished(column, kind: str):
        return select(column).select_from(Attempt).join(Exam, Exam.id == Attempt.exam_id).where(
            Attempt.user_id == User.id, Exam.kind == kind, Attempt.state == "finished")

    certified = certificates(func.count(), valid) > 0
    forever = certificates(func.count(), valid, Certificate.expires_at.is_(None))
    valid_until = certificates(func.max(Certificate.expires_at), valid)
    statement = select(
        User.id, User.name, User.email, User.active,
        certified.label("certified"), forever.label("forever"),
        valid_until.label("valid_until"),
        certificates(func.count(), Certificate.revoked_at.is_(None),
                     Certificate.suspended_at.is_not(None)).label("suspended"),
        certificates(func.count(), Certificate.revoked_at.is_(None)).label("unrevoked"),
        certificates(func.count()).label("certificates"),
        # Practice attempts never enter "the latest result"; its row is read with the page.
        finished(Attempt.id, "certification")
        .order_by(Attempt.finished_at.desc(), Attempt.id.desc())
        .limit(1).scalar_subquery().label("latest_id"),
        finished(func.count(), "practice").scalar_subquery().label("practice_attempts"),
    ).where(User.id.in_(visible_trainee_ids(viewer, query.cohort_id)))
    locked = _locked_out(valid)
    statement = statement.add_columns(locked.label("locked"))

    if query.text:
        needle = query.text.lower()  # as SQL lower() folds the name
        statement = statement.where(or_(func.lower(User.name).contains(needle, autoescape=True),
                                        User.email.contains(needle, autoescape=True)))
    if query.status == "certified":
        statement = statement.where(certified)
    elif query.status == "uncertified":
        statement = statement.where(~certified)
    elif query.status == "expiring":
        statement = statement.where(certified, forever == 0,
                                    valid_until < now + timedelta(days=EXPIRING_DAYS))
    elif query.status == "locked":
        statement = statement.where(locked)
    return statement


def _locked_out(valid) -> ColumnElement[bool]:
    """Whether the trainee of the enclosing row has used every attempt some
    certification exam allows and holds no valid certificate of it. Attempts count
    from the last pass, as `attempts.eligibility` counts them (recertifying starts
    afresh), and an accommodation's extra attempts are added to the exam's limit."""
    limits = {
        exam_id: rules["attempts_allowed"]
        for exam_id, rules in db.session.execute(
            select(Exam.id, Exam.rules_data).where(Exam.kind == "certification"))
        if rules.get("attempts_allowed") is not None
    }
    if not limits:
        return false()
    exam = aliased(Exam)
    counted, passing = aliased(Attempt), aliased(Attempt)
    # Two levels down from the trainee's row: correlated by name, as SQLAlchemy's
    # automatic correlation looks only one level up.
    last_pass = select(func.max(passing.finished_at)).where(
        passing.user_id == User.id, passing.exam_id == exam.id, passing.state == "finished",
        passing.passed.is_(True)).correlate(User, exam).scalar_subquery()
    # Compared with no OR, so the last pass bounds a range of the trainee's index
    # rather than being looked up again for each of their attempts.
    since = func.coalesce(last_pass, literal(NEVER, Attempt.finished_at.type))
    used = select(func.count()).select_from(counted).where(
        counted.user_id == User.id, counted.exam_id == exam.id, counted.state == "finished",
        counted.finished_at > since).correlate(User, exam).scalar_subquery()
    extra = select(Accommodation.extra_attempts).where(
        Accommodation.user_id == User.id, Accommodation.exam_id == exam.id
    ).correlate(User, exam).scalar_subquery()
    certified_in_it = exists().where(Certificate.user_id == User.id,
                                     Certificate.exam_id == exam.id, valid
                                     ).correlate(User, exam)
    return exists().select_from(exam).where(
        exam.id.in_(list(limits)),
        used >= case(limits, value=exam.id) + func.coalesce(extra, 0),
        ~certified_in_it)


def _cohort_names(viewer: User, user_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """The cohorts each trainee belongs to, among those the viewer sees (asked even
    for no trainees, so the page's statements do not depend on who is listed)."""
    names: dict[int, list[str]] = {}
    for user_id, name in db.session.execute(
        select(CohortMember.user_id, Cohort.name)
        .join(Cohort, Cohort.id == CohortMember.cohort_id)
        .where(CohortMember.user_id.in_(user_ids), _visible_cohorts(viewer))
        .order_by(Cohort.name)
    ):
        names.setdefault(user_id, []).append(name)
    return {user_id: tuple(found) for user_id, found in names.items()}


def _latest_results(attempt_ids: list[int]) -> dict[int, CertificationResult]:
    """The certification results the listed rows point to, read in one query (even
    for none, so the page's statements do not depend on who is listed)."""
    return {row.attempt_id: CertificationResult(*row) for row in db.session.execute(
        select(Attempt.id.label("attempt_id"), Exam.title, Attempt.score_percent,
               Attempt.passed, Attempt.finished_at)
        .join(Exam, Exam.id == Attempt.exam_id).where(Attempt.id.in_(attempt_ids)))}


def _trainee_rows(viewer: User, statement, now: datetime) -> tuple[TraineeRow, ...]:
    rows = db.session.execute(statement).all()
    cohorts = _cohort_names(viewer, [r.id for r in rows])
    latest = _latest_results([r.latest_id for r in rows if r.latest_id is not None])
    soon = now + timedelta(days=EXPIRING_DAYS)
    made = []
    for r in rows:
        if r.certified:
            certification = "certified"
        elif r.suspended:
            certification = "suspended"
        elif r.unrevoked:
            certification = "expired"
        elif r.certificates:
            certification = "revoked"
        else:
            certification = "none"
        made.append(TraineeRow(
            id=r.id, name=r.name, email=r.email, active=r.active,
            cohorts=cohorts.get(r.id, ()),
            certification=certification,
            valid_until=r.valid_until if r.certified else None,
            expiring=bool(r.certified) and not r.forever and r.valid_until is not None
            and r.valid_until < soon,
            latest=latest.get(r.latest_id),
            practice_attempts=r.practice_attempts,
            locked=bool(r.locked),
        ))
    return tuple(made)


def trainee_list(viewer: User, query: TraineeQuery, page: int, now: datetime) -> TraineePage:
    """One page of the trainees the viewer sees, by name, filtered by `query`.

    :raise NotFound: the cohort does not exist or the viewer does not see it.
    :raise TranscriptError: an unknown status filter (400).
    """
    if query.status not in STATUS_FILTERS:
        raise TranscriptError("Unknown status filter.", 400)
    if len(query.text) > SEARCH_MAX:
        raise TranscriptError(f"Search for at most {SEARCH_MAX} characters.", 400)
    cohorts = tuple(cohort_choices(viewer))
    if query.cohort_id is not None and query.cohort_id not in {c for c, _ in cohorts}:
        raise NotFound("There is no such cohort.")
    statement = _row_query(viewer, query, now)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    pages, page = pages_of(total, page, PAGE_SIZE)
    rows = _trainee_rows(viewer, statement.order_by(User.name, User.id)
                         .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE), now)
    return TraineePage(rows, total, page, pages, query, cohorts)


def trainee_row(viewer: User, user_id: int, now: datetime) -> TraineeRow | None:
    """One trainee as the list shows them; None if the viewer does not see them."""
    if not 0 < user_id <= LARGEST_ID:
        return None
    rows = _trainee_rows(
        viewer, _row_query(viewer, TraineeQuery(), now).where(User.id == user_id), now)
    return rows[0] if rows else None


# --- One trainee's record -------------------------------------------------------------


@dataclass(frozen=True)
class AttemptLine:
    id: int
    exam_title: str
    kind: str
    number: int
    state: str
    started_at: datetime
    finished_at: datetime | None
    deadline: datetime | None
    score_percent: float | None
    pass_mark_percent: float | None
    pass_mark_method: str | None
    passed: bool | None

    @property
    def finished(self) -> bool:
        return self.state == "finished"

    @property
    def time_taken(self) -> timedelta | None:
        return None if self.finished_at is None else self.finished_at - self.started_at

    @property
    def ran_out_of_time(self) -> bool:
        return (self.finished and self.deadline is not None and self.finished_at is not None
                and self.finished_at >= self.deadline)


@dataclass(frozen=True)
class TopicLine:
    id: str
    name: str
    scores: tuple[float | None, ...]  # percent, one per attempt of TopicProgress.attempts


@dataclass(frozen=True)
class TopicProgress:
    """Per-topic scores of the latest certification attempts, oldest first."""

    attempts: tuple[AttemptLine, ...]
    topics: tuple[TopicLine, ...]
    chart: Markup | None  # inline SVG; the page shows the same numbers in a table


@dataclass(frozen=True)
class PracticeLine:
    exam_id: str
    title: str
    attempts: int
    mean_score: float | None
    best_score: float | None
    last_at: datetime | None


@dataclass(frozen=True)
class CertificateLine:
    code: str
    title: str
    issued_at: datetime
    expires_at: datetime | None
    status: str  # a key of certs.STATUS_LABELS
    revoked_reason: str | None
    attempt_id: int | None  # None for a reissue (a corrected name)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True)
class AccommodationLine:
    exam_id: str
    exam_title: str
    extra_time_percent: int
    extra_minutes: int
    extra_attempts: int
    reason: str
    granted_by: str | None
    granted_at: datetime


@dataclass(frozen=True)
class TrailLine:
    at: datetime
    actor: str | None
    kind: str
    message: str
    subject: str

    @property
    def attempt_id(self) -> int | None:
        """The attempt the event is about, if any (the page links its transcript)."""
        kind, _, key = self.subject.partition(":")
        return int(key) if kind == "attempt" and key.isdigit() else None

    @property
    def kind_label(self) -> str:
        return self.kind.replace("_", " ").replace(".", ": ").capitalize()


@dataclass(frozen=True)
class TraineeDetail:
    trainee: TraineeRow
    attempts: tuple[AttemptLine, ...]  # this page of them, newest first
    attempt_total: int
    page: int
    pages: int
    progress: TopicProgress
    practice: tuple[PracticeLine, ...]
    certificates: tuple[CertificateLine, ...]
    accommodations: tuple[AccommodationLine, ...]
    trail: tuple[TrailLine, ...]
    trail_total: int


_ATTEMPT_COLUMNS = (
    Attempt.id, Exam.title, Exam.kind, Attempt.number, Attempt.state, Attempt.started_at,
    Attempt.finished_at, Attempt.deadline, Attempt.score_percent, Attempt.pass_mark_percent,
    Attempt.pass_mark_method, Attempt.passed, Attempt.rules_data,
)


def _attempt_line(row) -> AttemptLine:
    (attempt_id, title, kind, number, state, started_at, finished_at, deadline, score,
     pass_mark, method, passed, rules_data) = row
    if pass_mark is None:  # attempts from before the mark was kept with each attempt
        pass_mark = rules_data.get("pass_mark_percent")
    return AttemptLine(attempt_id, title, kind, number or 1, state, started_at, finished_at,
                       deadline, score, pass_mark, method, passed)


def _topic_progress(user_id: int) -> TopicProgress:
    """The score on each topic in the latest TOPIC_HISTORY finished certification
    attempts: one grouped query over their items."""
    recent = (
        select(Attempt.id)
        .join(Exam, Exam.id == Attempt.exam_id)
        .where(Attempt.user_id == user_id, Attempt.state == "finished",
               Exam.kind == "certification")
        .order_by(Attempt.finished_at.desc(), Attempt.id.desc())
        .limit(TOPIC_HISTORY)
        .subquery()
    )
    per_topic = (
        select(AttemptItem.attempt_id, Question.topic_id,
               func.sum(func.coalesce(AttemptItem.mark, 0)).label("earned"),
               func.count(AttemptItem.id).label("asked"))
        .join(QuestionVersion, QuestionVersion.id == AttemptItem.question_version_id)
        .join(Question, Question.id == QuestionVersion.question_id)
        .where(AttemptItem.attempt_id.in_(select(recent.c.id)))
        .group_by(AttemptItem.attempt_id, Question.topic_id)
        .subquery()
    )
    rows = db.session.execute(
        select(*_ATTEMPT_COLUMNS, Topic.id.label("topic_id"), Topic.name.label("topic_name"),
               Topic.position, per_topic.c.earned, per_topic.c.asked)
        .join(Exam, Exam.id == Attempt.exam_id)
        .join(per_topic, per_topic.c.attempt_id == Attempt.id)
        .join(Topic, Topic.id == per_topic.c.topic_id)
    ).all()
    attempts: dict[int, AttemptLine] = {}
    topics: dict[str, tuple[int, str]] = {}
    scores: dict[tuple[int, str], float] = {}
    for row in rows:
        line = attempts.setdefault(row[0], _attempt_line(row[: len(_ATTEMPT_COLUMNS)]))
        topics[row.topic_id] = (row.position, row.topic_name)
        scores[line.id, row.topic_id] = 100 * row.earned / row.asked
    ordered = tuple(sorted(attempts.values(), key=lambda a: (a.finished_at, a.id)))
    lines = tuple(
        TopicLine(topic_id, name, tuple(scores.get((a.id, topic_id)) for a in ordered))
        for topic_id, (_, name) in sorted(topics.items(), key=lambda t: (t[1][0], t[0]))
    )
    return TopicProgress(ordered, lines, topic_chart(ordered, lines) if ordered else None)


def _practice(user_id: int) -> tuple[PracticeLine, ...]:
    return tuple(
        PracticeLine(*row)
        for row in db.session.execute(
            select(Exam.id, Exam.title, func.count(Attempt.id), func.avg(Attempt.score_percent),
                   func.max(Attempt.score_percent), func.max(Attempt.finished_at))
            .join(Exam, Exam.id == Attempt.exam_id)
            .where(Attempt.user_id == user_id, Attempt.state == "finished",
                   Exam.kind == "practice")
            .group_by(Exam.id, Exam.title, Exam.position)
            .order_by(Exam.position, Exam.id)
        )
    )


def _certificates(user_id: int, now: datetime) -> tuple[CertificateLine, ...]:
    return tuple(
        CertificateLine(c.code, c.title, c.issued_at, c.expires_at, c.status(now),
                        c.revoked_reason, c.attempt_id)
        for c in db.session.scalars(
            select(Certificate).where(Certificate.user_id == user_id)
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def _accommodations(user_id: int) -> tuple[AccommodationLine, ...]:
    return tuple(
        AccommodationLine(*row)
        for row in db.session.execute(
            select(Accommodation.exam_id, Exam.title, Accommodation.extra_time_percent,
                   Accommodation.extra_minutes, Accommodation.extra_attempts,
                   Accommodation.reason, User.name, Accommodation.granted_at)
            .join(Exam, Exam.id == Accommodation.exam_id)
            .outerjoin(User, User.id == Accommodation.granted_by_id)
            .where(Accommodation.user_id == user_id)
            .order_by(Exam.position, Exam.id)
        )
    )


def _trail(condition, limit: int | None = None) -> tuple[TrailLine, ...]:
    statement = (
        select(AuditEvent.at, User.name, AuditEvent.kind, AuditEvent.message,
               AuditEvent.subject)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(condition)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    if limit is not None:
        statement = statement.limit(limit)
    return tuple(TrailLine(*row) for row in db.session.execute(statement))


def _about_trainee(user_id: int):
    """Audit events about what was changed for a trainee: about them as a person
    ("user:<id>"), their attempts ("attempt:<id>") and their certificates
    ("certificate:<id>"). The subjects are built in SQL, so it is one query however
    many attempts there are. Signing in and out ("auth.*") changes nothing and would
    bury the changes, so it is left out."""
    attempts = select(literal("attempt:", String) + cast(Attempt.id, String)).where(
        Attempt.user_id == user_id)
    certificates = select(literal("certificate:", String) + cast(Certificate.id, String)).where(
        Certificate.user_id == user_id)
    return and_(
        or_(AuditEvent.subject == subject("user", user_id),
            AuditEvent.subject.in_(attempts), AuditEvent.subject.in_(certificates)),
        ~AuditEvent.kind.startswith("auth.", autoescape=True),
    )


def trainee_detail(viewer: User, user_id: int, now: datetime,
                   page: int = 1) -> TraineeDetail | None:
    """A trainee's record, with one page of their attempts (newest first); None if the
    viewer may not see this trainee or there is none."""
    trainee = trainee_row(viewer, user_id, now)
    if trainee is None:
        return None
    total = db.session.scalar(select(func.count()).where(Attempt.user_id == user_id))
    pages, page = pages_of(total, page, ATTEMPTS_PAGE_SIZE)
    attempts = tuple(
        _attempt_line(row)
        for row in db.session.execute(
            select(*_ATTEMPT_COLUMNS)
            .join(Exam, Exam.id == Attempt.exam_id)
            .where(Attempt.user_id == user_id)
            .order_by(Attempt.started_at.desc(), Attempt.id.desc())
            .limit(ATTEMPTS_PAGE_SIZE).offset((page - 1) * ATTEMPTS_PAGE_SIZE)
        )
    )
    about = _about_trainee(user_id)
    return TraineeDetail(
        trainee=trainee,
        attempts=attempts,
        attempt_total=total,
        page=page,
        pages=pages,
        progress=_topic_progress(user_id),
        practice=_practice(user_id),
        certificates=_certificates(user_id, now),
        accommodations=_accommodations(user_id),
        trail=_trail(about, TRAIL_LIMIT),
        trail_total=db.session.scalar(select(func.count()).select_from(AuditEvent)
                                      .where(about)),
    )


# --- The chart of results by topic ------------------------------------------------------

# pygal lays the chart out for this text size; trainees.css draws the text at it.
CHART_FONT_SIZE = 13
CHART_STYLE = Style(**{f"{part}_font_size": CHART_FONT_SIZE for part in (
    "label", "major_label", "value", "value_label", "title", "legend", "tooltip")})


def topic_chart(attempts: tuple[AttemptLine, ...], topics: tuple[TopicLine, ...]) -> Markup:
    """Each topic's score over the attempts as inline SVG (stripped of pygal's style and
    script by `charts.inline_svg`; trainees.css colours the series): bars side by side
    for one or two attempts, where a line would have nothing to join, lines beyond."""
    kind = pygal.Bar if len(attempts) < 3 else pygal.Line
    chart = kind(
        js=[], css=[], no_prefix=True, disable_xml_declaration=True,
        width=640, height=300 + 22 * len(topics), range=(0, 100),
        y_labels=list(range(0, 101, 20)), include_x_axis=True, legend_at_bottom=True,
        legend_at_bottom_columns=1, truncate_legend=-1, truncate_label=-1, dots_size=4,
        margin=12, y_title="Score (%)", allow_interruptions=True, style=CHART_STYLE,
        x_label_rotation=30 if len(attempts) > 3 else 0,  # slant rather than overlap
    )
    chart.x_labels = [f"#{a.number}, {a.finished_at:%d %b %Y}" for a in attempts]
    for topic in topics:
        chart.add(topic.name, [None if s is None else round(s) for s in topic.scores])
    label = ("Score by topic in the one certification attempt" if len(attempts) == 1 else
             f"Score by topic in the last {len(attempts)} certification attempts, oldest first")
    return Markup(charts.inline_svg(chart, "topic-chart", label))


# --- The transcript of one attempt ------------------------------------------------------


@dataclass(frozen=True)
class TranscriptItem:
    shown: ShownItem  # stem and options in the order the trainee saw them
    topic_name: str
    seconds_spent: float | None
    answered_at: datetime | None
    live_version: int  # the question's version now drawn into new attempts

    @property
    def edited_since(self) -> bool:
        return self.live_version != self.shown.version


@dataclass(frozen=True)
class Transcript:
    attempt: AttemptLine
    trainee_id: int
    trainee_name: str
    trainee_email: str
    fail_reasons: tuple[str, ...]
    certificate_code: str | None
    revealed: bool  # the key and the marks are shown (finished attempts only)
    overdue: bool  # in progress past its deadline: it is closed when next touched
    items: tuple[TranscriptItem, ...]
    answered: int
    flagged: int
    trail: tuple[TrailLine, ...]

    @property
    def time_on_questions(self) -> float | None:
        """None when no time was recorded (attempts from before it was)."""
        return sum(i.seconds_spent or 0 for i in self.items) or None


def transcript(viewer: User, attempt_id: int, now: datetime) -> Transcript | None:
    """An attempt as its trainee saw it, with their answers and time on each question;
    None if there is no such attempt or the viewer may not see its trainee."""
    if not 0 < attempt_id <= LARGEST_ID:
        return None
    found = db.session.execute(
        select(Attempt, Exam.title, Exam.kind, User.name, User.email, Certificate.code)
        .join(Exam, Exam.id == Attempt.exam_id)
        .join(User, User.id == Attempt.user_id)
        .outerjoin(Certificate, Certificate.attempt_id == Attempt.id)
        .where(Attempt.id == attempt_id, Attempt.user_id.in_(visible_trainee_ids(viewer)))
        .options(
            selectinload(Attempt.items).joinedload(AttemptItem.version)
            .joinedload(QuestionVersion.question).lazyload(Question.versions),
        )
    ).first()
    if found is None:
        return None
    attempt, title, kind, name, email, code = found
    # The key, the marks and whether an answer is right are shown only once the attempt
    # is finished: while the trainee is still sitting it, a manager's screen (open in
    # the same room, shared, or photographed) must never become a leak of the key.
    # The review policy that governs what the trainee sees does not bind a manager.
    revealed = attempt.finished
    titles = document_titles() if revealed else {}
    topic_names = dict(db.session.execute(select(Topic.id, Topic.name)).all())
    items = tuple(
        TranscriptItem(
            shown=shown_item(item, reveal=revealed, explain=revealed, titles=titles),
            topic_name=topic_names.get(item.version.question.topic_id,
                                       item.version.question.topic_id),
            seconds_spent=item.seconds_spent or None,
            answered_at=item.answered_at,
            live_version=item.version.question.current_version,
        )
        for item in attempt.items
    )
    line = _attempt_line((attempt.id, title, kind, attempt.number, attempt.state,
                          attempt.started_at, attempt.finished_at, attempt.deadline,
                          attempt.score_percent, attempt.pass_mark_percent,
                          attempt.pass_mark_method, attempt.passed, attempt.rules_data))
    return Transcript(
        attempt=line,
        trainee_id=attempt.user_id,
        trainee_name=name,
        trainee_email=email,
        fail_reasons=tuple(attempt.fail_reasons or ()) if revealed else (),
        certificate_code=code,
        revealed=revealed,
        overdue=(not attempt.finished and attempt.deadline is not None
                 and now > attempt.deadline),
        items=items,
        answered=sum(i.shown.answered for i in items),
        flagged=sum(i.shown.flagged for i in items),
        trail=_trail(AuditEvent.subject == subject("attempt", attempt.id)),
    )

