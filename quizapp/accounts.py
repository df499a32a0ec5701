"""Accounts: creating them, signing in (throttled, the same work whether or not the
email has an account), sessions per device, and the admin's account administration
(name and email, roles, deactivation, one-time password-reset links). Shared by the
CLI and the screens. Every change is recorded in the audit trail under `user:<id>`,
never with a password, a reset token or a session token."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from quizapp import audit, throttle
from quizapp.cohorts import visible_trainee_ids
from quizapp.errors import ServiceError
from quizapp.extensions import db
from quizapp.models import (
    ROLES,
    AuditEvent,
    CohortMember,
    PasswordReset,
    User,
    UserRole,
    UserSession,
)
from quizapp.paging import pages_of
from quizapp.passwords import password_problem

PAGE_SIZE = 50
# Roles a manager sees in the account list whatever their cohorts: the staff.
STAFF_ROLES = ("trainer", "manager", "admin")
# What `secrets.token_urlsafe(32)` makes (43 characters); anything else is no token.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,64}")


class AccountError(ServiceError, ValueError):
    """A refused account change; `field` names the form field it is about, if any."""

    status = 400

    def __init__(self, message: str = "", status: int | None = None,
                 field: str | None = None):
        super().__init__(message, status)
        self.field = field


def _subject(user: User) -> str:
    return audit.subject("user", user.id)


# --- Passwords, creating, signing in -----------------------------------------------


def check_password_rule(password: str, name: str, email: str) -> None:
    """The one password rule (`quizapp.passwords`), as an AccountError on `password`."""
    problem = password_problem(password, name, email)
    if problem:
        raise AccountError(problem, field="password")


def _clean_email(email: str) -> str:
    return (email or "").strip().lower()


def _check_name_and_email(name: str, email: str) -> None:
    if not name:
        raise AccountError("Give the account a name.", field="name")
    if len(name) > 120:
        raise AccountError("A name can have at most 120 characters.", field="name")
    if "@" not in email or len(email) > 254:
        raise AccountError("Give a valid email address (at most 254 characters).",
                           field="email")


def _email_taken(email: str, other_than: int | None = None) -> bool:
    query = select(User.id).where(User.email == email)
    if other_than is not None:
        query = query.where(User.id != other_than)
    return db.session.scalar(query) is not None


def _check_roles(roles) -> set[str]:
    wanted = set(roles)
    unknown = wanted - set(ROLES)
    if unknown:
        raise AccountError(f"Unknown role(s): {', '.join(sorted(unknown))}", field="roles")
    if not wanted:
        raise AccountError("Give the account at least one role.", field="roles")
    return wanted


def create_user(email: str, name: str, password: str, roles, actor: User | None = None,
                how: str = "") -> User:
    """Add a user (the caller commits); refuse an unknown role, a password the rule
    refuses, or a taken email. `actor` made it (None: the person themselves, or the
    command line); `how` says how, for the audit trail."""
    email = _clean_email(email)
    name = (name or "").strip()
    _check_name_and_email(name, email)
    wanted = _check_roles(roles)
    check_password_rule(password, name, email)
    if _email_taken(email):
        raise AccountError("An account with that email already exists.", field="email")
    user = User(email=email, name=name)
    user.set_password(password)
    user.set_roles(wanted)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, _subject(user), "account.created",
                 f"Account created with the role(s) {', '.join(sorted(wanted))}"
                 + (f" {how}" if how else "") + ".",
                 {"roles": sorted(wanted), "email": email})
    return user


def register(email: str, name: str, password: str, hash_method: str) -> User | None:
    """Self-registration that answers the same for a new and a taken email (no account
    enumeration): the same checks and the same slow hash run either way. A new email
    gets a trainee account (returned; the caller commits); a taken one gets no second
    account, only an event in that account's trail (None). Refusals about the name or
    the password are the same whether or not the email is taken."""
    clean = _clean_email(email)
    existing = db.session.scalar(select(User).where(User.email == clean))
    if existing is None:
        return create_user(clean, name, password, ["trainee"], how="by self-registration")
    name = (name or "").strip()
    _check_name_and_email(name, clean)
    check_password_rule(password, name, clean)
    generate_password_hash(password, method=hash_method)  # the work a new account costs
    audit.record(None, _subject(existing), "account.register_existing",
                 "Someone tried to register again with this account's email; no account"
                 " was created.")
    return None


# --- Signing in -------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """A throttle: at most `limit` counted requests per `window` seconds."""

    limit: int
    window: int


@dataclass(frozen=True)
class SignIn:
    """What a sign-in came to: `user` (None if refused); `retry_after` > 0 when a
    throttle refused it before the password was looked at."""

    user: User | None
    retry_after: int = 0


_DUMMY_HASHES: dict[str, str] = {}


def dummy_hash(method: str) -> str:
    """A hash of a random password, made once per hashing method: an unknown email is
    checked against it, so a failed sign-in costs the same time either way."""
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(secrets.token_urlsafe(24),
                                                       method=method)
    return _DUMMY_HASHES[method]


def _email_key(email: str) -> str:
    """The per-account throttle key: a digest of the email as typed (cleaned), known or
    not, so the throttle says nothing about which emails have accounts."""
    return "signin:account:" + hashlib.sha256(email.encode()).hexdigest()[:40]


def _shown_email(email: str) -> str:
    """The email typed, for the trail of a failed sign-in of no account; something
    that is no email address may be a password typed in the wrong box: not kept."""
    if "@" in email and len(email) <= 254 and not re.search(r"\s", email):
        return email
    return "(not an email address)"


def sign_in(email: str, password: str, address: str, now: datetime, *,
            account_limit: Limit | None, address_limit: Limit | None,
            hash_method: str, user_agent: str | None = None) -> SignIn:
    """Check an email and password, throttled per email and per client address.

    Only failures count against the limits. Each attempt is counted first and the count
    committed at once (so no lock is held while the slow hash runs, and parallel
    guesses cannot slip past the limit), then given back if the attempt was refused by
    a throttle or succeeded. An unknown email is checked against `dummy_hash`, so it
    costs the same as a wrong password. Success starts a session for this device
    (`start_session`). Success and failure go to the audit trail (never the password);
    the caller commits the outcome."""
    email = _clean_email(email)
    counters = [(key, limit) for key, limit in
                ((_email_key(email), account_limit), (f"signin:address:{address}",
                                                      address_limit)) if limit]
    verdicts = [throttle.hit(key, limit.limit, limit.window, now) for key, limit in counters]
    refused = [(key, limit) for (key, limit), verdict in zip(counters, verdicts, strict=True)
               if not verdict.allowed]
    if refused:
        _give_back(counters, now)
        retry_after = max(max(1, throttle.wait(key, limit.limit, limit.window, now))
                          for key, limit in refused)
    db.session.commit()
    if refused:
        return SignIn(None, retry_after=retry_after)
    user = db.session.scalar(select(User).where(User.email == email))
    matches = check_password_hash(user.password_hash if user else dummy_hash(hash_method),
                                  password or "")
    if user is not None and matches and user.active:
        _give_back(counters, now)
        start_session(user, user_agent, now)
        audit.record(user, _subject(user), "auth.signin",
                     f"Signed in ({user.current_session.user_agent}).", {"address": address})
        return SignIn(user)
    if user is None:
        audit.record(None, "signin:unknown", "auth.signin_failed",
                     "Failed sign-in: no account has this email.",
                     {"address": address, "email": _shown_email(email)})
    else:
        reason = "wrong password" if not matches else "account deactivated"
        audit.record(None, _subject(user), "auth.signin_failed", f"Failed sign-in: {reason}.",
                     {"address": address, "reason": reason})
    return SignIn(None)


def _give_back(counters, now: datetime) -> None:
    for key, limit in counters:
        throttle.refund(key, limit.window, now)


# --- Sessions, one per signed-in device -------------------------------------------------

# How stale `last_seen_at` may get before a request writes it again: one small write
# every few minutes per device, not one per request.
TOUCH_AFTER = timedelta(minutes=5)
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
            ("Windows", "Windows"), ("CrOS", "ChromeOS"), ("Mac OS X", "macOS"),
            ("Linux", "Linux"))


def device_summary(user_agent: str | None) -> str:
    """"Firefox on Windows": what a person needs to recognise their own device."""
    agent = user_agent or ""
    browser = next((name for mark, name in _BROWSERS if mark in agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system
    cleaned = re.sub(r"[^\x20-\x7e]", "", agent).strip()
    return cleaned[:60] or "Unknown device"


def start_session(user: User, user_agent: str | None, now: datetime) -> str:
    """A new session for this device; the token goes into the cookie, only its hash
    into the database. The caller commits."""
    token = secrets.token_urlsafe(32)
    row = UserSession(id=_token_hash(token), user_id=user.id, created_at=now,
                      last_seen_at=now, user_agent=device_summary(user_agent))
    db.session.add(row)
    user.session_token, user.current_session = token, row
    return token


def session_user(token: str, now: datetime, idle: timedelta | None = None) -> User | None:
    """The active user whose session this token opens, with their roles, in one query
    (or None). Notes the time the device was last seen, every `TOUCH_AFTER` at most.
    `idle`: a session unused that long is over."""
    if not isinstance(token, str) or not TOKEN_SHAPE.fullmatch(token):
        return None
    query = (select(UserSession, User).join(User, User.id == UserSession.user_id)
             .options(joinedload(User.role_rows))
             .where(UserSession.id == _token_hash(token), User.active.is_(True)))
    if idle:
        query = query.where(UserSession.last_seen_at > now - idle)
    found = db.session.execute(query).unique().first()
    if found is None:
        return None
    row, user = found
    if now - row.last_seen_at >= TOUCH_AFTER:
        _touch(row, now)
    user.session_token, user.current_session = token, row
    return user


def _touch(row: UserSession, now: datetime) -> None:
    """Write `last_seen_at` on a connection of its own, committed at once: the request's
    own transaction stays as the view leaves it. Best effort: a busy database only
    delays it to the next request."""
    try:
        with db.engine.begin() as connection:
            connection.execute(update(UserSession).where(UserSession.id == row.id)
                               .values(last_seen_at=now))
    except SQLAlchemyError:
        return
    set_committed_value(row, "last_seen_at", now)  # as stored, without a second write


def sessions_of(user: User) -> list[UserSession]:
    """The person's signed-in devices, the most recently seen first."""
    return list(db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id)
        .order_by(UserSession.last_seen_at.desc(), UserSession.created_at.desc())))


def end_session(user: User) -> None:
    """Sign out this device: the session the user was loaded with ends."""
    if user.current_session is not None:
        db.session.execute(delete(UserSession).where(UserSession.id == user.current_session.id)
                           .execution_options(synchronize_session=False))
    user.session_token = user.current_session = None


def end_sessions(user: User, keep: UserSession | None = None) -> int:
    """End the user's sessions on every device, but `keep` if given (the admin changing
    their own roles stays signed in here). The one place sessions end en masse: sign
    out everywhere, a new password, deactivation, a change of roles. Returns how many."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    result = db.session.execute(query.execution_options(synchronize_session=False))
    return result.rowcount or 0


def sign_out_everywhere(user: User) -> int:
    """End every session of this user, this device's too, and record it."""
    ended = end_sessions(user)
    audit.record(user, _subject(user), "auth.signout_everywhere",
                 f"Signed out everywhere ({ended} session{'s' if ended != 1 else ''}).",
                 {"sessions": ended})
    user.session_token = user.current_session = None
    return ended


# --- The account list -----------------------------------------------------------------


@dataclass(frozen=True)
class AccountPage:
    people: list[User]
    total: int
    page: int
    pages: int
    search: str


def visible_accounts(viewer: User):
    """The accounts `viewer` may list: an admin sees every account; a manager sees the
    trainees of the cohorts they manage, trainees in no cohort yet (so a new or
    self-registered trainee can be found and placed), and the staff."""
    query = select(User)
    if viewer.has_role("admin"):
        return query
    staff = select(UserRole.user_id).where(UserRole.role.in_(STAFF_ROLES))
    placed = select(CohortMember.user_id)
    return query.where(or_(User.id.in_(visible_trainee_ids(viewer)), User.id.in_(staff),
                           User.id.not_in(placed)))


def list_accounts(viewer: User, search: str = "", page: int = 1) -> AccountPage:
    """One page (`PAGE_SIZE`) of the accounts `viewer` sees, by name, those whose name
    or email contains `search` (any case). A page past the end shows the last one.
    Three queries whatever the number of accounts: count, page, roles."""
    query = visible_accounts(viewer)
    search = (search or "").strip()
    if search:
        needle = search.lower()
        query = query.where(or_(func.lower(User.name).contains(needle, autoescape=True),
                                User.email.contains(needle, autoescape=True)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages, page = pages_of(total, page, PAGE_SIZE)
    people = db.session.scalars(
        query.order_by(func.lower(User.name), User.id)
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return AccountPage(people=list(people), total=total, page=page, pages=pages,
                       search=search)


def account_history(user: User, limit: int = 20) -> list[AuditEvent]:
    """The newest `limit` changes of this account in the trail, newest first (its
    sign-ins, `auth.*`, are on the audit page, filtered by `user:<id>`)."""
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.subject == _subject(user),
                                 ~AuditEvent.kind.startswith("auth.", autoescape=True))
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))


# --- Changing an account (admin) ------------------------------------------------------


def update_profile(actor: User, user: User, name: str, email: str) -> bool:
    """Change the name and email (kept lower-case, unique). False if nothing changed."""
    name, email = (name or "").strip(), _clean_email(email)
    _check_name_and_email(name, email)
    if _email_taken(email, other_than=user.id):
        raise AccountError("Another account has that email.", status=409, field="email")
    changes = {key: {"from": old, "to": new} for key, old, new in
               (("name", user.name, name), ("email", user.email, email)) if old != new}
    if not changes:
        return False
    user.name, user.email = name, email
    audit.record(actor, _subject(user), "account.edited",
                 "Changed the " + " and ".join(changes) + ".", changes)
    return True


def change_roles(actor: User, user: User, roles) -> bool:
    """Give the account exactly these roles and end its sessions (an admin changing
    their own keeps the session they do it in). An admin cannot take away their own
    admin role. False if nothing changed."""
    wanted = _check_roles(roles)
    if actor.id == user.id and user.has_role("admin") and "admin" not in wanted:
        raise AccountError("You cannot remove your own admin role: another admin must do"
                           " that, so the app always keeps one.", status=409, field="roles")
    before = user.roles
    if wanted == before:
        return False
    user.set_roles(wanted)
    end_sessions(user, keep=actor.current_session if actor.id == user.id else None)
    audit.record(actor, _subject(user), "account.roles",
                 f"Roles changed from {', '.join(sorted(before))} to"
                 f" {', '.join(sorted(wanted))}.",
                 {"from": sorted(before), "to": sorted(wanted)})
    return True


def deactivate(actor: User, user: User, now: datetime) -> None:
    """Close the account: its sessions end at once, it cannot sign in, and its unused
    reset links stop working. An admin cannot deactivate themselves."""
    if actor.id == user.id:
        raise AccountError("You cannot deactivate your own account: another admin must"
                           " do that.", status=409)
    if not user.active:
        raise AccountError(f"{user.name}'s account is already deactivated.", status=409)
    user.active = False
    end_sessions(user)
    voided = _void_links(user, now)
    audit.record(actor, _subject(user), "account.deactivated",
                 "Account deactivated; its sessions ended.", {"reset_links_voided": voided})


def reactivate(actor: User, user: User) -> None:
    """Open a deactivated account again (its old sessions stay ended)."""
    if user.active:
        raise AccountError(f"{user.name}'s account is active already.", status=409)
    user.active = True
    audit.record(actor, _subject(user), "account.reactivated", "Account reactivated.")


# --- Password-reset links -------------------------------------------------------------


@dataclass(frozen=True)
class ResetLink:
    """A link just made: `token` goes into the URL and is never stored or shown again."""

    token: str
    expires_at: datetime


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _void_links(user: User, now: datetime) -> int:
    """End every unused, unexpired link of this user now (they expire early)."""
    result = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None),
               PasswordReset.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def issue_reset_link(actor: User | None, user: User, now: datetime,
                     valid_for: timedelta) -> ResetLink:
    """A one-time link for `user` to set a new password, valid for `valid_for`; any
    older unused link of theirs stops working. Only the token's SHA-256 is stored."""
    if not user.active:
        raise AccountError("Reactivate the account before making a reset link.",
                           status=409)
    voided = _void_links(user, now)
    token = secrets.token_urlsafe(32)
    link = PasswordReset(user_id=user.id, token_hash=_token_hash(token), created_at=now,
                         expires_at=now + valid_for,
                         created_by_id=actor.id if actor else None)
    db.session.add(link)
    db.session.flush()
    audit.record(actor, _subject(user), "account.reset_link",
                 f"Password-reset link made, valid until"
                 f" {link.expires_at:%d %b %Y, %H:%M} UTC.",
                 {"reset_id": link.id, "expires_at": link.expires_at.isoformat(),
                  "older_links_voided": voided})
    return ResetLink(token=token, expires_at=link.expires_at)


def find_reset(token: str, now: datetime) -> PasswordReset | None:
    """The usable link this token opens, or None (unknown, used, expired, voided, or
    the account is deactivated). Looked up by the token's hash, so no comparison of
    secrets runs in Python for its timing to reveal anything."""
    if not isinstance(token, str) or not TOKEN_SHAPE.fullmatch(token):
        return None
    link = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == _token_hash(token)))
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    user = db.session.get(User, link.user_id)
    if user is None or not user.active:
        return None
    return link


LINK_GONE = "This link has expired or was used already. Ask an admin for a new one."


def redeem_reset(token: str, password: str, now: datetime) -> User:
    """Set the new password through a reset link, exactly once: the link is marked
    used, every other link of the person voided, and all their sessions end."""
    link = find_reset(token, now)
    if link is None:
        raise AccountError(LINK_GONE, status=410)
    user = db.session.get(User, link.user_id)
    check_password_rule(password, user.name, user.email)
    claimed = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == link.id, PasswordReset.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # a second submit of the same link, at the same moment
        db.session.rollback()
        raise AccountError(LINK_GONE, status=410)
    _void_links(user, now)
    user.set_password(password)
    end_sessions(user)
    audit.record(user, _subject(user), "account.password_reset",
                 "Password set through a reset link; all sessions ended.",
                 {"reset_id": link.id})
    return user


def request_reset(email: str, now: datetime, valid_for: timedelta,
                  by_mail: bool) -> tuple[User, ResetLink | None] | None:
    """"Forgot your password?": answered the same whether or not the email has an
    account (the caller shows one page either way). For an active account, with mail
    configured (`by_mail`), a reset link is made for the caller to email; without mail,
    the request is recorded in the account's trail for an admin to act on. Either way,
    and for an unknown email too, one event is written, so both cost the same."""
    user = db.session.scalar(select(User).where(User.email == _clean_email(email)))
    if user is None or not user.active:
        audit.record(None, "signin:unknown" if user is None else _subject(user),
                     "account.reset_requested",
                     "Password reset asked for " + ("an email with no account."
                                                    if user is None
                                                    else "a deactivated account; nothing"
                                                         " sent."),
                     {"email": _shown_email(_clean_email(email))} if user is None else None)
        return None
    if not by_mail:
        audit.record(None, _subject(user), "account.reset_requested",
                     "Asked for a password reset; no mail is configured, so an admin must"
                     " make a reset link.")
        return user, None
    return user, issue_reset_link(None, user, now, valid_for)
