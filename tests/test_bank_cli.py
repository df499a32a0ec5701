"""The `flask bank` commands through the Flask CLI runner: check, import, export, stats."""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
from pathlib import Path

import yaml
from sqlalchemy import func, select

from quizapp.bank import load_bank
from quizapp.bank_store import import_bank
from quizapp.extensions import db
from quizapp.models import Question, QuestionVersion

SHIPPED = Path(__file__).resolve().parent.parent / "question_bank"
NO_CHANGE = "0 added, 0 new version(s), 0 status change(s), 0 moved topic, 0 retired"
QUESTION_FIELDS = {"id", "version", "topic", "type", "stem", "options", "explanation",
                   "difficulty", "safety_critical", "status", "sources"}


def copy_bank(tmp_path: Path, with_questions: bool = True) -> Path:
    """The shipped bank copied to tmp_path/question_bank, questions optional."""
    root = tmp_path / "question_bank"
    shutil.copytree(SHIPPED, root,
                    ignore=None if with_questions else shutil.ignore_patterns("questions"))
    return root


def break_question(root: Path, topic: str = "mechanism") -> str:
    """Remove the explanation of the first question of a topic; return its id."""
    path = root / "questions" / f"{topic}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["questions"][0]["explanation"]
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return data["questions"][0]["id"]


def bank(runner, *args: str):
    return runner.invoke(args=["bank", *args])


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


# --- check ------------------------------------------------------------------------------


def test_check_passes_on_the_shipped_bank(runner):
    """`bank check` exits 0 on the shipped bank and reports no errors."""
    result = bank(runner, "check")
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output
    assert "error:" not in result.output


def test_check_fails_on_a_broken_bank_naming_file_and_id(runner, tmp_path):
    """`bank check --path` exits 1 and prints `error: file: id: message`."""
    root = copy_bank(tmp_path)
    qid = break_question(root)
    result = bank(runner, "check", "--path", str(root))
    assert result.exit_code == 1
    assert (f"error: question_bank/questions/mechanism.yaml: {qid}: missing field"
            " 'explanation'") in result.output
    assert " 0 error(s)" not in result.output


# --- import -----------------------------------------------------------------------------


def test_import_loads_the_bank_and_twice_changes_nothing(runner, app, shipped_bank):
    """`bank import` loads every question; a second run reports nothing changed."""
    first = bank(runner, "import")
    assert first.exit_code == 0, first.output
    shipped = shipped_bank
    assert f"{len(shipped.questions)} added" in first.output
    assert count(QuestionVersion) == len(shipped.questions)

    second = bank(runner, "import")
    assert second.exit_code == 0, second.output
    assert f"Imported: {NO_CHANGE}, {len(shipped.questions)} unchanged;" in second.output
    assert "0 exam(s) updated" in second.output
    assert count(QuestionVersion) == len(shipped.questions)


def test_import_refuses_a_bank_with_errors(runner, app, tmp_path):
    """`bank import` with any error exits 1 and imports nothing at all."""
    root = copy_bank(tmp_path)
    qid = break_question(root)
    result = bank(runner, "import", "--path", str(root))
    assert result.exit_code == 1
    assert f"question_bank/questions/mechanism.yaml: {qid}" in result.output
    assert "Nothing imported" in result.output
    assert count(Question) == 0
    assert count(QuestionVersion) == 0


# --- export -----------------------------------------------------------------------------


def test_export_files_then_import_is_a_no_op(runner, bank_loaded, shipped_bank, tmp_path):
    """Files written by `bank export` import back with nothing added, versioned or retired.

    The database holds a second version of one question and a retired one, so the
    round trip covers both.
    """
    edited_id, retired_id = sorted(shipped_bank.questions)[:2]
    changed = copy.copy(shipped_bank)
    changed.questions = dict(shipped_bank.questions)
    changed.questions[edited_id] = dataclasses.replace(
        shipped_bank.questions[edited_id],
        explanation=shipped_bank.questions[edited_id].explanation + " See the course notes.")
    del changed.questions[retired_id]
    import_bank(changed)
    db.session.commit()

    out = copy_bank(tmp_path, with_questions=False)
    assert not (out / "questions").exists()
    result = bank(runner, "export", "--format", "files", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"Wrote {len(shipped_bank.questions)} questions" in result.output

    exported, problems = load_bank(out)
    assert [p for p in problems if p.level == "error"] == []
    assert exported.questions[retired_id].status == "retired"
    assert exported.questions[edited_id].explanation.endswith("See the course notes.")

    versions = count(QuestionVersion)
    result = bank(runner, "import", "--path", str(out))
    assert result.exit_code == 0, result.output
    assert f"Imported: {NO_CHANGE}, {len(shipped_bank.questions)} unchanged" in result.output
    assert count(QuestionVersion) == versions


def test_export_json_has_the_documented_fields(runner, bank_loaded, shipped_bank):
    """`bank export --format json` prints one document: `questions` with the listed fields."""
    result = bank(runner, "export", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    questions = document["questions"]
    assert isinstance(questions, list)
    assert sorted(q["id"] for q in questions) == sorted(shipped_bank.questions)
    for question in questions:
        extra = {"scenario", "risk", "practice_only", "enemies"}
        assert QUESTION_FIELDS <= set(question) <= QUESTION_FIELDS | extra, question["id"]
        assert question["version"] == 1
        for option in question["options"]:
            assert set(option) == {"id", "text", "correct", "rationale"}
        for source in question["sources"]:
            assert set(source) == {"document", "section", "fact"}
    first = next(q for q in questions if q["id"] == "mech-001")
    original = shipped_bank.questions["mech-001"]
    assert (first["topic"], first["stem"], first["status"]) == (
        "mechanism", original.stem, "published")


def test_export_json_to_a_file(runner, bank_loaded, tmp_path):
    """`--out FILE` writes the same JSON document to a file."""
    target = tmp_path / "bank.json"
    result = bank(runner, "export", "--format", "json", "--out", str(target))
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text(encoding="utf-8"))["questions"]


# --- stats ------------------------------------------------------------------------------


def test_stats_prints_the_counts(runner, shipped_bank):
    """`bank stats` lists every topic with its count and minimum, and the conflicts."""
    result = bank(runner, "stats")
    assert result.exit_code == 0, result.output
    assert f"Questions: {len(shipped_bank.questions)}" in result.output
    for topic in shipped_bank.topics.values():
        assert topic.name in result.output
    assert "BELOW MINIMUM" not in result.output
    for conflict_id in shipped_bank.conflicts:
        assert conflict_id in result.output


def test_stats_json(runner, shipped_bank):
    """`bank stats --json` is valid JSON with the documented keys."""
    result = bank(runner, "stats", "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    for key in ("per_topic", "per_type", "per_difficulty", "per_status", "scenario_share",
                "uncovered_facts", "conflicts"):
        assert key in stats
    assert set(stats["per_topic"]) == set(shipped_bank.topics)
    assert all(row["met"] for row in stats["per_topic"].values())
    assert sum(stats["per_type"].values()) == len(shipped_bank.published())
    assert set(stats["per_type"]) <= {"single", "multiple", "true_false"}
    assert set(stats["per_difficulty"]) <= {"easy", "medium", "hard"}
    assert stats["uncovered_facts"] == []
    assert {c["id"] for c in stats["conflicts"]} == set(shipped_bank.conflicts)
    assert 0.25 <= stats["scenario_share"] <= 1


def test_stats_show_a_topic_below_minimum(runner, tmp_path):
    """On a bank short of questions, `bank stats --path` marks the topic."""
    root = copy_bank(tmp_path)
    topics = yaml.safe_load((root / "topics.yaml").read_text(encoding="utf-8"))
    topics["topics"][0]["minimum"] = 500
    (root / "topics.yaml").write_text(yaml.safe_dump(topics), encoding="utf-8")
    result = bank(runner, "stats", "--path", str(root))
    assert result.exit_code == 0, result.output
    assert "BELOW MINIMUM" in result.output
    stats = json.loads(bank(runner, "stats", "--json", "--path", str(root)).output)
    assert stats["per_topic"][topics["topics"][0]["id"]]["met"] is False
