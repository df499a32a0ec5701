from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from quizapp import accounts, attempts
from quizapp.extensions import db
from quizapp.manager import bp
from quizapp.manager.forms import UserForm
from quizapp.models import User


@bp.get("/users")
def users():
    people = db.session.scalars(select(User).order_by(User.name)).all()
    latest = attempts.latest_results()
    return render_template("manager/users.html", people=people, latest=latest)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = UserForm()
    if not current_user.has_role("admin"):
        # Only an admin may make another admin.
        form.roles.choices = [c for c in form.roles.choices if c.value != "admin"]
    if form.validate_on_submit():
        try:
            accounts.create_user(form.email.data, form.name.data, form.password.data,
                                 form.roles.data)
        except accounts.AccountError as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Account created for {form.name.data}.", "success")
            return redirect(url_for("manager.users"))
    status = 400 if form.errors else 200
    return render_template("manager/new_user.html", form=form), status
