"""A trainee in a real browser: Debian's Chromium, driven by Playwright, against the
app served over HTTP on loopback. These check what only a browser runs: the
background autosave and its retry, the stale-tab warning, and a full exam.

One server for the module and the session's one Chromium (browser_support.py); each
test signs in a trainee of its own in a fresh browser context, so tests do not share
attempts, waits or cookies (through the sign-in form in the test of signing in; by
posting the form's fields elsewhere).
"""

from __future__ import annotations

import itertools
import re

import browser_support
import pytest
from browser_support import module_app, new_page, serve
from helpers import items, right_answer, tokens
from playwright.sync_api import expect
from sqlalchemy import select
from support import PASSWORD

from quizapp.accounts import create_user
from quizapp.extensions import db
from quizapp.models import Attempt

browser = browser_support.browser  # the fixture: the test session's one Chromium

_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def app(tmp_path_factory, shipped_bank, sqlite_templates):
    with module_app(tmp_path_factory.mktemp("browser"), shipped_bank, sqlite_templates) as app:
        yield app


@pytest.fixture(scope="module")
def base_url(app):
    with serve(app) as url:
        yield url


@pytest.fixture
def trainee(app):
    """A new trainee for this test: (email, name)."""
    number = next(_numbers)
    email, name = f"trainee{number}@example.com", f"Tessa Trainee {number}"
    create_user(email, name, PASSWORD, ["trainee"])
    db.session.commit()
    return email, name


@pytest.fixture
def page(browser, base_url, trainee):
    page = new_page(browser, base_url, trainee[0])
    yield page
    page.context.close()


def current_attempt(email: str) -> Attempt:
    db.session.expire_all()
    return db.session.scalars(
        select(Attempt).where(Attempt.user.has(email=email)).order_by(Attempt.id.desc())
    ).first()


def start_certification(page, email: str) -> Attempt:
    page.goto("/trainee/exams/certification")
    page.get_by_role("button", name=re.compile(r"^Start")).click()
    page.wait_for_url("**/questions/1")
    return current_attempt(email)


def test_signing_in_lands_on_the_trainees_own_home(browser, base_url, trainee):
    page = new_page(browser, base_url, trainee[0], through_form=True)
    try:
        assert page.url.endswith("/trainee/")
        expect(page.locator("h1")).to_have_text("My exams")
    finally:
        page.context.close()


def test_a_trainee_passes_the_certification_exam_in_the_browser(page, trainee):
    email, name = trainee
    attempt = start_certification(page, email)
    expect(page.locator("#countdown")).to_contain_text("Time left")
    for item in items(attempt.id):
        expect(page.locator("h1")).to_contain_text(f"Question {item.position} of 30")
        for token in tokens(item, right_answer(item)):
            page.check(f"input[name=answer][value='{token}']")
        label = "Next →" if item.position < 30 else "Review and submit"
        page.get_by_role("button", name=label).first.click()
        if item.position < 30:
            page.wait_for_url(f"**/questions/{item.position + 1}")
    page.wait_for_url("**/summary")
    expect(page.locator("body")).to_contain_text("30 answered")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=re.compile("^Submit")).click()
    page.wait_for_url("**/result")
    expect(page.locator(".score")).to_have_text("100%")
    expect(page.locator(".verdict")).to_have_text("Passed")
    page.click("text=View your certificate")
    code = page.url.rsplit("/", 1)[1]
    page.click("text=Sign out")
    page.goto(f"/verify/{code}")
    expect(page.locator(".verdict")).to_contain_text("This certificate is valid.")
    expect(page.locator(".certificate")).to_contain_text(name)


def test_answers_are_saved_in_the_background_and_a_failed_save_is_retried(page, trainee):
    attempt = start_certification(page, trainee[0])
    item = items(attempt.id)[0]
    first, second = item.option_tokens[0], item.option_tokens[1]
    page.check(f"input[name=answer][value='{first}']")
    expect(page.locator("#save-status")).to_have_text("Answer saved.")
    assert items(attempt.id)[0].response == sorted([item.option_order[0]])

    # The connection drops: the page says so, keeps the answer, and retries.
    page.route("**/autosave", lambda route: route.abort())
    page.check(f"input[name=answer][value='{second}']")
    expect(page.locator("#save-status")).to_contain_text("Connection lost")
    assert items(attempt.id)[0].response == sorted([item.option_order[0]])
    page.unroute("**/autosave")
    expect(page.locator("#save-status")).to_have_text("Answer saved.", timeout=15_000)
    expected = [item.option_order[1]]
    if item.version.content["type"] == "multiple":
        expected = sorted(item.option_order[:2])
    assert items(attempt.id)[0].response == expected


def test_the_page_reports_a_stale_answer_from_another_tab(page, trainee):
    attempt = start_certification(page, trainee[0])
    item = items(attempt.id)[0]
    other_tab = page.context.new_page()
    other_tab.goto(page.url)
    other_tab.check(f"input[name=answer][value='{item.option_tokens[0]}']")
    expect(other_tab.locator("#save-status")).to_have_text("Answer saved.")
    page.check(f"input[name=answer][value='{item.option_tokens[1]}']")
    expect(page.locator("#save-status")).to_contain_text("another window")
    assert items(attempt.id)[0].response == [item.option_order[0]]


def test_enter_on_a_chosen_answer_goes_forward(page, trainee):
    attempt = start_certification(page, trainee[0])
    # On question 2 a Previous button exists too; Enter must still go to question 3.
    page.goto(f"/trainee/attempts/{attempt.id}/questions/2")
    item = items(attempt.id)[1]
    radio = page.locator(f"input[name=answer][value='{item.option_tokens[0]}']")
    radio.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.wait_for_url("**/questions/3")
    assert items(attempt.id)[1].response == [item.option_order[0]]


def test_an_exam_whose_clock_runs_out_lands_on_its_result(page, trainee):
    attempt = start_certification(page, trainee[0])
    # Move the deadline to a few seconds from now, as if the 45 minutes had passed.
    from datetime import timedelta

    from quizapp.models import utcnow

    stored = db.session.get(Attempt, attempt.id)
    stored.deadline = utcnow() + timedelta(seconds=3)
    db.session.commit()
    page.reload()
    page.wait_for_url("**/result", timeout=20_000)
    expect(page.locator(".result")).to_contain_text("Time ran out.")


def test_the_exam_can_be_taken_with_the_keyboard_alone(page, trainee):
    page.goto("/trainee/exams/certification")
    start = page.get_by_role("button", name=re.compile(r"^Start"))
    start.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/questions/1")
    attempt = current_attempt(trainee[0])
    # Tab reaches the options; arrow keys or space choose; Enter moves on.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "answer":
            break
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.wait_for_url("**/questions/2")
    assert items(attempt.id)[0].response
