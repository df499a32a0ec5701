"""A certificate that only a competent practitioner earns: no key in the page, no
feedback while a certification attempt is open, no key after a fail, a study plan
before a retake, and no answer lost at the deadline."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import time_machine
from helpers import answer, answer_all, attempt, items, right_answer, start, submit, wrong_answer
from sqlalchemy import select

from quizapp import attempts as attempt_rules
from quizapp import exam_rules
from quizapp.accounts import create_user
from quizapp.extensions import db
from quizapp.models import Exam, Fact, StudyView, User

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def trainee(bank_loaded, auth, client):
    auth.login()
    return client


def _trainee(n: int) -> User:
    return create_user(f"t{n}@example.com", f"Trainee {n}", "long enough pw", ["trainee"])


# --- No key in the page ---------------------------------------------------------------


def test_option_ids_on_the_page_say_nothing_about_the_key(bank_loaded):
    """Over 200 drawn attempts, the first option (in the page's order or sorted by its
    id) is a key option no more often than chance."""
    certification = db.session.get(Exam, "certification")
    observed_first = observed_sorted = 0
    expected = variance = 0.0
    for n in range(200):
        drawn = attempt_rules.start(_trainee(n), certification, T0, seed=n)
        for item in drawn.items:
            correct = item.version.correct_ids
            by_token = dict(zip(item.option_tokens, item.option_order, strict=True))
            chance = len(correct) / len(item.option_order)
            expected += chance
            variance += chance * (1 - chance)
            observed_first += by_token[item.option_tokens[0]] in correct
            observed_sorted += by_token[min(item.option_tokens)] in correct
            assert not set(item.option_tokens) & {"a", "b", "c", "d", "e", "f"}
    limit = expected + 4 * variance ** 0.5
    assert observed_first <= limit and observed_sorted <= limit, (
        observed_first, observed_sorted, expected)


def test_every_attempt_names_its_options_afresh(bank_loaded):
    certification = db.session.get(Exam, "certification")
    first = attempt_rules.start(_trainee(1), certification, T0, seed=5)
    second = attempt_rules.start(_trainee(2), certification, T0, seed=5)
    # The same seed draws the same form, but the tokens are not derived from it.
    assert [i.option_order for i in first.items] == [i.option_order for i in second.items]
    assert not {t for i in first.items for t in i.option_tokens} & {
        t for i in second.items for t in i.option_tokens}


def test_the_bank_option_letter_is_refused_as_an_answer(trainee):
    attempt_id = start(trainee)
    item = items(attempt_id)[0]
    response = trainee.post(f"/trainee/attempts/{attempt_id}/questions/1",
                            data={"answer": item.option_order[0], "sequence": "0"})
    assert response.status_code == 400
    assert items(attempt_id)[0].response is None


# --- Nothing gives feedback while a certification attempt is open ------------------------


def test_practice_is_closed_while_a_certification_attempt_is_open(trainee):
    earlier_practice = start(trainee, "practice-aftercare")
    answer_all(trainee, earlier_practice)
    submit(trainee, earlier_practice)
    open_practice = start(trainee, "practice-contraindications")
    certification = start(trainee)

    refused = trainee.post("/trainee/exams/practice-devices/start")
    assert refused.status_code == 409
    assert "certification exam is in progress" in refused.get_data(as_text=True)
    item = items(open_practice)[0]
    for url in (f"/trainee/attempts/{open_practice}/questions/1",
                f"/trainee/attempts/{open_practice}/result",
                f"/trainee/attempts/{earlier_practice}/result",
                "/trainee/study", "/trainee/study/contraindications",
                "/trainee/exams/practice-devices"):
        assert trainee.get(url).status_code == 409, url
    checked = answer(trainee, open_practice, item, right_answer(item), go="check")
    assert checked.status_code == 409
    assert items(open_practice)[0].response is None and not items(open_practice)[0].locked
    # The open attempt itself is reachable.
    assert trainee.get(f"/trainee/attempts/{certification}/questions/1").status_code == 200
    assert db.session.scalar(select(db.func.count()).select_from(Exam)) > 0


def test_practice_opens_again_once_the_certification_attempt_is_submitted(trainee):
    certification = start(trainee)
    submit(trainee, certification)
    assert trainee.get("/trainee/study").status_code == 200
    assert trainee.post("/trainee/exams/practice-devices/start").status_code == 302


def test_checking_an_answer_is_refused_on_a_certification_attempt(trainee):
    attempt_id = start(trainee)
    item = items(attempt_id)[0]
    response = answer(trainee, attempt_id, item, right_answer(item), go="check")
    assert response.status_code == 400
    assert "only in practice" in response.get_data(as_text=True)
    after = items(attempt_id)[0]
    assert after.response is None and not after.locked and after.mark is None
    assert after.sequence == 0


# --- Review policy of the certification exam ------------------------------------------


def test_a_failed_certification_shows_what_to_study_but_never_the_options_or_key(trainee):
    attempt_id = start(trainee)
    answer_all(trainee, attempt_id, wrong=3, wrong_safety=True)
    submit(trainee, attempt_id)
    assert attempt(attempt_id).passed is False
    pages = [trainee.get(f"/trainee/attempts/{attempt_id}/result", follow_redirects=True),
             trainee.get(f"/trainee/attempts/{attempt_id}/questions/1", follow_redirects=True),
             trainee.get(f"/trainee/attempts/{attempt_id}/summary", follow_redirects=True),
             trainee.get("/trainee/history"), trainee.get("/trainee/")]
    for page in pages:
        html = unescape(page.get_data(as_text=True))
        assert page.status_code == 200
        for item in items(attempt_id):
            content = item.version.content
            assert content["explanation"] not in html
            for option in content["options"]:
                if content["type"] != "true_false":
                    assert option["text"] not in html
                assert not option.get("rationale") or option["rationale"] not in html
        assert "(correct)" not in html
    result = unescape(pages[0].get_data(as_text=True))
    assert "By topic" in result and "What to study" in result
    assert "Before your next attempt" in result
    assert "safety-critical question" in result


# --- Remediation before a retake --------------------------------------------------------


def test_the_retake_opens_only_after_the_wait_the_study_notes_and_the_practice(trainee, auth):
    with time_machine.travel(T0, tick=False) as traveller:
        auth.login()
        attempt_id = start(trainee)
        drawn = items(attempt_id)
        missed_safety = next(i for i in drawn if i.version.content["safety_critical"])
        weak_topic = missed_safety.version.question.topic_id
        in_topic = [i for i in drawn if i.version.question.topic_id == weak_topic]
        for item in drawn:
            wrong = item in in_topic
            answer(trainee, attempt_id, item, wrong_answer(item) if wrong else right_answer(item))
        submit(trainee, attempt_id)
        failed = attempt(attempt_id)
        assert not failed.passed

        traveller.shift(timedelta(hours=23))
        html = trainee.post("/trainee/exams/certification/start",
                            follow_redirects=True).get_data(as_text=True)
        assert "The wait between attempts has not passed yet." in html

        traveller.shift(timedelta(hours=2))
        briefing = unescape(trainee.get("/trainee/exams/certification").get_data(as_text=True))
        assert "Finish your study plan" in briefing and "Before your next attempt" in briefing
        assert f"/trainee/exams/practice-{weak_topic}" in briefing
        assert trainee.post("/trainee/exams/certification/start").location.endswith(
            "/trainee/exams/certification")

        # Reading the notes is not enough while the weak topic's practice is not passed.
        facts = db.session.scalars(select(Fact)).all()
        behind = {f.topic_id for f in facts if missed_safety.version.question_id in f.question_ids}
        for topic in behind:
            assert trainee.get(f"/trainee/study/{topic}").status_code == 200
        assert db.session.scalar(select(db.func.count()).select_from(StudyView)) > 0
        still = trainee.get("/trainee/exams/certification").get_data(as_text=True)
        assert "Finish your study plan" in still

        # A failed practice quiz does not count; a passed one does.
        practice = start(trainee, f"practice-{weak_topic}")
        for item in items(practice):
            answer(trainee, practice, item, wrong_answer(item))
        submit(trainee, practice)
        assert attempt(practice).passed is False
        assert "Finish your study plan" in trainee.get(
            "/trainee/exams/certification").get_data(as_text=True)
        other_weak = [t for t in _weak_topics(failed) if t != weak_topic]
        for topic in [weak_topic, *other_weak]:
            practice = start(trainee, f"practice-{topic}")
            answer_all(trainee, practice)
            submit(trainee, practice)
        ready = trainee.get("/trainee/exams/certification").get_data(as_text=True)
        assert "Finish your study plan" not in ready
        retake = trainee.post("/trainee/exams/certification/start")
        assert "/trainee/attempts/" in retake.location


def _weak_topics(failed) -> list[str]:
    by_topic = exam_rules.topic_breakdown(
        (i.version.question.topic_id, i.mark or 0.0) for i in failed.items)
    return exam_rules.weak_topics(by_topic, failed.rules.pass_mark_percent)


def test_study_notes_list_every_fact_with_its_source(trainee):
    index = trainee.get("/trainee/study").get_data(as_text=True)
    assert "Contraindications and client screening" in index
    page = unescape(trainee.get("/trainee/study/contraindications").get_data(as_text=True))
    facts = db.session.scalars(select(Fact).where(Fact.topic_id == "contraindications")).all()
    assert facts
    for fact in facts:
        assert fact.text in page
    assert "Who Should Skip It" in page
    assert trainee.get("/trainee/study/no-such-topic").status_code == 404


# --- Drawing on the shipped bank --------------------------------------------------------


def test_thousand_certification_forms_hold_no_enemies_and_cover_the_risks(bank_loaded):
    rules = db.session.get(Exam, "certification").rules
    pool = exam_rules.pool_for(rules, attempt_rules.published_pool(rules.blueprint.topics))
    by_key = {item.key: item for item in pool}
    assert rules.blueprint.min_risk_categories >= 4
    for seed in range(1000):
        drawn = [by_key[f.key] for f in exam_rules.draw_form(rules.blueprint, pool,
                                                       random.Random(seed))]
        ids = {item.question_id for item in drawn}
        assert Counter(item.topic for item in drawn) == Counter(rules.blueprint.topics)
        assert not any(item.enemies & ids for item in drawn), seed
        assert not any(item.practice_only for item in drawn)
        safety = [item for item in drawn if item.safety_critical]
        assert len(safety) >= rules.blueprint.min_safety_critical
        assert len({item.risk for item in safety}) >= rules.blueprint.min_risk_categories


# --- The calmer exam ---------------------------------------------------------------------


def test_the_briefing_comes_before_the_clock(trainee):
    html = unescape(trainee.get("/trainee/exams/certification").get_data(as_text=True))
    for words in ("30 questions", "45 minutes", "Pass mark 80%", "Attempts left: 3",
                  "When time runs out", "Start — the clock starts now"):
        assert words in html
    assert db.session.scalar(select(db.func.count()).select_from(attempt_rules.Attempt)) == 0


def test_an_attempt_finished_by_the_clock_says_time_ran_out(trainee, auth):
    with time_machine.travel(T0, tick=False) as traveller:
        auth.login()
        attempt_id = start(trainee)
        traveller.shift(timedelta(minutes=46))
        html = trainee.get(f"/trainee/attempts/{attempt_id}/questions/1",
                           follow_redirects=True).get_data(as_text=True)
    assert "Time ran out." in html
    submitted = start(trainee, "practice-devices")
    submit(trainee, submitted)
    assert "Time ran out" not in trainee.get(
        f"/trainee/attempts/{submitted}/result").get_data(as_text=True)


def test_submitting_says_it_is_final_and_counts_what_is_left(trainee):
    attempt_id = start(trainee)
    first = items(attempt_id)[0]
    trainee.post(f"/trainee/attempts/{attempt_id}/questions/1",
                 data={"sequence": "0", "flagged": "y", "go": "next"})
    answer(trainee, attempt_id, items(attempt_id)[1], right_answer(items(attempt_id)[1]))
    html = unescape(trainee.get(f"/trainee/attempts/{attempt_id}/summary").get_data(as_text=True))
    assert "Submitting is final" in html
    assert "29 questions are unanswered" in html and "1 question is flagged" in html
    assert first.position == 1


def test_the_first_button_of_a_question_goes_forward(trainee):
    """Enter presses a form's first submit button: it must never be Previous."""
    practice = start(trainee, "practice-devices")
    html = trainee.get(f"/trainee/attempts/{practice}/questions/2").get_data(as_text=True)
    assert 'value="check"' in html[html.index('name="go"'):].split(">")[0]
    attempt_id = start(trainee)
    html = trainee.get(f"/trainee/attempts/{attempt_id}/questions/2").get_data(as_text=True)
    first_button = html[html.index('name="go"'):].split(">")[0]
    assert 'value="next"' in first_button
