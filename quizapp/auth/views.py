"""Signing in and out, sessions per device, registration, password resets.

Signing in, registering and asking for or redeeming a password reset are throttled
per client address (and signing in per email too), with counters in the database so
every worker counts together; none of them says whether an email has an account.
SECURITY.md has the thresholds and the reasons."""

from __future__ import annotations

import logging
import math
import threading
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from quizapp import accounts, mailer, throttle
from quizapp.auth import ROLE_HOMES, bp
from quizapp.auth.forms import (
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    SignOutEverywhereForm,
)
from quizapp.extensions import db, login_manager
from quizapp.models import User, utcnow
from quizapp.web import wants_json

log = logging.getLogger(__name__)

REGISTERED = ("Thank you. If this email was new to us, your trainee account is ready: sign"
              " in below with the password you chose. If it already has an account, sign in"
              " with that account's password, or use “Forgot your password?”.")
RESET_ASKED_MAIL = ("If an active account has this email, we have sent it a link to set a new"
                    " password, valid for {hours} hours. Nothing within a few minutes? Ask"
                    " your trainer or an admin.")
RESET_ASKED_ADMIN = ("Your request is noted. If an active account has this email, an admin"
                     " can see the request and give you a link to set a new password: ask"
                     " your trainer or an admin.")


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The user whose device session the cookie names, if that session still exists
    and the account is active: one query (`accounts.session_user`)."""
    idle_days = current_app.config.get("SESSION_IDLE_DAYS") or 0
    return accounts.session_user(token, utcnow(),
                                 timedelta(days=idle_days) if idle_days else None)


@login_manager.unauthorized_handler
def unauthorized():
    message = "Your session has ended. Sign in again; your saved answers are kept."
    if wants_json():
        return jsonify(error=message), 401
    if request.method != "GET":
        flash(message, "warning")
        return redirect(url_for("auth.login"))
    flash("Please sign in to continue.", "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def home_endpoint(user: User) -> str:
    """Where a person lands after signing in: the start page of their first role in
    `ROLE_HOMES` order (trainee, trainer, manager, admin), as the menu lists them."""
    for role, (endpoint, _label) in ROLE_HOMES.items():
        if user.has_role(role):
            return endpoint
    return "public.index"


def _safe_next(target: str | None) -> str | None:
    """Only follow a `next` that stays on this site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


# --- Throttles ------------------------------------------------------------------------


def _wait_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


def too_many(retry_after: int, what: str):
    """The 429 answer: when to try again, in words, as a time and in `Retry-After`."""
    again = utcnow() + timedelta(seconds=retry_after)
    message = (f"Too many {what} for now. Try again in {_wait_words(retry_after)}"
               f" (after {again:%H:%M} UTC).")
    if wants_json():
        response = jsonify(error=message, retry_after=retry_after)
    else:
        response = make_response(render_template("auth/too_many.html", message=message,
                                                 what=what))
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


def _limit(name: str) -> accounts.Limit | None:
    """A throttle from the settings `<name>_LIMIT` and `<name>_WINDOW`; None when
    THROTTLE_ENABLED is off."""
    config = current_app.config
    if not config["THROTTLE_ENABLED"]:
        return None
    return accounts.Limit(config[f"{name}_LIMIT"], config[f"{name}_WINDOW"])


def _address_throttled(name: str, what: str):
    """Count this request against the address's `name` allowance (REGISTER_RATE or
    RESET_RATE); the 429 answer if it is spent, else None."""
    limit = _limit(name)
    if limit is None:
        return None
    key = f"{name.split('_')[0].lower()}:address:{request.remote_addr}"
    verdict = throttle.hit(key, limit.limit, limit.window, utcnow())
    db.session.commit()
    if verdict.allowed:
        return None
    log.warning("Throttled %s from %s", name, request.remote_addr)
    return too_many(verdict.retry_after, what)


# --- Signing in and out -----------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        config = current_app.config
        outcome = accounts.sign_in(
            form.email.data, form.password.data, request.remote_addr or "", utcnow(),
            account_limit=_limit("SIGNIN_ACCOUNT"), address_limit=_limit("SIGNIN_ADDRESS"),
            hash_method=config.get("PASSWORD_HASH_METHOD", "scrypt"),
            user_agent=request.user_agent.string)
        if outcome.retry_after:
            log.warning("Sign-in throttled from %s", request.remote_addr)
            return too_many(outcome.retry_after, "sign-in attempts")
        db.session.commit()
        user = outcome.user
        if user is None:
            log.info("Failed sign-in from %s", request.remote_addr)
            flash("That email and password do not match an active account.", "error")
            return render_template("auth/login.html", form=form), 401
        session.clear()  # a fresh session on every sign-in
        login_user(user)
        log.info("User %s signed in", user.id)
        return redirect(_safe_next(request.args.get("next")) or url_for(home_endpoint(user)))
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Sign out this device; the person's other devices stay signed in."""
    if current_user.is_authenticated:
        accounts.end_session(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.post("/logout-everywhere")
def logout_everywhere():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not SignOutEverywhereForm().validate_on_submit():
        abort(400)
    ended = accounts.sign_out_everywhere(current_user)
    db.session.commit()
    log.info("User %s signed out everywhere (%s sessions)", current_user.id, ended)
    logout_user()
    session.clear()
    flash("You are signed out on every device.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/account")
def account():
    """The signed-in person's account: who they are, and where they are signed in."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return render_template("auth/account.html", sessions=accounts.sessions_of(current_user),
                           this_session=current_user.current_session,
                           form=SignOutEverywhereForm())


# --- Registration and password resets ---------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Self-registration. A taken email gets the same answer as a new one (no account
    enumeration): the person is sent to sign in either way."""
    if not current_app.config["ALLOW_SELF_REGISTRATION"]:
        abort(404)
    if request.method == "POST" and (refused := _address_throttled(
            "REGISTER_RATE", "registrations")):
        return refused
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            accounts.register(form.email.data, form.name.data, form.password.data,
                              current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))
        except accounts.AccountError as error:
            db.session.rollback()
            getattr(form, error.field or "email", form.email).errors.append(str(error))
        else:
            db.session.commit()
            flash(REGISTERED, "success")
            return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    return render_template("auth/register.html", form=form), status


def reset_url(token: str) -> str:
    """The full address of a reset link: on `PUBLIC_BASE_URL` when it is set, else on
    the address of the current request (the admin's page)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for("auth.reset_password", token=token)
    return url_for("auth.reset_password", token=token, _external=True)


def _send_in_background(mail: mailer.Mail) -> None:
    """Send one mail on a thread of its own, so the answer takes as long whether or not
    a mail went out (and a slow mail server holds up no one)."""
    config = {key: current_app.config.get(key) for key in
              ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USERNAME", "MAIL_PASSWORD",
               "MAIL_FROM", "MAIL_FROM_NAME")}

    def run():
        try:
            mailer.send(config, [mail])
        except Exception:  # a mail that fails is logged; the person can ask an admin
            log.exception("Could not send a password-reset mail")

    threading.Thread(target=run, daemon=True).start()


@bp.route("/forgot", methods=["GET", "POST"])
def forgot_password():
    """"Forgot your password?": the same answer whether or not the email has an account.
    With mail configured, an active account is mailed a reset link; without, the
    request is recorded for an admin, who hands over a link."""
    if request.method == "POST" and (refused := _address_throttled(
            "RESET_RATE", "password-reset requests")):
        return refused
    config = current_app.config
    by_mail = mailer.configured(config)
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        hours = config["PASSWORD_RESET_HOURS"]
        found = accounts.request_reset(form.email.data, utcnow(), timedelta(hours=hours),
                                       by_mail)
        db.session.commit()
        if found is not None and found[1] is not None:
            user, link = found
            _send_in_background(mailer.Mail(
                to=user.email, subject="Set a new password",
                body=(f"Hello {user.name},\n\nSomeone (we hope you) asked to set a new"
                      f" password for your account. Open this link within {hours} hours to"
                      f" set one; it works once:\n\n{reset_url(link.token)}\n\nIf you did"
                      " not ask for this, ignore this mail: your password stays as it is.\n")))
        flash((RESET_ASKED_MAIL if by_mail else RESET_ASKED_ADMIN).format(hours=hours), "info")
        return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    return render_template("auth/forgot.html", form=form, by_mail=by_mail), status


def _private(response):
    """The page holds a live reset token in its address: keep it out of caches."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """A one-time password-reset link (mailed, or handed over by an admin). A link that
    is unknown, used, expired, voided by a newer one, or of a deactivated account
    answers 410 Gone, the same page whichever it is."""
    if request.method == "POST" and (refused := _address_throttled(
            "RESET_RATE", "password-reset attempts")):
        return _private(refused)
    now = utcnow()
    link = accounts.find_reset(token, now)
    if link is None:
        return _private(make_response(render_template("auth/reset_invalid.html"), 410))
    person = db.session.get(User, link.user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.redeem_reset(token, form.password.data, now)
        except accounts.AccountError as error:
            if error.status == 410:
                return _private(make_response(render_template("auth/reset_invalid.html"),
                                              410))
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            log.info("User %s set a new password through a reset link", person.id)
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash("Your new password is set. Sign in with it.", "success")
            return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    page = render_template("auth/reset.html", form=form, person=person, link=link)
    return _private(make_response(page, status))
