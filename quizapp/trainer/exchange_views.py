"""Exchange in the studio: download and upload bank files, GIFT for Moodle, CSV for
spreadsheets (upload, preview, then import)."""

from __future__ import annotations

import io
from datetime import date

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired

from quizapp import exchange
from quizapp.extensions import db
from quizapp.trainer import bp

OVERHEAD = 256 * 1024  # the form around the file
REQUEST_LIMITS = {
    "trainer.upload_bank": exchange.UPLOAD_LIMIT + OVERHEAD,
    "trainer.preview_csv": exchange.CSV_LIMIT + OVERHEAD,
    # The preview sends the file back as base64: a third larger.
    "trainer.import_csv": exchange.CSV_LIMIT * 4 // 3 + OVERHEAD,
}


@bp.url_value_preprocessor
def _request_limit(endpoint, _values):
    """Raise the request size limit for uploads (before the CSRF check reads the form)."""
    if endpoint in REQUEST_LIMITS:
        request.max_content_length = REQUEST_LIMITS[endpoint]
        request.max_form_memory_size = REQUEST_LIMITS[endpoint]


OVERWRITE_LABEL = ("Replace questions another trainer has edited in the app since (their"
                   " versions stay in the history)")


class BankUploadForm(FlaskForm):
    file = FileField("Bank files: a .zip of the bank folder, or one topic file (.yaml)",
                     validators=[FileRequired("Choose a file to upload.")], id="bank-file")
    overwrite = BooleanField(OVERWRITE_LABEL, id="bank-overwrite")


class CsvUploadForm(FlaskForm):
    file = FileField("Questions as CSV (saved from the spreadsheet as “CSV UTF-8”)",
                     validators=[FileRequired("Choose a CSV file to upload.")], id="csv-file")


class CsvImportForm(FlaskForm):
    content = HiddenField(validators=[DataRequired()])  # the file, base64
    filename = HiddenField()
    overwrite = BooleanField(OVERWRITE_LABEL)


def _page(bank_form=None, csv_form=None, result=None, status=200):
    return render_template("trainer/exchange.html", bank_form=bank_form or BankUploadForm(),
                           csv_form=csv_form or CsvUploadForm(), result=result), status


def _download(data: bytes, name: str, mimetype: str):
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=name, max_age=0)


def _exported(make):
    try:
        return make()
    except exchange.ExchangeError as error:
        abort(error.status, str(error))


@bp.get("/exchange", endpoint="exchange")
def exchange_page():
    return _page()


@bp.get("/exchange/question_bank.zip")
def download_bank():
    return _download(_exported(exchange.zip_bytes), f"question_bank-{date.today()}.zip",
                     "application/zip")


@bp.get("/exchange/questions.gift.txt")
def download_gift():
    text = _exported(exchange.gift_text)
    return _download(text.encode("utf-8"), f"microneedling-gift-{date.today()}.txt",
                     "text/plain; charset=utf-8")


@bp.get("/exchange/questions.csv")
def download_csv():
    text = _exported(exchange.csv_text)
    # With a byte order mark, so that spreadsheets open it as UTF-8.
    return _download(text.encode("utf-8-sig"), f"questions-{date.today()}.csv",
                     "text/csv; charset=utf-8")


@bp.post("/exchange/files")
def upload_bank():
    form = BankUploadForm()
    if not form.validate_on_submit():
        return _page(bank_form=form, status=400)
    upload = form.file.data
    try:
        result = exchange.upload_files(upload.filename or "", upload.read(), current_user,
                                       overwrite=form.overwrite.data)
    except exchange.ExchangeError as error:
        form.file.errors = [str(error)]
        return _page(bank_form=form, status=error.status)
    if not result.ok:
        db.session.rollback()
        return _page(bank_form=form, result=result, status=400)
    db.session.commit()
    flash(f"Uploaded {', '.join(result.files)}: {result.report.summary()}.", "success")
    if result.warnings:
        flash(f"{len(result.warnings)} new piece(s) of advice from the checks: "
              + "; ".join(str(p) for p in result.warnings[:5]), "warning")
    return redirect(url_for("trainer.exchange"))


def _preview_page(form: CsvImportForm, preview: exchange.CsvPreview):
    return render_template("trainer/exchange_csv.html", form=form, preview=preview,
                           name=form.filename.data), 200 if preview.ok else 400


@bp.post("/exchange/csv")
def preview_csv():
    form = CsvUploadForm()
    if not form.validate_on_submit():
        return _page(csv_form=form, status=400)
    upload = form.file.data
    data = upload.read()
    preview = exchange.preview_csv(data)
    confirm = CsvImportForm(content=exchange.encode(data),
                             filename=upload.filename or "the file")
    return _preview_page(confirm, preview)


@bp.post("/exchange/csv/import")
def import_csv():
    form = CsvImportForm()
    if not form.validate_on_submit():
        abort(400, "The preview's form came back incomplete: upload the file again.")
    try:
        data = exchange.decode(form.content.data)
    except exchange.ExchangeError as error:
        abort(error.status, str(error))
    preview, report = exchange.import_csv(data, current_user, overwrite=form.overwrite.data,
                                          source=form.filename.data or "a CSV file")
    if report is None:
        db.session.rollback()
        return _preview_page(form, preview)
    db.session.commit()
    flash(f"Imported {form.filename.data or 'the CSV file'}: {report.summary()}.", "success")
    return redirect(url_for("trainer.exchange"))
