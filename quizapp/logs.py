"""Logs as one JSON object per line on standard output, for a log collector.

Every record carries its time (UTC, ISO 8601), level, logger and message, plus the
request's method, path and id when there is one, so the lines of one request can be
found together. Secrets never reach the log: views log ids, not form data.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry.update(method=request.method, path=request.path,
                         request_id=g.get("request_id"))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(app: Flask) -> None:
    """Send the app's logs to stdout as JSON (LOG_FORMAT=json, the production default),
    and give every request an id, taken from X-Request-ID when a proxy sets one."""

    @app.before_request
    def _request_id() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if 0 < len(given) <= 100 and given.isprintable() \
            else uuid.uuid4().hex

    @app.after_request
    def _echo_request_id(response):
        if g.get("request_id"):
            response.headers["X-Request-ID"] = g.request_id
        return response

    if app.config.get("LOG_FORMAT") != "json":
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JSONFormatter())
    # On the package's logger, replaced (not added to) each time an app is made. It
    # still propagates: gunicorn leaves the root logger bare, and tests capture there.
    package = logging.getLogger("quizapp")
    package.handlers[:] = [handler]
    package.setLevel(app.config.get("LOG_LEVEL", "INFO"))
