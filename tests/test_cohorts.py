"""Cohorts (issue 9, item 1): a manager makes cohorts and sees only those they manage
and their trainees; another manager's cohort is a 404; an admin sees all. Who may be
added follows the rule in `cohorts.py`; every change is in the audit trail."""

from __future__ import annotations

import re

import pytest
from console_data import person
from helpers import statements
from sqlalchemy import select
from support import PASSWORD, user_by_email

from quizapp import audit, cohorts
from quizapp.extensions import db
from quizapp.models import AuditEvent, Cohort, CohortManager, CohortMember, User


def login(client, user: User):
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def people(app):
    made = {
        "maya": person("maya@example.com", "Maya Manager", "manager"),
        "mo": person("mo@example.com", "Mo Manager", "manager"),
        "admin": person("alex@example.com", "Alex Admin", "admin"),
        "trainer": person("tom@example.com", "Tom Trainer", "trainer"),
        "tessa": person("tessa@example.com", "Tessa Trainee"),
        "oscar": person("oscar@example.com", "Oscar Other"),
        "sam": person("sam@example.com", "Sam South"),
    }
    db.session.commit()
    return made


def make(manager: User, name: str, *members: User) -> Cohort:
    cohort = cohorts.create_cohort(manager, name)
    cohorts.add_members(manager, cohort, [m.id for m in members])
    db.session.commit()
    return cohort


def members(cohort: Cohort) -> set[int]:
    return set(db.session.scalars(select(CohortMember.user_id)
                                  .where(CohortMember.cohort_id == cohort.id)))


def events(kind: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)
                                   .order_by(AuditEvent.id)))


# --- Making and changing cohorts ---------------------------------------------------


def test_a_manager_creates_a_cohort_and_manages_it(people, client):
    login(client, people["maya"])
    response = client.post("/manager/cohorts/new",
                           data={"name": "  North   clinic ", "description": "Intake 3"})
    assert response.status_code == 302
    cohort = db.session.scalar(select(Cohort))
    assert cohort.name == "North clinic" and cohort.description == "Intake 3"
    assert response.location.endswith(f"/manager/cohorts/{cohort.id}")
    assert db.session.scalar(select(CohortManager.user_id)) == people["maya"].id
    page = client.get(response.location)
    assert page.status_code == 200 and "North clinic" in text(page)
    created = events("cohort.created")
    assert [(e.subject, e.actor_id) for e in created] == [
        (audit.subject("cohort", cohort.id), people["maya"].id)]


def test_a_cohort_needs_a_name_no_other_cohort_has(people, client):
    make(people["maya"], "North")
    login(client, people["mo"])
    empty = client.post("/manager/cohorts/new", data={"name": "   "})
    assert empty.status_code == 400 and "Give the cohort a name." in text(empty)
    taken = client.post("/manager/cohorts/new", data={"name": "north"})
    assert taken.status_code == 400 and "There is already a cohort called north." in text(taken)
    assert db.session.scalar(select(db.func.count()).select_from(Cohort)) == 1


def test_renaming_and_describing_is_recorded(people, client):
    north = make(people["maya"], "North")
    make(people["maya"], "South")
    login(client, people["maya"])
    url = f"/manager/cohorts/{north.id}"
    clash = client.post(url, data={"name": "South", "description": ""})
    assert clash.status_code == 400 and "There is already a cohort called South." in text(clash)
    assert client.post(url, data={"name": "North East", "description": "Leeds"}).status_code == 302
    db.session.expire_all()
    assert (north.name, north.description) == ("North East", "Leeds")
    [changed] = events("cohort.changed")
    assert changed.data["before"]["name"] == "North"
    assert changed.data["after"]["name"] == "North East"


# --- Members ---------------------------------------------------------------------------


def test_a_manager_adds_trainees_in_no_cohort_and_each_change_is_in_their_trail(people, client):
    north = make(people["maya"], "North")
    login(client, people["maya"])
    page = text(client.get(f"/manager/cohorts/{north.id}"))
    for name in ("Tessa Trainee", "Oscar Other", "Sam South"):
        assert name in page
    assert "Tom Trainer" not in page  # not a trainee
    response = client.post(f"/manager/cohorts/{north.id}/members",
                           data={"trainees": [people["tessa"].id, people["oscar"].id]})
    assert response.status_code == 302
    assert members(north) == {people["tessa"].id, people["oscar"].id}
    joined = events("cohort.joined")
    assert {e.subject for e in joined} == {audit.subject("user", people["tessa"].id),
                                           audit.subject("user", people["oscar"].id)}
    assert all(e.data == {"cohort_id": north.id} for e in joined)
    removed = client.post(f"/manager/cohorts/{north.id}/members/{people['oscar'].id}/remove")
    assert removed.status_code == 302
    assert members(north) == {people["tessa"].id}
    [left] = events("cohort.left")
    assert left.subject == audit.subject("user", people["oscar"].id)
    again = client.post(f"/manager/cohorts/{north.id}/members/{people['oscar'].id}/remove")
    assert again.status_code == 404


def test_only_trainees_can_be_members(people, client):
    north = make(people["maya"], "North")
    login(client, people["maya"])
    response = client.post(f"/manager/cohorts/{north.id}/members",
                           data={"trainees": [people["trainer"].id]})
    assert response.status_code == 400
    assert "Only trainees can be members of a cohort." in text(response)
    nothing = client.post(f"/manager/cohorts/{north.id}/members", data={})
    assert nothing.status_code == 400 and "Choose at least one trainee." in text(nothing)
    assert client.post(f"/manager/cohorts/{north.id}/members",
                       data={"trainees": ["x"]}).status_code == 400
    assert members(north) == set()


def test_another_managers_cohort_and_trainees_are_not_found(people, client):
    north = make(people["maya"], "North", people["tessa"])
    south = make(people["mo"], "South", people["sam"])
    login(client, people["maya"])
    listing = text(client.get("/manager/cohorts"))
    assert "North" in listing and "South" not in listing
    base = f"/manager/cohorts/{south.id}"
    assert client.get(base).status_code == 404
    assert client.post(base, data={"name": "Mine now"}).status_code == 404
    oscar = people["oscar"].id
    assert client.post(f"{base}/members", data={"trainees": [oscar]}).status_code == 404
    assert client.post(f"{base}/members/{people['sam'].id}/remove").status_code == 404
    assert client.post(f"{base}/managers", data={"manager": people["maya"].id}).status_code == 404
    assert client.post(f"{base}/managers/{people['mo'].id}/remove").status_code == 404
    assert client.get("/manager/cohorts/999999").status_code == 404
    huge = 2**64
    assert client.get(f"/manager/cohorts/{huge}").status_code == 404
    assert client.post(f"/manager/cohorts/{north.id}/members",
                       data={"trainees": [huge]}).status_code == 404
    assert client.post(f"/manager/cohorts/{north.id}/members/{huge}/remove").status_code == 404
    assert client.post(f"/manager/cohorts/{north.id}/managers",
                       data={"manager": huge}).status_code == 400
    # Sam is in Mo's cohort: not offered to Maya, and refused as if unknown.
    page = text(client.get(f"/manager/cohorts/{north.id}"))
    assert "Sam South" not in page and "Oscar Other" in page
    refused = client.post(f"/manager/cohorts/{north.id}/members",
                          data={"trainees": [people["sam"].id, people["oscar"].id]})
    assert refused.status_code == 404 and "There is no such trainee to add." in text(refused)
    assert members(north) == {people["tessa"].id} and members(south) == {people["sam"].id}
    assert db.session.scalar(select(Cohort.name).where(Cohort.id == south.id)) == "South"


def test_a_manager_may_add_a_trainee_of_one_of_their_cohorts_to_another(people):
    maya = people["maya"]
    north = make(maya, "North", people["tessa"])
    east = make(maya, "East")
    assert [p.id for p in cohorts.add_members(maya, east, [people["tessa"].id])] == [
        people["tessa"].id]
    db.session.commit()
    assert members(east) == members(north) == {people["tessa"].id}
    assert cohorts.add_members(maya, east, [people["tessa"].id]) == []  # already in


def test_an_admin_sees_every_cohort_and_may_add_anyone(people, client):
    make(people["maya"], "North", people["tessa"])
    south = make(people["mo"], "South", people["sam"])
    login(client, people["admin"])
    listing = text(client.get("/manager/cohorts"))
    assert "North" in listing and "South" in listing
    assert client.get(f"/manager/cohorts/{south.id}").status_code == 200
    response = client.post(f"/manager/cohorts/{south.id}/members",
                           data={"trainees": [people["tessa"].id]})
    assert response.status_code == 302
    assert members(south) == {people["sam"].id, people["tessa"].id}
    # An admin who is not a manager does not become one by creating a cohort.
    client.post("/manager/cohorts/new", data={"name": "West"})
    west = db.session.scalar(select(Cohort).where(Cohort.name == "West"))
    assert db.session.scalars(select(CohortManager).where(
        CohortManager.cohort_id == west.id)).all() == []


def test_the_list_counts_members(people, client):
    make(people["maya"], "North", people["tessa"], people["oscar"])
    make(people["maya"], "Empty")
    login(client, people["maya"])
    page = text(client.get("/manager/cohorts"))
    counts = re.findall(r'data-label="Trainees">(\d+)<', page)
    assert counts == ["0", "2"]  # Empty, North (by name)
    assert page.count("Maya Manager") >= 2


def test_a_manager_without_cohorts_is_told_how_to_start(people, client):
    login(client, people["maya"])
    page = text(client.get("/manager/cohorts"))
    assert "You manage no cohort yet." in page


# --- Managers ----------------------------------------------------------------------


def test_managers_are_added_and_removed(people, client):
    north = make(people["maya"], "North")
    login(client, people["maya"])
    url = f"/manager/cohorts/{north.id}/managers"
    trainer = client.post(url, data={"manager": people["trainer"].id})
    assert trainer.status_code == 400
    assert "Only an active account with the manager role can manage a cohort." in text(trainer)
    assert client.post(url, data={"manager": people["mo"].id}).status_code == 302
    assert cohorts.cohort_for(user_by_email("mo@example.com"), north.id) is not None
    [added] = events("cohort.manager_added")
    assert added.subject == audit.subject("user", people["mo"].id)
    twice = client.post(url, data={"manager": people["mo"].id})
    assert twice.status_code == 400 and "already manages" in text(twice)
    # Maya may leave now that Mo manages North too; then she no longer sees it.
    response = client.post(f"{url}/{people['maya'].id}/remove")
    assert response.status_code == 302 and response.location.endswith("/manager/cohorts")
    assert client.get(f"/manager/cohorts/{north.id}").status_code == 404
    assert len(events("cohort.manager_removed")) == 1


def test_the_only_manager_cannot_leave_but_an_admin_can_remove_them(people, client):
    north = make(people["maya"], "North")
    login(client, people["maya"])
    refused = client.post(f"/manager/cohorts/{north.id}/managers/{people['maya'].id}/remove")
    assert refused.status_code == 400 and "only manager" in text(refused)
    client.post("/auth/logout")
    login(client, people["admin"])
    response = client.post(f"/manager/cohorts/{north.id}/managers/{people['maya'].id}/remove")
    assert response.status_code == 302
    assert "No manager: only admins see this cohort." in text(
        client.get(f"/manager/cohorts/{north.id}"))


# --- Who sees whom, and CSRF -----------------------------------------------------------


def test_membership_decides_who_a_manager_sees(people):
    make(people["maya"], "North", people["tessa"])
    make(people["mo"], "South", people["sam"])
    seen = set(db.session.scalars(cohorts.visible_trainee_ids(people["maya"])))
    assert seen == {people["tessa"].id}
    everyone = set(db.session.scalars(cohorts.visible_trainee_ids(people["admin"])))
    assert {people["tessa"].id, people["oscar"].id, people["sam"].id} == everyone


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_changes_need_the_forms_token(people, client):
    north = make(people["maya"], "North", people["tessa"])
    page = text(client.get("/auth/login"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/auth/login", data={"email": "maya@example.com", "password": PASSWORD,
                                     "csrf_token": token})
    url = f"/manager/cohorts/{north.id}/members/{people['tessa'].id}/remove"
    assert client.post(url).status_code == 400
    assert members(north) == {people["tessa"].id}
    cohort_page = text(client.get(f"/manager/cohorts/{north.id}"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', cohort_page).group(1)
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    assert members(north) == set()
    assert client.post("/manager/cohorts/new", data={"name": "No token"}).status_code == 400


# --- Speed ----------------------------------------------------------------------------


def _cost(client, url: str) -> int:
    client.get(url)  # warm: the same work as the measured request
    with statements() as seen:
        assert client.get(url).status_code == 200
    return len(seen)


def test_the_cohort_pages_cost_the_same_queries_however_many_cohorts_and_members(
        people, client):
    maya = people["maya"]
    north = make(maya, "North", people["tessa"])
    login(client, maya)
    few = (_cost(client, "/manager/cohorts"), _cost(client, f"/manager/cohorts/{north.id}"))
    for n in range(40):
        trainee = person(f"bulk{n}@example.com", f"Bulk Trainee {n}")
        cohort = cohorts.create_cohort(maya, f"Cohort {n:02d}")
        cohorts.add_members(maya, cohort, [trainee.id])
        cohorts.add_members(maya, north, [trainee.id])
        if n % 2:
            cohorts.add_manager(maya, cohort, people["mo"].id)
        person(f"free{n}@example.com", f"Free Trainee {n}")  # addable
    db.session.commit()
    many = (_cost(client, "/manager/cohorts"), _cost(client, f"/manager/cohorts/{north.id}"))
    assert "Bulk Trainee 39" in text(client.get(f"/manager/cohorts/{north.id}"))
    assert many == few
