"""`flask report items|exam|responses`: the numbers the service computes, and the same
numbers again computed independently (NumPy) from the response matrix the command
prints."""

from __future__ import annotations

import csv
import io
import json
import math
import random

import numpy as np
import pytest
from item_data import Sittings
from sqlalchemy import select, update

from quizapp import item_analysis
from quizapp.cohorts import ReportFilter
from quizapp.extensions import db
from quizapp.models import AttemptItem


@pytest.fixture
def sittings(bank_loaded):
    made = Sittings(form_size=8, pool=14)
    first = made.add(45, random.Random(21))
    made.add(12, random.Random(22), number=2, user_ids=first[:12])
    return made


def run(runner, *args) -> str:
    result = runner.invoke(args=["report", *args])
    assert result.exit_code == 0, result.output
    return result.output


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def service(all_attempts: bool = False) -> item_analysis.ItemAnalysis:
    return item_analysis.analyse(None, ReportFilter(exam_id="certification"), all_attempts)


def test_items_csv_is_the_services_numbers(sittings, runner):
    got = rows(run(runner, "items", "certification", "--format", "csv"))
    analysis = service()
    assert list(got[0])[:7] == ["question_id", "version", "responses", "facility",
                                "discrimination", "efficiency", "flags"]
    assert [r["question_id"] for r in got] == [q.question_id for q in analysis.questions]
    for row, q in zip(got, analysis.questions, strict=True):
        assert row["version"] == "1"
        assert int(row["responses"]) == q.stats.responses
        for name in ("facility", "discrimination", "efficiency", "sd", "random_guess"):
            value = getattr(q.stats, name)
            assert (row[name] == "") if value is None else (
                float(row[name]) == pytest.approx(value, abs=1e-6)), name
        assert row["flags"] == "; ".join(q.stats.labels)


def test_items_json_and_all_attempts(sittings, runner):
    first = json.loads(run(runner, "items", "certification", "--format", "json"))
    every = json.loads(run(runner, "items", "certification", "--format", "json",
                           "--all-attempts"))
    assert first == json.loads(json.dumps(item_analysis.item_dicts(service())))
    assert every == json.loads(json.dumps(item_analysis.item_dicts(service(True))))
    assert sum(q["responses"] for q in first) == 45 * 8
    assert sum(q["responses"] for q in every) == 57 * 8


def test_exam_json_and_csv_are_the_services_numbers(sittings, runner):
    stats = json.loads(run(runner, "exam", "certification"))
    assert list(stats) == ["attempts", "mean", "median", "sd", "skewness", "kurtosis",
                           "alpha", "error_ratio", "sem"]
    assert stats == item_analysis.exam_dict(service())
    [row] = rows(run(runner, "exam", "certification", "--format", "csv", "--all-attempts"))
    every = item_analysis.exam_dict(service(True))
    assert int(row["attempts"]) == every["attempts"] == 57
    for name, value in every.items():
        assert float(row[name]) == pytest.approx(value, abs=1e-6), name


@pytest.mark.parametrize("all_attempts", [False, True])
def test_the_numbers_agree_with_an_independent_computation_from_the_responses(
        sittings, runner, all_attempts):
    flag = ["--all-attempts"] if all_attempts else []
    matrix = rows(run(runner, "responses", "certification", "--format", "csv", *flag))
    questions = list(matrix[0])[1:]
    marks = np.array([[float(r[q]) if r[q] != "" else np.nan for q in questions]
                      for r in matrix])
    seen = ~np.isnan(marks)
    assert len(matrix) == (57 if all_attempts else 45)
    assert (seen.sum(axis=1) == 8).all()

    totals = np.nansum(marks, axis=1)
    percent = 100 * totals / seen.sum(axis=1)
    s, p = len(percent), seen.sum(axis=1).mean()
    d = percent - percent.mean()
    m2, m3, m4 = (d ** 2).mean(), (d ** 3).mean(), (d ** 4).mean()
    k2 = percent.var(ddof=1)
    item_var = sum(seen[:, j].sum() / s * np.var(marks[seen[:, j], j], ddof=1)
                   for j in range(len(questions)))
    alpha = p / (p - 1) * (1 - item_var * (100 / p) ** 2 / k2)
    expected = {
        "attempts": s, "mean": percent.mean(), "median": float(np.median(percent)),
        "sd": math.sqrt(k2),
        "skewness": s * s * m3 / ((s - 1) * (s - 2)) / k2 ** 1.5,
        "kurtosis": (s * s * ((s + 1) * m4 - 3 * (s - 1) * m2 * m2)
                     / ((s - 1) * (s - 2) * (s - 3))) / k2 ** 2,
        "alpha": alpha, "error_ratio": math.sqrt(1 - alpha),
        "sem": math.sqrt(k2) * math.sqrt(1 - alpha),
    }
    assert json.loads(run(runner, "exam", "certification", *flag)) == pytest.approx(expected)

    items = {r["question_id"]: r for r in rows(run(runner, "items", "certification", *flag))}
    assert set(items) == set(questions)
    for j, qid in enumerate(questions):
        x = marks[seen[:, j], j]
        rest = totals[seen[:, j]] - x
        assert int(items[qid]["responses"]) == len(x)
        assert float(items[qid]["facility"]) == pytest.approx(x.mean(), abs=1e-6)
        if x.std() and rest.std():
            assert float(items[qid]["discrimination"]) == pytest.approx(
                100 * np.corrcoef(x, rest)[0, 1], abs=1e-5)


def test_the_responses_show_partial_marks_and_empty_cells_off_the_form(sittings, runner):
    item = db.session.scalars(select(AttemptItem).order_by(AttemptItem.id)).first()
    db.session.execute(update(AttemptItem).where(AttemptItem.id == item.id).values(mark=0.5))
    db.session.commit()
    matrix = rows(run(runner, "responses", "certification"))
    assert list(matrix[0])[0] == "attempt"
    first = next(r for r in matrix if int(r["attempt"]) == item.attempt_id)
    assert first[item.version.question_id] == "0.5"
    cells = [v for r in matrix for k, v in r.items() if k != "attempt"]
    assert set(cells) == {"0", "1", "0.5", ""}


def test_an_unknown_exam_is_a_usage_error(bank_loaded, runner):
    for command in ("items", "exam", "responses"):
        result = runner.invoke(args=["report", command, "nope"])
        assert result.exit_code == 2
        assert "There is no exam 'nope'." in result.output


def test_no_attempts_gives_empty_reports_not_errors(bank_loaded, runner):
    assert rows(run(runner, "items", "certification")) == []
    stats = json.loads(run(runner, "exam", "certification"))
    assert stats["attempts"] == 0 and stats["alpha"] is None
    assert run(runner, "responses", "certification").strip() == "\ufeffattempt"
