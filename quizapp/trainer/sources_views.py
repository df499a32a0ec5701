"""Sources in the studio: upload a training document, edit its sections, draft
questions from it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import (
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, Optional

from quizapp import sources
from quizapp.bank.documents import MAX_BYTES
from quizapp.extensions import db
from quizapp.models import Document, Topic, utcnow
from quizapp.trainer import bp
from quizapp.validators import clean_text, printable

# What a request to these pages may carry: the app's 64 KB would refuse a document
# long before its own limit, which then gives the clearer message.
REQUEST_LIMITS = {
    "trainer.upload_document": MAX_BYTES + 256 * 1024,
    "trainer.edit_section": 512 * 1024,
}


@bp.url_value_preprocessor
def _request_limit(endpoint, _values):
    """Raise the request size limit for uploads (before the CSRF check reads the form)."""
    if endpoint in REQUEST_LIMITS:
        request.max_content_length = REQUEST_LIMITS[endpoint]


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error):
    limit = request.max_content_length or 0
    size = (f"{limit / 1024 / 1024:.1f}".removesuffix(".0") + " MB" if limit >= 1024 * 1024
            else f"{limit // 1024} KB")
    message = (f"What you sent is larger than this page accepts ({size} at most)."
               " Send less, or a smaller file; nothing was changed.")
    return render_template("errors/error.html", status=413, message=message), 413


class UploadForm(FlaskForm):
    file = FileField(
        f"Document: plain text (.txt), Markdown (.md) or PDF (.pdf), at most"
        f" {MAX_BYTES // 1024 // 1024} MB",
        validators=[FileRequired("Choose a file to upload.")])
    title = StringField("Title (leave empty to take it from the document)",
                        validators=[Optional(), Length(max=sources.TITLE_LIMIT), printable],
                        filters=[clean_text])


class SectionForm(FlaskForm):
    text = TextAreaField(
        "Text (paragraphs separated by a blank line, list items one per line)",
        validators=[DataRequired("A section needs some text.")])


class SaveDraftsForm(FlaskForm):
    topic = HiddenField(validators=[DataRequired()])
    fingerprint = HiddenField(validators=[DataRequired()])
    picks = SelectMultipleField(
        "Proposals to save as drafts", coerce=int,
        validators=[DataRequired("Choose at least one proposal to save.")],
        widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput())


class FactForm(FlaskForm):
    question_id = SelectField("Question whose fact on this document becomes a fact of the"
                              " bank", validators=[DataRequired()])


def _document(document_id: str) -> Document:
    return db.get_or_404(Document, document_id)


def _topics() -> list[Topic]:
    return list(db.session.scalars(select(Topic).order_by(Topic.position)))


def _sources_page(form: UploadForm, status: int = 200):
    return render_template("trainer/sources.html", documents=sources.documents(),
                           form=form), status


@bp.get("/sources", endpoint="sources")
def sources_list():
    return _sources_page(UploadForm())


@bp.post("/sources")
def upload_document():
    form = UploadForm()
    if not form.validate_on_submit():
        return _sources_page(form, 400)
    upload = form.file.data
    try:
        document = sources.upload(upload.filename or "", upload.read(), current_user,
                                  utcnow(), title=form.title.data)
    except sources.SourceError as error:
        form.file.errors = [str(error)]
        return _sources_page(form, error.status)
    db.session.commit()
    flash(f"Stored {document.title} as {document.id} with {len(document.sections)}"
          " section(s).", "success")
    return redirect(url_for("trainer.document", document_id=document.id))


def _document_page(row: Document, fact_form: FactForm | None = None, status: int = 200):
    sections = sources.sections(row)
    fact_form = fact_form or FactForm()
    fact_form.question_id.choices = sorted(
        {(q.id, q.id) for s in sections for q in s.citing})
    return render_template("trainer/document.html", document=row, sections=sections,
                           topics=_topics(), drafted=sources.drafted_from(row),
                           fact_form=fact_form), status


@bp.get("/documents/<document_id>")
def document(document_id: str):
    return _document_page(_document(document_id))


@bp.post("/documents/<document_id>/facts")
def add_fact(document_id: str):
    row = _document(document_id)
    form = FactForm()
    form.question_id.choices = sorted(
        {(q.id, q.id) for s in sources.sections(row) for q in s.citing})
    if form.validate_on_submit():
        try:
            fact = sources.add_fact(row, form.question_id.data, current_user)
        except sources.SourceError as error:
            form.question_id.errors = [str(error)]
        else:
            db.session.commit()
            flash(f"{form.question_id.data} is listed under the fact {fact.id}: {fact.text}",
                  "success")
            return redirect(url_for("trainer.document", document_id=row.id))
    return _document_page(row, form, 400)


@bp.route("/documents/<document_id>/sections/<int:number>", methods=["GET", "POST"])
def edit_section(document_id: str, number: int):
    row = _document(document_id)
    try:
        heading = sources.section_number(row, number)
    except sources.SourceError as error:
        abort(error.status, str(error))
    form = SectionForm()
    if request.method == "GET":
        form.text.data = next(t["text"] for t in row.texts if t["heading"] == heading)
    elif form.validate_on_submit():
        try:
            flagged = sources.edit_section(row, number, form.text.data, current_user,
                                           utcnow())
        except sources.SourceError as error:
            form.text.errors = [str(error)]
        else:
            db.session.commit()
            flash(f"Saved '{heading}'."
                  + (f" Flagged for review: {', '.join(flagged)}." if flagged else ""),
                  "success")
            return redirect(url_for("trainer.document", document_id=row.id))
    status = 400 if form.errors else 200
    return render_template("trainer/document_section.html", document=row, heading=heading,
                           number=number, form=form), status


@bp.get("/documents/<document_id>/drafts")
def document_drafts(document_id: str):
    row = _document(document_id)
    topic = request.args.get("topic", "")
    form = SaveDraftsForm(topic=topic, fingerprint=sources.texts_fingerprint(row))
    try:
        offered = sources.proposals(row, topic) if topic else []
    except sources.SourceError as error:
        abort(error.status, str(error))
    form.picks.choices = [(n, draft.question.stem) for n, draft in enumerate(offered, 1)]
    form.picks.data = [n for n, _ in form.picks.choices]
    return render_template("trainer/drafts.html", document=row, topics=_topics(),
                           topic=topic, offered=offered, form=form)


@bp.post("/documents/<document_id>/drafts")
def save_drafts(document_id: str):
    row = _document(document_id)
    form = SaveDraftsForm()
    topic = form.topic.data or ""
    try:
        offered = sources.proposals(row, topic)
    except sources.SourceError as error:
        abort(error.status, str(error))
    form.picks.choices = [(n, draft.question.stem) for n, draft in enumerate(offered, 1)]
    if form.validate_on_submit():
        try:
            saved = sources.save_drafts(row, topic, form.picks.data, form.fingerprint.data,
                                        current_user, utcnow())
        except sources.SourceError as error:
            if error.status != 400:
                abort(error.status, str(error))
            form.picks.errors = [str(error)]
        else:
            db.session.commit()
            if saved:
                flash(f"Saved {len(saved)} draft(s): {', '.join(q.id for q in saved)}."
                      " Rewrite each one, then submit it for review.", "success")
            else:
                flash("Those proposals were saved before; nothing new was saved.", "warning")
            return redirect(url_for("trainer.document", document_id=row.id))
    return render_template("trainer/drafts.html", document=row, topics=_topics(),
                           topic=topic, offered=offered, form=form), 400
