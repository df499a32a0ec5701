"""The item analysis service and its page: the matrix read from the database equals the
statistics module's on the same responses; the report filter, cohorts and first
attempts narrow it; a foreign cohort or an unknown exam is a 404; the page and its CSV
cost the same queries for 10 attempts as for 1,000."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, date, datetime

import pytest
from helpers import statements
from item_data import Sittings, cohort
from sqlalchemy import select
from support import PASSWORD, PEOPLE, user_by_email

from quizapp import item_analysis, item_stats
from quizapp.cohorts import ReportFilter
from quizapp.extensions import db
from quizapp.models import AttemptItem, QuestionVersion


def analyse(viewer=None, all_attempts=False, **filters) -> item_analysis.ItemAnalysis:
    return item_analysis.analyse(viewer, ReportFilter(exam_id="certification", **filters),
                                 all_attempts)


def test_the_database_gives_what_the_statistics_module_gives(bank_loaded):
    sittings = Sittings()
    sittings.add(80, random.Random(1))
    got = analyse()
    expected = item_stats.analyse(sittings.matrix, {})
    assert got.stats == expected.exam
    assert {q.question_id for q in got.questions} == set(expected.items)
    for q in got.questions:
        want = expected.items[q.question_id]
        assert (q.stats.responses, q.stats.facility, q.stats.discrimination) == (
            want.responses, pytest.approx(want.facility), pytest.approx(want.discrimination))
        assert q.stats.option_shares == pytest.approx(want.option_shares)
        assert q.stats.random_guess == pytest.approx(1 / len(q.stats.option_shares))
        assert q.versions == (1,) and q.topic and len(q.key) == 1


def test_the_counts_grouped_in_sql_give_what_the_streamed_matrix_gives(bank_loaded):
    sittings = Sittings()
    sittings.add(60, random.Random(21))
    # Partial marks, and items left unmarked and unanswered, as the database may hold.
    for n, item in enumerate(db.session.scalars(select(AttemptItem).order_by(AttemptItem.id))):
        if n % 7 == 0:
            item.mark, item.response = 0.5, item.option_order[:2]
        elif n % 11 == 0:
            item.mark, item.response = None, None
    db.session.commit()
    for all_attempts in (False, True):
        _, matrix = item_analysis.responses(
            None, ReportFilter(exam_id="certification"), all_attempts)
        expected = item_stats.analyse((row for _, row in matrix), {})
        got = analyse(all_attempts=all_attempts)
        for name in item_analysis.EXAM_COLUMNS:
            assert getattr(got.stats, name) == pytest.approx(getattr(expected.exam, name))
        assert {q.question_id for q in got.questions} == set(expected.items)
        for q in got.questions:
            want = expected.items[q.question_id]
            assert (q.stats.responses, q.stats.facility, q.stats.sd, q.stats.discrimination,
                    q.stats.efficiency) == (
                want.responses, pytest.approx(want.facility), pytest.approx(want.sd),
                pytest.approx(want.discrimination), pytest.approx(want.efficiency))
            # Without the questions, the matrix knows only the options someone chose.
            chosen = {o: share for o, share in q.stats.option_shares.items() if share}
            assert chosen == pytest.approx(want.option_shares)


def test_first_attempts_by_default_all_on_request(bank_loaded):
    sittings = Sittings()
    users = sittings.add(12, random.Random(2))
    sittings.add(5, random.Random(3), number=2, user_ids=users[:5])
    assert analyse().stats.attempts == 12
    assert analyse(all_attempts=True).stats.attempts == 17


def test_the_dates_narrow_by_finish_both_ends_included(bank_loaded):
    sittings = Sittings()
    for day in (1, 2, 3):
        sittings.add(2, random.Random(day), finished_at=datetime(2026, 10, day, 23, 59,
                                                                 tzinfo=UTC))
    assert analyse(since=date(2026, 10, 2)).stats.attempts == 4
    assert analyse(since=date(2026, 10, 2), until=date(2026, 10, 2)).stats.attempts == 2
    assert analyse(until=date(2026, 10, 1)).stats.attempts == 2


def test_a_manager_sees_their_cohorts_only_and_another_cohort_is_not_found(bank_loaded,
                                                                             users):
    mine, theirs = cohort("Northside", users["manager"]), cohort("Riverside")
    sittings = Sittings()
    sittings.add(7, random.Random(4), cohort=mine)
    sittings.add(4, random.Random(5), cohort=theirs)
    sittings.add(3, random.Random(6))  # in no cohort
    assert analyse(users["manager"]).stats.attempts == 7
    assert analyse(users["manager"], cohort_id=mine.id).stats.attempts == 7
    with pytest.raises(item_analysis.NotFound) as refused:
        analyse(users["manager"], cohort_id=theirs.id)
    assert refused.value.status == 404
    assert analyse(users["admin"]).stats.attempts == 14
    assert analyse(users["admin"], cohort_id=theirs.id).stats.attempts == 4
    assert analyse().stats.attempts == 14  # no viewer: the command line sees everything
    assert analyse(users["manager"]).cohort_choices == [(mine.id, "Northside")]


def test_an_unknown_exam_is_not_found(bank_loaded):
    with pytest.raises(item_analysis.NotFound):
        item_analysis.analyse(None, ReportFilter(exam_id="no-such-exam"))


def test_no_attempts_is_an_empty_report_not_an_error(bank_loaded):
    analysis = analyse()
    assert analysis.stats.attempts == 0 and analysis.questions == []


def test_the_versions_shown_are_listed_and_the_newest_describes_the_question(bank_loaded):
    sittings = Sittings(form_size=3, pool=3)
    sittings.add(4, random.Random(7))
    first = sittings.pool[0]
    old = db.session.get(QuestionVersion, first[0])
    newer = QuestionVersion(question_id=old.question_id, version=2, content=old.content,
                            content_hash="x")
    db.session.add(newer)
    db.session.commit()
    sittings.pool[0] = (newer.id, *first[1:])
    sittings.add(4, random.Random(8))
    report = next(q for q in analyse().questions if q.question_id == first[1])
    assert report.versions == (1, 2) and report.stats.responses == 8


# --- The page and its CSV ------------------------------------------------------------


def login(client, who: str):
    response = client.post("/auth/login", data={"email": PEOPLE[who][0], "password": PASSWORD})
    assert response.status_code == 302


def test_the_page_shows_the_exam_the_questions_and_the_flags(bank_loaded, users, client):
    sittings = Sittings(form_size=6, pool=8)
    sittings.add(60, random.Random(9), cohort("Class A", user_by_email(PEOPLE["manager"][0])))
    login(client, "admin")
    page = client.get("/manager/exams/certification/items")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Item analysis: Microneedling Practitioner Certification" in html
    assert "<dt>Cronbach&#39;s alpha</dt>" in html or "<dt>Cronbach's alpha</dt>" in html
    analysis = analyse()
    assert html.count('<th scope="row">') == len(analysis.questions)
    assert analysis.flagged  # 60 responses each: enough for flags, and some are raised
    for q in analysis.flagged:
        # Listed with its flags at the top, and linked to the studio in the table.
        assert (f'<li><a href="/trainer/questions/{q.question_id}">{q.question_id}</a>:'
                f' {"; ".join(q.stats.labels)}</li>') in html
        assert html.count(f'href="/trainer/questions/{q.question_id}"') == 2
    assert html.count('href="/trainer/questions/') == 2 * len(analysis.flagged)
    # A manager who is not a trainer cannot open the studio (403): the ids, no links.
    client.post("/auth/logout")
    login(client, "manager")
    html = client.get("/manager/exams/certification/items").get_data(as_text=True)
    assert html.count('<th scope="row">') == len(analysis.questions)
    assert "/trainer/questions/" not in html
    for q in analysis.flagged:
        assert f'<li>{q.question_id}: {"; ".join(q.stats.labels)}</li>' in html


def test_the_table_of_questions_is_paginated_and_the_csv_has_them_all(bank_loaded, users,
                                                                     client, monkeypatch):
    monkeypatch.setattr(item_analysis, "QUESTIONS_PAGE_SIZE", 3)
    Sittings(form_size=6, pool=8).add(10, random.Random(11))
    ids = [q.question_id for q in analyse().questions]
    assert len(ids) == 8
    login(client, "admin")

    def rows(query: str) -> list[str]:
        html = client.get(f"/manager/exams/certification/items{query}").get_data(as_text=True)
        table = html.split('<table class="items">')[1].split("</table>")[0]
        return [qid for qid in ids if f'<th scope="row">{qid}' in table]

    assert rows("") == rows("?page=1") == rows("?page=x") == rows("?page=-4") == ids[:3]
    assert rows("?page=2") == ids[3:6]
    assert rows("?page=3") == rows("?page=99") == ids[6:]
    page = client.get("/manager/exams/certification/items?page=2").get_data(as_text=True)
    assert 'aria-label="Pages of questions"' in page and "Questions 4 to 6 of 8" in page
    assert 'href="/manager/exams/certification/items?page=3' in page
    listed = client.get("/manager/exams/certification/items.csv").get_data(as_text=True)
    assert all(qid in listed for qid in ids)


def test_below_the_minimum_the_page_says_not_enough_data(bank_loaded, users, client):
    Sittings().add(5, random.Random(10))
    login(client, "admin")
    html = client.get("/manager/exams/certification/items").get_data(as_text=True)
    assert "not enough data" in html
    assert 'class="tag bad"' not in html


def test_unknown_exam_and_foreign_cohort_are_404_and_bad_dates_400(bank_loaded, users,
                                                                    client):
    theirs = cohort("Riverside")
    login(client, "manager")
    assert client.get("/manager/exams/nope/items").status_code == 404
    assert client.get("/manager/exams/nope/items.csv").status_code == 404
    assert client.get(f"/manager/exams/certification/items?cohort={theirs.id}"
                      ).status_code == 404
    assert client.get(f"/manager/exams/certification/items.csv?cohort={theirs.id}"
                      ).status_code == 404
    assert client.get("/manager/exams/certification/items?cohort=99999").status_code == 404
    bad = client.get("/manager/exams/certification/items?since=yesterday")
    assert bad.status_code == 400 and "Enter a date" in bad.get_data(as_text=True)
    assert client.get("/manager/exams/certification/items.csv?since=x").status_code == 400


def test_the_csv_has_a_row_per_question_and_the_services_numbers(bank_loaded, users, client):
    sittings = Sittings()
    users_ = sittings.add(40, random.Random(11))
    sittings.add(10, random.Random(12), number=2, user_ids=users_[:10])
    login(client, "admin")
    response = client.get("/manager/exams/certification/items.csv?first=all")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    analysis = analyse(all_attempts=True)
    assert [r["question_id"] for r in rows] == [q.question_id for q in analysis.questions]
    for row, q in zip(rows, analysis.questions, strict=True):
        assert int(row["responses"]) == q.stats.responses
        assert float(row["facility"]) == pytest.approx(q.stats.facility, abs=1e-6)
        assert row["flags"] == "; ".join(q.stats.labels)
    assert sum(int(r["responses"]) for r in rows) == 50 * 6


def test_the_page_costs_the_same_queries_for_10_and_for_1000_attempts(bank_loaded, users,
                                                                       client):
    mine = cohort("Northside", users["manager"])
    sittings = Sittings(form_size=10, pool=30)
    sittings.add(10, random.Random(13), cohort=mine)
    login(client, "manager")
    urls = [f"/manager/exams/certification/items?cohort={mine.id}&first=all",
            "/manager/exams/certification/items.csv"]

    def cost() -> list[int]:
        spent = []
        for url in urls:
            with statements() as seen:
                response = client.get(url)
                response.get_data()  # the CSV streams: count what it reads as it goes
            assert response.status_code == 200
            spent.append(len(seen))
        return spent

    few = cost()
    sittings.add(990, random.Random(14), cohort=mine)
    assert analyse(users["manager"], all_attempts=True).stats.attempts == 1000
    assert cost() == few
