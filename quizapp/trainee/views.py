from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from quizapp import attempts, certs
from quizapp.extensions import db
from quizapp.models import Attempt, Certificate, Exam, Topic, utcnow
from quizapp.trainee import bp
from quizapp.trainee.forms import AnswerForm, ConfirmForm


def _grace() -> timedelta:
    return timedelta(seconds=current_app.config["EXAM_GRACE_SECONDS"])


def _own_attempt(attempt_id: int) -> Attempt:
    """The current trainee's attempt; anyone else's is simply not found."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)
    return attempt


def _topic_names() -> dict[str, str]:
    return {t.id: t.name for t in db.session.scalars(select(Topic).order_by(Topic.position))}


@bp.get("/")
def dashboard():
    now = utcnow()
    exams = db.session.scalars(select(Exam).order_by(Exam.position)).all()
    rows = []
    for exam_row in exams:
        open_attempt = attempts.open_attempt(current_user, exam_row)
        if open_attempt is not None and attempts.close_if_expired(open_attempt, now, _grace()):
            open_attempt = None
        allowed, opens_at, reason = attempts.eligibility(current_user, exam_row, now)
        rows.append({"exam": exam_row, "rules": exam_row.rules, "open": open_attempt,
                     "allowed": allowed, "opens_at": opens_at, "reason": reason})
    certificates = db.session.scalars(
        select(Certificate).where(Certificate.user_id == current_user.id)
        .order_by(Certificate.issued_at.desc())
    ).all()
    return render_template(
        "trainee/dashboard.html",
        certification=[r for r in rows if r["rules"].kind == "certification"],
        practice=[r for r in rows if r["rules"].kind == "practice"],
        certificates=certificates, now=now, form=ConfirmForm(),
    )


@bp.post("/exams/<exam_id>/start")
def start(exam_id: str):
    exam_row = db.get_or_404(Exam, exam_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        attempt = attempts.start(current_user, exam_row, utcnow())
    except attempts.NotAllowed as refusal:
        message = str(refusal)
        if refusal.opens_at:
            message += f" The next attempt opens at {refusal.opens_at:%Y-%m-%d %H:%M} UTC."
        flash(message, "warning")
        return redirect(url_for("trainee.dashboard"))
    return redirect(url_for("trainee.resume", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>")
def resume(attempt_id: int):
    """Go back to where the trainee was: the first question not yet answered."""
    attempt = _own_attempt(attempt_id)
    if attempts.close_if_expired(attempt, utcnow(), _grace()):
        return redirect(url_for("trainee.result", attempt_id=attempt.id))
    position = next((i.position for i in attempt.items if not i.answered), 1)
    return redirect(url_for("trainee.question", attempt_id=attempt.id, position=position))


def _question_page(attempt: Attempt, position: int, form: AnswerForm, status: int = 200):
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
    remaining = None
    if attempt.deadline is not None:
        remaining = max(0, int((attempt.deadline - utcnow()).total_seconds()))
    return render_template(
        "trainee/question.html", attempt=attempt, rules=rules, item=item, shown=shown,
        form=form, remaining=remaining, topic_names=_topic_names(),
        submit_form=ConfirmForm(),
    ), status


@bp.get("/attempts/<int:attempt_id>/questions/<int:position>")
def question(attempt_id: int, position: int):
    attempt = _own_attempt(attempt_id)
    if attempts.close_if_expired(attempt, utcnow(), _grace()):
        flash("This attempt is finished.", "info")
        return redirect(url_for("trainee.result", attempt_id=attempt.id))
    return _question_page(attempt, position, AnswerForm(formdata=None))


def _save(attempt: Attempt, position: int, form: AnswerForm, lock: bool = False) -> int:
    item = attempts.item_at(attempt, position)
    if item is None:
        abort(404)
    return attempts.save_answer(
        attempt, item, form.answer.data or [], form.sequence.data, bool(form.flagged.data),
        utcnow(), _grace(), lock=lock,
    )


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
        _save(attempt, position, form, lock=go == "check")
    except attempts.AttemptClosed as error:
        flash(str(error), "warning")
        return redirect(url_for("trainee.result", attempt_id=attempt.id))
    except attempts.AttemptError as error:
        flash(str(error), "error")
        return _question_page(attempt, position, AnswerForm(formdata=None), error.status)
    if go == "check":
        return redirect(url_for("trainee.question", attempt_id=attempt.id, position=position))
    if go == "summary" or (go == "next" and position >= len(attempt.items)):
        return redirect(url_for("trainee.summary", attempt_id=attempt.id))
    target = position - 1 if go == "previous" else position + 1
    if go.isdigit():
        target = int(go)
    target = min(max(target, 1), len(attempt.items))
    return redirect(url_for("trainee.question", attempt_id=attempt.id, position=target))


@bp.post("/attempts/<int:attempt_id>/questions/<int:position>/autosave")
def autosave(attempt_id: int, position: int):
    """The page's background save; answers in JSON so the page can show the outcome."""
    attempt = _own_attempt(attempt_id)
    form = AnswerForm()
    if not form.validate():
        return jsonify(error="The answer could not be read."), 400
    try:
        sequence = _save(attempt, position, form)
    except attempts.AttemptError as error:
        item = attempts.item_at(attempt, position)
        return jsonify(error=str(error), closed=attempt.finished,
                       sequence=item.sequence if item else None), error.status
    return jsonify(saved=True, sequence=sequence)


@bp.get("/attempts/<int:attempt_id>/summary")
def summary(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if attempts.close_if_expired(attempt, utcnow(), _grace()):
        return redirect(url_for("trainee.result", attempt_id=attempt.id))
    remaining = None
    if attempt.deadline is not None:
        remaining = max(0, int((attempt.deadline - utcnow()).total_seconds()))
    return render_template("trainee/summary.html", attempt=attempt, rules=attempt.rules,
                           form=ConfirmForm(), remaining=remaining)


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
    attempts.close_if_expired(attempt, utcnow(), _grace())
    if not attempt.finished:
        return redirect(url_for("trainee.resume", attempt_id=attempt.id))
    topic_names = _topic_names()
    breakdown: dict[str, list[float]] = {}
    for item in attempt.items:
        breakdown.setdefault(item.version.question.topic_id, []).append(item.mark or 0.0)
    return render_template(
        "trainee/result.html", attempt=attempt, rules=attempt.rules,
        review=attempts.review_items(attempt), topic_names=topic_names,
        breakdown=[(name, sum(breakdown[t]), len(breakdown[t]))
                   for t, name in topic_names.items() if t in breakdown],
        certificate=attempt.certificate, now=utcnow(), display_code=certs.display_code,
    )


@bp.get("/history")
def history():
    rows = db.session.scalars(
        select(Attempt).where(Attempt.user_id == current_user.id)
        .order_by(Attempt.started_at.desc())
    ).all()
    return render_template("trainee/history.html", attempts=rows)


@bp.get("/certificates/<code>")
def certificate(code: str):
    found = certs.find(code)
    if found is None or found.user_id != current_user.id:
        abort(404)
    return render_template("trainee/certificate.html", certificate=found, now=utcnow(),
                           display_code=certs.display_code)
