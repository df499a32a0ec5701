"""Creating accounts and ending sessions; shared by the CLI and the screens."""

from __future__ import annotations

from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import ROLES, User


class AccountError(ValueError):
    pass


def create_user(email: str, name: str, password: str, roles) -> User:
    """Add a user (the caller commits); refuse a taken email or an unknown role."""
    email = email.strip().lower()
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError(f"Unknown role(s): {', '.join(sorted(unknown))}")
    if not roles:
        raise AccountError("Give the account at least one role.")
    if len(password) < 8:
        raise AccountError("The password needs at least 8 characters.")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError("An account with that email already exists.")
    user = User(email=email, name=name.strip())
    user.set_password(password)
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active account with this email and password, or None."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.check_password(password) or not user.active:
        return None
    return user


def end_sessions(user: User) -> None:
    """Make every session cookie issued to this user so far stop working."""
    user.session_version += 1
