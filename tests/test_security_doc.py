"""SECURITY.md's table of thresholds says what the code does: each row's limit and
window are the defaults of quizapp/config.py (read from the file itself, so an edit
to either side without the other fails here)."""

from __future__ import annotations

import re
from pathlib import Path

from quizapp.config import from_environment

SECURITY = Path(__file__).resolve().parent.parent / "SECURITY.md"
UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def _threshold_rows() -> list[tuple[int, int, list[str]]]:
    """(limit, window in seconds, settings named) of each row under "## Thresholds"."""
    section = SECURITY.read_text(encoding="utf-8").split("## Thresholds", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not cells[2].isdigit():
            continue
        count, unit = re.fullmatch(r"(\d+) (second|minute|hour|day)s?", cells[3]).groups()
        rows.append((int(cells[2]), int(count) * UNITS[unit], re.findall(r"`(\w+)`", cells[4])))
    return rows


def test_every_documented_threshold_is_the_codes_default(monkeypatch):
    rows = _threshold_rows()
    documented = {names[0] for _, _, names in rows}
    throttles = {"SIGNIN_ACCOUNT_LIMIT", "SIGNIN_ADDRESS_LIMIT", "REGISTER_RATE_LIMIT",
                 "RESET_RATE_LIMIT", "VERIFY_RATE_LIMIT"}
    assert documented == throttles
    for name in (*throttles, *(t.replace("LIMIT", "WINDOW") for t in throttles)):
        monkeypatch.delenv(name, raising=False)
    defaults = from_environment("/tmp")
    for limit, window, (limit_name, window_name) in rows:
        assert window_name == limit_name.replace("LIMIT", "WINDOW")
        assert (defaults[limit_name], defaults[window_name]) == (limit, window), limit_name


README = SECURITY.with_name("README.md")


def test_the_readmes_numeric_defaults_are_the_codes(monkeypatch):
    """Each row of the README's configuration table that names one setting and gives a
    number as its default states the code's default."""
    section = README.read_text(encoding="utf-8").split("## Configuration", 1)[1]
    section = section.split("\n## ", 1)[0]
    stated = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        names = re.findall(r"`(\w+)`", cells[0])
        if len(cells) == 3 and len(names) == 1 and cells[2].isdigit():
            stated[names[0]] = int(cells[2])
    assert {"EXAM_GRACE_SECONDS", "PASSWORD_RESET_HOURS", "SESSION_IDLE_DAYS",
            "TRUSTED_PROXIES"} <= set(stated)
    for name in stated:
        monkeypatch.delenv(name, raising=False)
    defaults = from_environment("/tmp")
    assert {name: defaults[name] for name in stated} == stated
