"""Who sees whom: cohorts of trainees and the managers who see them.

A manager sees the trainees of the cohorts they manage, and nobody else; an admin
sees every trainee. Every report takes a `ReportFilter` and narrows its attempts with
`visible_trainee_ids`, so this module is the one place that rule lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, select

from quizapp.models import CohortManager, CohortMember, User, UserRole


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
        if self.until is None:
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
    managed = select(CohortManager.cohort_id).where(CohortManager.user_id == viewer.id)
    query = select(CohortMember.user_id).where(CohortMember.cohort_id.in_(managed))
    if cohort_id is not None:
        query = query.where(CohortMember.cohort_id == cohort_id)
    return query.distinct()
