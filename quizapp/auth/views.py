from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from quizapp import accounts
from quizapp.auth import ROLE_HOMES, bp
from quizapp.auth.forms import LoginForm, RegisterForm
from quizapp.extensions import db, login_manager
from quizapp.models import User
from quizapp.web import wants_json


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the user named in the session, if that session is still current."""
    user_key, _, version = user_id.partition(":")
    if not user_key.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_key))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


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


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            current_app.logger.info("Failed sign-in for %r", form.email.data)
            flash("That email and password do not match an active account.", "error")
            return render_template("auth/login.html", form=form), 401
        session.clear()  # a fresh session on every sign-in
        login_user(user)
        current_app.logger.info("User %s signed in", user.id)
        return redirect(_safe_next(request.args.get("next")) or url_for(home_endpoint(user)))
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        accounts.end_sessions(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    if not current_app.config["ALLOW_SELF_REGISTRATION"]:
        abort(404)
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data, form.name.data, form.password.data,
                                        ["trainee"])
        except accounts.AccountError as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            session.clear()
            login_user(user)
            flash("Welcome! Your trainee account is ready.", "success")
            return redirect(url_for("trainee.dashboard"))
    status = 400 if form.errors else 200
    return render_template("auth/register.html", form=form), status
