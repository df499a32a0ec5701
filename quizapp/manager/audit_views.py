"""The audit trail, for admins only: who changed what and when, newest first, filtered
by kind, by who did it, by subject and by dates. Read-only: the page has a filter form
(GET) and nothing else; no route of the app changes or deletes an audit event
(tests/test_audit_trail.py checks both)."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SearchField, SelectField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from quizapp import audit
from quizapp.manager import bp
from quizapp.manager.report_filter import DATE_MESSAGE
from quizapp.validators import clean_text, printable


class TrailFilterForm(FlaskForm):
    """Read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    kind = SelectField("Kind", validate_choice=False, default="")
    actor = SearchField("Who (name or email; “nobody” for the system)",
                        validators=[Optional(), Length(max=254), printable],
                        filters=[clean_text])
    subject = SearchField("About (user:12, or attempt: for every attempt)",
                          validators=[Optional(), Length(max=100), printable],
                          filters=[clean_text])
    since = DateField("From", validators=[Optional()], format="%Y-%m-%d")
    until = DateField("To (included)", validators=[Optional()], format="%Y-%m-%d")
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=10**6)])

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end date is before the start date.")

    def query(self) -> audit.TrailQuery:
        return audit.TrailQuery(kind=(self.kind.data or "")[:40], actor=self.actor.data or "",
                                subject=self.subject.data or "", since=self.since.data,
                                until=self.until.data)

    def args(self) -> dict:
        """The filter as query arguments (for the pager's links), without empty ones."""
        values = {"kind": self.kind.data, "actor": self.actor.data,
                  "subject": self.subject.data,
                  "since": self.since.data.isoformat() if self.since.data else None,
                  "until": self.until.data.isoformat() if self.until.data else None}
        return {key: value for key, value in values.items() if value}


@bp.get("/audit", endpoint="audit")
def audit_trail():
    if not current_user.has_role("admin"):
        abort(403)
    form = TrailFilterForm(formdata=request.args)
    valid = form.validate()
    for date_field in (form.since, form.until):
        date_field.errors = [DATE_MESSAGE if e == "Not a valid date value." else e
                             for e in date_field.errors]
    # A filter with a mistake shows the whole trail, with the form saying what is wrong.
    query = form.query() if valid else audit.TrailQuery()
    trail = audit.search(query, (form.page.data or 1) if valid else 1)
    form.kind.choices = [("", "All kinds")] + [(kind, kind) for kind in trail.kinds]
    return render_template("manager/audit.html", form=form, trail=trail,
                           args=form.args() if valid else {}), 200 if valid else 400
