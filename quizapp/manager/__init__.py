"""What managers and admins see: the dashboard, trainees and their transcripts, cohorts,
exams (settings, pass marks, item analysis), accommodations, certificates, accounts,
regrades after a key correction, and the audit trail."""

from flask import Blueprint

from quizapp.auth.guard import require_role

bp = Blueprint("manager", __name__, url_prefix="/manager")
bp.before_request(require_role("manager", "admin"))

from quizapp.manager import (  # noqa: E402,F401  (registers the routes)
    accommodation_views,
    audit_views,
    certificate_views,
    cohort_views,
    dashboard_views,
    exam_views,
    export_views,
    items_views,
    regrade_views,
    trainee_views,
    views,
)
