"""Exam settings: the list of exams, the settings form (each save is a new version of
the exam) and the version history. The rules are checked by `quizapp.exam_settings`;
these views read the form and show what it says."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from quizapp import exam_rules, exam_settings
from quizapp.extensions import db
from quizapp.manager import bp
from quizapp.models import utcnow
from quizapp.validators import clean_text, printable

MOMENTS = [SelectChoice("after_finish", "When the attempt is finished"),
           SelectChoice("after_pass", "Only after a pass"),
           SelectChoice("never", "Never")]
WHOLE = {"inputmode": "numeric", "min": 0}


def _whole(label: str) -> IntegerField:
    # Empty reads as None; whether a setting may be empty, and its range, is the
    # rules' call (`exam_rules.parse_exam`), so no range is checked here.
    return IntegerField(label, validators=[Optional()], render_kw=WHOLE)


class SettingsForm(FlaskForm):
    time_limit_minutes = _whole("Time limit, in minutes (empty: untimed)")
    pass_mark_method = RadioField("How the pass mark is set", validate_choice=False, choices=[
        SelectChoice("fixed", "A fixed percentage"),
        SelectChoice("angoff", "Modified Angoff: each form's mark from the trainers' ratings"
                               " of its questions")])
    pass_mark_percent = _whole("Fixed pass mark, in % (with Angoff: the mark of a form whose"
                               " questions lack ratings)")
    angoff_min_ratings = _whole("Angoff ratings a question needs")
    attempts_allowed = _whole("Attempts allowed (empty: no limit)")
    retake_wait_minutes = _whole("Wait between attempts, in minutes (1440 is a day)")
    correct_answers = SelectField("Correct answers are shown", choices=MOMENTS,
                                  validate_choice=False)
    explanations = SelectField("Explanations are shown", choices=MOMENTS,
                               validate_choice=False)
    certificate_validity_months = _whole("Certificate valid for, in months (empty: no"
                                         " expiry)")
    recertify_window_days = _whole("Recertification opens this many days before expiry")
    certificate_scope = TextAreaField(
        f"What the holder is certified to do (printed on the certificate; at most"
        f" {exam_rules.SCOPE_LIMIT} characters)", validators=[printable],
        filters=[clean_text])
    min_safety_critical = _whole("Safety-critical questions on each form, at least")
    min_risk_categories = _whole("Risk categories among them, at least")
    note = TextAreaField("What changed and why (kept with the version)", filters=[clean_text])

    topic_ids: list[str] = []

    def to_updates(self) -> dict:
        """The settings in their file form; a topic counted 0 or left empty is not in
        the blueprint."""
        counts = {t: self[topic_field(t)].data for t in self.topic_ids}
        return {
            "time_limit_minutes": self.time_limit_minutes.data,
            "pass_mark_method": self.pass_mark_method.data,
            "pass_mark_percent": self.pass_mark_percent.data,
            "angoff_min_ratings": self.angoff_min_ratings.data,
            "attempts_allowed": self.attempts_allowed.data,
            "retake_wait_minutes": self.retake_wait_minutes.data,
            "certificate_validity_months": self.certificate_validity_months.data,
            "recertify_window_days": self.recertify_window_days.data,
            "certificate_scope": self.certificate_scope.data or "",
            "review": {"correct_answers": self.correct_answers.data,
                       "explanations": self.explanations.data},
            "blueprint": {
                "min_safety_critical": self.min_safety_critical.data,
                "min_risk_categories": self.min_risk_categories.data,
                "topics": {t: n for t, n in counts.items() if n not in (None, 0)},
            },
        }


def topic_field(topic_id: str) -> str:
    return f"topic-{topic_id}"


def _settings_form(view: exam_settings.SettingsView) -> SettingsForm:
    """The form with one count per topic, filled with the exam's current settings (a
    setting a post leaves out keeps its current value)."""

    class ExamSettingsForm(SettingsForm):
        topic_ids = [topic.id for topic, _ in view.topics]

    for topic, published in view.topics:
        setattr(ExamSettingsForm, topic_field(topic.id), _whole(
            f"{topic.name} ({published} published)"))
    rules = view.rules
    data = {
        "time_limit_minutes": None if rules.time_limit is None
        else int(rules.time_limit.total_seconds() // 60),
        "pass_mark_method": rules.pass_mark_method,
        "pass_mark_percent": rules.pass_mark_percent,
        "angoff_min_ratings": rules.angoff_min_ratings,
        "attempts_allowed": rules.attempts_allowed,
        "retake_wait_minutes": int(rules.retake_wait.total_seconds() // 60),
        "correct_answers": rules.review.correct_answers,
        "explanations": rules.review.explanations,
        "certificate_validity_months": rules.certificate_validity_months,
        "recertify_window_days": rules.recertify_window_days,
        "certificate_scope": rules.certificate_scope,
        "min_safety_critical": rules.blueprint.min_safety_critical,
        "min_risk_categories": rules.blueprint.min_risk_categories,
        **{topic_field(t.id): rules.blueprint.topics.get(t.id, 0) for t, _ in view.topics},
    }
    return ExamSettingsForm(data=data)


def _place(form: SettingsForm, message: str) -> bool:
    """Put a refusal beside the field it names ('pass_mark_percent', or a topic id in
    quotes); say whether one was found."""
    for field in form:
        key = field.name.removeprefix("topic-")
        if field.name != "csrf_token" and f"'{key}'" in message:
            field.errors = [*field.errors, message]
            return True
    return False


def _view(exam_id: str) -> exam_settings.SettingsView:
    try:
        return exam_settings.settings_view(exam_id)
    except exam_settings.NotFound as error:
        abort(404, str(error))


@bp.get("/exams")
def exams():
    return render_template("manager/exams.html", rows=exam_settings.overview())


@bp.route("/exams/<exam_id>/settings", methods=["GET", "POST"], endpoint="exam_settings")
def settings_page(exam_id: str):
    view = _view(exam_id)
    form = _settings_form(view)
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            problems.append("Some settings could not be read: see the fields marked below.")
            status = 400
        else:
            try:
                saved = exam_settings.save_settings(exam_id, form.to_updates(), current_user,
                                                    form.note.data, utcnow())
            except exam_settings.SettingsError as error:
                db.session.rollback()
                if error.status == 404:
                    abort(404, str(error))
                if error.field == "note":
                    form.note.errors = [*form.note.errors, str(error)]
                elif not _place(form, str(error)):
                    problems.append(str(error))
                status = error.status
            else:
                if saved is None:
                    flash("Nothing changed, so no new version was made.", "info")
                    return redirect(url_for("manager.exam_settings", exam_id=exam_id))
                db.session.commit()
                flash(f"Saved as version {saved.version}. Attempts in progress keep the"
                      " settings they started with.", "success")
                coverage = exam_settings.coverage_note(view.exam)
                if coverage:
                    flash(coverage, "info")
                return redirect(url_for("manager.exam_versions", exam_id=exam_id))
    return render_template("manager/exam_settings.html", view=view, form=form,
                           problems=problems, topic_field=topic_field), status


@bp.get("/exams/<exam_id>/versions")
def exam_versions(exam_id: str):
    try:
        exam, versions = exam_settings.history(exam_id)
    except exam_settings.NotFound as error:
        abort(404, str(error))
    return render_template("manager/exam_versions.html", exam=exam, versions=versions)
