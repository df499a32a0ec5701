from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from quizapp.auth.forms import PASSWORD_RULES
from quizapp.models import ROLES
from quizapp.validators import clean_text, printable


class UserForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=120), printable],
                       filters=[clean_text])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)],
                       filters=[lambda v: clean_text(v).lower()])
    password = PasswordField("First password (at least 8 characters)",
                             validators=PASSWORD_RULES)
    roles = SelectMultipleField(
        "Roles", choices=[SelectChoice(r, r.capitalize()) for r in ROLES], default=["trainee"],
        validators=[DataRequired("Choose at least one role.")],
        widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput(),
    )
