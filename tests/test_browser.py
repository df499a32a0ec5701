"""A trainee in a real browser: Debian's Chromium, driven by Playwright, against the
app served over HTTP on loopback. These check what only a browser runs: the
background autosave and its retry, and the countdown.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from conftest import PASSWORD
from helpers import items, right_answer
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from quizapp.extensions import db
from quizapp.models import Attempt

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without these, Chromium reaches for Google's servers, which this network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

if not shutil.which(CHROMIUM) and not os.environ.get("CI"):
    # CI installs Chromium and must run these; elsewhere say plainly why they did not run.
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)",
                allow_module_level=True)


@pytest.fixture
def live_server(bank_loaded, users):
    server = make_server("127.0.0.1", 0, bank_loaded, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def page(live_server):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server)
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.goto("/auth/login")
        page.fill("input[name=email]", "trainee@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        yield page
        browser.close()


def current_attempt() -> Attempt:
    db.session.expire_all()
    return db.session.scalars(select(Attempt).order_by(Attempt.id.desc())).first()


def start_certification(page):
    page.goto("/trainee/")
    page.click("text=Start the exam")
    page.wait_for_url("**/questions/1")
    return current_attempt()


def test_a_trainee_passes_the_certification_exam_in_the_browser(page):
    attempt = start_certification(page)
    expect(page.locator("#countdown")).to_contain_text("Time left")
    for item in items(attempt.id):
        expect(page.locator(".progress")).to_contain_text(
            f"Question {item.position} of 30")
        for option_id in right_answer(item):
            page.check(f"input[name=answer][value={option_id}]")
        label = "Next →" if item.position < 30 else "Review and submit"
        page.get_by_role("button", name=label).click()
    page.wait_for_url("**/summary")
    expect(page.locator("body")).to_contain_text("30 answered")
    page.get_by_role("button", name="Submit the attempt").click()
    page.wait_for_url("**/result")
    expect(page.locator(".score")).to_have_text("100%")
    expect(page.locator(".verdict")).to_have_text("Passed")
    page.click("text=View your certificate")
    code = page.url.rsplit("/", 1)[1]
    page.click("text=Sign out")
    page.goto(f"/verify/{code}")
    expect(page.locator(".verdict")).to_contain_text("This certificate is valid.")
    expect(page.locator(".certificate")).to_contain_text("Tessa Trainee")


def test_answers_are_saved_in_the_background_and_a_failed_save_is_retried(page):
    attempt = start_certification(page)
    item = items(attempt.id)[0]
    page.check(f"input[name=answer][value={item.option_order[0]}]")
    expect(page.locator("#save-status")).to_have_text("Answer saved.")
    assert items(attempt.id)[0].response == sorted([item.option_order[0]])

    # The connection drops: the page says so, keeps the answer, and retries.
    page.route("**/autosave", lambda route: route.abort())
    page.check(f"input[name=answer][value={item.option_order[1]}]")
    expect(page.locator("#save-status")).to_contain_text("Connection lost")
    assert items(attempt.id)[0].response == sorted([item.option_order[0]])
    page.unroute("**/autosave")
    expect(page.locator("#save-status")).to_have_text("Answer saved.", timeout=15_000)
    expected = [item.option_order[1]]
    if item.version.content["type"] == "multiple":
        expected = sorted(item.option_order[:2])
    assert items(attempt.id)[0].response == expected


def test_the_page_reports_a_stale_answer_from_another_tab(page):
    attempt = start_certification(page)
    item = items(attempt.id)[0]
    other_tab = page.context.new_page()
    other_tab.goto(page.url)
    other_tab.check(f"input[name=answer][value={item.option_order[0]}]")
    expect(other_tab.locator("#save-status")).to_have_text("Answer saved.")
    page.check(f"input[name=answer][value={item.option_order[1]}]")
    expect(page.locator("#save-status")).to_contain_text("another window")
    assert items(attempt.id)[0].response == [item.option_order[0]]
