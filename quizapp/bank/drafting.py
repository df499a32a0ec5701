"""Draft questions from a stored training document: deterministic, offline, and never
publishable as they stand.

`draft_questions` reads each section's sentences (the preamble is not citable, so it
is not drafted) and proposes:

**Single best answer, from a figure.** A sentence holding a figure with a unit
("30 to 45 minutes", "four to six weeks", "between 30 and 60 minutes", "5 days",
"0.5 mm", "20%", "three to six sessions") gives one draft per figure. The stem is
the sentence with the figure blanked out, then "Which figure completes the
statement?"; the key is the figure as written. Vague quantities ("a few days", "a
couple of hours", "several weeks") are never made precise: a figure that is one end
of a vague range is skipped. Three distractors are made by rule, tried in this
order on each side of the key:

- a range is shifted down or up by its width (4-6 weeks: 2-4, 6-8), up by twice its
  width; halved, divided by three, doubled or tripled (8-12 weeks); or replaced by a
  shorter range ending where the key's begins (3-8 weeks: 1-3);
- a single value is halved or divided by three, multiplied by 1.5, 2 or 3;
- a time unit is changed, numbers kept, to the next smaller or larger unit where the
  numbers stay sensible in it (4-6 weeks: 4-6 days, 4-6 months; not 30-45 hours);
  this is tried second on each side;
- a result that is not a whole number is rounded as a person would write it (to 5
  from 30 up, whole from 3, to halves from 1), and always to a whole number for a
  count of sessions or a figure written in words; nothing reaches zero;
- each is written as the key is: in words (only numbers up to 99 can be) or digits,
  with the key's unit spelling and its "to", "and" or dash;
- a distractor never overlaps the key (a range may touch its end), and no two
  distractors share more than a quarter of the shorter one.

Options are sorted ascending (`ordered: true`). The key's position follows the cycle
`KEY_POSITIONS` (second, last, first, third, ...) over the numeric drafts of the
document, so over four drafts it is first once, last once and in the middle twice,
as chance would have it; when the rules cannot make enough values on one side of
the key, the nearest position they allow is used.

**Multiple response, from a list of conditions.** A sentence that lists two to five
items joined by "and"/"or" ("eczema, psoriasis or active cold sores", "such as
active acne or infections") gives a draft when its items are skin conditions the
built-in lists know (both of a pair, at least half of a longer list; the outer items
are trimmed to the condition they name, so "softens acne scars" gives "acne scars")
and all the known ones are of one kind: conditions
that rule treatment out (`EXCLUDED`: eczema, cold sores, keloids, blood thinners,
...) or conditions it treats (`TREATED`: fine lines, acne scars, stretch marks,
...). The stem blanks the list, then "Which of these complete the statement?
Choose all that apply."; the listed items are the keys. The wrong options are
conditions of the other kind, so they are plausible but wrong for the sentence:
first those the document itself lists elsewhere, then the fallback lists
`FALLBACK[kind]`; a candidate the document lists alongside the keys' kind anywhere
is never used. Options are shuffled with a seed taken from the sentence, so the same
document always gives the same drafts.

Every draft is a `Question` with status "draft": each wrong option's rationale,
the explanation and the citation's fact start with `DRAFT_MARKER` ("DRAFT:") and say
what the trainer has to write; the fact proposes the source sentence, to be put in
the trainer's own words. `draft_markers(question)` lists what is still unedited,
for the checker to report as errors. (A stem that still quotes the source is also
caught by the copied-wording check once the document's text is given to it.)
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from dataclasses import dataclass

from quizapp.bank.documents import ParsedDocument, sentences
from quizapp.bank.files import ID_PATTERN, LIMITS
from quizapp.bank.model import Citation, Option, Question

DRAFT_MARKER = "DRAFT:"
WRONG_RATIONALE = DRAFT_MARKER + " explain why this is wrong"
EXPLANATION = (
    DRAFT_MARKER + " explain the answer in your own words, without copying the source."
)
FACT_PREFIX = DRAFT_MARKER + " rewrite as the fact in your own words: "
NUMERIC_LEAD_IN = "Which figure completes the statement?"
LIST_LEAD_IN = "Which of these complete the statement? Choose all that apply."
BLANK = "____"
# The key's place among the four ordered options, cycled over the numeric drafts.
KEY_POSITIONS = (1, 3, 0, 2)
MAX_SENTENCE_CHARS = 400  # longer sentences make unreadable stems; they are skipped
MIN_LIST_ITEMS, MAX_LIST_ITEMS = 2, 5
OPTIONS_WANTED = 5  # in a multiple-response draft, when the list allows it


@dataclass(frozen=True)
class Draft:
    question: Question  # status "draft"; its `sources` hold `citation`
    citation: Citation  # document id, section heading, and the proposed fact ("DRAFT: ...")
    sentence: str  # the source sentence, as the document has it
    kind: str  # "figure" (single best answer) or "list" (multiple response)

    @property
    def section(self) -> str:
        return self.citation.section


def draft_markers(question: Question) -> list[str]:
    """What of a draft is still unedited: every text field that starts with "DRAFT:".
    An empty list means nothing is left of the drafting step."""
    found = []

    def check(text: str, where: str) -> None:
        if text.lstrip().upper().startswith(DRAFT_MARKER):
            found.append(f"{where} is still the draft's placeholder: rewrite it")

    check(question.stem, "the stem")
    for option in question.options:
        check(option.text, f"option {option.id}")
        check(option.rationale, f"the rationale of option {option.id}")
    check(question.explanation, "the explanation")
    for number, citation in enumerate(question.sources, start=1):
        check(citation.fact, f"the fact of source {number}")
    return found


def draft_questions(
    document: ParsedDocument,
    document_id: str,
    topic: str,
    start_number: int,
    *,
    id_prefix: str | None = None,
) -> list[Draft]:
    """Draft questions from `document`'s sections, numbered from `start_number` as
    `<id_prefix or topic>-NNN`, in the document's order."""
    prefix = id_prefix or topic
    if not ID_PATTERN.match(prefix):
        raise ValueError(f"'{prefix}' cannot start a question id (lower-case letters,"
                         " digits and hyphens)")
    if start_number < 1:
        raise ValueError("start_number must be 1 or more")
    items_by_kind = _document_items(document)
    drafts: list[Draft] = []
    figure_count = 0
    for section in document.sections:
        for sentence in sentences(section.text):
            if len(sentence) > MAX_SENTENCE_CHARS or sentence.endswith("?"):
                continue
            for figure in find_figures(sentence):
                position = KEY_POSITIONS[figure_count % len(KEY_POSITIONS)]
                options = _figure_options(figure, position)
                if options is None:
                    continue
                figure_count += 1
                drafts.append(_make_draft(
                    f"{prefix}-{start_number + len(drafts):03d}", topic, "single",
                    _cloze(sentence, figure.start, figure.end, NUMERIC_LEAD_IN), options,
                    document_id, section.heading, sentence, "figure", ordered=True,
                ))
            for found in find_lists(sentence):
                options = _list_options(found, items_by_kind, document_id, section.heading)
                if options is None:
                    continue
                drafts.append(_make_draft(
                    f"{prefix}-{start_number + len(drafts):03d}", topic, "multiple",
                    _cloze(sentence, found.start, found.end, LIST_LEAD_IN), options,
                    document_id, section.heading, sentence, "list", ordered=False,
                ))
    return drafts


def _make_draft(
    qid: str, topic: str, qtype: str, stem: str, options: tuple[Option, ...],
    document_id: str, heading: str, sentence: str, kind: str, ordered: bool,
) -> Draft:
    citation = Citation(document_id, heading, _proposed_fact(sentence))
    question = Question(
        id=qid, topic=topic, type=qtype, stem=stem, options=options,
        explanation=EXPLANATION, difficulty="medium", safety_critical=False,
        sources=(citation,), ordered=ordered, status="draft",
    )
    return Draft(question=question, citation=citation, sentence=sentence, kind=kind)


def _cloze(sentence: str, start: int, end: int, lead_in: str) -> str:
    stem = f"{sentence[:start]}{BLANK}{sentence[end:]}".strip()
    if stem[-1] not in ".!?":
        stem += "."
    return f"{stem} {lead_in}"


CONNECTIVES = re.compile(
    r"^(?:typically|usually|however|additionally|moreover|also|then|overall|afterwards"
    r"|generally|finally|first|next)\s*,?\s+",
    re.I,
)


def _proposed_fact(sentence: str) -> str:
    fact = CONNECTIVES.sub("", sentence).strip()
    fact = fact[:1].upper() + fact[1:]
    room = LIMITS["fact"] - len(FACT_PREFIX)
    if len(fact) > room:
        fact = fact[: room - 1].rsplit(" ", 1)[0] + "…"
    return FACT_PREFIX + fact


# --- Figures ------------------------------------------------------------------------

_ONES = (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def _number_words() -> dict[str, int]:
    """one .. ninety-nine, as words."""
    words = {word: value for value, word in enumerate(_ONES, start=1)}
    for index, tens in enumerate(_TENS):
        words[tens] = 20 + 10 * index
        for one in range(1, 10):
            words[f"{tens}-{_ONES[one - 1]}"] = 20 + 10 * index + one
    return words


NUMBER_WORDS = _number_words()
WORDS_FOR = {value: word for word, value in NUMBER_WORDS.items()}
# Canonical unit -> (how it may be written, singular, plural, seconds or None).
UNITS: dict[str, tuple[str, str, str, float | None]] = {
    "second": (r"seconds?|secs?", "second", "seconds", 1),
    "minute": (r"minutes?|mins?", "minute", "minutes", 60),
    "hour": (r"hours?|hrs?", "hour", "hours", 3600),
    "day": (r"days?", "day", "days", 86400),
    "week": (r"weeks?|wks?", "week", "weeks", 7 * 86400),
    "month": (r"months?", "month", "months", 30 * 86400),
    "year": (r"years?|yrs?", "year", "years", 365 * 86400),
    "mm": (r"mm|millimet(?:re|er)s?", "mm", "mm", None),
    "percent": (r"%|percent|per cent", "%", "%", None),
    "session": (r"sessions?", "session", "sessions", None),
    "treatment": (r"treatments?", "treatment", "treatments", None),
    "visit": (r"visits?", "visit", "visits", None),
}
COUNT_UNITS = ("session", "treatment", "visit")
TIME_LADDER = ("second", "minute", "hour", "day", "week", "month", "year")
# The largest number that still reads sensibly in a unit, for changing units.
SENSIBLE_MAX = {"second": 60, "minute": 60, "hour": 24, "day": 14, "week": 12, "month": 12,
                "year": 10}
_NUMBER = (r"(?:\d+(?:\.\d+)?|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
           + r")")
_UNIT = "(?:" + "|".join(u[0] for u in UNITS.values()) + ")"
FIGURE = re.compile(
    rf"(?<![\w.-])(?P<low>{_NUMBER})(?:\s*(?P<low_unit>{_UNIT})(?![\w%]))?"
    rf"(?:\s*(?P<join>to|–|—|-|and)\s*(?P<high>{_NUMBER}|an?))?"
    rf"\s*(?P<unit>{_UNIT})(?![\w])",
    re.I,
)
VAGUE = r"(?:a few|a couple(?: of)?|several|many|some)"
VAGUE_AFTER = re.compile(rf"^\s*(?:to|–|—|-)\s*{VAGUE}\b", re.I)
VAGUE_BEFORE = re.compile(rf"\b{VAGUE}\s+\w+\s*(?:to|–|—|-)\s*$", re.I)


@dataclass(frozen=True)
class Figure:
    """A figure found in a sentence; low == high for a single value."""

    text: str
    start: int
    end: int
    low: float
    high: float
    unit: str  # canonical unit of `high` (and of `low` unless low_unit says otherwise)
    low_unit: str
    join: str  # "to", "-", "and", ... or "" for a single value
    words: bool  # written in words ("four to six weeks")
    unit_text: str  # the unit as the sentence writes it

    @property
    def is_range(self) -> bool:
        return bool(self.join)


def _unit_of(text: str) -> str:
    for name, (pattern, *_rest) in UNITS.items():
        if re.fullmatch(pattern, text, re.I):
            return name
    raise ValueError(text)


def _value(text: str) -> float:
    text = text.lower()
    if text in ("a", "an"):
        return 1.0
    return float(NUMBER_WORDS.get(text, text))


def find_figures(sentence: str) -> list[Figure]:
    """The figures with a unit in a sentence, in order (see the module's rules)."""
    figures = []
    for match in FIGURE.finditer(sentence):
        join = (match.group("join") or "").lower()
        if join == "and" and not re.search(r"\bbetween\s*$", sentence[:match.start()], re.I):
            continue  # "5 and 10 days" only after "between"
        if VAGUE_AFTER.match(sentence[match.end():]) or VAGUE_BEFORE.search(
            sentence[:match.start()]
        ):
            continue  # one end of a vague range: never make it precise
        unit = _unit_of(match.group("unit"))
        low_unit = _unit_of(match.group("low_unit")) if match.group("low_unit") else unit
        low = _value(match.group("low"))
        high = _value(match.group("high")) if match.group("high") else low
        if low <= 0 or (join and _base(low, low_unit) >= _base(high, unit)):
            continue
        if UNITS[low_unit][3] is None and low_unit != unit:
            continue
        words = match.group("low").lower() in NUMBER_WORDS
        figures.append(Figure(
            text=match.group(0), start=match.start(), end=match.end(), low=low, high=high,
            unit=unit, low_unit=low_unit, join=join, words=words,
            unit_text=match.group("unit"),
        ))
    return figures


def _base(value: float, unit: str) -> float:
    seconds = UNITS[unit][3]
    return value * seconds if seconds else value


@dataclass(frozen=True)
class _Candidate:
    low: float
    high: float
    unit: str
    rule: str

    def span(self) -> tuple[float, float]:
        return _base(self.low, self.unit), _base(self.high, self.unit)


def _round(value: float, step: float) -> float:
    return math.floor(value / step + 0.5) * step  # halves round up, not to even


def _nice(value: float, whole: bool) -> float:
    """A number as a person would write it: a whole number stays; otherwise to 5 from
    30 up, whole from 3, to halves from 1, to 0.05 below; `whole` when only whole
    numbers make sense (a count, or a figure written in words)."""
    if value == int(value) and value >= 1:
        return value  # 48 hours stays 48
    if value >= 30:
        return _round(value, 5)
    if value >= 3 or whole:
        return max(1.0, _round(value, 1))
    if value >= 1:
        return _round(value, 0.5)
    return max(0.05, round(_round(value, 0.05), 2))


def _candidates(figure: Figure) -> tuple[list[_Candidate], list[_Candidate]]:
    """Distractor values below and above the key, most plausible first."""
    unit = figure.unit
    if figure.low_unit != unit:  # "30 minutes to an hour": work in the smaller unit
        factor = _base(1, unit) / _base(1, figure.low_unit)
        low, high, unit = figure.low, figure.high * factor, figure.low_unit
    else:
        low, high = figure.low, figure.high
    below: list[_Candidate] = []
    above: list[_Candidate] = []
    if figure.is_range:
        width = high - low
        below += [
            _Candidate(low - width, low, unit, "the range shifted down by its width"),
            _Candidate(low / 2, high / 2, unit, "the range halved"),
            _Candidate(low / 3, low, unit, "a shorter range ending where the key's begins"),
            _Candidate(low / 3, high / 3, unit, "the range divided by three"),
            _Candidate(low - 2 * width, low - width, unit,
                       "the range shifted down by twice its width"),
        ]
        above += [
            _Candidate(high, high + width, unit, "the range shifted up by its width"),
            _Candidate(low * 2, high * 2, unit, "the range doubled"),
            _Candidate(high + width, high + 2 * width, unit,
                       "the range shifted up by twice its width"),
            _Candidate(low * 3, high * 3, unit, "the range tripled"),
        ]
    else:
        below += [
            _Candidate(low / 2, low / 2, unit, "the figure halved"),
            _Candidate(low / 3, low / 3, unit, "the figure divided by three"),
        ]
        above += [
            _Candidate(low * 2, low * 2, unit, "the figure doubled"),
            _Candidate(low * 1.5, low * 1.5, unit, "the figure multiplied by 1.5"),
            _Candidate(low * 3, low * 3, unit, "the figure tripled"),
        ]
    if unit in TIME_LADDER and figure.low_unit == figure.unit:
        step = TIME_LADDER.index(unit)
        for other, side in ((step - 1, below), (step + 1, above)):
            if 0 <= other < len(TIME_LADDER):
                name = TIME_LADDER[other]
                if high <= SENSIBLE_MAX[name]:
                    side.insert(1, _Candidate(low, high, name,
                                              f"the same numbers in {UNITS[name][2]}"))
    return _usable(below, figure), _usable(above, figure)


def _usable(candidates: list[_Candidate], figure: Figure) -> list[_Candidate]:
    """Rounded candidates that are valid (above zero, a range with low < high),
    writable as the key is written, disjoint from the key (a range may touch its
    end) and not too like an earlier candidate."""
    key = (_base(figure.low, figure.low_unit), _base(figure.high, figure.unit))
    kept: list[_Candidate] = []
    for candidate in candidates:
        whole = figure.words or candidate.unit in COUNT_UNITS
        low, high = _nice(candidate.low, whole), _nice(candidate.high, whole)
        if candidate.low <= 0 or (figure.is_range and low >= high):
            continue
        if figure.words and not all(v in WORDS_FOR for v in (low, high)):
            continue
        nice = _Candidate(low, high, candidate.unit, candidate.rule)
        span = nice.span()
        # a range may touch the key's end; a single value must differ from it
        disjoint = (span[1] <= key[0] or span[0] >= key[1]) if figure.is_range else (
            span[0] != key[0])
        if disjoint and all(not _clash(span, other.span()) for other in kept):
            kept.append(nice)
    return kept


def _clash(first: tuple[float, float], second: tuple[float, float]) -> bool:
    """Two distractors too alike: equal, or ranges sharing more than a quarter of the
    shorter one (two to three weeks inside two to four weeks)."""
    if first == second:
        return True
    overlap = min(first[1], second[1]) - max(first[0], second[0])
    shorter = min(first[1] - first[0], second[1] - second[0])
    return shorter > 0 and overlap > shorter / 4


def _number_text(value: float, words: bool) -> str:
    if words and value in WORDS_FOR:
        return WORDS_FOR[int(value)]
    return f"{value:g}"


def _figure_text(candidate: _Candidate, figure: Figure) -> str:
    singular, plural = UNITS[candidate.unit][1], UNITS[candidate.unit][2]
    same_unit = candidate.unit == figure.unit == figure.low_unit
    if same_unit and figure.unit_text.lower() not in (singular, plural):
        singular = plural = figure.unit_text  # keep an abbreviation the key used ("mins")
    unit = singular if candidate.high == 1 and candidate.low == 1 else plural
    low = _number_text(candidate.low, figure.words)
    separator = "" if unit in ("%",) else " "
    if candidate.low == candidate.high:
        return f"{low}{separator}{unit}"
    high = _number_text(candidate.high, figure.words)
    join = figure.join
    joined = f"{low} {join} {high}" if join in ("to", "and") else f"{low}{join}{high}"
    return f"{joined}{separator}{unit}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _figure_options(figure: Figure, position: int) -> tuple[Option, ...] | None:
    below, above = _candidates(figure)
    feasible = [p for p in range(4) if p <= len(below) and 3 - p <= len(above)]
    if not feasible:
        return None
    position = min(feasible, key=lambda p: (abs(p - position), p))
    chosen = below[:position] + above[: 3 - position]
    key_span = (_base(figure.low, figure.low_unit), _base(figure.high, figure.unit))
    rows = [(key_span, _capital(figure.text), True, "")]
    for candidate in chosen:
        rationale = f"{WRONG_RATIONALE} (made by rule: {candidate.rule})."
        rows.append((candidate.span(), _capital(_figure_text(candidate, figure)), False,
                     rationale))
    rows.sort(key=lambda row: row[0])
    texts = [row[1].lower() for row in rows]
    if len(set(texts)) != len(texts):
        return None
    return tuple(
        Option(chr(ord("a") + index), text, correct, rationale)
        for index, (_span, text, correct, rationale) in enumerate(rows)
    )


# --- Lists of conditions ------------------------------------------------------------

# Conditions that rule microneedling out (or call for a wait or a referral) ...
EXCLUDED = (
    r"eczema", r"psoriasis", r"rosacea", r"dermatitis", r"active acne",
    r"acne (?:drug|medicine|medication)s?",
    r"isotretinoin", r"accutane", r"cold sores?", r"herpes", r"(?:skin )?rash(?:es)?",
    r"(?:skin )?infections?", r"open wounds?", r"wounds?", r"sunburn", r"keloids?",
    r"raised scars?", r"blood disorders?", r"bleeding disorders?", r"blood thinners?(?: drugs?)?",
    r"anticoagulants?", r"chemo(?:therapy)?", r"radiation", r"radiotherapy", r"pregnan\w*",
    r"moles?", r"skin tags?", r"growths", r"warts?", r"skin cancer", r"diabetes", r"impetigo",
    r"broken skin",
)
# ... and conditions it treats.
TREATED = (
    r"fine lines?", r"wrinkles?", r"acne scars?", r"scars?", r"scarring", r"stretch marks?",
    r"(?:large|enlarged) pores?", r"pores?", r"hyperpigmentation", r"pigmentation",
    r"age spots?", r"sun damage", r"sun spots?", r"(?:uneven|asymmetric) skin tones?",
    r"discolou?ration", r"laxity", r"loose skin", r"sagging skin", r"crepey skin",
    r"thinning hair", r"hair loss", r"hyperhidrosis",
)
KIND_PATTERNS = {
    "excluded": re.compile(r"\b(?:" + "|".join(EXCLUDED) + r")\b", re.I),
    "treated": re.compile(r"\b(?:" + "|".join(TREATED) + r")\b", re.I),
}
OTHER_KIND = {"excluded": "treated", "treated": "excluded"}
# Wrong options when the document offers too few of the other kind.
FALLBACK = {
    "treated": ("Fine lines", "Acne scars", "Enlarged pores", "Stretch marks",
                "Uneven skin tone", "Sun damage"),
    "excluded": ("Active cold sores", "Eczema", "Psoriasis", "Keloid scarring",
                 "Active acne", "A skin infection"),
}
# Words that end an item of a list: function words, verbs and the like.
BREAKERS = frozenset([
    "a", "an", "the", "any", "all", "some", "such", "as", "like", "including", "include",
    "includes", "included", "with", "without", "from", "of", "for", "to", "by", "on", "in",
    "at", "into", "through", "about", "after", "before", "during", "is", "are", "was",
    "were", "be", "been", "being", "should", "would", "will", "may", "might", "can",
    "could", "must", "not", "no", "who", "which", "that", "whose", "because", "if", "when",
    "where", "while", "but", "also", "even", "only", "have", "has", "had", "do", "does",
    "did", "persons", "people", "clients", "client", "anyone", "someone", "you", "your",
    "they", "their", "them", "these", "those", "it", "its", "this", "there", "here", "then",
    "than", "so", "or", "and", "nor", "whom", "other", "another", "types", "kinds",
])
# Words that may stand before a condition in a list's outer item ("active acne").
MODIFIERS = frozenset([
    "active", "recurrent", "severe", "chronic", "current", "untreated", "open", "raised",
    "deep", "large", "enlarged", "uneven", "visible", "recent", "existing", "mild",
    "thick", "new", "facial", "skin", "acne", "surgical", "fine",
])
WORD_TOKEN = re.compile(r"[A-Za-z][\w’'-]*|[,;:.!?()]")


@dataclass(frozen=True)
class FoundList:
    items: tuple[str, ...]
    start: int
    end: int
    kind: str  # "excluded" or "treated"


def _kind(item: str) -> str | None:
    if KIND_PATTERNS["excluded"].search(item):
        return "excluded"
    if KIND_PATTERNS["treated"].search(item):
        return "treated"
    return None


def find_lists(sentence: str) -> list[FoundList]:
    """Lists of two to five conditions joined by "and"/"or" (see the module's rules)."""
    tokens = [(m.group(0), m.start(), m.end()) for m in WORD_TOKEN.finditer(sentence)]
    found: list[FoundList] = []
    used_until = -1
    for index, (word, _start, _end) in enumerate(tokens):
        if word.lower() not in ("and", "or") or index <= used_until:
            continue
        last = _run(tokens, index + 1, forward=True)
        if last is None:
            continue
        items = [last]
        cursor = index - 1
        if cursor >= 0 and tokens[cursor][0] == ",":
            cursor -= 1  # the Oxford comma
        first_item = _run(tokens, cursor, forward=False)
        if first_item is None:
            continue
        items.insert(0, first_item)
        cursor = first_item[0] - 1
        while cursor >= 1 and tokens[cursor][0] == "," and len(items) < MAX_LIST_ITEMS + 1:
            previous = _run(tokens, cursor - 1, forward=False)
            if previous is None:
                break
            items.insert(0, previous)
            cursor = previous[0] - 1
        if not MIN_LIST_ITEMS <= len(items) <= MAX_LIST_ITEMS:
            continue
        spans = [(tokens[a][1], tokens[b][2]) for a, b in items]
        spans[0] = _trim(sentence, spans[0], start=True)
        spans[-1] = _trim(sentence, spans[-1], start=False)
        texts = tuple(sentence[a:b] for a, b in spans)
        kinds = [_kind(text) for text in texts]
        known = [k for k in kinds if k]
        needed = len(texts) if len(texts) == 2 else (len(texts) + 1) // 2
        if len(known) < needed or len(set(known)) != 1:
            continue
        found.append(FoundList(texts, spans[0][0], spans[-1][1], known[0]))
        used_until = items[-1][1]
    return found


def _trim(sentence: str, span: tuple[int, int], start: bool) -> tuple[int, int]:
    """The outer end of a list's first or last item is found by words alone, so it
    may take in a verb ("softens acne scars"): when the item names a known
    condition, it starts (first item) or ends (last item) with that condition, with
    any of `MODIFIERS` just before it ("active cold sores")."""
    text = sentence[span[0]:span[1]]
    match = KIND_PATTERNS["excluded"].search(text) or KIND_PATTERNS["treated"].search(text)
    if match is None:
        return span
    if not start:
        return span[0], span[0] + match.end()
    words = text[:match.start()].split()
    keep = 0
    while keep < len(words) and words[len(words) - 1 - keep].lower() in MODIFIERS:
        keep += 1
    begin = match.start()
    for word in words[len(words) - keep:][::-1]:
        begin = text.rindex(word, 0, begin)
    return span[0] + begin, span[1]


def _run(tokens, index: int, forward: bool) -> tuple[int, int] | None:
    """The item (first and last token index) of one to four words starting at
    `index` and going forward or backward until a breaker or punctuation."""
    step = 1 if forward else -1
    taken = []
    while 0 <= index < len(tokens) and len(taken) < 5:
        word = tokens[index][0]
        if not word[0].isalpha() or word.lower() in BREAKERS:
            break
        taken.append(index)
        index += step
    if not taken or len(taken) > 4:
        return None
    return (min(taken), max(taken))


def _normal(item: str) -> str:
    words = [w for w in re.findall(r"[a-z]+", item.lower()) if w not in ("a", "an", "the")]
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
                    for w in words)


def _document_items(document: ParsedDocument) -> dict[str, list[str]]:
    """The conditions the document lists, by kind, in order and without repeats."""
    items: dict[str, list[str]] = {"excluded": [], "treated": []}
    for section in document.sections:
        for sentence in sentences(section.text):
            for found in find_lists(sentence):
                for item in found.items:
                    if _kind(item) == found.kind and _normal(item) not in map(
                        _normal, items[found.kind]
                    ):
                        items[found.kind].append(item)
    return items


def _seed(*parts: str) -> int:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return int(digest[:16], 16)


def _list_options(
    found: FoundList, items_by_kind: dict[str, list[str]], document_id: str, heading: str,
) -> tuple[Option, ...] | None:
    other = OTHER_KIND[found.kind]
    same_kind = {_normal(item) for item in items_by_kind[found.kind]}
    keys = {_normal(item) for item in found.items}
    wanted = min(6 - len(found.items), max(2, OPTIONS_WANTED - len(found.items)))
    pool: list[tuple[str, str]] = []
    for item, origin in [*((i, "listed elsewhere in the document") for i in
                           items_by_kind[other]),
                         *((i, "from the built-in list") for i in FALLBACK[other])]:
        normal = _normal(item)
        if normal in keys or normal in same_kind or normal in {_normal(p) for p, _ in pool}:
            continue
        if _kind(item) == found.kind:
            continue
        pool.append((item, origin))
    if wanted < 1 or len(pool) < 1:
        return None
    rng = random.Random(_seed(document_id, heading, " | ".join(found.items)))
    document_items = [p for p in pool if p[1].startswith("listed")]
    fallback_items = [p for p in pool if not p[1].startswith("listed")]
    rng.shuffle(document_items)
    rng.shuffle(fallback_items)
    chosen = (document_items + fallback_items)[:wanted]
    what = "conditions microneedling treats" if other == "treated" else (
        "conditions that rule microneedling out")
    rows = [(_capital(item), True, "") for item in found.items]
    rows += [
        (_capital(item), False,
         f"{WRONG_RATIONALE} (one of the {what}, {origin}).")
        for item, origin in chosen
    ]
    rng.shuffle(rows)
    return tuple(
        Option(chr(ord("a") + index), text, correct, rationale)
        for index, (text, correct, rationale) in enumerate(rows)
    )
