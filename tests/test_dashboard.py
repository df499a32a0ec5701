"""The dashboard (issue 9, items 2 and 11): aggregates worked out by hand on a small
world (tests/console_data.py), its filters, its empty state, its charts (inline SVG
with no script and a text alternative), who sees what, and a query count that does
not grow with the number of attempts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from console_data import CERT, PRACTICE, build_world, bulk_attempts, person
from helpers import statements
from sqlalchemy import event, select
from support import PASSWORD

from quizapp import dashboard
from quizapp.cohorts import ReportFilter
from quizapp.extensions import db
from quizapp.models import Attempt, CohortMember, User, utcnow


@pytest.fixture
def world(app):
    return build_world()




def login(client, user):
    assert client.post("/auth/login", data={"email": user.email,
                                            "password": PASSWORD}).status_code == 302


def page(client, query: str = "", status: int = 200) -> str:
    response = client.get(f"/manager/{query}")
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def stat(html: str, label: str) -> str:
    found = re.search(rf"<dt>{label}</dt><dd>(.*?)</dd>", html, re.S)
    assert found, label
    return re.sub(r"<[^>]+>|\s+trainees .*", "", found.group(1)).strip()


# --- The figures, worked out by hand ----------------------------------------------------


def test_a_managers_figures_cover_their_cohorts_only(world):
    shown = dashboard.report(world.maya, ReportFilter(), utcnow())
    assert shown.trainees == 2
    cert = shown.certification
    assert (cert.attempts, cert.passed, cert.mean_score, cert.pass_rate) == (4, 1, 62.5, 25.0)
    assert (shown.practice.attempts, shown.practice.mean_score) == (1, 60.0)
    assert shown.histogram == [0, 0, 1, 0, 0, 1, 0, 1, 0, 1]  # 25, 50, 75, 100
    assert shown.uncertified == 1  # Oscar; Tessa holds a valid certificate
    assert [r.name for r in shown.locked] == ["Oscar Other"] and shown.locked_total == 1
    assert [(c.holder, c.title) for c in shown.expiring] == [("Tessa Trainee", "Console cert")]
    assert shown.expiring_total == 1  # Sam's (90 days) is neither soon nor Maya's


def test_an_admin_sees_every_trainee(world):
    shown = dashboard.report(world.admin, ReportFilter(), utcnow())
    assert shown.trainees == 3
    assert (shown.certification.attempts, shown.certification.passed) == (5, 2)
    assert shown.certification.mean_score == pytest.approx(68.0)
    assert shown.histogram[9] == 2
    south = dashboard.report(world.admin, ReportFilter(cohort_id=world.south.id), utcnow())
    assert (south.trainees, south.certification.attempts, south.uncertified) == (1, 1, 0)


def test_the_time_line_has_a_step_per_day_over_a_short_span(world):
    shown = dashboard.report(world.maya, ReportFilter(), utcnow())
    assert shown.unit == "day"
    assert [(p.start.day, p.attempts, p.passed) for p in shown.timeline] == [
        (3, 1, 0), (4, 1, 0), (5, 1, 0), (6, 0, 0), (7, 0, 0), (8, 0, 0), (9, 0, 0),
        (10, 0, 0), (11, 0, 0), (12, 1, 1)]
    assert shown.timeline[-1].pass_rate == 100 and shown.timeline[3].pass_rate is None
    admin = dashboard.report(world.admin, ReportFilter(), utcnow())
    assert (admin.timeline[1].attempts, admin.timeline[1].passed) == (2, 1)  # Sam's pass


def test_mastery_is_the_mean_mark_per_topic_weakest_trainee_first(world):
    mastery = dashboard.report(world.maya, ReportFilter(), utcnow()).mastery
    assert mastery.topics == [("alpha", "Alpha"), ("beta", "Beta")]
    assert mastery.means == {"alpha": 62.5, "beta": 62.5}
    assert mastery.overall == 62.5 and mastery.trainees == 2
    assert [(r.name, r.by_topic, r.overall) for r in mastery.rows] == [
        ("Oscar Other", {"alpha": 50.0, "beta": 50.0}, 50.0),
        ("Tessa Trainee", {"alpha": 75.0, "beta": 75.0}, 75.0),
    ]


@pytest.mark.parametrize(("unit", "moments", "starts"), [
    ("day", [datetime(2025, 3, 9, 23, 59), datetime(2025, 3, 10, 0, 1)],
     ["2025-03-09", "2025-03-10"]),
    ("week", [datetime(2025, 3, 9, 23, 59), datetime(2025, 3, 10, 0, 1),
              datetime(2025, 3, 3, 0, 0)], ["2025-03-03", "2025-03-10", "2025-03-03"]),
    ("month", [datetime(2025, 3, 31, 23, 59), datetime(2025, 4, 1, 0, 0)],
     ["2025-03-01", "2025-04-01"]),
])
def test_periods_start_on_the_same_day_in_sqlite_and_postgresql(world, unit, moments, starts):
    attempt = db.session.scalars(select(Attempt).order_by(Attempt.id)).first()
    found = []
    for moment in moments:
        attempt.finished_at = moment.replace(tzinfo=UTC)
        db.session.flush()
        key = dashboard.period_start(Attempt.finished_at, unit, dashboard.dialect_name())
        found.append(db.session.scalar(select(key).where(Attempt.id == attempt.id)))
    assert found == starts
    assert dashboard.period_label(date(2025, 3, 3), "week", long=True) == "Week of 3 Mar 2025"
    assert dashboard.period_label(date(2025, 3, 1), "month") == "Mar 2025"


# --- Filters ---------------------------------------------------------------------------


def test_filters_narrow_by_exam_and_dates(world, client):
    login(client, world.maya)
    practice = page(client, f"?exam={PRACTICE}")
    assert stat(practice, "Attempts") == "0" and "Practice quizzes finished" in practice
    late = dashboard.report(world.maya, ReportFilter(since=date(2025, 3, 5)), utcnow())
    assert late.certification.attempts == 2  # 5 and 12 March
    early = dashboard.report(world.maya, ReportFilter(until=date(2025, 3, 4)), utcnow())
    assert early.certification.attempts == 2  # 3 and 4 March: the end date is included
    html = page(client, "?since=2025-03-05&until=2025-03-05&cohort=&exam=")
    assert stat(html, "Attempts") == "1" and stat(html, "Mean score") == "25%"
    # The export links carry the filters.
    assert "/manager/exports/attempts.csv?since=2025-03-05&amp;until=2025-03-05" in html


def test_a_cohort_filter_narrows_and_a_foreign_or_unknown_one_is_not_found(world, client):
    login(client, world.maya)
    html = page(client, f"?cohort={world.north.id}")
    assert stat(html, "Trainees") == "2"
    assert f'<option selected value="{world.north.id}">North</option>' in html
    assert "South" not in html
    page(client, f"?cohort={world.south.id}", 404)
    page(client, "?cohort=99999", 404)
    page(client, f"?cohort={2**64}", 404)
    page(client, "?exam=no-such-exam", 404)


@pytest.mark.parametrize("query", ["?since=2025-13-40", "?until=yesterday",
                                   "?since=2025-03-10&until=2025-03-01", "?cohort=north"])
def test_a_filter_that_cannot_be_read_shows_why_and_the_whole_report(world, client, query):
    login(client, world.maya)
    html = page(client, query, 400)
    assert "A filter could not be read" in html
    assert re.search(r'<p class="error" id="\w+-error">', html)
    assert stat(html, "Attempts") == "4"  # the unfiltered report


def test_the_first_and_last_days_there_are_are_dates_like_any_other(world, client):
    login(client, world.maya)
    assert stat(page(client, "?since=0001-01-01&until=9999-12-31"), "Attempts") == "4"


def test_the_date_message_says_how_to_write_a_date(world, client):
    login(client, world.maya)
    assert "Enter a date as year-month-day, for example 2026-11-01." in page(
        client, "?since=3/5/2025", 400)
    assert "The end date is before the start date." in page(
        client, "?since=2025-03-10&until=2025-03-01", 400)


# --- The page ----------------------------------------------------------------------


def test_the_page_shows_the_figures_charts_and_their_numbers(world, client):
    login(client, world.maya)
    html = page(client)
    assert html.count("<h1>") == 1
    assert stat(html, "Trainees") == "2" and stat(html, "Attempts") == "4"
    assert stat(html, "Pass rate") == "25%" and stat(html, "Mean score") == "62%"
    assert stat(html, "Not yet certified") == "1" and stat(html, "Locked out") == "1"
    assert 'href="/manager/trainees?status=uncertified"' in html
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) == 3
    for svg in svgs:
        assert 'role="img"' in svg and re.search(r'aria-labelledby="([\w-]+)"', svg)
        label = re.search(r'aria-labelledby="([\w-]+)"', svg).group(1)
        assert f'<title id="{label}">' in svg
        assert "<script" not in svg and "<style" not in svg and "style=" not in svg
        assert not re.search(r"""(href|src)=["']?https?:""", svg)
    assert "<?xml" not in html
    assert not re.search(r"<script[^>]+src=[\"']https?:", html)
    # The text alternative of each chart: the numbers, in tables.
    assert "<summary>The numbers" in html
    assert re.search(r"<th scope=\"row\">20–29</th><td class=\"num\">1</td>", html)
    assert "Week of" not in html and "3 March 2025" not in html  # days: "3 Mar 2025"
    assert re.search(r'>3 Mar 2025</th>\s*<td role="cell" class="num" data-label="Attempts">1<',
                     html)
    # Mastery: a table with text values, weakest first, linked to each trainee.
    mastery = html[html.index('id="mastery-heading"'):html.index('id="expiring-heading"')]
    assert mastery.index("Oscar Other") < mastery.index("Tessa Trainee")
    assert 'class="num heat heat-mid">50%<' in mastery and 'heat-low' not in mastery
    assert 'role="region"' in mastery and 'tabindex="0"' in mastery
    # Lists
    assert "Tessa Trainee" in html[html.index('id="expiring-heading"'):]
    assert "(in 29 days)" in html or "(in 30 days)" in html
    locked = html[html.index('id="locked-heading"'):html.index('id="practice-heading"')]
    assert "Oscar Other" in locked and "Tessa" not in locked
    assert "Sam South" not in html


def test_with_no_attempts_the_dashboard_says_so(world, client):
    newcomer = person("new@example.com", "Nina New", "manager")
    db.session.commit()
    login(client, newcomer)
    html = page(client)
    assert "No attempts yet" in html and "<svg" not in html
    assert stat(html, "Trainees") == "0" and stat(html, "Pass rate") == "—"
    assert "No certificate expires in the next 60 days." in html
    assert "No practice quiz finished" in html


def test_an_empty_database_shows_the_empty_dashboard(app, client):
    admin = person("alex@example.com", "Alex Admin", "admin")
    db.session.commit()
    login(client, admin)
    html = page(client)
    assert "No attempts yet" in html and stat(html, "Attempts") == "0"


def test_a_trainee_of_another_cohort_counts_nowhere_for_a_manager(world):
    db.session.add(CohortMember(cohort_id=world.north.id, user_id=world.sam.id))
    db.session.commit()
    shown = dashboard.report(world.maya, ReportFilter(), utcnow())
    assert shown.trainees == 3 and shown.certification.attempts == 5


def test_charts_carry_no_script_style_or_declaration():
    from quizapp import charts

    svg = charts.bar_chart("k", "A label", ["a", "b"], [1, 2], y_title="Count")
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    for banned in ("<script", "<style", "style=", "<?xml", "<!--", "xmlns=", "http"):
        assert banned not in svg
    assert '<title id="k-title">A label</title>' in svg
    line = charts.line_chart("p", "Rate", ["x", "y", "z"], [10, None, 30], percent=True,
                             tone="ok")
    assert 'class="chart-svg tone-ok"' in line and "<script" not in line


# --- Speed -----------------------------------------------------------------------------


def _cost(client, query: str = "") -> int:
    page(client, query)
    with statements() as seen:
        page(client, query)
    return len(seen)


@pytest.mark.parametrize("who", ["maya", "admin"])
def test_the_dashboard_costs_the_same_queries_for_10_and_1000_attempts(world, client, who):
    bulky = person("bulk@example.com", "Bulk Trainee")
    db.session.add(CohortMember(cohort_id=world.north.id, user_id=bulky.id))
    db.session.commit()
    login(client, getattr(world, who))
    bulk_attempts(world, 5, bulky, CERT)
    bulk_attempts(world, 5, bulky, PRACTICE)
    queries = f"?cohort={world.north.id}&since=2025-03-01"
    few = (_cost(client), _cost(client, queries))
    bulk_attempts(world, 495, bulky, CERT)
    bulk_attempts(world, 495, bulky, PRACTICE)
    many = (_cost(client), _cost(client, queries))
    assert stat(page(client), "Attempts") == str(4 + 500 + (1 if who == "admin" else 0))
    assert many == few
    assert few[0] <= 25


def test_the_dashboard_never_loads_attempts_as_objects(world):
    admin_id = world.admin.id
    db.session.expunge_all()  # so an Attempt loaded by the report would be new
    admin = db.session.get(User, admin_id)
    loaded = []

    def on_load(target, _context):
        loaded.append(target)

    event.listen(Attempt, "load", on_load)
    try:
        shown = dashboard.report(admin, ReportFilter(), utcnow())
    finally:
        event.remove(Attempt, "load", on_load)
    assert shown.certification.attempts == 5
    assert loaded == []
