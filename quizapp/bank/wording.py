"""Words of a text as the bank's similarity and guessing checks compare them.

Both checks ask "which words carry the meaning?": lower-cased words of three letters
or more, without function words, without the words every question of this bank uses
(client, skin, microneedling, ...) and without the frame of a question ("asks",
"choose all that apply"), with plurals folded onto the singular.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

STOP_WORDS = frozenset([
    "about", "above", "after", "again", "against", "also", "among", "another", "around",
    "because", "before", "being", "below", "between", "both", "could", "doing", "during",
    "each", "either", "every", "first", "following", "further", "having", "here", "itself",
    "just", "more", "most", "other", "over", "same", "should", "since", "some", "such",
    "than", "that", "their", "them", "then", "there", "these", "they", "this", "those",
    "through", "under", "until", "very", "were", "what", "when", "where", "which", "while",
    "whom", "whose", "will", "with", "would", "your", "yours", "client", "clients", "skin",
    "treatment", "treatments", "session", "sessions", "microneedling", "practitioner",
])
ABSOLUTE = re.compile(
    r"\b(always|never|completely|entirely|totally|guarantee[sd]?|permanently|impossible"
    r"|certainly|every|none|only|all|must)\b",
    re.I,
)
# Words and phrases that make an option sound careful (the spec's list). Most count
# in their inflected forms too: postponed, referral, evaluation, gently, cautious.
CAUTIOUS = re.compile(
    r"\b(?:postpone|wait|delay|defer|hold(?:s|ing)? off|refer|doctor|gp|physician"
    r"|dermatologist|medical|consult|check|assess|reassess|evaluat|patch[- ]test|stop"
    r"|avoid|declin|not treat|clearance|cautio|careful|safe|gentl|review)\w*"
    r"|\b(?:do not|don't|until|first)\b",
    re.I,
)
HEDGES = re.compile(
    r"\b(may|might|usually|can|could|some|often|sometimes|generally|typically|likely"
    r"|possibly|tends?|most)\b",
    re.I,
)

WORD = re.compile(r"[a-z][a-z'-]*")
# Function words shorter than lint's list bothers with, the frame of a question,
# and "true"/"false", the whole key of a true/false item.
FRAME_WORDS = frozenset([
    "and", "are", "can", "does", "for", "from", "has", "have", "how", "into", "its", "not",
    "the", "what", "who", "why",
    "ask", "asks", "asked", "choose", "apply", "tell", "tells", "answer", "answers", "reply",
    "best", "accurate", "say", "says", "said", "statement", "statements", "support",
    "supports", "describe", "describes", "likely", "explain",
    "she", "her", "him", "his", "they", "them", "one", "true", "false",
])
IGNORED = STOP_WORDS | FRAME_WORDS
# Phrases that frame a question without saying anything about its subject.
FRAME_PHRASES = ("choose all that apply", "according to")


def fold_plural(word: str) -> str:
    """'scars' -> 'scar', 'therapies' -> 'therapy'; short words and '-ss' stay."""
    if len(word) > 5 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def content_words(text: str, ignore_phrases: Iterable[str] = ()) -> list[str]:
    """The meaning-bearing words of `text`, in order, after removing `ignore_phrases`
    (for example the documents' titles, which say where a fact is from, not what)."""
    return list(_content_words(text, tuple(ignore_phrases)))


@functools.lru_cache(maxsize=8192)
def _content_words(text: str, ignore_phrases: tuple[str, ...]) -> tuple[str, ...]:
    # Cached: the guessability and similarity checks read the same option texts many
    # times over (every cue, followed and reversed), and bank texts rarely change.
    text = text.lower().replace("’", "'")
    phrases = (*FRAME_PHRASES, *(p.lower() for p in ignore_phrases if p))
    for phrase in sorted(phrases, key=len, reverse=True):
        text = text.replace(phrase, " ")
    words = (word.strip("'-").removesuffix("'s") for word in WORD.findall(text))
    return tuple(fold_plural(word) for word in words if len(word) >= 3 and word not in IGNORED)
