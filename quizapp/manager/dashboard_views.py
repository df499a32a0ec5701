"""The dashboard: how the trainees a manager sees are doing, with charts."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user
from markupsafe import Markup

from quizapp import dashboard
from quizapp.errors import ServiceError
from quizapp.manager import bp
from quizapp.manager.report_filter import read_filter
from quizapp.models import utcnow


@bp.get("/", endpoint="dashboard")
def dashboard_page():
    form, report_filter = read_filter(request.args)
    try:
        shown = dashboard.report(current_user, report_filter, utcnow())
    except ServiceError as error:
        abort(error.status, str(error))
    form.set_choices(shown.cohorts, shown.exams)
    charts = {name: Markup(svg) for name, svg in dashboard.dashboard_charts(shown).items()}
    return render_template("manager/dashboard.html", shown=shown, form=form, charts=charts,
                           period_label=dashboard.period_label), 400 if form.errors else 200
