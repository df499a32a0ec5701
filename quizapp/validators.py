"""Validators shared by the forms of several blueprints."""

from __future__ import annotations

import unicodedata

from wtforms.validators import ValidationError


def clean_text(value: str | None) -> str:
    """Normalise Unicode (NFC) and spacing, so look-alike input compares equal."""
    return " ".join(unicodedata.normalize("NFC", value or "").split())


def printable(form, field) -> None:
    """Refuse control and unassigned characters in a name or other short text."""
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cn", "Co", "Cs"} for ch in field.data or ""):
        raise ValidationError("Use letters, digits, spaces and ordinary punctuation only.")
