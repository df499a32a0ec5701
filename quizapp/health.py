"""`/healthz`: whether this instance can serve, for a load balancer or an orchestrator.

It answers 200 when the database answers a trivial query and 503 when it does not, in
JSON, with no sign-in and nothing about the data.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from quizapp.extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.exception("Health check: the database does not answer")
        db.session.rollback()
        return jsonify(status="unavailable", database=False), 503
    return jsonify(status="ok", database=True)
