from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    IntegerField,
    PasswordField,
    SearchField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from quizapp.auth.forms import PASSWORD_RULES
from quizapp.models import ROLES
from quizapp.validators import clean_text, printable


def _roles_field(default=None):
    return SelectMultipleField(
        "Roles", choices=[SelectChoice(r, r.capitalize()) for r in ROLES], default=default,
        validators=[DataRequired("Choose at least one role.")],
        widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput(),
    )


def _name_field(label: str = "Full name"):
    return StringField(label, validators=[DataRequired(), Length(max=120), printable],
                       filters=[clean_text])


def _email_field():
    return EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)],
                      filters=[lambda v: clean_text(v).lower()])


class UserForm(FlaskForm):
    name = _name_field()
    email = _email_field()
    password = PasswordField("First password (at least 8 characters)",
                             validators=PASSWORD_RULES)
    roles = _roles_field(default=["trainee"])


class ProfileForm(FlaskForm):
    """An account's name (as printed on certificates) and email."""

    name = _name_field("Full name (as it appears on certificates)")
    email = _email_field()


class RolesForm(FlaskForm):
    # No default: an empty post is refused, never taken as "trainee only".
    roles = _roles_field()


class ActionForm(FlaskForm):
    """A button that changes something: deactivate, reactivate, make a reset link.
    Nothing to fill in but the CSRF token."""


class AccountSearchForm(FlaskForm):
    """The account list's search and page, read from the query string."""

    class Meta:
        csrf = False

    q = SearchField("Search by name or email",
                    validators=[Optional(), Length(max=254), printable],
                    filters=[clean_text])
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=10**6)])
