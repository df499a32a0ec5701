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
        # Certificates: the issuer printed and signing, the paper (A4 or Letter), a
        # TrueType font to print names with (default: DejaVu Sans from the system).
        "CERTIFICATE_ISSUER_NAME": os.environ.get("CERTIFICATE_ISSUER_NAME",
                                                  "Microneedling Academy"),
        "CERTIFICATE_PAGE_SIZE": os.environ.get("CERTIFICATE_PAGE_SIZE", "A4"),
        "CERTIFICATE_FONT": os.environ.get("CERTIFICATE_FONT", ""),
        # The credentials' signing key: a PEM here, else instance/issuer_keys/ (made on
        # first use; `flask certs rotate-key` rotates it).
        "ISSUER_SIGNING_KEY": os.environ.get("ISSUER_SIGNING_KEY", ""),
        "ISSUER_KEY_DIR": os.environ.get("ISSUER_KEY_DIR", ""),
        # Checks of /verify per client address: so many per so many seconds.
        "VERIFY_RATE_LIMIT": int(os.environ.get("VERIFY_RATE_LIMIT", "30")),
        "VERIFY_RATE_WINDOW": int(os.environ.get("VERIFY_RATE_WINDOW", "60")),
        # Throttles on signing in, self-registration and password resets (SECURITY.md).
        # THROTTLE_ENABLED=false turns off the limits on sign-ins, registrations and
        # resets (a load test where one address signs in a whole class); the /verify
        # limit above has only its own setting.
        "THROTTLE_ENABLED": _flag("THROTTLE_ENABLED", True),
        # Failed sign-ins for one email, and from one client address, per window (s).
        # Only failures count; a refused or successful attempt gives its count back.
        "SIGNIN_ACCOUNT_LIMIT": int(os.environ.get("SIGNIN_ACCOUNT_LIMIT", "10")),
        "SIGNIN_ACCOUNT_WINDOW": int(os.environ.get("SIGNIN_ACCOUNT_WINDOW", "900")),
        "SIGNIN_ADDRESS_LIMIT": int(os.environ.get("SIGNIN_ADDRESS_LIMIT", "50")),
        "SIGNIN_ADDRESS_WINDOW": int(os.environ.get("SIGNIN_ADDRESS_WINDOW", "900")),
        # Registrations sent from one address per window (a class registering itself
        # from one clinic's address needs more).
        "REGISTER_RATE_LIMIT": int(os.environ.get("REGISTER_RATE_LIMIT", "20")),
        "REGISTER_RATE_WINDOW": int(os.environ.get("REGISTER_RATE_WINDOW", "3600")),
        # Password-reset requests and reset-link submissions from one address per window.
        "RESET_RATE_LIMIT": int(os.environ.get("RESET_RATE_LIMIT", "10")),
        "RESET_RATE_WINDOW": int(os.environ.get("RESET_RATE_WINDOW", "3600")),
        # How many proxies in front of the app set X-Forwarded-For/-Proto (0: none, the
        # client address is the connection's). Set it only behind a proxy you run:
        # otherwise anyone can claim any address and escape the per-address limits.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        # A signed-in device unused this many days is signed out.
        "SESSION_IDLE_DAYS": int(os.environ.get("SESSION_IDLE_DAYS", "14")),
        # Outgoing mail (certificate reminders); nothing is sent without MAIL_SERVER.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", ""),
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
