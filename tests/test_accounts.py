"""Accounts: the users and demo commands, registration, and managers adding people."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from support import PASSWORD, user_by_email

from quizapp.extensions import db
from quizapp.models import User


def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_users_create_prompts_for_the_password_and_hashes_it(app, runner):
    # Outside the test suite's cheap setting, passwords are hashed with scrypt.
    del app.config["PASSWORD_HASH_METHOD"]
    result = runner.invoke(
        args=["users", "create", "--email", "New@Example.com", "--name", "Nia New",
              "--role", "trainee", "--role", "trainer"],
        input="a long password\na long password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created new@example.com (trainee, trainer)." in result.output
    user = user_by_email("new@example.com")
    assert user.roles == {"trainee", "trainer"}
    assert user.password_hash.startswith("scrypt:") and "a long password" not in user.password_hash
    assert user.check_password("a long password")


def test_users_create_refuses_a_taken_email_and_an_unknown_role(runner, users):
    taken = runner.invoke(args=["users", "create", "--email", "trainee@example.com", "--name",
                                "X", "--role", "trainee", "--password", "long enough pw"])
    assert taken.exit_code == 1 and "already exists" in taken.output
    unknown = runner.invoke(args=["users", "create", "--email", "x@example.com", "--name", "X",
                                  "--role", "wizard", "--password", "long enough pw"])
    assert unknown.exit_code == 2 and "wizard" in unknown.output
    assert count_users() == len(users)


def test_demo_accounts_are_made_once_per_role_only_on_an_empty_database(runner):
    first = runner.invoke(args=["demo", "accounts"])
    assert first.exit_code == 0
    for role in ("trainee", "trainer", "manager", "admin"):
        assert f"{role}@example.com" in first.output
    assert count_users() == 5
    password = first.output.split("trainee@example.com")[1].split("password: ")[1].split()[0]
    assert user_by_email("trainee@example.com").check_password(password)
    second = runner.invoke(args=["demo", "accounts"])
    assert "no demo accounts created" in second.output and count_users() == 5


def test_the_demo_retake_trainee_failed_two_days_ago_and_has_a_study_plan(bank_loaded, runner):
    from quizapp import attempts
    from quizapp.extensions import db
    from quizapp.models import Exam, utcnow

    assert runner.invoke(args=["demo", "accounts"]).exit_code == 0
    rita = user_by_email("retake@example.com")
    verdict = attempts.eligibility(rita, db.session.get(Exam, "certification"), utcnow())
    # The day's wait is over; what is left is the study plan the fail set.
    assert not verdict.allowed and verdict.opens_at is None
    assert verdict.attempts_left == 2 and verdict.failed_attempt is not None
    assert verdict.remediation.facts_to_study and verdict.remediation.topics_to_practise


def test_registration_creates_a_trainee_who_then_signs_in(client, app):
    # Sent to sign in, as a taken email is (no account enumeration: test_enumeration).
    response = client.post("/auth/register", data={
        "name": "  Zoë  Ångström-Nguyễn ", "email": "Zoe@Example.com",
        "password": "long enough pw", "confirm": "long enough pw"})
    assert response.status_code == 302 and response.location == "/auth/login"
    user = user_by_email("zoe@example.com")
    assert user.name == "Zoë Ångström-Nguyễn" and user.roles == {"trainee"}
    signed_in = client.post("/auth/login", data={"email": "zoe@example.com",
                                                 "password": "long enough pw"})
    assert signed_in.location == "/trainee/"
    assert client.get("/trainee/").status_code == 200


def test_registration_refuses_bad_input_and_changes_nothing(client, users):
    cases = [
        {"name": "Eve\u202egnp", "email": "eve@example.com"},  # a right-to-left override
        {"name": "", "email": "eve@example.com"},
        {"name": "E" * 121, "email": "eve@example.com"},
        {"name": "Eve", "email": "not-an-email"},
        {"name": "Eve", "email": "eve@example.com", "password": "short", "confirm": "short"},
        {"name": "Eve", "email": "eve@example.com", "confirm": "different password"},
    ]
    before = count_users()
    for case in cases:
        data = {"password": "long enough pw", "confirm": "long enough pw", **case}
        response = client.post("/auth/register", data=data)
        assert response.status_code == 400, case
        assert b'class="error"' in response.data
    assert count_users() == before


def test_registration_can_be_switched_off(tmp_path):
    from support import make_app

    app = make_app(tmp_path, ALLOW_SELF_REGISTRATION=False)
    assert app.test_client().get("/auth/register").status_code == 404


def test_a_manager_adds_an_account_with_roles(client, auth):
    auth.login("manager")
    assert client.get("/manager/users/new").status_code == 200
    response = client.post("/manager/users/new", data={
        "name": "Rhea Trainer", "email": "rhea@example.com", "password": "long enough pw",
        "roles": ["trainee", "trainer"]})
    assert response.status_code == 302
    assert user_by_email("rhea@example.com").roles == {"trainee", "trainer"}
    listing = client.get("/manager/users").get_data(as_text=True)
    assert "Rhea Trainer" in listing


def test_one_person_may_hold_several_roles(client, auth, runner):
    runner.invoke(args=["users", "create", "--email", "both@example.com", "--name", "Bo",
                        "--role", "trainee", "--role", "manager", "--password", PASSWORD])
    auth.login("both@example.com")
    assert client.get("/trainee/").status_code == 200
    assert client.get("/manager/users").status_code == 200
    assert client.get("/trainer/questions").status_code == 403


def test_the_account_list_shows_accounts_not_results(bank_loaded, client, auth):
    """Results left the account list (its "latest result" mixed practice with
    certification); the trainee list has the certification results."""
    from helpers import answer_all, start, submit

    auth.login()
    attempt_id = start(client)
    answer_all(client, attempt_id, wrong=15)
    submit(client, attempt_id)
    auth.logout()
    auth.login("manager")
    listing = client.get("/manager/users").get_data(as_text=True)
    row = listing.split("Tessa Trainee")[1].split("</tr>")[0]
    assert "trainee@example.com" in row and "active" in row
    assert "%" not in row and "Certification" not in row


@pytest.mark.parametrize("who, home", [
    ("trainee", "/trainee/"), ("trainer", "/trainer/questions"),
    ("manager", "/manager/"), ("admin", "/manager/"),
])
def test_signing_in_lands_on_the_persons_own_home(client, auth, who, home):
    response = auth.login(who)
    assert response.status_code == 302 and response.location == home
    assert client.get(home).status_code == 200


def test_signing_in_follows_a_safe_next_and_otherwise_goes_home(client, users, runner):
    runner.invoke(args=["users", "create", "--email", "both@example.com", "--name", "Bo",
                        "--role", "manager", "--role", "trainee", "--password", PASSWORD])
    for email, target, expected in [
        ("manager@example.com", "/trainee/history", "/trainee/history"),
        ("manager@example.com", "https://evil.example/", "/manager/"),
        ("manager@example.com", "//evil.example/", "/manager/"),
        # Several roles: the first in the menu's order (trainee before manager).
        ("both@example.com", "", "/trainee/"),
    ]:
        client.post("/auth/logout")
        response = client.post(f"/auth/login?next={target}",
                               data={"email": email, "password": PASSWORD})
        assert response.status_code == 302 and response.location == expected, (email, target)
