"""Exam settings as managers change them: the blueprint, time, pass mark (fixed or
modified Angoff), attempts, wait, review policy and certificate validity.

A change never edits settings in place: it adds an `ExamVersion` (the exam's
`version` names the current one), so a new attempt records the version it started
on and keeps a snapshot of its rules (`Attempt.rules_data`), and an attempt in
progress is never held to settings it did not start with. Settings are checked by
the rules' own parser (`exam_rules.parse_exam`) and against the live bank
(`exam_rules.blueprint_problems`), as `bank check` checks the files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from quizapp import angoff, attempts, audit, exam_rules
from quizapp.errors import ServiceError
from quizapp.extensions import db
from quizapp.models import Exam, ExamVersion, Topic, User

# The settings a manager may change (in their file form: see `ExamRules.to_dict`); the
# others (id, title, kind, description, and whatever the files alone set) are kept.
EDITABLE = ("time_limit_minutes", "pass_mark_percent", "pass_mark_method",
            "angoff_min_ratings", "attempts_allowed", "retake_wait_minutes",
            "certificate_validity_months", "recertify_window_days", "certificate_scope",
            "review", "blueprint")
NOTE_LIMIT = 1000

# How the version history names each setting (flattened, as `changes` reports them).
LABELS = {
    "time_limit_minutes": "Time limit (minutes)",
    "pass_mark_percent": "Fixed pass mark (%)",
    "pass_mark_method": "Pass mark method",
    "angoff_min_ratings": "Angoff ratings needed per question",
    "attempts_allowed": "Attempts allowed",
    "retake_wait_minutes": "Wait between attempts (minutes)",
    "certificate_validity_months": "Certificate valid for (months)",
    "recertify_window_days": "Recertification opens (days before expiry)",
    "certificate_scope": "Scope printed on the certificate",
    "review.correct_answers": "Correct answers shown",
    "review.explanations": "Explanations shown",
    "blueprint.min_safety_critical": "Safety-critical questions, at least",
    "blueprint.min_risk_categories": "Risk categories, at least",
}


class SettingsError(ServiceError):
    """Settings that cannot be saved; the message says why, for the manager. `field`
    names the input it is about when it is not a setting (the note)."""

    status = 400

    def __init__(self, message: str, status: int | None = None, field: str | None = None):
        super().__init__(message, status)
        self.field = field


class NotFound(SettingsError):
    status = 404


def get_exam(exam_id: str) -> Exam:
    """:raise NotFound: no exam has this id."""
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        raise NotFound(f"There is no exam '{exam_id}'.")
    return exam


@dataclass(frozen=True)
class ExamRow:
    exam: Exam
    changed_at: datetime | None  # when the current version was made
    changed_by: str | None  # by whom (None: the bank files)


def overview() -> list[ExamRow]:
    """Every exam in the bank's order, with when and by whom its current settings were
    made: one query."""
    rows = db.session.execute(
        select(Exam, ExamVersion.created_at, User.name)
        .outerjoin(ExamVersion, (ExamVersion.exam_id == Exam.id)
                   & (ExamVersion.version == Exam.version))
        .outerjoin(User, User.id == ExamVersion.author_id)
        .order_by(Exam.position, Exam.id)
    )
    return [ExamRow(exam, at, by) for exam, at, by in rows]


@dataclass(frozen=True)
class SettingsView:
    exam: Exam
    rules: exam_rules.ExamRules
    topics: list[tuple[Topic, int]]  # every topic, with its published questions the exam may draw
    rated: int  # questions of the exam's pool with enough Angoff ratings
    pool_size: int  # questions of the exam's pool (its blueprint's topics)


def settings_view(exam_id: str) -> SettingsView:
    """The exam's current settings, what the bank offers each topic, and how much of
    the exam's pool has enough Angoff ratings. A constant number of queries.

    :raise NotFound: no such exam."""
    exam = get_exam(exam_id)
    rules = exam.rules
    topics = list(db.session.scalars(select(Topic).order_by(Topic.position, Topic.id)))
    pool = exam_rules.pool_for(rules, attempts.published_pool([t.id for t in topics]))
    per_topic: dict[str, int] = {}
    for item in pool:
        per_topic[item.topic] = per_topic.get(item.topic, 0) + 1
    drawn_from = [item.question_id for item in pool if item.topic in rules.blueprint.topics]
    rated, size = angoff.coverage(drawn_from, rules.angoff_min_ratings)
    return SettingsView(exam, rules, [(t, per_topic.get(t.id, 0)) for t in topics], rated,
                        size)


def save_settings(exam_id: str, updates: Mapping, author: User, note: str,
                  now: datetime) -> ExamVersion | None:
    """Check the changed settings and save them as the exam's next version; None when
    nothing changed. `updates` holds settings of `EDITABLE` in their file form (the
    whole `review` and `blueprint`). The caller commits.

    :raise NotFound: no such exam. :raise SettingsError: the settings cannot be used,
    or the published questions cannot fill the blueprint (the message says why)."""
    exam = get_exam(exam_id)
    unknown = sorted(set(updates) - set(EDITABLE))
    if unknown:
        raise SettingsError(f"These settings are not changed here: {', '.join(unknown)}.")
    note = " ".join((note or "").split())
    if not note:
        raise SettingsError("Say what changed and why: the note is kept with the version.",
                            field="note")
    if len(note) > NOTE_LIMIT:
        raise SettingsError(f"Keep the note under {NOTE_LIMIT} characters.", field="note")
    topic_ids = list(db.session.scalars(select(Topic.id)))
    try:
        rules = exam_rules.parse_exam({**exam.rules_data, **updates}, topic_ids, exam.kind)
    except exam_rules.ExamRulesError as error:
        raise SettingsError(f"{str(error)[:1].upper()}{str(error)[1:]}.") from error
    pool = attempts.published_pool(rules.blueprint.topics)
    problems = exam_rules.blueprint_problems(rules, pool,
                                             practice_caps=rules.kind == "practice")
    if problems:
        raise SettingsError("The published questions cannot fill this blueprint: "
                            + "; ".join(problems) + ".")
    if rules == exam.rules:
        return None
    return add_version(exam, rules.to_dict(), author, note, now)


def add_version(exam: Exam, rules_data: dict, author: User | None, note: str,
                now: datetime) -> ExamVersion:
    """Make `rules_data` (already checked) the exam's settings, as its next version,
    and record it in the audit trail; `author` None is the bank files. The caller
    commits."""
    before = exam.rules_data
    number = exam.version + 1
    exam.rules_data = rules_data
    exam.title = rules_data["title"]
    exam.version = number
    version = ExamVersion(exam_id=exam.id, version=number, rules_data=rules_data,
                          created_at=now, author_id=author.id if author else None,
                          note=note)
    db.session.add(version)
    audit.record(author, audit.subject("exam", exam.id),
                 "settings_changed" if author else "imported", note,
                 {"version": number, "changes": [list(c) for c in changes(before, rules_data)]})
    return version


def first_version(exam: Exam, now: datetime, note: str = "From the bank files.") -> None:
    """Record a new exam's settings as its version 1 (the caller has added the exam)."""
    exam.version = 1
    db.session.add(ExamVersion(exam_id=exam.id, version=1, rules_data=exam.rules_data,
                               created_at=now, note=note))
    audit.record(None, audit.subject("exam", exam.id), "imported", note, {"version": 1})


@dataclass(frozen=True)
class VersionView:
    version: ExamVersion
    changes: list[tuple[str, str, str]]  # (setting, before, after) against the one before


def history(exam_id: str) -> tuple[Exam, list[VersionView]]:
    """The exam's versions, newest first, each with what changed from the one before.
    Three queries.

    :raise NotFound: no such exam."""
    exam = get_exam(exam_id)
    versions = list(db.session.scalars(
        select(ExamVersion).where(ExamVersion.exam_id == exam.id)
        .order_by(ExamVersion.version).options(selectinload(ExamVersion.author))))
    views, before = [], None
    for version in versions:
        views.append(VersionView(version, [] if before is None
                                 else changes(before, version.rules_data)))
        before = version.rules_data
    return exam, views[::-1]


def changes(before: Mapping, after: Mapping) -> list[tuple[str, str, str]]:
    """What differs between two stored settings, as (setting, before, after) texts, in
    a stable order; a topic's question count is named after the topic."""
    old, new = _flatten(before), _flatten(after)
    found = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            found.append((_label(key), _shown(old.get(key)), _shown(new.get(key))))
    return found


def _flatten(settings: Mapping, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in settings.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _label(key: str) -> str:
    if key.startswith("blueprint.topics."):
        return f"Questions on {key.removeprefix('blueprint.topics.')}"
    return LABELS.get(key, key.replace("_", " ").replace(".", ": ").capitalize())


def _shown(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("_", " ")


def coverage_note(exam: Exam) -> str | None:
    """For an exam on the Angoff method, how many of its pool's questions have enough
    ratings (forms drawing any other question use the fixed mark); else None."""
    view = settings_view(exam.id)
    if view.rules.pass_mark_method != "angoff":
        return None
    return (f"{view.rated} of {view.pool_size} questions this exam draws from have at"
            f" least {view.rules.angoff_min_ratings} Angoff ratings; a form with any other"
            f" question is held to the fixed mark of {view.rules.pass_mark_percent}%.")
