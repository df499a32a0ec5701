"""Configuration: defaults here, environment variables over them, a test's dict last."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(instance_path: str) -> dict:
    """Settings read from the environment, with the defaults for a development run."""
    environment = os.environ.get("QUIZAPP_ENV", "production")
    development = environment == "development"
    database = os.environ.get(
        "DATABASE_URL", f"sqlite:///{Path(instance_path) / 'quizapp.sqlite3'}"
    )
    # Some hosts still hand out the old scheme name, which SQLAlchemy 2 refuses.
    if database.startswith("postgres://"):
        database = "postgresql+psycopg://" + database.removeprefix("postgres://")
    elif database.startswith("postgresql://"):
        database = "postgresql+psycopg://" + database.removeprefix("postgresql://")
    return {
        "ENVIRONMENT": environment,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": database,
        "QUESTION_BANK_PATH": os.environ.get(
            "QUESTION_BANK_PATH", str(PROJECT_ROOT / "question_bank")
        ),
        # The articles are not committed; in this workplace they sit beside the repo.
        "SOURCE_DOCUMENTS_PATH": os.environ.get(
            "SOURCE_DOCUMENTS_PATH", str(PROJECT_ROOT.parent / "shared" / "source-documents")
        ),
        "ALLOW_SELF_REGISTRATION": _flag("ALLOW_SELF_REGISTRATION", development),
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", not development),
        "EXAM_GRACE_SECONDS": int(os.environ.get("EXAM_GRACE_SECONDS", "30")),
        # How long a password-reset link an admin makes stays usable.
        "PASSWORD_RESET_HOURS": int(os.environ.get("PASSWORD_RESET_HOURS", "24")),
        # The site's address as people reach it ("https://academy.example.com"): reset
        # links are built on it. Unset: the address of the request (the admin's page),
        # SERVER_NAME or, on the command line without either, a path.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", ""),
        # JSON lines on stdout in production (for a log collector); plain in development.
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text" if development else "json"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
    }


DEFAULTS = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # A CSRF token must outlive the longest exam, or a trainee's last answers bounce.
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
}


def development_secret_key(instance_path: str) -> str:
    """A key made once for this machine and kept in the instance folder."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
