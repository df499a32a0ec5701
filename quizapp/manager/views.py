"""Accounts in the console: the account list, adding an account, and the admin's
account page (name and email, roles, deactivation, password-reset links).

Who may do what:
- Managers and admins see the account list (`manager.users`): an admin every account,
  a manager the trainees of their cohorts, trainees in no cohort yet and the staff
  (`accounts.visible_accounts`). Results are not shown here: the trainee list
  (`/manager/trainees`) has the certification results.
- Managers and admins add accounts (`manager.new_user`): a manager may give the
  trainee, trainer and manager roles, only an admin the admin role.
- Everything else about an existing account is for admins only (403 for a manager):
  editing the name or email, changing roles, deactivating and reactivating, and
  making a password-reset link. An admin cannot take away their own admin role or
  deactivate themselves.
"""

from __future__ import annotations

from datetime import timedelta

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user

from quizapp import accounts
from quizapp.auth.views import reset_url
from quizapp.extensions import db
from quizapp.manager import bp
from quizapp.manager.forms import AccountSearchForm, ActionForm, ProfileForm, RolesForm, UserForm
from quizapp.models import User, utcnow

# Ids past this are no row (and would overflow PostgreSQL's integer): 404, not 500.
LARGEST_ID = 2**31 - 1


@bp.get("/users")
def users():
    form = AccountSearchForm(formdata=request.args)
    if not form.validate():
        return render_template("manager/users.html", form=form, listing=None), 400
    listing = accounts.list_accounts(current_user, form.q.data or "", form.page.data or 1)
    return render_template("manager/users.html", form=form, listing=listing,
                           admin=current_user.has_role("admin"))


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = UserForm()
    if not current_user.has_role("admin"):
        # Only an admin may make another admin.
        form.roles.choices = [c for c in form.roles.choices if c.value != "admin"]
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data, form.name.data, form.password.data,
                                        form.roles.data, actor=current_user,
                                        how="in the console")
        except accounts.AccountError as error:
            getattr(form, error.field or "email", form.email).errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Account created for {form.name.data}.", "success")
            if current_user.has_role("admin"):
                return redirect(url_for("manager.user", user_id=user.id))
            return redirect(url_for("manager.users"))
    status = 400 if form.errors else 200
    return render_template("manager/new_user.html", form=form), status


# --- One account (admins only) --------------------------------------------------------


def _account(user_id: int) -> User:
    """The account an admin opened: 403 for anyone else, 404 for no such account."""
    if not current_user.has_role("admin"):
        abort(403)
    user = db.session.get(User, user_id) if 0 < user_id <= LARGEST_ID else None
    if user is None:
        abort(404)
    return user


def _page(user: User, status: int = 200, profile: ProfileForm | None = None,
          roles: RolesForm | None = None, link: accounts.ResetLink | None = None):
    profile = profile or ProfileForm(formdata=None, obj=user)
    roles = roles or RolesForm(formdata=None, roles=sorted(user.roles))
    page = render_template(
        "manager/user.html", person=user, profile=profile, roles=roles,
        action=ActionForm(formdata=None), history=accounts.account_history(user),
        link=link, link_url=reset_url(link.token) if link else None,
        own=user.id == current_user.id)
    response = make_response(page, status)
    if link is not None:
        response.headers["Cache-Control"] = "no-store"  # the page holds a live link
    return response


def _refused(user: User, error: accounts.AccountError, **forms):
    db.session.rollback()
    form = forms.get("profile") or forms.get("roles")
    if form is not None and error.field in form:
        form[error.field].errors.append(str(error))
    else:
        flash(str(error), "error")
    return _page(user, error.status, **forms)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int):
    """The account page; a POST saves the name and email."""
    person = _account(user_id)
    if request.method == "GET":
        return _page(person)
    form = ProfileForm()
    if not form.validate():
        return _page(person, 400, profile=form)
    try:
        changed = accounts.update_profile(current_user, person, form.name.data,
                                          form.email.data)
    except accounts.AccountError as error:
        return _refused(person, error, profile=form)
    db.session.commit()
    flash("Saved." if changed else "Nothing to change.", "success" if changed else "info")
    return redirect(url_for("manager.user", user_id=person.id))


@bp.post("/users/<int:user_id>/roles")
def user_roles(user_id: int):
    person = _account(user_id)
    form = RolesForm()
    if not form.validate():
        return _page(person, 400, roles=form)
    own = person.id == current_user.id
    try:
        changed = accounts.change_roles(current_user, person, form.roles.data)
    except accounts.AccountError as error:
        return _refused(person, error, roles=form)
    db.session.commit()
    if changed and own:
        login_user(person)  # this session carries on; the others have ended
    flash(f"Roles saved; {person.name} is signed out everywhere else." if changed
          else "Nothing to change.", "success" if changed else "info")
    return redirect(url_for("manager.user", user_id=person.id))


def _act(user_id: int, change, done: str):
    person = _account(user_id)
    if not ActionForm().validate():
        abort(400)
    try:
        change(person)
    except accounts.AccountError as error:
        return _refused(person, error)
    db.session.commit()
    flash(done.format(name=person.name), "success")
    return redirect(url_for("manager.user", user_id=person.id))


@bp.post("/users/<int:user_id>/deactivate")
def deactivate_user(user_id: int):
    return _act(user_id, lambda p: accounts.deactivate(current_user, p, utcnow()),
                "{name}'s account is deactivated and signed out everywhere.")


@bp.post("/users/<int:user_id>/reactivate")
def reactivate_user(user_id: int):
    return _act(user_id, lambda p: accounts.reactivate(current_user, p),
                "{name}'s account is active again.")


@bp.post("/users/<int:user_id>/reset-link")
def reset_link(user_id: int):
    """Make a reset link and show it on this response only (it is stored nowhere in
    a form anyone can read back; a newer link voids it)."""
    person = _account(user_id)
    if not ActionForm().validate():
        abort(400)
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    try:
        link = accounts.issue_reset_link(current_user, person, utcnow(),
                                         timedelta(hours=hours))
    except accounts.AccountError as error:
        return _refused(person, error)
    db.session.commit()
    return _page(person, link=link)
