"""Cohorts: the groups of trainees a manager looks after, and who manages each."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import DataRequired, Length

from quizapp import cohorts
from quizapp.extensions import db
from quizapp.manager import bp
from quizapp.validators import clean_text, printable


class CohortForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Give the cohort a name."),
                                           Length(max=120), printable],
                       filters=[clean_text])
    description = TextAreaField("Description (optional: the clinic, class or intake)",
                                validators=[Length(max=2000)],
                                filters=[lambda v: (v or "").strip()])


class AddMembersForm(FlaskForm):
    # The service decides who may be added (a foreign trainee is a 404), so the field
    # only reads ids.
    trainees = SelectMultipleField(
        "Trainees to add", coerce=int, validate_choice=False,
        validators=[DataRequired("Choose at least one trainee.")],
        widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput())


class AddManagerForm(FlaskForm):
    manager = SelectField("Add a manager", coerce=int, validate_choice=False,
                          validators=[DataRequired("Choose a manager.")])


class RemoveForm(FlaskForm):
    """A button that removes someone: the CSRF token is the whole form."""


def _person(person) -> str:
    return f"{person.name} ({person.email})"


@bp.get("/cohorts", endpoint="cohorts")
def cohort_list():
    return render_template("manager/cohorts.html", cohorts=cohorts.visible_cohorts(current_user))


@bp.route("/cohorts/new", methods=["GET", "POST"])
def new_cohort():
    form = CohortForm()
    if form.validate_on_submit():
        try:
            cohort = cohorts.create_cohort(current_user, form.name.data, form.description.data)
        except cohorts.CohortError as error:
            db.session.rollback()
            form.name.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Cohort {cohort.name} created. Add its trainees below.", "success")
            return redirect(url_for("manager.cohort", cohort_id=cohort.id))
    return render_template("manager/cohort_new.html", form=form), 400 if form.errors else 200


def _render(cohort_id: int, status: int = 200, **posted):
    """The cohort page; `posted` holds a form sent with errors, shown with them."""
    page = cohorts.cohort_page(current_user, cohort_id)
    if page is None:
        abort(404)
    forms = {
        "details": CohortForm(formdata=None, name=page.cohort.name,
                              description=page.cohort.description),
        "members": AddMembersForm(formdata=None),
        "manager": AddManagerForm(formdata=None),
        **posted,
    }
    forms["members"].trainees.choices = [(p.id, _person(p)) for p in page.addable_trainees]
    forms["manager"].manager.choices = ([(0, "Choose a manager")]
                                        + [(p.id, _person(p)) for p in page.addable_managers])
    return render_template("manager/cohort.html", page=page, forms=forms), status


def _visible_or_404(cohort_id: int):
    cohort = cohorts.cohort_for(current_user, cohort_id)
    if cohort is None:
        abort(404)
    return cohort


@bp.get("/cohorts/<int:cohort_id>")
def cohort(cohort_id: int):
    return _render(cohort_id)


@bp.post("/cohorts/<int:cohort_id>")
def edit_cohort(cohort_id: int):
    cohort = _visible_or_404(cohort_id)
    form = CohortForm()
    if not form.validate_on_submit():
        return _render(cohort_id, 400, details=form)
    try:
        changed = cohorts.update_cohort(current_user, cohort, form.name.data,
                                        form.description.data)
    except cohorts.CohortError as error:
        db.session.rollback()
        form.name.errors.append(str(error))
        return _render(cohort_id, error.status, details=form)
    db.session.commit()
    flash("Cohort saved." if changed else "Nothing changed.", "success" if changed else "info")
    return redirect(url_for("manager.cohort", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/members")
def add_members(cohort_id: int):
    cohort = _visible_or_404(cohort_id)
    form = AddMembersForm()
    if not form.validate_on_submit():
        return _render(cohort_id, 400, members=form)
    try:
        added = cohorts.add_members(current_user, cohort, form.trainees.data)
    except cohorts.CohortError as error:
        db.session.rollback()
        form.trainees.errors.append(str(error))
        return _render(cohort_id, error.status, members=form)
    db.session.commit()
    flash(f"Added {len(added)} trainee{'s' if len(added) != 1 else ''} to {cohort.name}."
          if added else "They are in this cohort already.", "success")
    return redirect(url_for("manager.cohort", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/members/<int:user_id>/remove")
def remove_member(cohort_id: int, user_id: int):
    cohort = _visible_or_404(cohort_id)
    if not RemoveForm().validate_on_submit():
        abort(400)
    try:
        person = cohorts.remove_member(current_user, cohort, user_id)
    except cohorts.CohortError as error:
        db.session.rollback()
        abort(error.status, str(error))
    db.session.commit()
    flash(f"{person.name} is no longer in {cohort.name}.", "success")
    return redirect(url_for("manager.cohort", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/managers")
def add_manager(cohort_id: int):
    cohort = _visible_or_404(cohort_id)
    form = AddManagerForm()
    if not form.validate_on_submit():
        return _render(cohort_id, 400, manager=form)
    try:
        person = cohorts.add_manager(current_user, cohort, form.manager.data)
    except cohorts.CohortError as error:
        db.session.rollback()
        form.manager.errors.append(str(error))
        return _render(cohort_id, error.status, manager=form)
    db.session.commit()
    flash(f"{person.name} now manages {cohort.name}.", "success")
    return redirect(url_for("manager.cohort", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/managers/<int:user_id>/remove")
def remove_manager(cohort_id: int, user_id: int):
    cohort = _visible_or_404(cohort_id)
    if not RemoveForm().validate_on_submit():
        abort(400)
    try:
        person = cohorts.remove_manager(current_user, cohort, user_id)
    except cohorts.CohortError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _render(cohort_id, error.status)
    db.session.commit()
    flash(f"{person.name} no longer manages {cohort.name}.", "success")
    if cohorts.cohort_for(current_user, cohort_id) is None:
        return redirect(url_for("manager.cohorts"))
    return redirect(url_for("manager.cohort", cohort_id=cohort_id))
