"""The studio's forms. The rules of a good question are not here: the editor's input
goes to `quizapp.studio`, which checks it as `bank check` checks the files; these
forms only read the fields and keep their size sane."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from quizapp import studio
from quizapp.bank.model import DIFFICULTIES
from quizapp.question_types import QUESTION_TYPES

LONG = 5000  # far above the bank's own limits, which the checker reports with the field
NOTE = 1000


def _text(value: str | None) -> str:
    return value or ""


def _choices(pairs, first: str | None = None) -> list[SelectChoice]:
    """(value, label) pairs as choices, after an empty first choice labelled `first`."""
    head = [SelectChoice("", first)] if first is not None else []
    return head + [SelectChoice(value, label) for value, label in pairs]


class OptionForm(Form):
    letter = HiddenField(filters=[lambda v: (v or "").strip()])
    text = TextAreaField("Option text", validators=[Length(max=LONG)], filters=[_text])
    correct = BooleanField("Correct")
    rationale = TextAreaField("Rationale: why it is right or wrong",
                              validators=[Length(max=LONG)], filters=[_text])


class CitationForm(Form):
    # Unknown documents and sections are reported by the bank's own citation check.
    document = SelectField("Document", validate_choice=False, filters=[_text])
    section = SelectField("Section", validate_choice=False, filters=[_text])
    fact = TextAreaField("What it says, in our words", validators=[Length(max=LONG)],
                         filters=[_text])


class QuestionForm(FlaskForm):
    # The topic is not a field: a new question's comes in the address (it decides the
    # id and the facts offered), and a question keeps its topic.
    type = SelectField("Type", choices=_choices((t.name, t.label) for t in QUESTION_TYPES.values()),
                       default="single")
    stem = TextAreaField("Stem", validators=[Length(max=LONG)], filters=[_text])
    options = FieldList(FormField(OptionForm), min_entries=studio.MAX_OPTIONS,
                        max_entries=studio.MAX_OPTIONS)
    explanation = TextAreaField("Explanation", validators=[Length(max=LONG)], filters=[_text])
    difficulty = SelectField("Difficulty", default="medium",
                             choices=_choices((d, d.capitalize()) for d in DIFFICULTIES))
    safety_critical = BooleanField("Safety-critical")
    risk = SelectField("Risk category (safety-critical questions only)", default="")
    scenario = BooleanField("Client scenario (the stem describes a client)")
    ordered = BooleanField("Keep the options in this order (numbers ascending)")
    practice_only = BooleanField("Practice only (never in the certification exam)")
    enemies = StringField("Enemies: question ids never to share a form with it",
                          validators=[Length(max=NOTE)], filters=[_text])
    facts = SelectMultipleField("Facts tested", widget=widgets.ListWidget(prefix_label=False),
                                option_widget=widgets.CheckboxInput())
    citations = FieldList(FormField(CitationForm), min_entries=studio.MAX_CITATIONS,
                          max_entries=studio.MAX_CITATIONS)
    note = StringField("What changed", validators=[Length(max=NOTE)], filters=[_text])
    key_correction = BooleanField("This corrects a wrong key (finished attempts may then be"
                                  " regraded)")
    reason = TextAreaField("Why the old key was wrong", validators=[Length(max=NOTE)],
                           filters=[_text])

    def offer(self, choices: studio.EditorChoices) -> QuestionForm:
        """Fill the selects with what the bank holds."""
        self.risk.choices = _choices(choices.risk_categories, "None")
        self.facts.choices = _choices(choices.facts)
        documents = _choices(choices.documents, "Choose a document")
        sections = [SelectChoice("", "Choose a section")] + [
            SelectChoice(name, name, optgroup=title)
            for title, names in choices.sections for name in names]
        for entry in self.citations:
            entry.form.document.choices = documents
            entry.form.section.choices = sections
        return self

    def to_input(self, topic: str) -> studio.QuestionInput:
        return studio.QuestionInput(
            topic=topic, type=self.type.data, stem=self.stem.data,
            options=tuple(studio.OptionInput(o.letter.data, o.text.data, bool(o.correct.data),
                                             o.rationale.data) for o in self.options.entries
                          for o in [o.form]),
            explanation=self.explanation.data, difficulty=self.difficulty.data,
            safety_critical=bool(self.safety_critical.data), risk=self.risk.data or "",
            scenario=bool(self.scenario.data), ordered=bool(self.ordered.data),
            practice_only=bool(self.practice_only.data), enemies=self.enemies.data,
            facts=tuple(self.facts.data or ()),
            citations=tuple(studio.CitationInput(c.document.data, c.section.data, c.fact.data)
                            for c in self.citations.entries for c in [c.form]),
            note=self.note.data, key_correction=bool(self.key_correction.data),
            reason=self.reason.data,
        )


def form_data(data: studio.QuestionInput) -> dict:
    """The editor's input as a form's `data`."""
    return {
        "type": data.type, "stem": data.stem,
        "options": [{"letter": o.letter, "text": o.text, "correct": o.correct,
                     "rationale": o.rationale} for o in data.options],
        "explanation": data.explanation, "difficulty": data.difficulty,
        "safety_critical": data.safety_critical, "risk": data.risk,
        "scenario": data.scenario, "ordered": data.ordered,
        "practice_only": data.practice_only, "enemies": data.enemies,
        "facts": list(data.facts),
        "citations": [{"document": c.document, "section": c.section, "fact": c.fact}
                      for c in data.citations],
        "key_correction": data.key_correction, "reason": data.reason,
    }


def field_names(form: QuestionForm) -> set[str]:
    """Every field's name, those inside the options and citations too."""
    names = {"options", "citations"}
    for field in form:
        names.add(field.name)
        if isinstance(field, FieldList):
            for entry in field.entries:
                names.update(sub.name for sub in entry.form)
    return names


class BrowseForm(FlaskForm):
    """The bank browser's filters, read from the query string."""

    class Meta:
        csrf = False

    topic = SelectField("Topic", default="")
    type = SelectField("Type", choices=_choices(((t.name, t.label)
                                                 for t in QUESTION_TYPES.values()), "Any"),
                       default="")
    status = SelectField("Status", choices=_choices(studio.STATUS_FILTERS.items()),
                         default="")
    difficulty = SelectField("Difficulty", choices=_choices(((d, d.capitalize())
                                                             for d in DIFFICULTIES), "Any"),
                             default="")
    safety = SelectField("Safety-critical", choices=_choices((("yes", "Yes"), ("no", "No")),
                                                             "Any"), default="")
    risk = SelectField("Risk category", default="")
    lint = SelectField("Checker findings", choices=_choices(studio.LINT_FILTERS.items()),
                       default="")
    q = SearchField("Search stem, options and id", validators=[Optional(), Length(max=200)])
    sort = SelectField("Sort by", choices=_choices(studio.SORTS.items()), default="id")
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=10**6)])

    def offer(self, topics, risk_categories) -> BrowseForm:
        self.topic.choices = _choices(topics, "Any")
        self.risk.choices = _choices(risk_categories, "Any")
        return self

    def query(self) -> studio.BrowseQuery:
        return studio.BrowseQuery(
            topic=self.topic.data or "", type=self.type.data or "",
            status=self.status.data or "", difficulty=self.difficulty.data or "",
            safety=self.safety.data or "", risk=self.risk.data or "",
            lint=self.lint.data or "", text=(self.q.data or "").strip(),
            sort=self.sort.data or "id", page=self.page.data or 1,
        )


class ConfirmForm(FlaskForm):
    """A button with nothing but its CSRF token (submit, approve)."""


class CommentForm(FlaskForm):
    text = TextAreaField("Comment", validators=[DataRequired("Write the comment first."),
                                                Length(max=NOTE)])


class ReturnForm(FlaskForm):
    text = TextAreaField("What should change", validators=[
        DataRequired("Say what should change."), Length(max=NOTE)])


class RetireForm(FlaskForm):
    text = TextAreaField("Why retire it", validators=[
        DataRequired("Say why it is retired."), Length(max=NOTE)])
