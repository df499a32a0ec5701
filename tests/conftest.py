"""Fixtures in the shape of the Flask tutorial's: app, client, runner, auth.

Each test gets an empty database: a SQLite file of its own, or, when
TEST_DATABASE_URL is set, that PostgreSQL database emptied before and after. The app
itself is made once per session for each `app_config` and put back as it was made
before each test (see `app`).

On SQLite a test's database is a copy of a file made once per session (the empty
schema, or the schema with the shipped bank; either with the accounts of `users` when
the test asks for them). A copy of a bank one also starts with the studio's snapshot of
it (`studio.snapshot()`: the live bank and every question's findings), made once per
session from the same file: the app would make the very same one on first use, and
remakes it, as always, when the test changes the database.
"""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path

import pytest
import support
from _pytest.nodeid import NodeId
from sqlalchemy import text
from support import (
    BANK_PATH,
    DATABASE_FILE,
    PASSWORD,
    PEOPLE,
    make_app,
    start_from_bank_template,
    user_by_email,
)

from quizapp import studio
from quizapp.bank import load_bank
from quizapp.bank_store import import_bank
from quizapp.extensions import db


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Keep together, on one pytest-xdist worker, the tests of a module that share a
    fixture made once per module (a server, a browser page, data made once): each
    such module is an `xdist_group` of its own; `--dist loadgroup` (pyproject.toml)
    then hands out the groups, largest first, and every other test on its own, so
    the workers finish together.

    pytest-xdist tells the scheduler an item's group by appending `@group` to its
    node id, which it does by setting `item._nodeid`; pytest 9.2 keeps the id in
    `item._id` instead, so that write is lost and every group would be split across
    the workers (a module's data made once per worker, or a test run apart from the
    module whose fixture it needs). The id is set here, after xdist's hook, when its
    write did not take."""
    for item in items:
        fixtures = getattr(item, "_fixtureinfo", None)
        shared = fixtures is not None and any(
            definition.scope in ("module", "class", "package")
            for definitions in fixtures.name2fixturedefs.values()
            for definition in definitions)
        if shared and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
    result = yield
    if getattr(config.option, "loadgroup", False):  # an xdist worker, --dist loadgroup
        for item in items:
            groups = sorted({str(mark.args[0] if mark.args else
                                 mark.kwargs.get("name", "default"))
                             for mark in item.iter_markers("xdist_group")})
            suffix = "@" + "_".join(groups)
            if groups and not item.nodeid.endswith(suffix) and hasattr(item, "_id"):
                item._id = NodeId.parse(item.nodeid + suffix)
    return result


@pytest.fixture
def app_config():
    """Settings a test module can override before `app` is built."""
    return {}


@pytest.fixture(scope="session")
def shipped_bank():
    bank, problems = load_bank(BANK_PATH)
    assert not [p for p in problems if p.level == "error"]
    return bank


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory, shipped_bank) -> dict[str, Path] | None:
    """On SQLite, database files made once per test session, copied for each test:
    the empty schema ("empty"), the schema with the shipped bank imported ("bank"), and
    each of these with the `users` fixture's accounts made ("empty+people",
    "bank+people"). (PostgreSQL builds each test's database afresh.)"""
    if os.environ.get("TEST_DATABASE_URL"):
        return None
    templates = {}
    for name in ("empty", "bank"):
        for people in (False, True):
            key = f"{name}+people" if people else name
            folder = tmp_path_factory.mktemp(f"template-{key}")
            if people:
                shutil.copyfile(templates[name], folder / DATABASE_FILE)
            template_app = make_app(folder)
            with template_app.app_context():
                if people:
                    make_people()
                else:
                    db.create_all()
                    if name == "bank":
                        import_bank(shipped_bank)
                        db.session.commit()
                db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
                db.session.remove()
                db.engine.dispose()
            templates[key] = folder / DATABASE_FILE
    return templates


@pytest.fixture(scope="session")
def bank_template_state(tmp_path_factory, sqlite_templates):
    """`state(template)`: the studio's caches (`app.extensions["studio"]`) of an app on
    a fresh copy of that bank template, made once per session on first use; None on
    PostgreSQL."""
    made = {}

    def state(template: str = "bank") -> dict | None:
        if not sqlite_templates:
            return None
        if template not in made:
            folder = tmp_path_factory.mktemp("template-state")
            shutil.copyfile(sqlite_templates[template], folder / DATABASE_FILE)
            state_app = make_app(folder)
            with state_app.app_context():
                studio.snapshot()
                db.session.remove()
                db.engine.dispose()
            made[template] = dict(state_app.extensions["studio"])
        return made[template]

    return state


@pytest.fixture(autouse=True)
def close_databases():
    """Close the pooled connections of every app a test made (a module's or the
    session's apps, made before, are left to their own fixtures)."""
    support.MADE_APPS.clear()
    yield
    for made in support.MADE_APPS:
        with made.app_context():
            for engine in db.engines.values():
                engine.dispose()
    support.MADE_APPS.clear()


class _KeptApp:
    """An app made once and used by test after test (see `app`), with what it was
    made with, to put it back as it was before each test."""

    def __init__(self, app, folder: Path):
        self.app = app
        self.folder = folder
        self.config = copy.deepcopy(dict(app.config))
        self.extensions = dict(app.extensions)
        self.setup = _setup_of(app)

    def reset(self) -> None:
        app = self.app
        app.config.clear()
        app.config.update(copy.deepcopy(self.config))
        app.extensions.clear()
        app.extensions.update(self.extensions)  # and so no cache of another test's data
        # Flask refuses setup (a route, a hook) once an app has served a request; a test
        # may still add some to its app, as to a new one (the app is not kept after).
        app._got_first_request = False

    def unchanged(self) -> bool:
        return _setup_of(self.app) == self.setup


def _setup_of(app) -> tuple:
    """What a test could add to an app that `_KeptApp.reset` cannot take away."""
    return (sorted(rule.rule for rule in app.url_map.iter_rules()),
            sorted(app.view_functions), sorted(app.blueprints),
            repr(app.before_request_funcs), repr(app.after_request_funcs),
            repr(app.teardown_request_funcs), repr(app.teardown_appcontext_funcs),
            repr(app.error_handler_spec), repr(app.template_context_processors),
            repr(app.url_value_preprocessors), repr(app.url_default_functions),
            sorted(app.jinja_env.globals), sorted(app.jinja_env.filters))


@pytest.fixture(scope="session")
def kept_apps() -> dict[str, _KeptApp]:
    """Apps made once per session, one for each `app_config`: making an app (its URL
    rules, its extensions) costs more than most tests. A few are kept."""
    return {}


KEPT_APPS = 8


@pytest.fixture
def app(tmp_path_factory, app_config, request, sqlite_templates, bank_template_state,
        kept_apps):
    """The app, as `create_app` makes it with the test settings and `app_config`, on
    a database of the test's own. One app is made per session for each `app_config`,
    and put back before each test as it was made (its settings, its extensions and
    their caches); a test that adds to the app itself (a route, a hook) leaves it to
    be thrown away. On SQLite its database file is replaced by a copy of a template,
    on PostgreSQL the database is emptied."""
    with_bank = "bank_loaded" in request.fixturenames
    # The people of `users` come with the database when the app is made as usual (made
    # otherwise, the accounts are made by `users`, with the app's own settings).
    template = ("bank" if with_bank else "empty") + (
        "+people" if "users" in request.fixturenames and not app_config else "")
    key = repr(sorted(app_config.items()))
    kept = kept_apps.pop(key, None)
    if kept is None:
        folder = tmp_path_factory.mktemp("app")
        kept = _KeptApp(make_app(folder, **app_config), folder)
    else:
        kept.reset()
    app = kept.app
    if sqlite_templates:
        with app.app_context():
            db.engine.dispose()
        for suffix in ("", "-wal", "-shm", "-journal"):
            (kept.folder / f"{DATABASE_FILE}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(sqlite_templates[template], kept.folder / DATABASE_FILE)
    if with_bank:
        start_from_bank_template(app, bank_template_state(template))
    with app.app_context():
        if not sqlite_templates:
            db.drop_all()
            db.create_all()
        yield app
        db.session.remove()
        if not sqlite_templates:
            db.drop_all()
        db.engine.dispose()
    if kept.unchanged():
        kept_apps[key] = kept
        while len(kept_apps) > KEPT_APPS:
            kept_apps.pop(next(iter(kept_apps)))


@pytest.fixture
def bank_loaded(app, shipped_bank, sqlite_templates):
    """The app with the shipped question bank imported (on SQLite, copied in with the
    database by `app`)."""
    if not sqlite_templates:
        import_bank(shipped_bank)
        db.session.commit()
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def users(app):
    """One account per role, plus a second trainee: on SQLite in the database as `app`
    copies it in (made once per session by `make_people`), otherwise made here."""
    found = {key: user_by_email(email) for key, (email, _name, _roles) in PEOPLE.items()}
    if all(found.values()):
        return found
    return make_people()


def make_people() -> dict:
    """The accounts of `PEOPLE`, made as the app makes accounts (committed)."""
    from quizapp.accounts import create_user

    made = {key: create_user(email, name, PASSWORD, roles)
            for key, (email, name, roles) in PEOPLE.items()}
    db.session.commit()
    return made


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, who: str = "trainee", password: str = PASSWORD):
        email = PEOPLE[who][0] if who in PEOPLE else who
        return self._client.post("/auth/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client, users):
    return AuthActions(client)
