"""The filter every manager report takes (cohort, exam, dates), read from a query
string. Bad input is reported on the form and the report shown unfiltered; a cohort
or exam that does not exist for the viewer is the service's 404, not the form's."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from quizapp.cohorts import ReportFilter

FILTER_ARGS = ("cohort", "exam", "since", "until")
DATE_MESSAGE = "Enter a date as year-month-day, for example 2026-11-01."


def _cohort_id(value):
    if value in (None, "", "all"):
        return None
    return int(value)


def _exam_id(value):
    return value or None


class ReportFilterForm(FlaskForm):
    """Sent by GET: no CSRF token (it changes nothing), no prefix."""

    class Meta:
        csrf = False

    # Choices are the cohorts and exams the viewer sees, set after the report is made;
    # an unknown id is the report's 404, so the fields do not check their choices.
    cohort = SelectField("Cohort", coerce=_cohort_id, validate_choice=False)
    exam = SelectField("Exam", coerce=_exam_id, validate_choice=False)
    since = DateField("From", validators=[Optional()], format="%Y-%m-%d")
    until = DateField("To (included)", validators=[Optional()], format="%Y-%m-%d")

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end date is before the start date.")

    def set_choices(self, cohorts, exams) -> None:
        self.cohort.choices = [("", "All my cohorts")] + [(str(i), n) for i, n in cohorts]
        self.exam.choices = [("", "All exams")] + [(i, t) for i, t in exams]

    def args(self) -> dict:
        """The filter as query arguments (for export links), without empty ones."""
        values = {"cohort": self.cohort.data, "exam": self.exam.data,
                  "since": self.since.data, "until": self.until.data}
        return {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in values.items() if v is not None}


def read_filter(args) -> tuple[ReportFilterForm, ReportFilter]:
    """The form as sent and the filter it gives: nothing filtered if any of it is
    wrong (the form then carries the messages)."""
    form = ReportFilterForm(formdata=args if any(k in args for k in FILTER_ARGS) else None)
    if not form.validate():
        for date_field in (form.since, form.until):
            date_field.errors = [DATE_MESSAGE if e == "Not a valid date value." else e
                                 for e in date_field.errors]
        return form, ReportFilter()
    return form, ReportFilter(cohort_id=form.cohort.data, exam_id=form.exam.data,
                              since=form.since.data, until=form.until.data)
