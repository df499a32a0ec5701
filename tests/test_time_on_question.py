"""The time spent on each question: counted by the server from when the question's page
was shown to each save of its answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from helpers import answer, attempt, items, right_answer, start, statements, tokens, wrong_answer

from quizapp import attempts
from quizapp.extensions import db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GRACE = timedelta(seconds=30)


@pytest.fixture
def traveller(bank_loaded, auth, client):
    with time_machine.travel(T0, tick=False) as clock:
        auth.login()  # a session signed in the future would not be accepted
        yield clock


def _show(client, attempt_id, position):
    assert client.get(f"/trainee/attempts/{attempt_id}/questions/{position}").status_code == 200


def test_time_runs_from_showing_a_question_to_saving_its_answer(traveller, client):
    attempt_id = start(client)
    _show(client, attempt_id, 1)
    assert items(attempt_id)[0].shown_at == T0
    traveller.shift(timedelta(seconds=40))
    first = items(attempt_id)[0]
    answer(client, attempt_id, first, right_answer(first))  # then question 2 is shown
    _show(client, attempt_id, 2)
    traveller.shift(timedelta(seconds=25))
    second = items(attempt_id)[1]
    answer(client, attempt_id, second, wrong_answer(second), go="previous")
    # Back to question 1 a minute later: its time adds up.
    traveller.shift(timedelta(seconds=60))
    _show(client, attempt_id, 1)
    traveller.shift(timedelta(seconds=15))
    first = items(attempt_id)[0]
    answer(client, attempt_id, first, wrong_answer(first))
    spent = [i.seconds_spent for i in items(attempt_id)[:3]]
    assert spent == [55.0, 25.0, 0.0]


def test_each_background_save_adds_only_the_time_since_the_last(traveller, client):
    attempt_id = start(client)
    _show(client, attempt_id, 3)
    for seconds in (10, 20, 5):
        traveller.shift(timedelta(seconds=seconds))
        item = items(attempt_id)[2]
        response = client.post(
            f"/trainee/attempts/{attempt_id}/questions/3/autosave",
            data={"answer": tokens(item, right_answer(item)), "sequence": str(item.sequence)})
        assert response.status_code == 200
    stored = items(attempt_id)[2]
    assert stored.seconds_spent == 35.0
    assert stored.shown_at == T0 + timedelta(seconds=35)


def test_time_is_never_negative_nor_more_than_the_attempt_has_lasted(traveller, client):
    attempt_id = start(client)
    traveller.shift(timedelta(minutes=5))
    first, second, third = items(attempt_id)[:3]
    first.shown_at = T0 + timedelta(hours=1)  # a clock that ran ahead
    second.shown_at = T0 - timedelta(hours=1)  # before the attempt began
    db.session.commit()
    stored = attempt(attempt_id)
    for item in (first, second, third):  # the third was never shown: nothing to count
        attempts.save_answer(stored, item.position,
                             attempts.Answer(tuple(tokens(item, right_answer(item))),
                                             item.sequence), T0 + timedelta(minutes=5), GRACE)
    assert [i.seconds_spent for i in items(attempt_id)[:3]] == [0.0, 300.0, 0.0]


def test_a_refused_save_adds_no_time(traveller, client):
    attempt_id = start(client)
    _show(client, attempt_id, 1)
    first = items(attempt_id)[0]
    answer(client, attempt_id, first, right_answer(first))
    traveller.shift(timedelta(seconds=30))
    stale = client.post(f"/trainee/attempts/{attempt_id}/questions/1",
                        data={"answer": tokens(first, wrong_answer(first)), "sequence": "0"})
    assert stale.status_code == 409
    assert items(attempt_id)[0].seconds_spent == 0.0




def test_showing_a_question_is_one_update_of_its_item(traveller, client):
    attempt_id = start(client)
    stored = attempt(attempt_id)
    with statements() as seen:
        attempts.mark_shown(stored, 4, T0)
    assert [s.split()[0] for s in seen] == ["UPDATE"]
    assert "attempt_item" in seen[0] and "attempt.state" in seen[0]  # only while open
    assert items(attempt_id)[3].shown_at == T0
    assert items(attempt_id)[2].shown_at is None


def test_a_finished_attempt_is_not_timed(traveller, client):
    attempt_id = start(client)
    client.post(f"/trainee/attempts/{attempt_id}/submit")
    stored = attempt(attempt_id)
    attempts.mark_shown(stored, 1, T0)
    assert items(attempt_id)[0].shown_at is None
