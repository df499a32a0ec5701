"""Item analysis of an exam: the page and its CSV. The numbers are made in
`quizapp.item_analysis` (the `report` commands print the same)."""

from __future__ import annotations

from dataclasses import replace

from flask import Response, abort, render_template, request, stream_with_context
from flask_login import current_user
from markupsafe import Markup

from quizapp import item_analysis
from quizapp.errors import ServiceError
from quizapp.exports import csv_lines
from quizapp.manager import bp
from quizapp.manager.report_filter import read_filter
from quizapp.models import utcnow


def _analysis(exam_id: str, refuse_bad_filter: bool = False):
    """The report filter from the query string (cohort, since, until, and `first=all`
    for every attempt, not only first ones), and the analysis it gives. A filter that
    cannot be read leaves the page unfiltered, with the form's messages; a download
    is refused instead (400), so no one saves a file they did not ask for."""
    form, report_filter = read_filter(request.args)
    if refuse_bad_filter and form.errors:
        abort(400, " ".join(e for errors in form.errors.values() for e in errors))
    all_attempts = request.args.get("first") == "all"
    try:
        analysis = item_analysis.analyse(current_user, replace(report_filter, exam_id=exam_id),
                                         all_attempts)
    except ServiceError as error:
        abort(error.status, str(error))
    return form, analysis


@bp.app_template_filter("statistic")
def statistic(value: float | None, format: str = "%.2f", suffix: str = "") -> str:
    """A statistic as the page prints it, or "n/a": not available (no hidden text here:
    an absolutely placed span inside the table's scroll region would widen the page on
    a phone). A filter, not a Jinja macro: the table of a large bank prints some
    50,000 statistics, and a macro call costs many times a function call."""
    if value is None:
        return Markup('<span class="muted">n/a</span>')
    return format % value + suffix


@bp.get("/exams/<exam_id>/items")
def items(exam_id: str):
    form, analysis = _analysis(exam_id)
    form.set_choices(analysis.cohort_choices, [])
    csv_args = {**form.args(), **({"first": "all"} if analysis.all_attempts else {})}
    questions, page, pages = analysis.questions_page(request.args.get("page", 1, type=int))
    return render_template("manager/items.html", analysis=analysis, form=form,
                           csv_args=csv_args, questions=questions, page=page,
                           pages=pages, page_size=item_analysis.QUESTIONS_PAGE_SIZE,
                           page_args={"exam_id": exam_id, **csv_args}
                           ), 400 if form.errors else 200


@bp.get("/exams/<exam_id>/items.csv")
def items_csv(exam_id: str):
    _, analysis = _analysis(exam_id, refuse_bad_filter=True)
    name = f"item-analysis-{analysis.exam.id}-{utcnow():%Y-%m-%d}.csv"
    return Response(
        stream_with_context(csv_lines(item_analysis.ITEM_COLUMNS,
                                      item_analysis.item_rows(analysis))),
        mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})
