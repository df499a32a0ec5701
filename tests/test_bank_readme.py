"""The schema guide's examples are real: copied into a bank, they pass the checker."""

from __future__ import annotations

import re
import shutil

import yaml
from conftest import BANK_PATH

from quizapp.bank import check_bank, load_bank


def test_every_example_in_the_bank_readme_passes_the_checker(tmp_path):
    readme = (BANK_PATH / "README.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", readme, re.S)]
    first, *others = blocks
    questions = first["questions"] + [q for b in others if isinstance(b, list) for q in b]
    facts = next(b for b in blocks if isinstance(b, dict) and "facts" in b)["facts"]
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
    (root / "topics.yaml").write_text(yaml.safe_dump(topics))
    (root / "exams.yaml").write_text("exams: []\n")
    # Every example goes in one file, each tied to a fact on the source it cites.
    (root / "questions" / "contraindications.yaml").write_text(
        yaml.safe_dump({"topic": "contraindications", "questions": questions}))
    listed = {q for fact in facts for q in fact["questions"]}
    facts += [{"id": f"example-{q['id']}", **{k: q["sources"][0][k] for k in
               ("document", "section", "fact")}, "questions": [q["id"]]}
              for q in questions if q["id"] not in listed]
    (root / "facts" / "contraindications.yaml").write_text(
        yaml.safe_dump({"topic": "contraindications", "facts": facts}))

    bank, problems = load_bank(root)
    problems += check_bank(bank)
    assert [str(p) for p in problems] == []
    assert len(bank.questions) == len(questions) == 3
