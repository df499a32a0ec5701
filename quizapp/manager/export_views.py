"""CSV exports of the console's reports, streamed as they are read."""

from __future__ import annotations

from flask import Response, abort, request, stream_with_context
from flask_login import current_user

from quizapp import result_exports
from quizapp.errors import ServiceError
from quizapp.exports import csv_lines
from quizapp.manager import bp
from quizapp.manager.report_filter import read_filter
from quizapp.models import utcnow


def _filter():
    form, report_filter = read_filter(request.args)
    if form.errors:
        abort(400, " ".join(e for errors in form.errors.values() for e in errors))
    return report_filter


def _csv(name: str, table) -> Response:
    header, rows = table
    return Response(stream_with_context(csv_lines(header, rows)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/exports/attempts.csv")
def export_attempts():
    now = utcnow()
    try:
        table = result_exports.attempts(current_user, _filter())
    except ServiceError as error:
        abort(error.status, str(error))
    return _csv(f"attempts-{now:%Y-%m-%d}.csv", table)


@bp.get("/exports/certificates.csv")
def export_certificates():
    now = utcnow()
    try:
        table = result_exports.certificates(current_user, _filter(), now)
    except ServiceError as error:
        abort(error.status, str(error))
    return _csv(f"certificates-{now:%Y-%m-%d}.csv", table)
