from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from quizapp.validators import clean_text, printable

PASSWORD_RULES = [DataRequired(), Length(min=8, max=128)]


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)],
                       filters=[lambda v: clean_text(v).lower()])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])


class RegisterForm(FlaskForm):
    name = StringField("Full name (as it should appear on your certificate)",
                       validators=[DataRequired(), Length(max=120), printable],
                       filters=[clean_text])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)],
                       filters=[lambda v: clean_text(v).lower()])
    password = PasswordField("Password (at least 8 characters)", validators=PASSWORD_RULES)
    confirm = PasswordField("Repeat the password",
                            validators=[DataRequired(), EqualTo("password",
                                                                "The passwords differ.")])


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password (at least 8 characters)", validators=PASSWORD_RULES)
    confirm = PasswordField("Repeat the new password",
                            validators=[DataRequired(), EqualTo("password",
                                                                "The passwords differ.")])


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email of your account", validators=[DataRequired(), Length(max=254)],
                       filters=[lambda v: clean_text(v).lower()])


class SignOutEverywhereForm(FlaskForm):
    """The "sign out everywhere" button: nothing but the CSRF token."""
