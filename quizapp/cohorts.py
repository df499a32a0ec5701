"""Who sees whom: cohorts of trainees and the managers who see them.

A manager sees the trainees of the cohorts they manage, and nobody else; an admin
sees every trainee. Every report takes a `ReportFilter` and narrows its attempts with
`visible_trainee_ids`, so this module is the one place that rule lives. Below them:
making cohorts and changing who is in them and who manages them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, delete, func, or_, select

from quizapp import audit
from quizapp.errors import ServiceError
from quizapp.extensions import db
from quizapp.models import Cohort, CohortManager, CohortMember, User, UserRole


@dataclass(frozen=True)
class ReportFilter:
    """What a report covers: one cohort (None: every cohort the viewer sees), one exam
    (None: all) and a date range of finished attempts, both ends included."""

    cohort_id: int | None = None
    exam_id: str | None = None
    since: date | None = None
    until: date | None = None

    @property
    def starts(self) -> datetime | None:
        return None if self.since is None else datetime.combine(self.since, time(), UTC)

    @property
    def ends(self) -> datetime | None:
        """The first moment after the range (exclusive bound for SQL)."""
        if self.until is None or self.until == date.max:  # the last day has no after
            return None
        return datetime.combine(self.until + timedelta(days=1), time(), UTC)


def sees_everyone(viewer: User) -> bool:
    return viewer.has_role("admin")


def visible_trainee_ids(viewer: User, cohort_id: int | None = None) -> Select:
    """A subquery of the ids of the trainees `viewer` may see, in one cohort or in all
    of theirs. A cohort the viewer does not manage gives no one (callers turn an
    unknown or foreign cohort into a 404 before they get here)."""
    if sees_everyone(viewer):
        if cohort_id is None:
            return select(UserRole.user_id).where(UserRole.role == "trainee")
        return select(CohortMember.user_id).where(CohortMember.cohort_id == cohort_id)
    query = select(CohortMember.user_id).where(
        CohortMember.cohort_id.in_(managed_cohort_ids(viewer)))
    if cohort_id is not None:
        query = query.where(CohortMember.cohort_id == cohort_id)
    return query.distinct()


# --- Managing cohorts -------------------------------------------------------------
# Reading is above: who sees whom. Below: making cohorts and changing who is in them,
# each change recorded in the audit trail (under the person it changes, so a
# trainee's page shows when they joined or left a cohort).


class CohortError(ServiceError):
    """A refused change to a cohort; the message is for the manager."""

    status = 400


# Ids come from URLs and forms; one past a 64-bit integer would fail in the driver.
LARGEST_ID = 2**63 - 1


def _real_ids(ids) -> set[int]:
    return {n for n in ids if 0 < n <= LARGEST_ID}


@dataclass(frozen=True)
class Person:
    """Someone as a cohort page lists them."""

    id: int
    name: str
    email: str


@dataclass(frozen=True)
class CohortSummary:
    cohort: Cohort
    members: int
    managers: tuple[str, ...]


@dataclass(frozen=True)
class CohortPage:
    """One cohort with its people, and who may still be added to it."""

    cohort: Cohort
    members: list[Person]
    managers: list[Person]
    addable_trainees: list[Person]
    addable_managers: list[Person]


def managed_cohort_ids(viewer: User) -> Select:
    """A subquery of the ids of the cohorts `viewer` manages."""
    return select(CohortManager.cohort_id).where(CohortManager.user_id == viewer.id)


def _visible_cohorts(viewer: User) -> Select:
    query = select(Cohort.id)
    if not sees_everyone(viewer):
        query = query.where(Cohort.id.in_(managed_cohort_ids(viewer)))
    return query


def cohort_for(viewer: User, cohort_id: int | None) -> Cohort | None:
    """The cohort, if `viewer` may see it (an admin: any; a manager: the ones they
    manage); None for an unknown cohort and for someone else's alike."""
    if cohort_id is None or not _real_ids([cohort_id]):
        return None
    return db.session.scalar(
        select(Cohort).where(Cohort.id == cohort_id, Cohort.id.in_(_visible_cohorts(viewer)))
    )


def cohort_choices(viewer: User) -> list[tuple[int, str]]:
    """(id, name) of the cohorts `viewer` sees, by name: a report filter's choices."""
    return [tuple(row) for row in db.session.execute(
        select(Cohort.id, Cohort.name).where(Cohort.id.in_(_visible_cohorts(viewer)))
        .order_by(Cohort.name)
    )]


def visible_cohorts(viewer: User) -> list[CohortSummary]:
    """The cohorts `viewer` sees, by name, with their member counts (one grouped
    query) and their managers' names (one more)."""
    counts = (select(CohortMember.cohort_id, func.count().label("members"))
              .group_by(CohortMember.cohort_id).subquery())
    rows = db.session.execute(
        select(Cohort, func.coalesce(counts.c.members, 0))
        .outerjoin(counts, counts.c.cohort_id == Cohort.id)
        .where(Cohort.id.in_(_visible_cohorts(viewer)))
        .order_by(Cohort.name)
    ).all()
    names: dict[int, list[str]] = {}
    if rows:
        for cohort_id, name in db.session.execute(
            select(CohortManager.cohort_id, User.name)
            .join(User, User.id == CohortManager.user_id)
            .where(CohortManager.cohort_id.in_([cohort.id for cohort, _ in rows]))
            .order_by(User.name)
        ):
            names.setdefault(cohort_id, []).append(name)
    return [CohortSummary(cohort, members, tuple(names.get(cohort.id, ())))
            for cohort, members in rows]


def _people(query: Select) -> list[Person]:
    return [Person(*row) for row in db.session.execute(query.order_by(User.name, User.id))]


def _people_columns() -> Select:
    return select(User.id, User.name, User.email)


def _trainees() -> Select:
    return select(UserRole.user_id).where(UserRole.role == "trainee")


def _managers() -> Select:
    return select(UserRole.user_id).where(UserRole.role == "manager")


def _addable_trainees(viewer: User, cohort: Cohort) -> Select:
    """Trainees `viewer` may add to `cohort`: an admin, any trainee; a manager, a
    trainee in no cohort yet or in one they manage (never one another manager looks
    after: that trainee is not theirs to see)."""
    query = _people_columns().where(
        User.active,
        User.id.in_(_trainees()),
        User.id.not_in(select(CohortMember.user_id).where(CohortMember.cohort_id == cohort.id)),
    )
    if not sees_everyone(viewer):
        query = query.where(or_(User.id.not_in(select(CohortMember.user_id)),
                                User.id.in_(visible_trainee_ids(viewer))))
    return query


def _addable_managers(cohort: Cohort) -> Select:
    return _people_columns().where(
        User.active,
        User.id.in_(_managers()),
        User.id.not_in(select(CohortManager.user_id)
                       .where(CohortManager.cohort_id == cohort.id)),
    )


def cohort_page(viewer: User, cohort_id: int) -> CohortPage | None:
    """The cohort's members and managers and who may join it; None when `viewer`
    does not see it. Five queries, however large the cohort."""
    cohort = cohort_for(viewer, cohort_id)
    if cohort is None:
        return None
    members = _people(_people_columns().join(CohortMember, CohortMember.user_id == User.id)
                      .where(CohortMember.cohort_id == cohort.id))
    managers = _people(_people_columns().join(CohortManager, CohortManager.user_id == User.id)
                       .where(CohortManager.cohort_id == cohort.id))
    return CohortPage(cohort, members, managers,
                      _people(_addable_trainees(viewer, cohort)),
                      _people(_addable_managers(cohort)))


def _check_name(name: str, cohort: Cohort | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise CohortError("Give the cohort a name.")
    if len(name) > 120:
        raise CohortError("A cohort's name has at most 120 characters.")
    taken = select(Cohort.id).where(func.lower(Cohort.name) == name.lower())
    if cohort is not None:
        taken = taken.where(Cohort.id != cohort.id)
    if db.session.scalar(taken) is not None:
        raise CohortError(f"There is already a cohort called {name}.")
    return name


def _cohort_subject(cohort: Cohort) -> str:
    return audit.subject("cohort", cohort.id)


def create_cohort(actor: User, name: str, description: str = "") -> Cohort:
    """A new cohort. A manager who makes it manages it (otherwise they could not see
    it); an admin sees every cohort and is added only if they are a manager too."""
    cohort = Cohort(name=_check_name(name), description=description or "")
    db.session.add(cohort)
    db.session.flush()
    if actor.has_role("manager"):
        db.session.add(CohortManager(cohort_id=cohort.id, user_id=actor.id))
    audit.record(actor, _cohort_subject(cohort), "cohort.created",
                 f"Created the cohort {cohort.name}.",
                 {"name": cohort.name, "description": cohort.description})
    return cohort


def update_cohort(actor: User, cohort: Cohort, name: str, description: str) -> bool:
    """Rename or describe a cohort; say whether anything changed."""
    name = _check_name(name, cohort)
    description = description or ""
    if (name, description) == (cohort.name, cohort.description):
        return False
    before = {"name": cohort.name, "description": cohort.description}
    cohort.name, cohort.description = name, description
    audit.record(actor, _cohort_subject(cohort), "cohort.changed",
                 f"Cohort {before['name']} is now {name}." if name != before["name"]
                 else f"Changed the description of {name}.",
                 {"before": before, "after": {"name": name, "description": description}})
    return True


def add_members(actor: User, cohort: Cohort, user_ids) -> list[Person]:
    """Add trainees to the cohort; return those added (ones already in it are left
    as they are). Refused as a whole if one of them is not a trainee (400) or is a
    trainee `actor` may not see (404, as if there were no such person)."""
    asked = set(user_ids)
    if asked - _real_ids(asked):
        raise CohortError("There is no such trainee to add.", status=404)
    wanted = asked - set(db.session.scalars(
        select(CohortMember.user_id).where(CohortMember.cohort_id == cohort.id)))
    if not wanted:
        return []
    addable = {person.id: person for person in _people(
        _addable_trainees(actor, cohort).where(User.id.in_(wanted)))}
    refused = wanted - set(addable)
    if refused:
        trainees = set(db.session.scalars(_trainees().where(UserRole.user_id.in_(refused))))
        if refused - trainees:
            raise CohortError("Only trainees can be members of a cohort.")
        raise CohortError("There is no such trainee to add.", status=404)
    added = sorted(addable.values(), key=lambda p: (p.name, p.id))
    for person in added:
        db.session.add(CohortMember(cohort_id=cohort.id, user_id=person.id))
        audit.record(actor, audit.subject("user", person.id), "cohort.joined",
                     f"Added to the cohort {cohort.name}.", {"cohort_id": cohort.id})
    return added


def _person_in(table, cohort: Cohort, user_id: int) -> Person | None:
    if not _real_ids([user_id]):
        return None
    row = db.session.execute(
        _people_columns().join(table, table.user_id == User.id)
        .where(table.cohort_id == cohort.id, table.user_id == user_id)
    ).first()
    return None if row is None else Person(*row)


def remove_member(actor: User, cohort: Cohort, user_id: int) -> Person:
    """Take a trainee out of the cohort (their attempts and certificates stay)."""
    person = _person_in(CohortMember, cohort, user_id)
    if person is None:
        raise CohortError("That trainee is not in this cohort.", status=404)
    db.session.execute(delete(CohortMember).where(CohortMember.cohort_id == cohort.id,
                                                  CohortMember.user_id == user_id))
    audit.record(actor, audit.subject("user", user_id), "cohort.left",
                 f"Removed from the cohort {cohort.name}.", {"cohort_id": cohort.id})
    return person


def add_manager(actor: User, cohort: Cohort, user_id: int) -> Person:
    """Let a manager see the cohort."""
    row = None if not _real_ids([user_id]) else db.session.execute(
        _addable_managers(cohort).where(User.id == user_id)).first()
    if row is None:
        if _person_in(CohortManager, cohort, user_id) is not None:
            raise CohortError("That manager already manages this cohort.")
        raise CohortError("Only an active account with the manager role can manage a cohort.")
    person = Person(*row)
    db.session.add(CohortManager(cohort_id=cohort.id, user_id=person.id))
    audit.record(actor, audit.subject("user", person.id), "cohort.manager_added",
                 f"Now manages the cohort {cohort.name}.", {"cohort_id": cohort.id})
    return person


def remove_manager(actor: User, cohort: Cohort, user_id: int) -> Person:
    """Stop a manager seeing the cohort. A manager may leave a cohort another manager
    still looks after, not one they alone manage (nobody but admins would see it)."""
    person = _person_in(CohortManager, cohort, user_id)
    if person is None:
        raise CohortError("That person does not manage this cohort.", status=404)
    if user_id == actor.id and not sees_everyone(actor):
        others = db.session.scalar(
            select(func.count()).select_from(CohortManager)
            .where(CohortManager.cohort_id == cohort.id, CohortManager.user_id != actor.id))
        if not others:
            raise CohortError("You are this cohort's only manager: add another manager"
                              " before you leave it.")
    db.session.execute(delete(CohortManager).where(CohortManager.cohort_id == cohort.id,
                                                   CohortManager.user_id == user_id))
    audit.record(actor, audit.subject("user", user_id), "cohort.manager_removed",
                 f"No longer manages the cohort {cohort.name}.", {"cohort_id": cohort.id})
    return person
