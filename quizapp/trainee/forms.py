from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from quizapp.validators import clean_text, printable


class AnswerForm(FlaskForm):
    """One question's answer. The options are checked by the question's type, which
    knows its own option ids, so the field does not check choices itself."""

    answer = SelectMultipleField(choices=[], validate_choice=False)
    sequence = IntegerField(validators=[InputRequired(), NumberRange(min=0, max=10**9)])
    flagged = BooleanField()
    go = StringField(validators=[Optional()])


class ConfirmForm(FlaskForm):
    """A button with nothing but its CSRF token (start, submit)."""


class NameCorrectionForm(FlaskForm):
    """A holder asks for the name printed on a certificate to be corrected."""

    name = StringField("Your name as it should be printed",
                       validators=[DataRequired(), Length(max=120), printable],
                       filters=[clean_text])
    reason = TextAreaField("What is wrong (optional)", validators=[Length(max=1000)],
                           filters=[clean_text])
