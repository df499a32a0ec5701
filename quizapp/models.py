"""The database models, in SQLAlchemy 2.0 typed style."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from quizapp import exam_rules
from quizapp.bank.model import Question as BankQuestion
from quizapp.extensions import db

ROLES = ("trainee", "trainer", "manager", "admin")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Store UTC and always hand back an aware datetime.

    SQLite keeps no time zone and returns naive values; PostgreSQL returns aware
    ones. Both come back the same way here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use an aware UTC datetime")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # kept lower-case
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # No longer read: sessions are `UserSession` rows (one per signed-in device), which
    # `accounts.end_sessions` deletes. Kept so older databases and exports still load.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    # The signed-in device's session, set by `accounts.start_session` at sign-in and
    # by the user loader on each request: Flask-Login keeps its token in the cookie.
    session_token = None  # str
    current_session = None  # UserSession

    def get_id(self) -> str:
        if not self.session_token:
            raise RuntimeError("No session: sign in through accounts.start_session.")
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    def set_roles(self, roles) -> None:
        wanted = set(roles)
        self.role_rows = [r for r in self.role_rows if r.role in wanted] + [
            UserRole(role=role) for role in sorted(wanted - self.roles)
        ]

    def set_password(self, password: str) -> None:
        # Tests set a cheap method; everywhere else it is werkzeug's default, scrypt.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class UserRole(db.Model):
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    user: Mapped[User] = relationship(back_populates="role_rows")


class Document(db.Model):
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    short_title: Mapped[str] = mapped_column(String(200))
    sections: Mapped[list] = mapped_column(JSON)  # the headings a citation may name
    # A document a trainer uploaded keeps its text: [{heading, text, fingerprint}], in
    # the order of `sections`. The shipped articles are not stored (not ours to copy).
    texts: Mapped[list | None] = mapped_column(JSON)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Topic(db.Model):
    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)


class Fact(db.Model):
    """One thing a source document says, in the bank's own words: the trainee's study
    note, and the link between the questions that test it (they are enemies)."""

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    topic_id: Mapped[str] = mapped_column(ForeignKey("topic.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"))
    section: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    risk: Mapped[str | None] = mapped_column(String(40))
    question_ids: Mapped[list] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(default=0)


class StudyView(db.Model):
    """When a trainee last opened the study note of a fact (remediation needs it)."""

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    fact_id: Mapped[str] = mapped_column(
        ForeignKey("fact.id", ondelete="CASCADE"), primary_key=True
    )
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Question(db.Model):
    """A question's identity and status; its content lives in its versions."""

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    topic_id: Mapped[str] = mapped_column(ForeignKey("topic.id"))
    # draft -> review -> published -> retired (see quizapp.studio.TRANSITIONS)
    status: Mapped[str] = mapped_column(String(20), default="published")
    current_version: Mapped[int] = mapped_column(default=1)
    # The content hash `bank import` last wrote; a latest version with another hash
    # was edited in the app since, and import leaves it alone unless told otherwise.
    imported_hash: Mapped[str | None] = mapped_column(String(64))
    # Raised when something it rests on changed (a cited section was edited).
    needs_review: Mapped[bool] = mapped_column(default=False)
    review_reason: Mapped[str | None] = mapped_column(Text)

    topic: Mapped[Topic] = relationship()
    # Loaded when asked for (the studio asks with selectinload): an attempt's item
    # reaches its question through its version, and must not pull every version of
    # every question it shows.
    versions: Mapped[list[QuestionVersion]] = relationship(
        back_populates="question", order_by="QuestionVersion.version"
    )

    @property
    def latest(self) -> QuestionVersion:
        """The live version: the one drawn into new attempts."""
        return next(v for v in self.versions if v.version == self.current_version)

    @property
    def newest(self) -> QuestionVersion:
        """The last version saved; newer than `latest` while an edit awaits approval."""
        return self.versions[-1]

    @property
    def pending_edit(self) -> bool:
        return self.newest.version > self.current_version


class QuestionVersion(db.Model):
    """One immutable wording of a question. Attempts point here, not at Question."""

    __table_args__ = (UniqueConstraint("question_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("question.id"))
    version: Mapped[int]
    content: Mapped[dict] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: from files
    note: Mapped[str | None] = mapped_column(Text)  # what changed and why
    # The key of an earlier version was wrong; finished attempts may be regraded.
    key_correction: Mapped[bool] = mapped_column(default=False)

    author: Mapped[User | None] = relationship()

    question: Mapped[Question] = relationship(back_populates="versions", lazy="joined")

    @property
    def correct_ids(self) -> frozenset[str]:
        return self.as_bank_question().correct_ids

    def as_bank_question(self) -> BankQuestion:
        return BankQuestion.from_content(
            self.question_id, self.question.topic_id, self.question.status, self.content
        )


class Exam(db.Model):
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    # The exam's rules as stored (ExamRules.to_dict); `rules` reads them.
    rules_data: Mapped[dict] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(default=0)
    # The current settings' number in `ExamVersion`; new attempts start on it.
    version: Mapped[int] = mapped_column(default=1)

    @property
    def rules(self) -> exam_rules.ExamRules:
        return exam_rules.rules_from_dict(self.rules_data)


class ExamVersion(db.Model):
    """One saved state of an exam's settings. A change never edits a version: it adds
    one, and attempts record the version they started on."""

    __table_args__ = (UniqueConstraint("exam_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exam.id"))
    version: Mapped[int]
    rules_data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: from files
    note: Mapped[str | None] = mapped_column(Text)

    author: Mapped[User | None] = relationship()


class AngoffRating(db.Model):
    """One judge's estimate of the chance that a minimally competent practitioner
    answers a question correctly (modified Angoff standard setting)."""

    question_id: Mapped[str] = mapped_column(ForeignKey("question.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    rating: Mapped[float]  # 0.0 to 1.0
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Accommodation(db.Model):
    """Extra time and attempts granted to one trainee for one exam, with the reason."""

    __table_args__ = (UniqueConstraint("user_id", "exam_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    exam_id: Mapped[str] = mapped_column(ForeignKey("exam.id"))
    extra_time_percent: Mapped[int] = mapped_column(default=0)
    extra_minutes: Mapped[int] = mapped_column(default=0)
    extra_attempts: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Cohort(db.Model):
    """A group of trainees (a clinic, a class, an intake) and the managers who see it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CohortMember(db.Model):
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"),
                                           primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True, index=True)


class CohortManager(db.Model):
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"),
                                           primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True, index=True)


class PasswordReset(db.Model):
    """A one-time, expiring password-reset link. Only the token's SHA-256 is kept, so
    a copy of the database cannot be turned into working links."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class Attempt(db.Model):
    """One sitting of an exam: a small state machine, in progress then finished."""

    __table_args__ = (
        # One open attempt per trainee and exam, even when two Start clicks race.
        Index(
            "ix_one_open_attempt", "user_id", "exam_id", unique=True,
            sqlite_where=text("state = 'in_progress'"),
            postgresql_where=text("state = 'in_progress'"),
        ),
        # Reports filter finished attempts by exam and date.
        Index("ix_attempt_exam_state_finished", "exam_id", "state", "finished_at"),
        # One trainee's attempts (at one exam, finished, newest first): eligibility, the
        # trainees list's per-trainee figures, a trainee's record. Without it a lookup
        # for one trainee at one exam took the exam's index and read every attempt.
        Index("ix_attempt_user_exam_state_finished", "user_id", "exam_id", "state",
              "finished_at"),
        # Item analysis reads first attempts (number 1) by default: a twentieth of the
        # exam's attempts at 20 per trainee, found without reading the rest.
        Index("ix_attempt_exam_state_number", "exam_id", "state", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    exam_id: Mapped[str] = mapped_column(ForeignKey("exam.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="in_progress")
    seed: Mapped[int] = mapped_column(BigInteger)
    # The exam's rules as they stood when the attempt began; `rules` reads them.
    rules_data: Mapped[dict] = mapped_column(JSON)
    # 1 for the trainee's first attempt at this exam, 2 for the next...: item
    # analysis reads first attempts by default.
    number: Mapped[int] = mapped_column(default=1)
    exam_version: Mapped[int] = mapped_column(default=1)  # ExamVersion it started on
    # The pass mark this form was held to, fixed when it was drawn (a fixed mark, or
    # the sum of the Angoff ratings of its questions), and how it was set.
    pass_mark_percent: Mapped[float | None]
    pass_mark_method: Mapped[str | None] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score_percent: Mapped[float | None]
    passed: Mapped[bool | None]
    fail_reasons: Mapped[list | None] = mapped_column(JSON)
    # Set when a regrade turned a pass into a fail: a manager decides about the
    # certificate; nothing is revoked silently.
    needs_decision: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()
    exam: Mapped[Exam] = relationship()
    # Loaded on first use, in one query: lists of attempts (reports, history) never
    # need their items, and a question page loads them without their question text
    # (`attempts.load_items`).
    items: Mapped[list[AttemptItem]] = relationship(
        back_populates="attempt", order_by="AttemptItem.position", cascade="all, delete-orphan",
    )
    certificate: Mapped[Certificate | None] = relationship(back_populates="attempt")

    @property
    def rules(self) -> exam_rules.ExamRules:
        return exam_rules.rules_from_dict(self.rules_data)

    @property
    def pass_mark(self) -> float:
        """The pass mark this attempt is held to, in grading, regrading and the study
        plan: the one fixed when its form was drawn, or its rules' mark for attempts
        older than that record."""
        if self.pass_mark_percent is not None:
            return self.pass_mark_percent
        return float(self.rules.pass_mark_percent)

    @property
    def finished(self) -> bool:
        return self.state == "finished"

    @property
    def ran_out_of_time(self) -> bool:
        """Finished by the clock: a late close is recorded at the deadline itself."""
        return (self.finished and self.deadline is not None
                and self.finished_at is not None and self.finished_at >= self.deadline)


class AttemptItem(db.Model):
    """A question as placed in one attempt, with the trainee's answer."""

    __table_args__ = (UniqueConstraint("attempt_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"))
    position: Mapped[int]  # 1-based, as the trainee sees it
    question_version_id: Mapped[int] = mapped_column(ForeignKey("question_version.id"),
                                                     index=True)
    option_order: Mapped[list] = mapped_column(JSON)
    # What the page calls each option, parallel to option_order: random per attempt,
    # so nothing a page carries (ids, their sort order) says which option is the key.
    option_tokens: Mapped[list] = mapped_column(JSON)
    response: Mapped[list | None] = mapped_column(JSON)
    flagged: Mapped[bool] = mapped_column(default=False)
    # Raised on every save; a post carrying an older number comes from a stale page.
    sequence: Mapped[int] = mapped_column(default=0)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Practice: the answer was checked and feedback shown, so it is final.
    locked: Mapped[bool] = mapped_column(default=False)
    mark: Mapped[float | None]
    # Set by a regrade: the corrected key (option ids), which the review shows in place
    # of the key of the version the trainee saw (its wording stays as shown).
    corrected_key: Mapped[list | None] = mapped_column(JSON)
    # Time on the question: the server adds the time since the question was last
    # shown (`shown_at`) at each save, so transcripts show where time went.
    seconds_spent: Mapped[float] = mapped_column(default=0.0)
    shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def key(self) -> frozenset[str]:
        """The option ids marked right: the corrected key after a regrade."""
        if self.corrected_key is not None:
            return frozenset(self.corrected_key)
        return self.version.correct_ids

    attempt: Mapped[Attempt] = relationship(back_populates="items")
    version: Mapped[QuestionVersion] = relationship(lazy="joined")

    @property
    def answered(self) -> bool:
        return bool(self.response)


class AttemptTopicMark(db.Model):
    """An attempt's marks summed per topic, written when the attempt is graded (and
    again at a regrade) by `attempts.record_topic_marks`. The dashboard's mastery reads
    these few rows per attempt instead of every answer with its question's topic."""

    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), primary_key=True)
    topic_id: Mapped[str] = mapped_column(ForeignKey("topic.id"), primary_key=True)
    marks: Mapped[float]  # the sum of the topic's item marks (each 0 to 1)
    items: Mapped[int]  # how many graded items of the topic the attempt had


class AuditEvent(db.Model):
    """Who changed what, when: one trail for questions, attempts, people and
    certificates. `subject` names the thing, as "question:mech-001" or "attempt:12"."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    subject: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()


class Certificate(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exam.id"))
    # None for a reissue (a corrected name): the attempt keeps its first certificate.
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempt.id"), unique=True)
    # What is printed stays as it was issued, even if the account is renamed.
    holder_name: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(Text, default="", server_default="")
    issuer_name: Mapped[str] = mapped_column(String(200), default="Microneedling Academy",
                                             server_default="Microneedling Academy")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The recertification window opens here (expiry less the exam's window), fixed at
    # issue like the expiry itself.
    renew_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The public verification URL printed in the PDF and its QR code.
    verify_url: Mapped[str | None] = mapped_column(String(300))
    # The PDF as issued and its SHA-256: a dropped file is checked against the hash,
    # and a download is always this very document.
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)  # the note
    revoked_category: Mapped[str | None] = mapped_column(String(40))
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_category: Mapped[str | None] = mapped_column(String(40))
    suspended_note: Mapped[str | None] = mapped_column(Text)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    attempt: Mapped[Attempt | None] = relationship(back_populates="certificate")
    superseded_by: Mapped[Certificate | None] = relationship(remote_side=[id])

    def status(self, now: datetime) -> str:
        """valid, expiring_soon (in the recertification window), expired, superseded,
        suspended or revoked; the later in that list wins."""
        if self.revoked_at is not None:
            return "revoked"
        if self.suspended_at is not None:
            return "suspended"
        if self.superseded_at is not None:
            return "superseded"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        if self.renew_from is not None and now >= self.renew_from:
            return "expiring_soon"
        return "valid"

    def is_valid(self, now: datetime) -> bool:
        """Whether it certifies its holder now (expiring soon still does)."""
        return self.status(now) in ("valid", "expiring_soon")

    @classmethod
    def valid_at(cls, now: datetime):
        """`is_valid` as a SQL condition, for counting and listing many at once."""
        return and_(cls.revoked_at.is_(None), cls.suspended_at.is_(None),
                    cls.superseded_at.is_(None),
                    or_(cls.expires_at.is_(None), cls.expires_at > now))


class NameCorrection(db.Model):
    """A holder's request to correct the name on a certificate. A manager approves it
    (the certificate is reissued with the name, the old one superseded) or declines."""

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    requested_name: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    approved: Mapped[bool | None]
    decision_note: Mapped[str | None] = mapped_column(Text)

    certificate: Mapped[Certificate] = relationship()


class ThrottleCounter(db.Model):
    """How many requests one key (a client address, an account) made in one window of
    time. Kept in the database so every worker counts against the same numbers."""

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # epoch s
    count: Mapped[int] = mapped_column(default=0)
    # Past this (epoch s) the row counts for nothing and is deleted.
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class UserSession(db.Model):
    """One signed-in device. The cookie carries a random token; only its SHA-256 is
    kept here (`id`), so the table cannot be replayed. Signing out deletes the row;
    `accounts.end_sessions` deletes all of a person's rows (sign out everywhere, a new
    password, deactivation, a change of roles)."""

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of token
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # "Firefox on Windows": enough to recognise a device, not a fingerprint of it.
    user_agent: Mapped[str] = mapped_column(String(120), default="")

    user: Mapped[User] = relationship()
