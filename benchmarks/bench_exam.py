"""How fast the exam rules run on the shipped bank: drawing a form and scoring one.

Run with `make bench`. Targets, on the project's 2-core machine: drawing a
30-question certification form in under 5 ms, scoring it in under 1 ms, so that
starting or submitting an attempt is bound by the database, never by the rules.
"""

from __future__ import annotations

import random
import sys
import timeit
from pathlib import Path

from quizapp import exam_rules
from quizapp.bank import load_bank
from quizapp.bank.check import pool_of

TARGETS_MS = {"draw a certification form": 5.0, "score a certification form": 1.0}


def main() -> int:
    bank, _ = load_bank(Path(__file__).resolve().parent.parent / "question_bank")
    certification = next(e for e in bank.exams if e.kind == "certification")
    # As the app draws: enemies from the facts, no practice-only questions.
    pool = exam_rules.pool_for(certification, pool_of(bank.published(), bank.enemy_map()))
    rng = random.Random(1)
    exposure = {q.question_id: rng.randrange(4) for q in pool}
    by_key = {item.key: bank.published()[item.key] for item in pool}
    form = exam_rules.draw_form(certification.blueprint, pool, rng, exposure)
    items = [
        exam_rules.ScoredItem(q.type, q.topic, q.safety_critical, tuple(sorted(q.correct_ids)),
                        q.correct_ids)
        for q in (by_key[f.key] for f in form)
    ]
    runs = {
        "draw a certification form": lambda: exam_rules.draw_form(
            certification.blueprint, pool, rng, exposure),
        "score a certification form": lambda: exam_rules.score(items, certification),
    }
    failed = False
    for name, run in runs.items():
        number = 500
        best = min(timeit.repeat(run, number=number, repeat=5)) / number * 1000
        verdict = "ok" if best <= TARGETS_MS[name] else "SLOWER THAN TARGET"
        failed |= best > TARGETS_MS[name]
        print(f"{name:<30} {best:8.3f} ms  (target {TARGETS_MS[name]} ms)  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
