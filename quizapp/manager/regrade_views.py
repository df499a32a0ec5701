"""Regrading after a key correction, and the decisions it leaves to a manager."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from quizapp import regrade
from quizapp.extensions import db
from quizapp.manager import bp
from quizapp.models import utcnow
from quizapp.validators import clean_text

# The trainee's result page shows the regrades of an attempt; its view is not ours
# to change, so the template asks for them through this global.
bp.add_app_template_global(regrade.notes, "regrade_notes")


class ApplyForm(FlaskForm):
    # The attempts the preview showed, so a list that changed since is refused.
    attempts = HiddenField(validators=[Optional(), Regexp(r"^\d+(,\d+)*$")])

    def attempt_ids(self) -> list[int]:
        return [int(n) for n in self.attempts.data.split(",")] if self.attempts.data else []


class DecisionForm(FlaskForm):
    decision = RadioField("Decision", choices=[
        SelectChoice("keep", "Keep the certificate"),
        SelectChoice("revoke", "Revoke the certificate")],
        validators=[DataRequired("Choose whether to keep or revoke the certificate.")])
    reason = TextAreaField("Reason (required to revoke; shown on the verification page)",
                           validators=[Length(max=2000)], filters=[clean_text])

    def validate_reason(self, field):
        if self.decision.data == "revoke" and not field.data:
            raise ValidationError("Give the reason for revoking the certificate.")


def _render_list(status: int = 200, posted: tuple[int, DecisionForm] | None = None):
    """The list page; `posted` is a decision form sent with errors, shown with them."""
    flagged = regrade.awaiting_decision()
    forms = {a.id: DecisionForm(prefix=f"a{a.id}", formdata=None) for a in flagged}
    if posted is not None:
        forms[posted[0]] = posted[1]
    return render_template("manager/regrades.html", candidates=regrade.candidates(),
                           flagged=flagged, forms=forms), status


@bp.get("/regrades")
def regrades():
    return _render_list()


def _render_preview(question_id: str, version: int, status: int = 200):
    """The preview as it stands now, its form carrying the attempts it lists."""
    try:
        shown = regrade.preview(question_id, version)
    except regrade.NotFound as error:
        abort(404, str(error))
    form = ApplyForm(formdata=None, attempts=",".join(str(n) for n in shown.attempt_ids))
    return render_template("manager/regrade.html", preview=shown, form=form), status


@bp.get("/regrades/<question_id>/<int:version>")
def regrade_preview(question_id: str, version: int):
    return _render_preview(question_id, version)


@bp.post("/regrades/<question_id>/<int:version>")
def regrade_apply(question_id: str, version: int):
    form = ApplyForm()
    ids = form.attempt_ids() if form.validate_on_submit() else None
    try:
        summary = regrade.apply(question_id, version, current_user, ids, utcnow())
    except regrade.NotFound as error:
        abort(404, str(error))
    except regrade.RegradeError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _render_preview(question_id, version, error.status)
    flash(str(summary), "success" if summary.changed else "warning")
    return redirect(url_for("manager.regrades"))


@bp.post("/regrades/attempts/<int:attempt_id>/decision")
def regrade_decision(attempt_id: int):
    form = DecisionForm(prefix=f"a{attempt_id}")
    valid = form.validate_on_submit()
    try:
        if not valid:
            regrade.flagged_attempt(attempt_id)
            return _render_list(400, posted=(attempt_id, form))
        attempt = regrade.decide(attempt_id, current_user, form.decision.data == "revoke",
                                 form.reason.data, utcnow())
    except regrade.NotFound as error:
        abort(404, str(error))
    except regrade.RegradeError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _render_list(error.status)
    verb = "revoked" if form.decision.data == "revoke" else "kept"
    flash(f"{attempt.user.name}'s certificate is {verb}.", "success")
    return redirect(url_for("manager.regrades"))
