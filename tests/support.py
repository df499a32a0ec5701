"""What the tests share besides fixtures: the app as tests build it, its database,
the people the fixtures sign in. Test modules import from here, never from conftest.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

from flask.testing import FlaskClient
from fontTools import subset
from fontTools.ttLib import TTFont
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from quizapp import certificate_pdf, create_app
from quizapp.extensions import db
from quizapp.models import User

BANK_PATH = Path(__file__).resolve().parent.parent / "question_bank"
PASSWORD = "correct horse battery"
DATABASE_FILE = "test.sqlite3"
PEOPLE = {
    "trainee": ("trainee@example.com", "Tessa Trainee", ("trainee",)),
    "other": ("other@example.com", "Oscar Other", ("trainee",)),
    "trainer": ("trainer@example.com", "Tom Trainer", ("trainer",)),
    "manager": ("manager@example.com", "Maya Manager", ("manager",)),
    "admin": ("admin@example.com", "Alex Admin", ("admin",)),
}


def _database_url(tmp_path: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / DATABASE_FILE}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return _worker_database(url, worker) if worker else url


@functools.cache
def _worker_database(url: str, worker: str) -> str:
    """Each pytest-xdist worker gets a PostgreSQL database of its own beside the given
    one (quizapp_test_gw0, ...), made on first use."""
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                   {"name": name})
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


class RequestScopedClient(FlaskClient):
    """Run each request in an app context of its own, as a real server does.

    The fixtures keep an app context open for the test's own database work; without
    this, requests would share it, and with it `g` and the database session.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


# Apps made by `make_app` since conftest's autouse `close_databases` last looked: it
# closes their database connections when the test ends (a PostgreSQL connection left
# to the garbage collector warns, and the suite treats warnings as errors).
MADE_APPS: list = []


@functools.cache
def issuer_key_folder() -> str:
    """The issuer key folder of the test process's apps, made once (the signing key is
    made in it on first use). Without it an app keeps its keys in the checkout's
    instance folder, which `make run` uses. Tests that rotate or import keys give
    their app a folder of their own."""
    folder = tempfile.mkdtemp(prefix="quizapp-test-keys-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@functools.cache
def latin_certificate_font() -> str:
    """The font the tests' apps print certificates in: the system's Unicode font cut
    down to Latin-1, made once per test process ("" if the system has none).

    Reading a whole DejaVu Sans costs about 0.2 s a certificate, and the suite issues
    hundreds whose font is not what it tests. Like the one round of password hashing,
    the code is the same and only its input is cheaper; test_certificates_pdf renders
    with the system's own fonts (accents, Greek, Cyrillic, the fallback for the rest)."""
    regular = certificate_pdf.find_fonts().regular
    if regular is None:
        return ""
    folder = tempfile.mkdtemp(prefix="quizapp-test-font-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    options = subset.Options()
    options.drop_tables += ["FFTM"]  # FontForge's timestamps, which fontTools cannot cut
    cutter = subset.Subsetter(options)
    cutter.populate(unicodes=range(0x20, 0x100))
    path = os.path.join(folder, "latin.ttf")
    with TTFont(regular) as font:
        cutter.subset(font)
        font.save(path)
    return path


class _SharedTemplateCode(BytecodeCache):
    """Compiled templates kept in memory for every app of the test process. An app
    compiles each template it renders once, and the suite makes over a hundred apps from
    the same templates; Jinja checks each entry against its template's source."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CODE = _SharedTemplateCode()


def make_app(tmp_path: Path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path),
        "WTF_CSRF_ENABLED": False,
        "ALLOW_SELF_REGISTRATION": True,
        "SESSION_COOKIE_SECURE": False,
        "QUESTION_BANK_PATH": str(BANK_PATH),
        "EXAM_GRACE_SECONDS": 30,
        # One round of hashing: scrypt's cost is for attackers, not for a test suite.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
        "CERTIFICATE_FONT": latin_certificate_font(),
        "ISSUER_KEY_DIR": issuer_key_folder(),
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = RequestScopedClient
    app.jinja_env.bytecode_cache = TEMPLATE_CODE
    MADE_APPS.append(app)
    return app


def start_from_bank_template(app, state: dict | None) -> None:
    """Give an app whose database is a fresh copy of the bank template the studio's
    caches of that template (conftest's `bank_template_state`), when it reads the same
    bank folder (the snapshot holds that folder's settings). None: nothing to give."""
    if state is not None and app.config["QUESTION_BANK_PATH"] == str(BANK_PATH):
        app.extensions["studio"] = dict(state)


def user_by_email(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))
