"""Certificates for managers: the list by status and cohort, suspension, reinstatement
and revocation with a reason category, name corrections, a cohort's PDFs as one ZIP.

A manager sees the certificates of the trainees of their cohorts (an admin: all); any
other certificate, cohort or request is not found (404).
"""

from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from quizapp import audit, certs, cohorts
from quizapp.extensions import db
from quizapp.manager import bp
from quizapp.models import Certificate, utcnow
from quizapp.validators import clean_text

PER_PAGE = 25
STATUS_CHOICES = [SelectChoice("", "Any status")] + [
    SelectChoice(k, v) for k, v in certs.STATUS_LABELS.items()]
CATEGORY_CHOICES = [SelectChoice("", "Choose a reason")] + [
    SelectChoice(k, v) for k, v in certs.REASON_CATEGORIES.items()]


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    status = SelectField("Status", choices=STATUS_CHOICES, default="",
                         validators=[Optional()])
    cohort = SelectField("Cohort", coerce=lambda v: int(v) if v else None,
                         validators=[Optional()], validate_choice=False)
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(min=1)])


class ReasonForm(FlaskForm):
    category = SelectField("Reason category (shown on the verification page)",
                           choices=CATEGORY_CHOICES,
                           validators=[DataRequired("Choose a reason category.")])
    note = TextAreaField("Note (kept in the audit trail, not shown publicly)",
                         validators=[Length(max=2000)], filters=[clean_text])


class RevokeForm(ReasonForm):
    # Revoking cannot be undone (a suspension can): the manager says so in so many words.
    confirm = BooleanField("I understand that revoking cannot be undone",
                           validators=[DataRequired("Tick the box to confirm: revoking"
                                                    " cannot be undone.")])


class NoteForm(FlaskForm):
    note = TextAreaField("Note (kept in the audit trail)", validators=[Length(max=2000)],
                         filters=[clean_text])


class DecisionForm(FlaskForm):
    decision = RadioField("Decision", choices=[
        SelectChoice("approve", "Approve: reissue with this name"),
        SelectChoice("decline", "Decline")],
        validators=[DataRequired("Choose to approve or decline.")])
    note = TextAreaField("Note (kept in the audit trail)", validators=[Length(max=2000)],
                         filters=[clean_text])


def _filters() -> tuple[FilterForm, str | None, int | None]:
    """The list's filters from the query string; a cohort the viewer does not see is
    not found."""
    form = FilterForm(request.args)
    form.cohort.choices = [SelectChoice("", "All my cohorts")] + [
        SelectChoice(str(cid), name) for cid, name in cohorts.cohort_choices(current_user)]
    if not form.validate():
        abort(400, "The filters could not be read: " + "; ".join(
            f"{form[name].label.text}: {' '.join(errors)}" for name, errors in form.errors.items()))
    cohort_id = form.cohort.data
    if cohort_id is not None and cohorts.cohort_for(current_user, cohort_id) is None:
        abort(404)
    return form, form.status.data or None, cohort_id


@bp.get("/certificates")
def certificates():
    """The certificates of the trainees the manager sees, newest first, by page."""
    form, status, cohort_id = _filters()
    now = utcnow()
    listing = db.paginate(certs.listing(current_user, now, status, cohort_id),
                          page=form.page.data or 1, per_page=PER_PAGE, error_out=False)
    args = {k: v for k, v in (("status", status), ("cohort", cohort_id)) if v}
    return render_template("manager/certificates.html", form=form, listing=listing,
                           now=now, args=args, labels=certs.STATUS_LABELS,
                           display_code=certs.display_code,
                           pending=len(certs.pending_corrections(current_user)))


@bp.get("/certificates.zip")
def certificates_zip():
    """The PDFs of the listed certificates (same filters) as one ZIP, streamed."""
    _form, status, cohort_id = _filters()
    found = list(db.session.scalars(certs.listing(current_user, utcnow(), status, cohort_id)))
    return Response(stream_with_context(certs.zip_stream(found)), mimetype="application/zip",
                    headers={"Content-Disposition": 'attachment; filename="certificates.zip"'})


def _visible(certificate_id: int) -> Certificate:
    certificate = certs.visible(current_user, certificate_id)
    if certificate is None:
        abort(404)
    return certificate


def _detail(certificate: Certificate, forms: dict | None = None, status: int = 200):
    forms = {"suspend": ReasonForm(prefix="suspend", formdata=None),
             "revoke": RevokeForm(prefix="revoke", formdata=None),
             "reinstate": NoteForm(prefix="reinstate", formdata=None), **(forms or {})}
    now = utcnow()
    return render_template(
        "manager/certificate.html", certificate=certificate, now=now,
        status=certificate.status(now), labels=certs.STATUS_LABELS,
        reasons=certs.REASON_CATEGORIES, display_code=certs.display_code, forms=forms,
        trail=audit.trail(audit.subject("certificate", certificate.id)),
        verify_url=certs.verify_url(certificate),
    ), status


@bp.get("/certificates/<int:certificate_id>")
def certificate(certificate_id: int):
    return _detail(_visible(certificate_id))


def _act(certificate_id: int, action: str, form, apply, done: str):
    """Validate the action's form, apply it, commit, and come back to the page."""
    certificate = _visible(certificate_id)
    if not form.validate_on_submit():
        return _detail(certificate, {action: form}, 400)
    try:
        apply(certificate, form)
    except certs.CertificateError as error:
        flash(str(error), "error")
        return _detail(certificate, {action: form}, error.status)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("manager.certificate", certificate_id=certificate.id))


@bp.post("/certificates/<int:certificate_id>/suspend")
def suspend_certificate(certificate_id: int):
    return _act(certificate_id, "suspend", ReasonForm(prefix="suspend"),
                lambda c, f: certs.suspend(c, current_user, f.category.data, f.note.data or "",
                                           utcnow()),
                "The certificate is suspended; the verification page says so now.")


@bp.post("/certificates/<int:certificate_id>/reinstate")
def reinstate_certificate(certificate_id: int):
    return _act(certificate_id, "reinstate", NoteForm(prefix="reinstate"),
                lambda c, f: certs.reinstate(c, current_user, f.note.data or "", utcnow()),
                "The suspension is lifted.")


@bp.post("/certificates/<int:certificate_id>/revoke")
def revoke_certificate(certificate_id: int):
    return _act(certificate_id, "revoke", RevokeForm(prefix="revoke"),
                lambda c, f: certs.revoke(c, current_user, f.category.data, f.note.data or "",
                                          utcnow()),
                "The certificate is revoked; the verification page says so now.")


def _corrections_page(posted: tuple[int, DecisionForm] | None = None, status: int = 200):
    pending = certs.pending_corrections(current_user)
    forms = {c.id: DecisionForm(prefix=f"c{c.id}", formdata=None) for c in pending}
    if posted is not None:
        forms[posted[0]] = posted[1]
    return render_template("manager/name_corrections.html", pending=pending, forms=forms,
                           display_code=certs.display_code), status


@bp.get("/name-corrections")
def name_corrections():
    """Holders' requests to correct the name printed on their certificate."""
    return _corrections_page()


@bp.post("/name-corrections/<int:correction_id>")
def decide_name_correction(correction_id: int):
    correction = certs.visible_correction(current_user, correction_id)
    if correction is None:
        abort(404)
    form = DecisionForm(prefix=f"c{correction.id}")
    if not form.validate_on_submit():
        return _corrections_page((correction.id, form), 400)
    try:
        new = certs.decide_name_correction(correction, current_user,
                                           form.decision.data == "approve",
                                           form.note.data or "", utcnow())
    except certs.CertificateError as error:
        flash(str(error), "error")
        return _corrections_page(status=error.status)
    db.session.commit()
    if new is None:
        flash("The request is declined.", "success")
    else:
        flash(f"Reissued as {certs.display_code(new.code)} with the name {new.holder_name};"
              " the old certificate is superseded.", "success")
    return redirect(url_for("manager.name_corrections"))
