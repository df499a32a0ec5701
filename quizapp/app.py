"""The application factory: configuration, extensions, blueprints, error pages."""

from __future__ import annotations

import logging
import os

from flask import Flask, abort, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from quizapp import config as settings
from quizapp.exam_rules import spoken_duration
from quizapp.extensions import csrf, db, login_manager, migrate
from quizapp.question_types import QUESTION_TYPES
from quizapp.web import wants_json

log = logging.getLogger(__name__)


def create_app(config: dict | None = None) -> Flask:
    """Create the app; `config` (a test's settings) overrides the environment."""
    config = config or {}
    app = Flask(
        __name__,
        instance_path=config.get("INSTANCE_PATH") or os.environ.get("QUIZAPP_INSTANCE_PATH"),
        instance_relative_config=True,
        template_folder=str(settings.PROJECT_ROOT / "templates"),
    )
    # <int:...> in any route stops at the database's integer: a larger id is no row
    # (404 at routing), never an overflow inside a query.
    app.url_map.converters["int"] = DatabaseId
    app.config.update(settings.DEFAULTS)
    app.config.update(settings.from_environment(app.instance_path))
    app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        if app.config["ENVIRONMENT"] != "development":
            raise RuntimeError(
                "SECRET_KEY is not set. Set it in the environment (or set"
                " QUIZAPP_ENV=development to have one generated for this machine)."
            )
        app.config["SECRET_KEY"] = settings.development_secret_key(app.instance_path)

    if app.config.get("TRUSTED_PROXIES"):
        # Behind N proxies of our own: the client address and scheme they pass on.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(settings.PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)

    from quizapp import auth, cli, health, logs, manager, public, trainee, trainer

    logs.configure(app)
    for blueprint in (auth.bp, trainee.bp, trainer.bp, manager.bp, public.bp, health.bp):
        app.register_blueprint(blueprint)
    cli.register(app)
    _register_error_pages(app)
    app.before_request(_refuse_malformed_input)
    app.after_request(_security_headers)
    app.jinja_env.globals["nav_links"] = auth.nav_links
    app.jinja_env.globals["QUESTION_TYPES"] = QUESTION_TYPES
    app.jinja_env.filters["duration"] = spoken_duration
    return app


class DatabaseId(IntegerConverter):
    """An <int:...> URL part: 0 to 2**31 - 1, PostgreSQL's integer (ids are never
    larger); anything else does not match the route, so it is a 404."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max,
                         signed=signed)


@event.listens_for(Engine, "connect")
def _configure_sqlite(connection, _record) -> None:
    """WAL lets readers work while one trainee's answer is written; the busy timeout
    makes a second writer wait its turn instead of failing with 'database is locked'."""
    if type(connection).__module__.startswith("sqlite3"):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


ERROR_MESSAGES = {
    400: "The request could not be understood. Please go back and try again.",
    403: "You do not have access to this page.",
    404: "There is nothing here. The link may be wrong or out of date.",
    405: "That action is not available here.",
    413: "What you sent is too large.",
    429: "Too many requests. Please wait a moment and try again.",
    500: "Something went wrong on our side. Nothing you saved was lost; please try again.",
}


def _register_error_pages(app: Flask) -> None:
    def render_error(status: int, message: str):
        if wants_json():
            return jsonify(error=message), status
        return render_template("errors/error.html", status=status, message=message), status

    def handle_http(error: HTTPException):
        status = error.code or 500
        message = ERROR_MESSAGES.get(status, error.description)
        # A view that aborts with its own explanation keeps it.
        if error.description and error.description != type(error).description:
            message = error.description
        return render_error(status, message)

    def handle_csrf(error: CSRFError):
        log.warning("CSRF check failed on %s: %s", request.path, error.description)
        return render_error(
            400,
            "This form has expired or lacks its security token. Reload the page and try"
            " again; nothing was changed.",
        )

    def handle_unexpected(error: Exception):
        log.exception("Unhandled error on %s", request.path)
        db.session.rollback()
        return render_error(500, ERROR_MESSAGES[500])

    def handle_data_error(error: DataError):
        """A value the database cannot hold (PostgreSQL: a NUL character, a number out
        of its range) came from the request: the request's fault, and nothing saved."""
        log.warning("Refused a value the database cannot hold on %s: %s", request.path,
                    error.orig)
        db.session.rollback()
        return render_error(400, "Something you sent cannot be stored (a character or a"
                                 " number out of range). Nothing was changed.")

    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)


def _refuse_malformed_input():
    """A JSON body no page of the app sends, refused with 400 before any view reads
    it: Flask-WTF reads a JSON body as the form's fields, and anything but an object of
    strings (or lists of strings), such as a list, a number or a nested object, would
    choke the form. (A value the database cannot hold, such as a NUL character on
    PostgreSQL, is the DataError handler's 400.)"""
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.is_json:
        return None
    body = request.get_json(silent=True)

    def text(value):
        return isinstance(value, str) or (isinstance(value, list)
                                          and all(isinstance(v, str) for v in value))

    if not isinstance(body, dict) or not all(text(value) for value in body.values()):
        abort(400, "Send the form's fields, as the page does.")
    return None


def _security_headers(response):
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
