"""The one password rule, for every way a password is set: an account made by an admin
or a manager, on the command line or by self-registration, and a reset link redeemed.

OWASP ASVS 6.2: at least 8 characters and up to 128 allowed, no composition rules,
guessable passwords refused. "Guessable" is zxcvbn's judgement (a score of 3 or more
out of 4 passes), given the person's name and email, and a password that holds the
person's name or email is refused outright. Long passphrases pass: length is what
zxcvbn rewards. Imports neither Flask nor SQLAlchemy (tests/test_layers.py).
"""

from __future__ import annotations

import re
import unicodedata

from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_SCORE = 3
# zxcvbn refuses to score more than this many characters (it gets slow); a longer
# password is scored on its start, which is already more than any guesser tries.
SCORED_LENGTH = 72
# Parts of a name or email shorter than this are not looked for inside a password
# ("Li", "Bo", "t@..."): they turn up in too many good passphrases by chance.
SHORTEST_PART = 4

WEAK = "This password is too easy to guess."
PERSONAL = "A password must not contain the account's name or email address."


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def personal_parts(name: str, email: str) -> list[str]:
    """What a password must not contain: the name (whole and its words), the email and
    the part before its @, case-folded, each of at least `SHORTEST_PART` characters."""
    name, email = _fold(name or "").strip(), _fold(email or "").strip()
    words = re.findall(r"\w+", name)
    local = email.partition("@")[0]
    candidates = [name, "".join(words), email, local, *words]
    return sorted({part for part in candidates if len(part) >= SHORTEST_PART},
                  key=lambda part: (-len(part), part))


def password_problem(password: str, name: str = "", email: str = "") -> str | None:
    """Why `password` will not do for the person with this name and email, in words
    for that person (zxcvbn's advice where it has some), or None when it is fine."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return f"The password needs at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"The password can have at most {MAX_LENGTH} characters."
    folded = _fold(password)
    squeezed = re.sub(r"\W+", "", folded)
    for part in personal_parts(name, email):
        bare = re.sub(r"\W+", "", part)
        if part in folded or (len(bare) >= SHORTEST_PART and bare in squeezed):
            return PERSONAL
    result = zxcvbn(password[:SCORED_LENGTH], user_inputs=[name or "", email or ""])
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result.get("feedback") or {}
    advice = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
    advice = [_sentence(line) for line in advice if line.strip()]
    if not advice:
        advice = ["A few uncommon words together make a strong password."]
    return " ".join([WEAK, *advice])


def _sentence(line: str) -> str:
    line = line.strip()
    return line if line.endswith((".", "!", "?")) else line + "."
