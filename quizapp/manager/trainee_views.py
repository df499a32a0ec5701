"""The trainees a manager sees: the list, one trainee's record, an attempt's transcript.

A trainee or attempt that does not exist and one in a cohort the viewer does not
manage get the same 404, so the pages never confirm that someone exists.
"""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from quizapp import cohorts, transcripts
from quizapp.manager import bp
from quizapp.models import utcnow


class TraineeFilterForm(FlaskForm):
    """The list's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    # Any value is taken here; the service answers 404 for a cohort the viewer does
    # not see, as it does for one that does not exist.
    cohort = SelectField("Cohort", validate_choice=False, default="")
    q = SearchField("Name or email",
                    validators=[Optional(), Length(max=transcripts.SEARCH_MAX)])
    status = SelectField("Certification", choices=[
        SelectChoice(value, label) for value, label in transcripts.STATUS_FILTERS.items()],
        default="")

    def offer(self, cohorts) -> TraineeFilterForm:
        self.cohort.choices = [SelectChoice("", "All cohorts")] + [
            SelectChoice(str(cohort_id), name) for cohort_id, name in cohorts]
        return self

    def query(self) -> transcripts.TraineeQuery:
        raw = (self.cohort.data or "").strip()
        if raw and not raw.isdigit():
            abort(404)
        return transcripts.TraineeQuery(
            cohort_id=int(raw) if raw else None,
            text=(self.q.data or "").strip(),
            status=self.status.data or "",
        )


def _page_number() -> int:
    """The `page` query argument; anything but a whole number means the first page
    (the service brings a number past the end back to the last page)."""
    return request.args.get("page", 1, type=int)


@bp.get("/trainees")
def trainees():
    form = TraineeFilterForm(formdata=request.args)
    if not form.validate():
        form.offer(cohorts.cohort_choices(current_user))
        return render_template("manager/trainees.html", form=form, listing=None, args={},
                               expiring_days=transcripts.EXPIRING_DAYS), 400
    try:
        listing = transcripts.trainee_list(current_user, form.query(), _page_number(), utcnow())
    except transcripts.NotFound:
        abort(404)
    except transcripts.TranscriptError as error:
        abort(error.status, str(error))
    form.offer(listing.cohorts)
    args = {name: request.args[name] for name in ("cohort", "q", "status")
            if request.args.get(name)}
    return render_template("manager/trainees.html", form=form, listing=listing, args=args,
                           expiring_days=transcripts.EXPIRING_DAYS)


@bp.get("/trainees/<int:user_id>")
def trainee(user_id: int):
    detail = transcripts.trainee_detail(current_user, user_id, utcnow(), _page_number())
    if detail is None:
        abort(404)
    return render_template("manager/trainee.html", detail=detail,
                           expiring_days=transcripts.EXPIRING_DAYS)


@bp.get("/attempts/<int:attempt_id>")
def transcript(attempt_id: int):
    shown = transcripts.transcript(current_user, attempt_id, utcnow())
    if shown is None:
        abort(404)
    return render_template("manager/transcript.html", t=shown)
