"""Account administration (issue 9, item 7): the account list, an admin editing,
re-roling, deactivating and reactivating accounts, one-time expiring password-reset
links, and the one password rule every way of setting a password goes through."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from helpers import statements
from sqlalchemy import func, select
from support import PASSWORD, user_by_email

from quizapp import accounts
from quizapp.extensions import db
from quizapp.models import (
    AuditEvent,
    Cohort,
    CohortManager,
    CohortMember,
    PasswordReset,
    User,
    utcnow,
)
from quizapp.passwords import PERSONAL, WEAK, password_problem, personal_parts

PERSONAL_HTML = "must not contain the account"  # PERSONAL as the page escapes it

PASSPHRASE = "tangerine lighthouse gravel piano"
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def fresh(email: str) -> User:
    db.session.expire_all()
    return user_by_email(email)


def events(user: User, kind: str | None = None) -> list[AuditEvent]:
    """The account's changes in its trail (sign-ins, `auth.*`, are tested apart)."""
    query = select(AuditEvent).where(AuditEvent.subject == f"user:{user.id}",
                                     ~AuditEvent.kind.startswith("auth."))
    if kind:
        query = query.where(AuditEvent.kind == kind)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def link_in(html: str) -> str:
    """The reset link shown on the admin's page."""
    match = re.search(r'<code class="url" id="reset-link">([^<]+)</code>', html)
    assert match, html[:2000]
    return match.group(1)


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def path_of(url: str) -> str:
    return "/auth/reset/" + token_of(url)


def make_link(client, user: User) -> str:
    response = client.post(f"/manager/users/{user.id}/reset-link")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Cache-Control"] == "no-store"
    return link_in(response.get_data(as_text=True))


def signed_in(client, app, who: str) -> object:
    """A second browser of `who`, signed in."""
    other = app.test_client()
    from support import PEOPLE

    response = other.post("/auth/login", data={"email": PEOPLE[who][0], "password": PASSWORD})
    assert response.status_code == 302
    return other


# --- The one password rule ------------------------------------------------------------


def test_the_password_rule_refuses_short_guessable_and_personal_passwords():
    assert password_problem("short") == "The password needs at least 8 characters."
    assert "at most 128" in password_problem("word " * 30)
    common = password_problem("password123", "Tessa Trainee", "tessa@example.com")
    assert common.startswith(WEAK) and "common password" in common
    assert password_problem("aaaaaaaaaaaa").startswith(WEAK)
    for personal in ("Tessa-Trainee-forever-and-ever", "my TESSATRAINEE is long enough",
                     "tessa@example.com is my pass", "river trainee ocean cloud"):
        assert password_problem(personal, "Tessa Trainee", "tessa@example.com") == PERSONAL
    # Long passphrases are welcome; short name parts are not looked for.
    assert password_problem(PASSPHRASE, "Tessa Trainee", "tessa@example.com") is None
    assert password_problem("every good boy deserves fudge", "Eve", "e@example.com") is None
    assert password_problem(PASSWORD, "Tessa Trainee", "trainee@example.com") is None
    assert password_problem("x" * 60 + " quiet harbour lantern " * 2) is None  # > 72 chars
    assert personal_parts("Ana Li", "ana.li@example.com") == ["ana.li@example.com", "ana li",
                                                             "ana.li", "anali"]


def test_create_user_registration_console_and_cli_share_the_rule(client, auth, runner):
    with pytest.raises(accounts.AccountError) as refused:
        accounts.create_user("w@example.com", "Wes", "password123", ["trainee"])
    assert refused.value.field == "password" and str(refused.value).startswith(WEAK)

    registration = client.post("/auth/register", data={
        "name": "Wes Weak", "email": "wes@example.com", "password": "password123",
        "confirm": "password123"})
    html = registration.get_data(as_text=True)
    assert registration.status_code == 400 and WEAK in html
    assert 'id="password-error"' in html  # beside the password field, not the email
    personal = client.post("/auth/register", data={
        "name": "Wes Weak", "email": "wes@example.com", "password": "wes weak and strong",
        "confirm": "wes weak and strong"})
    assert personal.status_code == 400 and PERSONAL_HTML in personal.get_data(as_text=True)

    auth.login("manager")
    console = client.post("/manager/users/new", data={
        "name": "Wes Weak", "email": "wes@example.com", "password": "qwertyuiop",
        "roles": ["trainee"]})
    assert console.status_code == 400 and WEAK in console.get_data(as_text=True)

    cli = runner.invoke(args=["users", "create", "--email", "wes@example.com", "--name",
                              "Wes", "--role", "trainee", "--password", "letmein1"])
    assert cli.exit_code == 1 and WEAK in cli.output
    assert user_by_email("wes@example.com") is None

    ok = client.post("/manager/users/new", data={
        "name": "Wes Strong", "email": "wes@example.com", "password": PASSPHRASE,
        "roles": ["trainee"]})
    assert ok.status_code == 302
    wes = user_by_email("wes@example.com")
    created = events(wes, "account.created")
    assert len(created) == 1 and created[0].actor.email == "manager@example.com"
    assert PASSPHRASE not in json.dumps(created[0].data) + created[0].message


# --- Who may do what ------------------------------------------------------------------


ADMIN_ACTIONS = [
    ("GET", "/manager/users/{id}", {}),
    ("POST", "/manager/users/{id}", {"name": "Hacked", "email": "hacked@example.com"}),
    ("POST", "/manager/users/{id}/roles", {"roles": ["admin"]}),
    ("POST", "/manager/users/{id}/deactivate", {}),
    ("POST", "/manager/users/{id}/reactivate", {}),
    ("POST", "/manager/users/{id}/reset-link", {}),
]


@pytest.mark.parametrize("who", ["anonymous", "manager", "trainer", "trainee"])
def test_only_an_admin_opens_or_changes_an_account(client, auth, users, who):
    if who != "anonymous":
        auth.login(who)
    target = users["other"]
    for method, url, data in ADMIN_ACTIONS:
        response = client.open(url.format(id=target.id), method=method, data=data)
        if who == "anonymous":
            assert response.status_code == 302 and "/auth/login" in response.location
        else:
            assert response.status_code == 403, (who, method, url)
    # A manager gets 403 (not 404) whether or not the account exists.
    assert client.get("/manager/users/999").status_code in (302, 403)
    other = fresh("other@example.com")
    assert other.name == "Oscar Other" and other.roles == {"trainee"} and other.active
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) == 0
    assert events(other) == events(other, "account.created")


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_every_account_form_needs_its_csrf_token(app, client, users):
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/auth/login", data={"email": "admin@example.com", "password": PASSWORD,
                                     "csrf_token": token})
    reset = accounts.issue_reset_link(users["admin"], users["trainee"], utcnow(),
                                      timedelta(hours=1))
    db.session.commit()
    target = users["other"].id
    for url in [f"/manager/users/{target}", f"/manager/users/{target}/roles",
                f"/manager/users/{target}/deactivate", f"/manager/users/{target}/reactivate",
                f"/manager/users/{target}/reset-link", "/manager/users/new",
                f"/auth/reset/{reset.token}"]:
        response = client.post(url, data={"name": "X", "email": "x@example.com",
                                          "roles": ["admin"], "password": PASSPHRASE,
                                          "confirm": PASSPHRASE})
        assert response.status_code == 400, url
        assert "security token" in response.get_data(as_text=True)
    other = fresh("other@example.com")
    assert other.active and other.roles == {"trainee"}
    assert fresh("trainee@example.com").check_password(PASSWORD)
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) == 1
    # With its token, the page's form works.
    page = client.get(f"/manager/users/{target}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/manager/users/{target}/deactivate", data={"csrf_token": token})
    assert response.status_code == 302 and not fresh("other@example.com").active


def test_a_manager_keeps_the_list_and_adding_accounts_but_not_the_admin_role(client, auth,
                                                                             users):
    auth.login("manager")
    listing = client.get("/manager/users").get_data(as_text=True)
    assert "Oscar Other" in listing
    assert f'href="/manager/users/{users["other"].id}"' not in listing  # no admin links
    form = client.get("/manager/users/new").get_data(as_text=True)
    assert 'value="admin"' not in form and 'value="manager"' in form
    response = client.post("/manager/users/new", data={
        "name": "Nadia New", "email": "nadia@example.com", "password": PASSPHRASE,
        "roles": ["trainee"]})
    assert response.status_code == 302 and response.location == "/manager/users"


def test_the_admin_sees_links_to_each_account_and_adding_one_opens_it(client, auth, users):
    auth.login("admin")
    listing = client.get("/manager/users").get_data(as_text=True)
    assert f'href="/manager/users/{users["other"].id}"' in listing
    assert "Latest result" not in listing
    response = client.post("/manager/users/new", data={
        "name": "Adam Second", "email": "adam@example.com", "password": PASSPHRASE,
        "roles": ["admin"]})
    assert response.status_code == 302
    assert response.location == f"/manager/users/{user_by_email('adam@example.com').id}"


# --- Editing, roles, deactivation -----------------------------------------------------


def test_the_admin_edits_name_and_email(client, auth, users):
    auth.login("admin")
    other = users["other"]
    page = client.get(f"/manager/users/{other.id}")
    assert page.status_code == 200 and "Oscar Other" in page.get_data(as_text=True)
    response = client.post(f"/manager/users/{other.id}", data={
        "name": "  Oscar   Ödegaard ", "email": "Oscar.O@Example.COM "})
    assert response.status_code == 302
    changed = fresh("oscar.o@example.com")
    assert changed.name == "Oscar Ödegaard"
    edit = events(changed, "account.edited")[-1]
    assert edit.data == {"name": {"from": "Oscar Other", "to": "Oscar Ödegaard"},
                         "email": {"from": "other@example.com", "to": "oscar.o@example.com"}}
    assert edit.actor.email == "admin@example.com"
    taken = client.post(f"/manager/users/{other.id}", data={
        "name": "Oscar", "email": "TRAINEE@example.com"})
    assert taken.status_code == 409
    assert "Another account has that email." in taken.get_data(as_text=True)
    assert fresh("oscar.o@example.com").name == "Oscar Ödegaard"
    same = client.post(f"/manager/users/{other.id}", data={
        "name": "Oscar Ödegaard", "email": "oscar.o@example.com"})
    assert same.status_code == 302 and len(events(changed, "account.edited")) == 1


def test_changing_roles_ends_the_persons_sessions(app, client, auth, users):
    tessa = signed_in(client, app, "trainee")
    assert tessa.get("/trainee/").status_code == 200
    auth.login("admin")
    response = client.post(f"/manager/users/{users['trainee'].id}/roles",
                           data={"roles": ["trainee", "trainer"]})
    assert response.status_code == 302
    assert fresh("trainee@example.com").roles == {"trainee", "trainer"}
    assert tessa.get("/trainee/").status_code == 302  # signed out at once
    change = events(users["trainee"], "account.roles")[-1]
    assert change.data == {"from": ["trainee"], "to": ["trainee", "trainer"]}
    unknown = client.post(f"/manager/users/{users['trainee'].id}/roles",
                          data={"roles": ["wizard"]})
    none = client.post(f"/manager/users/{users['trainee'].id}/roles", data={})
    assert unknown.status_code == none.status_code == 400
    assert "Choose at least one role." in none.get_data(as_text=True)
    assert fresh("trainee@example.com").roles == {"trainee", "trainer"}


def test_an_admin_cannot_remove_their_own_admin_role_or_deactivate_themselves(
        app, client, auth, users):
    auth.login("admin")
    me = users["admin"]
    page = client.get(f"/manager/users/{me.id}").get_data(as_text=True)
    assert "You cannot deactivate your own account." in page
    assert f"/manager/users/{me.id}/deactivate" not in page
    refused = client.post(f"/manager/users/{me.id}/roles", data={"roles": ["manager"]})
    assert refused.status_code == 409
    assert "You cannot remove your own admin role" in refused.get_data(as_text=True)
    deactivated = client.post(f"/manager/users/{me.id}/deactivate")
    assert deactivated.status_code == 409
    assert "You cannot deactivate your own account" in deactivated.get_data(as_text=True)
    admin = fresh("admin@example.com")
    assert admin.roles == {"admin"} and admin.active
    assert events(admin, "account.roles") == [] and events(admin, "account.deactivated") == []
    # Adding a role to oneself is fine: this session carries on, others end.
    other_device = signed_in(client, app, "admin")
    added = client.post(f"/manager/users/{me.id}/roles", data={"roles": ["admin", "trainer"]})
    assert added.status_code == 302
    assert client.get("/trainer/questions").status_code == 200
    assert other_device.get("/manager/users").status_code == 302


def test_deactivation_stops_a_copied_cookie_on_the_very_next_request(app, client, auth,
                                                                     users):
    tessa = signed_in(client, app, "trainee")
    assert tessa.get("/trainee/").status_code == 200
    thief = app.test_client()
    thief.set_cookie("session", tessa.get_cookie("session").value)
    assert thief.get("/trainee/").status_code == 200
    auth.login("admin")
    response = client.post(f"/manager/users/{users['trainee'].id}/deactivate")
    assert response.status_code == 302
    for browser in (tessa, thief):
        answer = browser.get("/trainee/")
        assert answer.status_code == 302 and "/auth/login" in answer.location
    assert client.post(f"/manager/users/{users['trainee'].id}/deactivate").status_code == 409
    listing = client.get("/manager/users").get_data(as_text=True)
    assert "deactivated" in listing.split("Tessa Trainee")[1].split("</tr>")[0]
    again = app.test_client()
    login = again.post("/auth/login", data={"email": "trainee@example.com",
                                            "password": PASSWORD})
    assert login.status_code == 401
    # Reactivated: the person signs in again; the old cookie stays dead.
    assert client.post(f"/manager/users/{users['trainee'].id}/reactivate").status_code == 302
    assert client.post(f"/manager/users/{users['trainee'].id}/reactivate").status_code == 409
    assert thief.get("/trainee/").status_code == 302
    assert again.post("/auth/login", data={"email": "trainee@example.com",
                                           "password": PASSWORD}).status_code == 302
    kinds = [e.kind for e in events(users["trainee"])]
    assert kinds == ["account.created", "account.deactivated", "account.reactivated"]


# --- Password-reset links -------------------------------------------------------------


def test_a_reset_link_sets_a_new_password_once(app, client, auth, users):
    tessa = signed_in(client, app, "trainee")
    auth.login("admin")
    url = make_link(client, users["trainee"])
    assert url.startswith("http://localhost/auth/reset/") and len(token_of(url)) == 43
    # Shown once: the account page does not show it again.
    assert token_of(url) not in client.get(
        f"/manager/users/{users['trainee'].id}").get_data(as_text=True)
    visitor = app.test_client()
    form = visitor.get(path_of(url))
    assert form.status_code == 200 and "Set a new password" in form.get_data(as_text=True)
    assert form.headers["Cache-Control"] == "no-store"
    assert form.headers["Referrer-Policy"] == "no-referrer"

    weak = visitor.post(path_of(url), data={"password": "password1", "confirm": "password1"})
    assert weak.status_code == 400 and WEAK in weak.get_data(as_text=True)
    personal = visitor.post(path_of(url), data={"password": "tessa trainee is back",
                                                "confirm": "tessa trainee is back"})
    assert personal.status_code == 400 and PERSONAL_HTML in personal.get_data(as_text=True)
    differ = visitor.post(path_of(url), data={"password": PASSPHRASE, "confirm": "other"})
    assert differ.status_code == 400
    assert fresh("trainee@example.com").check_password(PASSWORD)  # unchanged so far

    done = visitor.post(path_of(url), data={"password": PASSPHRASE, "confirm": PASSPHRASE})
    assert done.status_code == 302 and done.location == "/auth/login"
    person = fresh("trainee@example.com")
    assert person.check_password(PASSPHRASE) and not person.check_password(PASSWORD)
    assert tessa.get("/trainee/").status_code == 302  # every session ended
    for method in ("GET", "POST"):
        gone = visitor.open(path_of(url), method=method,
                            data={"password": "another fine passphrase here",
                                  "confirm": "another fine passphrase here"})
        assert gone.status_code == 410, method
        assert "expired or was used" in gone.get_data(as_text=True)
    assert fresh("trainee@example.com").check_password(PASSPHRASE)
    assert visitor.post("/auth/login", data={"email": "trainee@example.com",
                                             "password": PASSPHRASE}).status_code == 302
    row = db.session.scalar(select(PasswordReset))
    assert row.used_at is not None and row.created_by_id == users["admin"].id


def test_a_reset_link_expires(app, client, auth, users):
    with time_machine.travel(T0, tick=False) as traveller:
        auth.login("admin")
        url = make_link(client, users["trainee"])
        page = client.get(f"/manager/users/{users['trainee'].id}")
        assert page.status_code == 200
        traveller.shift(timedelta(hours=24) - timedelta(seconds=1))
        assert client.get(path_of(url)).status_code == 200
        traveller.shift(timedelta(seconds=1))
        assert client.get(path_of(url)).status_code == 410
        late = client.post(path_of(url), data={"password": PASSPHRASE, "confirm": PASSPHRASE})
        assert late.status_code == 410
    assert fresh("trainee@example.com").check_password(PASSWORD)


@pytest.mark.parametrize("app_config", [{"PASSWORD_RESET_HOURS": 2}])
def test_the_links_lifetime_is_a_setting(app, client, auth, users):
    with time_machine.travel(T0, tick=False) as traveller:
        auth.login("admin")
        response = client.post(f"/manager/users/{users['trainee'].id}/reset-link")
        assert "04 May 2026, 11:00 UTC" in response.get_data(as_text=True)
        url = link_in(response.get_data(as_text=True))
        traveller.shift(timedelta(hours=2))
        assert client.get(path_of(url)).status_code == 410


def test_a_new_link_voids_the_old_one_and_only_hashes_are_kept(app, client, auth, users):
    auth.login("admin")
    first = make_link(client, users["trainee"])
    second = make_link(client, users["trainee"])
    assert token_of(first) != token_of(second)
    assert client.get(path_of(first)).status_code == 410
    assert client.get(path_of(second)).status_code == 200
    rows = db.session.scalars(select(PasswordReset).order_by(PasswordReset.id)).all()
    assert [r.token_hash for r in rows] == [
        hashlib.sha256(token_of(u).encode()).hexdigest() for u in (first, second)]
    # The trail says a link was made, never what it was.
    trail = events(users["trainee"], "account.reset_link")
    assert len(trail) == 2
    everything = json.dumps([[e.message, e.data] for e in db.session.scalars(
        select(AuditEvent))], default=str)
    for url in (first, second):
        assert token_of(url) not in everything
        assert hashlib.sha256(token_of(url).encode()).hexdigest() not in everything
    assert trail[1].data["older_links_voided"] == 1


def test_deactivation_voids_the_link_and_reactivation_does_not_revive_it(client, auth, users):
    auth.login("admin")
    url = make_link(client, users["trainee"])
    client.post(f"/manager/users/{users['trainee'].id}/deactivate")
    assert client.get(path_of(url)).status_code == 410
    refused = client.post(f"/manager/users/{users['trainee'].id}/reset-link")
    assert refused.status_code == 409 and "Reactivate" in refused.get_data(as_text=True)
    client.post(f"/manager/users/{users['trainee'].id}/reactivate")
    assert client.get(path_of(url)).status_code == 410


def test_a_second_redeem_of_the_same_link_is_refused(users):
    link = accounts.issue_reset_link(users["admin"], users["trainee"], utcnow(),
                                     timedelta(hours=1))
    db.session.commit()
    accounts.redeem_reset(link.token, PASSPHRASE, utcnow())
    db.session.commit()
    with pytest.raises(accounts.AccountError) as gone:
        accounts.redeem_reset(link.token, "yet another long passphrase", utcnow())
    assert gone.value.status == 410
    assert fresh("trainee@example.com").check_password(PASSPHRASE)
    kinds = [e.kind for e in events(users["trainee"])]
    assert kinds == ["account.created", "account.reset_link", "account.password_reset"]


@pytest.mark.parametrize("token", ["NOPE", "x" * 43, "é" * 43, "\U0001f600" * 20,
                                   "a" * 5000, "%00" * 20, "..%2f..%2fetc"])
def test_odd_reset_tokens_answer_410(client, users, token):
    for method in ("GET", "POST"):
        response = client.open(f"/auth/reset/{token}", method=method,
                               data={"password": PASSPHRASE, "confirm": PASSPHRASE})
        assert response.status_code in (410, 404), (token, method)
    assert fresh("trainee@example.com").check_password(PASSWORD)


def test_the_cli_prints_a_link(app, runner, users, client):
    result = runner.invoke(args=["users", "reset-link", "Trainee@Example.com"])
    assert result.exit_code == 0, result.output
    path = result.output.strip().splitlines()[-1]
    assert path.startswith("/auth/reset/") and "valid until" in result.output
    assert client.get(path).status_code == 200
    app.config["PUBLIC_BASE_URL"] = "https://academy.example.com/"
    second = runner.invoke(args=["users", "reset-link", "trainee@example.com", "--hours", "1"])
    url = second.output.strip().splitlines()[-1]
    assert url.startswith("https://academy.example.com/auth/reset/")
    assert client.get(path).status_code == 410  # the newer link voided it
    assert client.get(path_of(url)).status_code == 200
    unknown = runner.invoke(args=["users", "reset-link", "nobody@example.com"])
    assert unknown.exit_code == 1 and "No account has the email" in unknown.output
    assert "PUBLIC_BASE_URL" in runner.invoke(args=["users", "reset-link", "--help"]).output
    made = events(users["trainee"], "account.reset_link")
    assert len(made) == 2 and made[0].actor_id is None


def test_the_page_shows_the_link_on_public_base_url(app, client, auth, users):
    app.config["PUBLIC_BASE_URL"] = "https://academy.example.com"
    auth.login("admin")
    assert make_link(client, users["trainee"]).startswith(
        "https://academy.example.com/auth/reset/")


# --- Bad input ------------------------------------------------------------------------


def test_unknown_account_ids_are_404(client, auth, users):
    auth.login("admin")
    for user_id in ("999", "0", "99999999999999999999999"):
        for method, url, data in ADMIN_ACTIONS:
            response = client.open(url.format(id=user_id), method=method, data=data)
            assert response.status_code == 404, (method, url, user_id)
    assert client.get("/manager/users/-1").status_code == 404
    assert client.get("/manager/users/abc").status_code == 404


@pytest.mark.parametrize("data", [
    {"name": "N" * 10_000, "email": "n@example.com"},
    {"name": "Eve\u202egnp", "email": "eve@example.com"},
    {"name": "Nul\x00l", "email": "nul@example.com"},
    {"name": "Eve", "email": "eve\x00@example.com"},
    {"name": "Eve", "email": "e" * 300 + "@example.com"},
    {"name": "Eve", "email": "not an email"},
    {"name": "", "email": ""},
    {},
])
def test_odd_profile_input_is_400_and_changes_nothing(client, auth, users, data):
    auth.login("admin")
    response = client.post(f"/manager/users/{users['other'].id}", data=data)
    assert response.status_code == 400, data
    assert 'class="error"' in response.get_data(as_text=True)
    other = fresh("other@example.com")
    assert other.name == "Oscar Other"


def test_repeated_fields_take_the_first_value(client, auth, users):
    auth.login("admin")
    response = client.post(f"/manager/users/{users['other'].id}", data={
        "name": ["Ann First", "Bob Second"], "email": ["ann@example.com", "b@example.com"]})
    assert response.status_code == 302
    assert fresh("ann@example.com").name == "Ann First"


@pytest.mark.parametrize("query", ["q=" + "x" * 300, "q=a%00b", "q=%E2%80%AE", "page=abc",
                                   "page=0", "page=99999999999999"])
def test_odd_search_input_is_400(client, auth, users, query):
    auth.login("admin")
    assert client.get(f"/manager/users?{query}").status_code == 400


@pytest.mark.parametrize("password", ["x" * 10_000, "\x00" * 12, "\u202e" * 12, ""])
def test_odd_new_passwords_are_400(client, auth, users, password):
    auth.login("admin")
    url = make_link(client, users["trainee"])
    response = client.post(path_of(url), data={"password": password, "confirm": password})
    assert response.status_code == 400
    assert fresh("trainee@example.com").check_password(PASSWORD)
    assert client.get(path_of(url)).status_code == 200  # still usable


# --- The account list -----------------------------------------------------------------


def _add_people(count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        db.session.add(User(email=f"person{n:04d}@example.com", name=f"Person {n:04d}",
                            password_hash="x"))
    db.session.commit()




def test_the_list_is_paged_by_50_and_searched_in_constant_queries(client, auth, users):
    auth.login("admin")
    _add_people(5)
    with statements() as few:
        assert client.get("/manager/users").status_code == 200
    _add_people(115, start=5)
    with statements() as many:
        first = client.get("/manager/users").get_data(as_text=True)
    assert len(many) == len(few)
    assert "125 accounts, page 1 of 3" in first and first.count('role="row"') == 51
    third = client.get("/manager/users?page=3").get_data(as_text=True)
    assert third.count('role="row"') == 26
    past = client.get("/manager/users?page=9").get_data(as_text=True)
    assert "page 3 of 3" in past
    found = client.get("/manager/users?q=PERSON+001").get_data(as_text=True)
    assert "10 accounts matching" in found and "Person 0019" in found
    by_email = client.get("/manager/users?q=person0042%40").get_data(as_text=True)
    assert "1 account matching" in by_email
    wildcard = client.get("/manager/users?q=%25").get_data(as_text=True)
    assert "0 accounts matching" in wildcard and "No account matches." in wildcard
    page2 = client.get("/manager/users?q=person&page=2").get_data(as_text=True)
    assert 'href="/manager/users?page=1&amp;q=person"' in page2


def test_a_manager_lists_their_cohorts_trainees_the_unplaced_and_the_staff(client, auth,
                                                                           users):
    ours, theirs = Cohort(name="Ours"), Cohort(name="Theirs")
    db.session.add_all([ours, theirs])
    db.session.flush()
    mine = accounts.create_user("mine@example.com", "Mia Mine", PASSWORD, ["trainee"])
    foreign = accounts.create_user("foreign@example.com", "Fred Foreign", PASSWORD,
                                   ["trainee"])
    db.session.add_all([
        CohortManager(cohort_id=ours.id, user_id=users["manager"].id),
        CohortMember(cohort_id=ours.id, user_id=mine.id),
        CohortMember(cohort_id=theirs.id, user_id=foreign.id),
    ])
    db.session.commit()
    auth.login("manager")
    listing = client.get("/manager/users").get_data(as_text=True)
    for name in ("Mia Mine", "Tessa Trainee", "Tom Trainer", "Alex Admin", "Maya Manager"):
        assert name in listing, name
    assert "Fred Foreign" not in listing
    assert "Fred" not in client.get("/manager/users?q=foreign").get_data(as_text=True)
    auth.logout()
    auth.login("admin")
    assert "Fred Foreign" in client.get("/manager/users").get_data(as_text=True)
