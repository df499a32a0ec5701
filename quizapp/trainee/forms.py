from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, NumberRange, Optional


class AnswerForm(FlaskForm):
    """One question's answer. The options are checked by the question's type, which
    knows its own option ids, so the field does not check choices itself."""

    answer = SelectMultipleField(choices=[], validate_choice=False)
    sequence = IntegerField(validators=[InputRequired(), NumberRange(min=0, max=10**9)])
    flagged = BooleanField()
    go = StringField(validators=[Optional()])


class ConfirmForm(FlaskForm):
    """A button with nothing but its CSRF token (start, submit)."""
