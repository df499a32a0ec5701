from __future__ import annotations

from datetime import timedelta

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from quizapp import attempts, certs, exam_rules, study
from quizapp.extensions import db
from quizapp.models import Attempt, Exam, Topic, utcnow
from quizapp.trainee import bp
from quizapp.trainee.forms import AnswerForm, ConfirmForm, NameCorrectionForm
from quizapp.web import wants_json


def _grace() -> timedelta:
    return timedelta(seconds=current_app.config["EXAM_GRACE_SECONDS"])


def _own_attempt(attempt_id: int) -> Attempt:
    """The current trainee's attempt; anyone else's is simply not found."""
    attempt = attempts.own_attempt(current_user, attempt_id, utcnow(), _grace())
    if attempt is None:
        abort(404)
    return attempt


@bp.errorhandler(attempts.ExamLocked)
def exam_locked(error: attempts.ExamLocked):
    if wants_json():
        return jsonify(error=str(error)), error.status
    return render_template("trainee/locked.html", message=str(error),
                           open_attempt=error.open_attempt), error.status


def _topic_names() -> dict[str, str]:
    return {t.id: t.name for t in db.session.scalars(select(Topic).order_by(Topic.position))}


def _remaining(attempt: Attempt) -> int | None:
    if attempt.deadline is None:
        return None
    return max(0, int((attempt.deadline - utcnow()).total_seconds()))


@bp.get("/")
def dashboard():
    now = utcnow()
    locked_by = attempts.open_certification(current_user, now, _grace())
    rows = attempts.dashboard(current_user, now, _grace())
    return render_template(
        "trainee/dashboard.html",
        certification=[r for r in rows if r.rules.kind == "certification"],
        practice=[r for r in rows if r.rules.kind == "practice"],
        certificates=certs.held_by(current_user.id), now=now, form=ConfirmForm(),
        locked_by=locked_by,
    )


@bp.get("/exams/<exam_id>")
def briefing(exam_id: str):
    """What the exam is and what happens at time-out, before any clock starts."""
    exam = db.get_or_404(Exam, exam_id)
    now = utcnow()
    status = attempts.exam_status(current_user, exam, now, _grace())
    attempts.check_exam_lock(current_user, now, _grace(), allowed=status.open)
    return render_template("trainee/briefing.html", status=status, rules=status.rules,
                           form=ConfirmForm())


@bp.post("/exams/<exam_id>/start")
def start(exam_id: str):
    exam = db.get_or_404(Exam, exam_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        attempt = attempts.start(current_user, exam, utcnow(), _grace())
    except attempts.NotAllowed as refusal:
        message = str(refusal)
        if refusal.opens_at:
            message += f" The next attempt opens at {refusal.opens_at:%d %b %Y, %H:%M} UTC."
        flash(message, "warning")
        return redirect(url_for("trainee.briefing", exam_id=exam.id))
    return redirect(url_for("trainee.resume", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>")
def resume(attempt_id: int):
    """Go back to where the trainee was: the first question not yet answered."""
    attempt = _own_attempt(attempt_id)
    if attempt.finished:
        return redirect(url_for("trainee.result", attempt_id=attempt.id))
    position = next((i.position for i in attempts.load_items(attempt) if not i.answered), 1)
    return redirect(url_for("trainee.question", attempt_id=attempt.id, position=position))


def _question_page(attempt: Attempt, position: int, form: AnswerForm, status: int = 200):
    # The navigation lists every item (answered, flagged); only this one's question
    # version is loaded.
    attempts.load_items(attempt)
    item = attempts.item_at(attempt, position)
    if item is None:
        abort(404)
    rules = attempt.rules
    # Practice shows the key once the trainee has checked their answer; an exam never
    # does while it is in progress.
    revealed = rules.immediate_feedback and item.locked
    shown = attempts.shown_item(item, reveal=revealed, explain=revealed)
    form.sequence.data = item.sequence
    form.flagged.data = item.flagged
    return render_template(
        "trainee/question.html", attempt=attempt, rules=rules, item=item, shown=shown,
        form=form, remaining=_remaining(attempt), submit_form=ConfirmForm(),
    ), status


@bp.get("/attempts/<int:attempt_id>/questions/<int:position>")
def question(attempt_id: int, position: int):
    attempt = _own_attempt(attempt_id)
    if attempt.finished:
        flash("This attempt is finished.", "info")
        return redirect(url_for("trainee.result", attempt_id=attempt.id))
    attempts.mark_shown(attempt, position, utcnow())
    return _question_page(attempt, position, AnswerForm(formdata=None))


def _answer_of(form: AnswerForm) -> attempts.Answer:
    return attempts.Answer(tuple(form.answer.data or ()), form.sequence.data,
                           bool(form.flagged.data))


def _save(attempt: Attempt, position: int, form: AnswerForm, check: bool = False):
    try:
        return attempts.save_answer(attempt, position, _answer_of(form), utcnow(), _grace(),
                                    check=check)
    except LookupError:
        abort(404)


@bp.post("/attempts/<int:attempt_id>/questions/<int:position>")
def answer(attempt_id: int, position: int):
    """Save the answer, then go where the trainee asked: previous, next, summary."""
    attempt = _own_attempt(attempt_id)
    form = AnswerForm()
    if not form.validate():
        flash("That answer could not be read. Please try again.", "error")
        return _question_page(attempt, position, AnswerForm(formdata=None), 400)
    go = form.go.data or "next"
    try:
        _save(attempt, position, form, check=go == "check")
    except attempts.AttemptClosed as error:
        flash(str(error), "warning")
        return redirect(url_for("trainee.result", attempt_id=attempt.id))
    except attempts.AttemptError as error:
        flash(str(error), "error")
        return _question_page(attempt, position, AnswerForm(formdata=None), error.status)
    if go == "check":
        return redirect(url_for("trainee.question", attempt_id=attempt.id, position=position))
    count = attempts.item_count(attempt)
    if go == "summary" or (go == "next" and position >= count):
        return redirect(url_for("trainee.summary", attempt_id=attempt.id))
    target = position - 1 if go == "previous" else position + 1
    if go.isdigit():
        target = int(go)
    target = min(max(target, 1), count)
    return redirect(url_for("trainee.question", attempt_id=attempt.id, position=target))


@bp.post("/attempts/<int:attempt_id>/questions/<int:position>/autosave")
def autosave(attempt_id: int, position: int):
    """The page's background save; answers in JSON so the page can show the outcome."""
    attempt = _own_attempt(attempt_id)
    form = AnswerForm()
    if not form.validate():
        return jsonify(error="The answer could not be read."), 400
    try:
        item = _save(attempt, position, form)
    except attempts.AttemptError as error:
        item = attempts.item_at(attempt, position)
        return jsonify(error=str(error), closed=attempt.finished,
                       sequence=item.sequence if item else None), error.status
    return jsonify(saved=True, sequence=item.sequence)


@bp.get("/attempts/<int:attempt_id>/summary")
def summary(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if attempt.finished:
        return redirect(url_for("trainee.result", attempt_id=attempt.id))
    attempts.load_items(attempt)
    return render_template("trainee/summary.html", attempt=attempt, rules=attempt.rules,
                           form=ConfirmForm(), remaining=_remaining(attempt))


@bp.post("/attempts/<int:attempt_id>/submit")
def submit(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempts.finish(attempt, utcnow())
    return redirect(url_for("trainee.result", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>/result")
def result(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if not attempt.finished:
        return redirect(url_for("trainee.resume", attempt_id=attempt.id))
    now = utcnow()
    topic_names = _topic_names()
    rules = attempt.rules
    by_topic = exam_rules.topic_breakdown(
        (item.version.question.topic_id, item.mark or 0.0) for item in attempt.items
    )
    review = attempts.review_items(attempt)
    verdict = None
    if rules.issues_certificate and not attempt.passed:
        verdict = attempts.eligibility(current_user, attempt.exam, now)
    return render_template(
        "trainee/result.html", attempt=attempt, rules=rules, review=review,
        breakdown=[(name, *by_topic[t], t) for t, name in topic_names.items() if t in by_topic],
        weak=set(exam_rules.weak_topics(by_topic, attempt.pass_mark)),
        missed_notes=[] if review else study.notes_by_topic(
            fact.id for fact in study.missed_facts(attempt)),
        certificate=attempt.certificate, now=now, display_code=certs.display_code,
        verdict=verdict, plan=study.plan_view(verdict.remediation if verdict else None),
    )


@bp.get("/history")
def history():
    rows = db.session.scalars(
        select(Attempt).where(Attempt.user_id == current_user.id)
        .order_by(Attempt.started_at.desc())
    ).all()
    return render_template("trainee/history.html", attempts=rows)


def _own_certificate(code: str):
    """The current trainee's certificate; anyone else's is simply not found."""
    found = certs.find(code)
    if found is None or found.user_id != current_user.id:
        abort(404)
    return found


def _certificate_page(found, form: NameCorrectionForm, status: int = 200):
    return render_template(
        "trainee/certificate.html", certificate=found, now=utcnow(), form=form,
        display_code=certs.display_code, labels=certs.STATUS_LABELS,
        verify_url=certs.verify_url(found), linkedin_url=certs.linkedin_url(found),
        pending=certs.pending_correction(found),
    ), status


@bp.get("/certificates/<code>")
def certificate(code: str):
    return _certificate_page(_own_certificate(code), NameCorrectionForm(formdata=None))


@bp.get("/certificates/<code>/certificate.pdf")
def certificate_pdf(code: str):
    """The PDF as issued: the same bytes at every download."""
    found = _own_certificate(code)
    return Response(certs.pdf_of(found), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{certs.pdf_filename(found)}"'})


@bp.get("/certificates/<code>/credential.jwt")
def certificate_credential(code: str):
    """The signed Open Badges 3.0 credential (VC-JWT)."""
    found = _own_certificate(code)
    return Response(certs.signed_credential(found), mimetype="application/jwt", headers={
        "Content-Disposition": f'attachment; filename="{certs.credential_filename(found)}"'})


@bp.post("/certificates/<code>/name")
def request_name_correction(code: str):
    found = _own_certificate(code)
    form = NameCorrectionForm()
    if not form.validate_on_submit():
        return _certificate_page(found, form, 400)
    try:
        certs.request_name_correction(found, current_user, form.name.data,
                                      form.reason.data or "", utcnow())
    except certs.CertificateError as error:
        form.name.errors = [str(error)]
        return _certificate_page(found, form, error.status)
    db.session.commit()
    flash("Your request has been sent to a manager.", "success")
    return redirect(url_for("trainee.certificate", code=found.code))


@bp.get("/study", endpoint="study")
def study_index():
    """The bank's facts by topic: what the exam asks about, in the bank's words."""
    attempts.check_exam_lock(current_user, utcnow(), _grace())
    return render_template("trainee/study.html", topics=study.study_topics())


@bp.get("/study/<topic_id>")
def study_topic(topic_id: str):
    now = utcnow()
    attempts.check_exam_lock(current_user, now, _grace())
    topic = db.get_or_404(Topic, topic_id)
    notes = study.study_notes(topic.id)
    study.record_study(current_user, (note.id for note, _ in notes), now)
    db.session.commit()
    return render_template("trainee/study_topic.html", topic=topic, notes=notes)
