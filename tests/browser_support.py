"""What the browser tests share: Debian's Chromium, launched once per test session; the
app served over HTTP on loopback, once per test module, on a database of the module's
own; people signed in by the sign-in form's POST (or by the form itself, where signing
in is what a test checks); screenshots on request.

Each tests/test_browser*.py takes the `browser` fixture from here; it hands every
module the same Chromium, started on first use and closed when the session ends.
Playwright drives the system's Chromium (`/usr/bin/chromium`, or `CHROMIUM_PATH`)
and never downloads a browser. Without Chromium the tests that need it are skipped
with the reason (the others still run), except in CI (`CI=true`), where they fail.

Screenshots: set `SCREENSHOT_DIR=some/folder` and the page tests save a PNG of every
page type at each width they check (`<page type>-<width>.png`), e.g.

    SCREENSHOT_DIR=docs/screenshots .venv/bin/python -m pytest tests/test_browser_pages.py
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from support import DATABASE_FILE, PASSWORD, make_app
from werkzeug.serving import make_server

from quizapp.bank_store import import_bank
from quizapp.extensions import db

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without these, Chromium reaches for Google's servers, which this network refuses.
# `--js-flags`: JavaScript runs without V8's optimising compilers, which cost more than
# they save on pages that live for a second (axe-core runs about a third faster).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--js-flags=--no-opt --no-maglev"]
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
TIMEOUT_MS = 10_000
DESKTOP = {"width": 1280, "height": 900}


def chromium_found() -> bool:
    return shutil.which(CHROMIUM) is not None


_BROWSER = pytest.StashKey[Browser]()


@pytest.fixture(scope="module")
def browser(request) -> Browser:
    """One Chromium for the whole test session (kept in the session's config, closed
    at its end); each test or person gets a context of its own."""
    config = request.config
    if _BROWSER not in config.stash:
        if not chromium_found():
            if IN_CI:  # CI must run the browser tests: a missing Chromium fails them
                pytest.fail(f"Chromium not found at {CHROMIUM}: CI must run the browser"
                            " tests (apt-get install chromium, or set CHROMIUM_PATH)")
            pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
        playwright = sync_playwright().start()
        config.add_cleanup(playwright.stop)
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        config.add_cleanup(launched.close)
        config.stash[_BROWSER] = launched
    return config.stash[_BROWSER]


@contextmanager
def module_app(tmp_path: Path, bank, templates: dict[str, Path] | None = None, **overrides):
    """An app with the shipped bank imported, on a database of its own, for a whole
    module (conftest's `app` is per test). Its app context stays open, as conftest's
    does, for the module's own database work; the server's requests get their own.

    `templates`: conftest's `sqlite_templates`; on SQLite the database is a copy of the
    one with the bank already imported (on PostgreSQL it is None: built afresh)."""
    if templates:
        shutil.copyfile(templates["bank"], tmp_path / DATABASE_FILE)
    app = make_app(tmp_path, **overrides)
    with app.app_context():
        if not templates:
            db.drop_all()
            db.create_all()
            import_bank(bank)
            db.session.commit()
        try:
            yield app
        finally:
            db.session.remove()
            if not templates:
                db.drop_all()
            db.engine.dispose()


@contextmanager
def serve(app) -> Iterator[str]:
    """Serve `app` over HTTP on a free loopback port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def new_page(browser: Browser, base_url: str, email: str | None = None,
             password: str = PASSWORD, through_form: bool = False,
             init_scripts: Iterable[Path] = ()) -> Page:
    """A page in a fresh context (its own cookies), signed in as `email` when one is
    given: by posting the sign-in form's fields from the context (its cookies are the
    page's), or, `through_form`, by filling in and sending the form on the page.
    `init_scripts` run in every document the context loads, before the page's own."""
    context = browser.new_context(base_url=base_url, viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    for script in init_scripts:
        context.add_init_script(path=script)
    page = context.new_page()
    if email is not None and through_form:
        page.goto("/auth/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "/auth/login" not in page.url, f"{email} could not sign in"
    elif email is not None:
        sign_in(context, email, password)
    return page


def sign_in(context: BrowserContext, email: str, password: str = PASSWORD) -> None:
    """Sign `email` in for every page of `context`: the sign-in form's fields posted
    from the context, whose cookies its pages share."""
    response = context.request.post("/auth/login", form={"email": email, "password": password})
    assert response.ok and "/auth/login" not in response.url, (
        f"{email} could not sign in: {response.status} at {response.url}")


def save_screenshot(page: Page, name: str) -> Path | None:
    """Save a full-page PNG as SCREENSHOT_DIR/<name>.png when SCREENSHOT_DIR is set."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if not folder:
        return None
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path
