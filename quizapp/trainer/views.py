"""The studio's question pages: the bank browser, the editor, preview, history and the
review workflow. Each view reads the request, calls `quizapp.studio`, and renders."""

from __future__ import annotations

from collections import defaultdict

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from quizapp import studio
from quizapp.extensions import db
from quizapp.trainer import bp
from quizapp.trainer.forms import (
    BrowseForm,
    CommentForm,
    ConfirmForm,
    QuestionForm,
    RetireForm,
    ReturnForm,
    field_names,
    form_data,
)


@bp.errorhandler(studio.StudioError)
def refused(error: studio.StudioError):
    """A refused step shows the question again with the reason; anything else (an
    unknown question or version) the error page."""
    db.session.rollback()
    if error.status != 404 and error.question_id:
        flash(str(error), "error")
        return _question_page(error.question_id, error.status)
    return render_template("errors/error.html", status=error.status,
                           message=str(error)), error.status


def _question_page(question_id: str, status: int = 200, **forms):
    view = studio.question_view(question_id, current_user)
    forms = {"confirm": ConfirmForm(formdata=None),
             "comment": CommentForm(formdata=None, prefix="comment"),
             "send_back": ReturnForm(formdata=None, prefix="return"),
             "retire": RetireForm(formdata=None, prefix="retire"), **forms}
    return render_template("trainer/question.html", view=view, forms=forms), status


def _number(name: str) -> int | None:
    """A whole-number query argument, or None when absent; 400 when not a number."""
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 9:
        abort(400, f"'{name}' must be a whole number.")
    return int(value)


@bp.get("/questions")
def questions():
    choices = studio.editor_choices(None)
    form = BrowseForm(formdata=request.args).offer(choices.topics, choices.risk_categories)
    if not form.validate():
        return render_template("trainer/questions.html", form=form, page=None), 400
    page = studio.browse(form.query())
    args = {f.name: f.data for f in form
            if f.name != "page" and f.name in request.args and f.data}
    return render_template("trainer/questions.html", form=form, page=page, args=args)


@bp.get("/review")
def review_queue():
    return render_template("trainer/review.html", queue=studio.review_queue(current_user))


@bp.get("/questions/<question_id>")
def question(question_id: str):
    return _question_page(question_id)


def _placed(form: QuestionForm, findings) -> tuple[list, dict]:
    """The findings beside their fields, and those that belong to none at the top."""
    names = field_names(form)
    top, at = [], defaultdict(list)
    for finding in findings:
        if finding.field in names:
            at[finding.field].append(finding)
        else:
            top.append(finding)
    return top, at


def _editor(form: QuestionForm, choices, findings=(), status: int = 200, row=None,
            topic: str | None = None):
    top, at = _placed(form, findings)
    return render_template("trainer/edit.html", form=form, choices=choices, row=row,
                           topic=topic, top=top, at=at,
                           errors=[f for f in findings if f.level == "error"]), status


def _save(form: QuestionForm, choices, topic: str, row=None):
    """Save the editor's input, or show it again with what stops it."""
    if not form.validate():
        return _editor(form, choices, status=400, row=row, topic=topic)
    try:
        saved = studio.save_question(current_user, form.to_input(topic),
                                     row.id if row else None)
    except studio.Rejected as rejected:
        db.session.rollback()
        return _editor(form, choices, rejected.findings, 400, row, topic)
    db.session.commit()
    qid = saved.question.id
    if saved.version is None:
        flash("Nothing in the question changed, so no version was added"
              " (the facts tested were updated if you changed them).", "info")
    elif saved.pending:
        flash(f"Saved version {saved.version.version} of {qid}. Version"
              f" {saved.question.current_version} stays live until another trainer"
              " approves this one.", "success")
    else:
        flash(f"Saved version {saved.version.version} of {qid}.", "success")
    if saved.findings:
        flash("Advice: " + " ".join(f"{f.message}." for f in saved.findings), "warning")
    return redirect(url_for("trainer.question", question_id=qid))


@bp.route("/questions/new", methods=["GET", "POST"])
def new_question():
    topic = request.args.get("topic", "")
    choices = studio.editor_choices(topic or None)
    if topic not in dict(choices.topics):
        if topic:
            abort(404, f"There is no topic '{topic}'.")
        return render_template("trainer/new.html", topics=choices.topics)
    form = QuestionForm().offer(choices)
    if request.method == "POST":
        return _save(form, choices, topic)
    return _editor(form, choices, topic=topic)


@bp.route("/questions/<question_id>/edit", methods=["GET", "POST"])
def edit_question(question_id: str):
    row = studio.editable(question_id)
    choices = studio.editor_choices(row.topic_id, row.id)
    if request.method == "POST":
        return _save(QuestionForm().offer(choices), choices, row.topic_id, row)
    form = QuestionForm(data=form_data(studio.editor_input(row)))
    return _editor(form.offer(choices), choices, studio.examine(row.id), row=row,
                   topic=row.topic_id)


@bp.get("/questions/<question_id>/preview")
def preview(question_id: str):
    shown = studio.preview(question_id, request.args.get("mode", "exam"), _number("version"))
    return render_template("trainer/preview.html", preview=shown)


@bp.get("/questions/<question_id>/history")
def history(question_id: str):
    found = studio.history(question_id, _number("a"), _number("b"))
    return render_template("trainer/history.html", history=found)


def _done(question_id: str, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("trainer.question", question_id=question_id))


@bp.post("/questions/<question_id>/submit")
def submit(question_id: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    row = studio.submit(current_user, question_id)
    return _done(row.id, f"{row.id} is in review: another trainer can now approve it.")


@bp.post("/questions/<question_id>/approve")
def approve(question_id: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    row = studio.approve(current_user, question_id)
    return _done(row.id, f"Version {row.current_version} of {row.id} is published.")


@bp.post("/questions/<question_id>/return")
def send_back(question_id: str):
    form = ReturnForm(prefix="return")
    if not form.validate_on_submit():
        return _question_page(question_id, 400, send_back=form)
    row = studio.send_back(current_user, question_id, form.text.data)
    return _done(row.id, f"{row.id} was returned to its author with your comment.")


@bp.post("/questions/<question_id>/retire")
def retire(question_id: str):
    form = RetireForm(prefix="retire")
    if not form.validate_on_submit():
        return _question_page(question_id, 400, retire=form)
    row = studio.retire(current_user, question_id, form.text.data)
    return _done(row.id, f"{row.id} is retired: it is no longer drawn, and kept with its"
                         " history.")


@bp.post("/questions/<question_id>/comment")
def comment(question_id: str):
    form = CommentForm(prefix="comment")
    if not form.validate_on_submit():
        return _question_page(question_id, 400, comment=form)
    studio.comment(current_user, question_id, form.text.data)
    return _done(question_id, "Comment added.")
