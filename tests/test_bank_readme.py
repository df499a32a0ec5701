"""The schema guide's examples are real: copied into a bank, they pass the checker; and
every field a question file may hold is documented."""

from __future__ import annotations

import re
import shutil

import yaml
from support import BANK_PATH

from quizapp.bank import balance, check_bank, guess, load_bank, similar
from quizapp.bank.files import FACT_KEYS, QUESTION_KEYS

README = (BANK_PATH / "README.md").read_text(encoding="utf-8")
BLOCKS = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", README, re.S)]


def _block_with(key: str) -> dict:
    return next(b for b in BLOCKS if isinstance(b, dict) and key in b)


def test_every_example_in_the_bank_readme_passes_the_checker(tmp_path):
    first, *others = BLOCKS
    questions = first["questions"] + [q for b in others if isinstance(b, list) for q in b]
    facts = _block_with("facts")["facts"]
    assert {q["type"] for q in questions} == {"single", "multiple", "true_false"}

    root = tmp_path / "question_bank"
    (root / "questions").mkdir(parents=True)
    (root / "facts").mkdir()
    for name in ("sources.yaml", "conflicts.yaml"):
        shutil.copy(BANK_PATH / name, root / name)
    topics = yaml.safe_load((BANK_PATH / "topics.yaml").read_text())
    topics["minimum_scenario_share"] = 0
    for topic in topics["topics"]:
        topic["minimum"] = 0
    topics["risk_categories"] = _block_with("risk_categories")["risk_categories"]
    (root / "topics.yaml").write_text(yaml.safe_dump(topics))
    (root / "exams.yaml").write_text("exams: []\n")
    # Every example goes in one file, each tied to a fact on the source it cites (a
    # contraindications fact names a risk: the question's, or general screening).
    (root / "questions" / "contraindications.yaml").write_text(
        yaml.safe_dump({"topic": "contraindications", "questions": questions}))
    listed = {q for fact in facts for q in fact["questions"]}
    facts += [{"id": f"example-{q['id']}", **{k: q["sources"][0][k] for k in
               ("document", "section", "fact")}, "risk": q.get("risk", "screening"),
               "questions": [q["id"]]}
              for q in questions if q["id"] not in listed]
    (root / "facts" / "contraindications.yaml").write_text(
        yaml.safe_dump({"topic": "contraindications", "facts": facts}))

    bank, problems = load_bank(root)
    problems += check_bank(bank)
    assert [str(p) for p in problems] == []
    assert len(bank.questions) == len(questions) == 3
    assert bank.questions["mech-005"].practice_only
    assert bank.questions["contra-001"].risk == "medication"


def test_every_question_and_fact_field_is_documented():
    """Each field the reader accepts has a row in a table or appears in an example."""
    for key in QUESTION_KEYS:
        assert f"| `{key}` |" in README, key
    for key in FACT_KEYS:
        assert re.search(rf"^\s+(- )?{key}:", README, re.M), key


def test_the_guide_names_the_limits_the_checker_uses():
    """The numbers in the guide are the checker's numbers."""
    text = " ".join(README.split())
    assert f"at or above **{similar.NEAR_DUPLICATE_THRESHOLD}**" in text
    assert f"more than {guess.LIMIT_POINTS} points above chance" in text
    assert f"fewer than {guess.MINIMUM_QUESTIONS} questions" in text
    assert (f"**p < {balance.LETTER_P_LIMIT}** over at least"
            f" **{balance.LETTER_MINIMUM_QUESTIONS}**") in text
    assert (f"**p < {balance.POSITION_P_LIMIT}** over at least"
            f" **{balance.POSITION_MINIMUM_QUESTIONS}**") in text
    for cue in (*guess.CUES, guess.COMBINED):
        assert f"| {cue} |" in text, cue


def test_the_guide_lists_the_risk_categories_of_topics_yaml():
    """The README's risk_categories block is the one in topics.yaml."""
    topics = yaml.safe_load((BANK_PATH / "topics.yaml").read_text(encoding="utf-8"))
    assert _block_with("risk_categories")["risk_categories"] == topics.get("risk_categories")
