"""The exam rules in quizapp.exam, on plain values (no app, no database)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from quizapp import exam_rules
from quizapp.exam_rules import Blueprint, ExamRules, spoken_duration
from quizapp.question_types import QUESTION_TYPES, InvalidResponse

TOPICS = {"alpha": 8, "beta": 6, "gamma": 5}


def make_pool(per_topic=TOPICS, safety_every=3):
    pool, key = [], 0
    for topic, count in per_topic.items():
        for n in range(count):
            key += 1
            pool.append(exam_rules.PoolItem(
                key=key, question_id=f"{topic}-{n}", topic=topic,
                safety_critical=n % safety_every == 0, option_ids=("a", "b", "c", "d"),
            ))
    return pool


BLUEPRINT = Blueprint({"alpha": 3, "beta": 2, "gamma": 2}, min_safety_critical=4)


def test_thousand_forms_match_the_blueprint_exactly_without_duplicates():
    pool = make_pool()
    topic_of = {item.key: item.topic for item in pool}
    safety = {item.key for item in pool if item.safety_critical}
    for seed in range(1000):
        form = exam_rules.draw_form(BLUEPRINT, pool, random.Random(seed))
        keys = [item.key for item in form]
        assert len(keys) == len(set(keys)) == BLUEPRINT.size
        assert Counter(topic_of[k] for k in keys) == Counter(BLUEPRINT.topics)
        assert sum(k in safety for k in keys) >= BLUEPRINT.min_safety_critical


def test_same_seed_same_form_and_option_order():
    pool = make_pool()
    first = exam_rules.draw_form(BLUEPRINT, pool, random.Random(42))
    again = exam_rules.draw_form(BLUEPRINT, pool, random.Random(42))
    other = exam_rules.draw_form(BLUEPRINT, pool, random.Random(43))
    assert first == again
    assert first != other


def test_options_are_shuffled_but_ordered_items_keep_their_order():
    pool = [exam_rules.PoolItem(1, "q1", "alpha", False, ("a", "b", "c", "d", "e")),
            exam_rules.PoolItem(2, "q2", "alpha", False, ("a", "b"), ordered=True)]
    orders = set()
    for seed in range(50):
        form = {i.key: i.option_order for i in exam_rules.draw_form(
            Blueprint({"alpha": 2}), pool, random.Random(seed))}
        orders.add(form[1])
        assert form[2] == ("a", "b")
        assert sorted(form[1]) == ["a", "b", "c", "d", "e"]
    assert len(orders) > 10


def test_least_seen_questions_are_drawn_first():
    pool = make_pool({"alpha": 6}, safety_every=99)
    seen = {f"alpha-{n}": 1 for n in range(3)}  # alpha-3..5 never seen
    for seed in range(100):
        form = exam_rules.draw_form(Blueprint({"alpha": 3}), pool, random.Random(seed), seen)
        assert {item.key for item in form} == {4, 5, 6}


def test_exposure_stays_balanced_over_many_draws():
    pool = make_pool({"alpha": 12}, safety_every=99)
    exposure: Counter = Counter()
    rng = random.Random(7)
    for _ in range(300):
        for item in exam_rules.draw_form(Blueprint({"alpha": 4}), pool, rng, exposure):
            exposure[f"alpha-{item.key - 1}"] += 1
    counts = [exposure[f"alpha-{n}"] for n in range(12)]
    assert max(counts) - min(counts) <= 1


def test_safety_critical_minimum_is_met_by_swapping_within_topic():
    pool = make_pool({"alpha": 10}, safety_every=5)  # alpha-0 and alpha-5 are safety
    blueprint = Blueprint({"alpha": 3}, min_safety_critical=2)
    for seed in range(200):
        form = exam_rules.draw_form(blueprint, pool, random.Random(seed))
        assert {item.key for item in form} >= {1, 6}


def test_blueprint_the_pool_cannot_fill_is_refused_naming_the_topic():
    rules = ExamRules("cert", "Cert", "certification",
                                     Blueprint({"alpha": 9, "beta": 2}))
    problems = exam_rules.blueprint_problems(rules, make_pool())
    assert len(problems) == 1
    assert "'alpha'" in problems[0] and "9" in problems[0] and "8" in problems[0]


def test_unreachable_safety_minimum_is_refused():
    rules = ExamRules("cert", "Cert", "certification",
                                     Blueprint({"gamma": 2}, min_safety_critical=3))
    problems = exam_rules.blueprint_problems(rules, make_pool())
    assert any("safety-critical" in p for p in problems)


def test_practice_takes_what_a_small_topic_has():
    rules = exam_rules.practice_exams({"questions": 10}, {"gamma": "Gamma"})[0]
    assert exam_rules.blueprint_problems(rules, make_pool(), practice_caps=True) == []
    form = exam_rules.draw_form(rules.blueprint, make_pool(), random.Random(1))
    assert len(form) == 5


# --- Definitions ----------------------------------------------------------------------

VALID = {"id": "cert", "title": "Cert", "time_limit_minutes": 45, "pass_mark_percent": 80,
         "blueprint": {"topics": {"alpha": 2}, "min_safety_critical": 1}}


def test_rules_round_trip_through_their_stored_form():
    rules = exam_rules.parse_exam(VALID, ["alpha"])
    assert exam_rules.rules_from_dict(rules.to_dict()) == rules
    assert rules.time_limit == timedelta(minutes=45)


@pytest.mark.parametrize(("change", "message"), [
    ({"blueprint": {"topics": {"delta": 2}}}, "unknown topic 'delta'"),
    ({"pass_mark_percent": 120}, "'pass_mark_percent' must be a whole number from 0 to 100"),
    ({"time_limit_minutes": 0}, "'time_limit_minutes'"),
    ({"surprise": 1}, "unknown setting(s): surprise"),
    ({"review": {"correct_answers": "sometimes"}}, "review moment 'sometimes'"),
    ({"blueprint": {"topics": {"alpha": 0}}}, "must be a whole number ≥ 1"),
])
def test_bad_rules_are_refused_with_a_reason(change, message):
    with pytest.raises(exam_rules.ExamRulesError, match=None) as caught:
        exam_rules.parse_exam({**VALID, **change}, ["alpha"])
    assert message in str(caught.value)


# --- Time -----------------------------------------------------------------------------

START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def test_answers_are_taken_until_deadline_plus_grace_only():
    deadline = exam_rules.deadline_for(START, timedelta(minutes=45))
    grace = timedelta(seconds=30)
    assert deadline == START + timedelta(minutes=45)
    assert exam_rules.accepts_answers(deadline + timedelta(seconds=30), deadline, grace)
    assert not exam_rules.accepts_answers(deadline + timedelta(seconds=31), deadline, grace)
    assert exam_rules.accepts_answers(START + timedelta(days=9), None, grace)


def test_a_late_finish_is_recorded_at_the_deadline():
    deadline = START + timedelta(minutes=45)
    assert exam_rules.finish_time(deadline + timedelta(hours=3), deadline) == deadline
    assert exam_rules.finish_time(START + timedelta(minutes=5), deadline) == START + timedelta(
        minutes=5)


def test_retakes_follow_the_limit_and_the_wait():
    rules = exam_rules.parse_exam({**VALID, "attempts_allowed": 2, "retake_wait_minutes": 60},
                                 ["alpha"])
    assert exam_rules.next_attempt_opens(rules, [], START) == (True, None, "")
    allowed, opens_at, reason = exam_rules.next_attempt_opens(rules, [START], START)
    assert not allowed and opens_at == START + timedelta(minutes=60) and "wait" in reason
    assert exam_rules.next_attempt_opens(rules, [START], START + timedelta(minutes=60))[0]
    allowed, opens_at, reason = exam_rules.next_attempt_opens(
        rules, [START, START], START + timedelta(days=1))
    assert not allowed and opens_at is None and "2 attempts" in reason


# --- Scoring --------------------------------------------------------------------------


def test_single_and_true_false_score_one_or_nothing():
    for name in ("single", "true_false"):
        kind = QUESTION_TYPES[name]
        assert kind.score(["a"], {"a"}) == 1.0
        assert kind.score(["b"], {"a"}) == 0.0
        assert kind.score([], {"a"}) == 0.0


def test_multiple_response_is_all_or_nothing_unless_partial_credit():
    kind = QUESTION_TYPES["multiple"]
    assert kind.score(["a", "b"], {"a", "b"}) == 1.0
    assert kind.score(["a"], {"a", "b"}) == 0.0
    assert kind.score(["a"], {"a", "b"}, partial_credit=True) == 0.5
    assert kind.score(["a", "c"], {"a", "b"}, partial_credit=True) == 0.0
    assert kind.score(["a", "b", "c"], {"a", "b"}, partial_credit=True) == 0.5


def test_responses_are_cleaned_by_type():
    assert QUESTION_TYPES["multiple"].clean(["b", "a", "b"], "abc") == ("b", "a")
    with pytest.raises(InvalidResponse):
        QUESTION_TYPES["single"].clean(["a", "b"], "abc")
    with pytest.raises(InvalidResponse):
        QUESTION_TYPES["single"].clean(["z"], "abc")


def scored(right: int, wrong: int, safety_wrong: int = 0):
    items = [exam_rules.ScoredItem("single", "alpha", False, ("a",), frozenset("a"))] * right
    items += [exam_rules.ScoredItem("single", "beta", False, ("b",), frozenset("a"))] * wrong
    items += [exam_rules.ScoredItem("single", "beta", True, ("b",), frozenset("a"))] * safety_wrong
    return items


CERT = exam_rules.parse_exam({**VALID, "require_all_safety_critical": True}, ["alpha"])


def test_exactly_the_pass_mark_passes():
    result = exam_rules.score(scored(24, 6), CERT)
    assert result.percent == pytest.approx(80.0)
    assert result.passed and result.reasons == ()
    assert not exam_rules.score(scored(23, 7), CERT).passed


def test_a_missed_safety_critical_question_fails_whatever_the_total():
    result = exam_rules.score(scored(29, 0, safety_wrong=1), CERT)
    assert result.percent > 95
    assert not result.passed
    assert "safety-critical" in result.reasons[0]


def test_breakdown_by_topic():
    result = exam_rules.score(scored(3, 2), CERT)
    assert result.by_topic == {"alpha": (3.0, 3), "beta": (0.0, 2)}


def test_review_policy_moments():
    policy = exam_rules.ReviewPolicy(correct_answers="after_pass", explanations="after_finish")
    assert not policy.shows("explanations", finished=False, passed=False)
    assert policy.shows("explanations", finished=True, passed=False)
    assert not policy.shows("correct_answers", finished=True, passed=False)
    assert policy.shows("correct_answers", finished=True, passed=True)
    assert not exam_rules.ReviewPolicy("never", "never").shows("correct_answers", True, True)


# --- Enemies, risk categories, practice-only --------------------------------------------


def test_enemy_map_links_questions_of_one_fact_and_declared_pairs_both_ways():
    enemies = exam_rules.enemy_map([["q1", "q2", "q3"], ["q4"]], {"q5": ["q1"], "q4": []})
    assert enemies["q1"] == {"q2", "q3", "q5"}
    assert enemies["q5"] == {"q1"}
    assert enemies["q2"] == {"q1", "q3"}
    assert "q4" not in enemies


def _risky_pool():
    """Three topics; every third question is safety-critical, with four kinds of risk;
    questions n and n+1 of a topic are enemies (they 'test the same fact')."""
    risks = ["medication", "infection", "growths", "scarring"]
    groups, items = [], []
    key = 0
    for topic, count in {"alpha": 12, "beta": 10, "gamma": 8}.items():
        for n in range(count):
            if n % 2 == 0:
                groups.append([f"{topic}-{n}", f"{topic}-{n + 1}"])
    enemies = exam_rules.enemy_map(groups, {"alpha-0": ["beta-2"]})
    for topic, count in {"alpha": 12, "beta": 10, "gamma": 8}.items():
        for n in range(count):
            key += 1
            qid = f"{topic}-{n}"
            safety = n % 3 == 0
            items.append(exam_rules.PoolItem(
                key=key, question_id=qid, topic=topic, safety_critical=safety,
                option_ids=("a", "b", "c", "d"), risk=risks[key % 4] if safety else None,
                enemies=enemies.get(qid, frozenset()),
            ))
    return items


def test_thousand_forms_hold_no_enemy_pair_and_meet_the_risk_minimum():
    pool = _risky_pool()
    by_key = {item.key: item for item in pool}
    blueprint = Blueprint({"alpha": 4, "beta": 3, "gamma": 3}, min_safety_critical=4,
                               min_risk_categories=3)
    for seed in range(1000):
        drawn = [by_key[f.key] for f in exam_rules.draw_form(blueprint, pool, random.Random(seed))]
        ids = {item.question_id for item in drawn}
        assert Counter(item.topic for item in drawn) == Counter(blueprint.topics)
        for item in drawn:
            assert not (item.enemies & ids), (seed, item.question_id)
        safety = [item for item in drawn if item.safety_critical]
        assert len(safety) >= 4
        assert len({item.risk for item in safety}) >= 3


def test_a_blueprint_that_enemies_make_unfillable_is_refused():
    # Four questions, all testing one fact: no two can share a form.
    pool = [exam_rules.PoolItem(n, f"q{n}", "alpha", False, ("a", "b"),
                          enemies=frozenset(f"q{m}" for m in range(4) if m != n))
            for n in range(4)]
    rules = ExamRules("cert", "Cert", "certification", Blueprint({"alpha": 2}))
    problems = exam_rules.blueprint_problems(rules, pool)
    assert problems and "enemy" in problems[0]
    with pytest.raises(exam_rules.DrawError):
        exam_rules.draw_form(rules.blueprint, pool, random.Random(1))
    # Practice takes the one question it can.
    assert len(exam_rules.draw_form(rules.blueprint, pool, random.Random(1), fill=False)) == 1


def test_a_risk_minimum_the_pool_cannot_reach_is_refused():
    rules = ExamRules(
        "cert", "Cert", "certification",
        Blueprint({"alpha": 4, "beta": 3}, min_safety_critical=2, min_risk_categories=5))
    problems = exam_rules.blueprint_problems(rules, _risky_pool())
    assert any("risk categories" in p for p in problems)


def test_certification_never_draws_practice_only_questions():
    pool = [exam_rules.PoolItem(n, f"q{n}", "alpha", False, ("a", "b"), practice_only=n % 2 == 0)
            for n in range(10)]
    certification = ExamRules("cert", "Cert", "certification",
                                        Blueprint({"alpha": 5}))
    practice = ExamRules("p", "P", "practice", Blueprint({"alpha": 10}))
    assert {i.key for i in exam_rules.pool_for(certification, pool)} == {1, 3, 5, 7, 9}
    assert len(exam_rules.pool_for(practice, pool)) == 10
    too_big = ExamRules("cert", "Cert", "certification", Blueprint({"alpha": 6}))
    assert exam_rules.blueprint_problems(too_big, pool)


# --- Remediation ------------------------------------------------------------------------


def test_weak_topics_are_those_below_the_pass_mark():
    by_topic = exam_rules.topic_breakdown([("a", 1.0), ("a", 0.0), ("b", 1.0), ("b", 1.0),
                                     ("c", 1.0), ("c", 1.0), ("c", 1.0), ("c", 1.0),
                                     ("c", 0.0)])
    assert by_topic["a"] == (1.0, 2)
    # 4/5 is exactly 80%: not below an 80% mark.
    assert exam_rules.weak_topics(by_topic, 80) == ["a"]


def test_remediation_is_done_only_when_every_note_is_read_and_every_quiz_passed():
    left = exam_rules.remediation_left(["f1", "f2"], ["alpha", "beta"], ["f1"], ["beta"])
    assert left.facts_to_study == {"f2"} and left.topics_to_practise == ("alpha",)
    assert not left.done
    assert exam_rules.remediation_left(["f1"], ["alpha"], ["f1", "f9"], ["alpha", "beta"]).done
    assert exam_rules.remediation_left([], [], [], []).done


def test_require_remediation_round_trips_through_the_stored_rules():
    rules = exam_rules.parse_exam(
        {"id": "c", "title": "C", "require_remediation": True,
         "blueprint": {"topics": {"alpha": 1}, "min_risk_categories": 2}}, ["alpha"])
    again = exam_rules.rules_from_dict(rules.to_dict())
    assert again.require_remediation and again.blueprint.min_risk_categories == 2
    with pytest.raises(exam_rules.ExamRulesError, match="unknown blueprint setting"):
        exam_rules.parse_exam({"id": "c", "title": "C", "blueprint": {"topics": {"alpha": 1},
                                                                "min_risks": 2}}, ["alpha"])


class CountingRandom(random.Random):
    """A Random that counts the draws made from it: the work a draw does, untimed."""

    calls = 0

    def randint(self, a, b):
        self.calls += 1
        return super().randint(a, b)

    def shuffle(self, x):
        self.calls += len(x)
        return super().shuffle(x)


def test_a_draw_from_an_arranged_pool_does_not_grow_with_the_pool():
    """Drawing looks at about as many questions from 10,000 as from 100: it shuffles
    lazily, only as far as it takes questions (issue 12's target for the bank's
    growth). What the trainee has seen is found through their history."""
    work = {}
    for per_topic in (40, 4000):
        pool = exam_rules.DrawPool(make_pool({"alpha": per_topic, "beta": per_topic,
                                              "gamma": per_topic}))
        seen = {f"alpha-{n}": 1 for n in range(5)}
        rng = CountingRandom(7)
        form = exam_rules.draw_form(BLUEPRINT, pool, rng, seen)
        assert len(form) == BLUEPRINT.size
        assert not {f"alpha-{n}" for n in range(5)} & {pool.by_key[f.key].question_id
                                                      for f in form}
        work[per_topic] = rng.calls
    assert work[4000] < 1.5 * work[40]


@pytest.mark.parametrize(("length", "said"), [
    (timedelta(minutes=45), "45 minutes"), (timedelta(minutes=67.5), "67 minutes 30 seconds"),
    (timedelta(minutes=1, seconds=1), "1 minute 1 second"), (timedelta(0), "0 minutes")])
def test_a_time_limit_is_said_to_the_second(length, said):
    assert spoken_duration(length) == said
