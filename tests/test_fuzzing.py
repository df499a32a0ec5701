"""Property-based fuzzing of every route (hypothesis): random and hostile values in
every URL parameter, query argument and form field (huge and odd Unicode, negative
and huge ids, missing, repeated and unknown fields, wrong types, JSON where a form is
expected), as each role. Whatever arrives: never a 500, and a refused request (4xx)
changes no record.

The routes are read from `app.url_map` and the field names from every FlaskForm in
the app, so a new route or form is fuzzed without an edit here; `ACCESS` (from
test_security) says which routes each role can reach beyond the guard. "Changes no
record" is checked with a fingerprint of the database taken in SQL: per table the row
count, the largest id, and sums over its columns (numbers, flags, text lengths,
non-empty dates), which moves with any insert, delete or nearly any update. Left out
on purpose: the throttle counters and sign-in events (`auth.*`) in the audit trail,
which a refused sign-in must write, and a session's `last_seen_at`.

Bounded for CI: `FUZZ_EXAMPLES` (default 2) rounds over every route per role, no
deadline, derandomized so a CI run is repeatable; set FUZZ_EXAMPLES higher and
FUZZ_RANDOM=1 to explore. The file runs on SQLite and on PostgreSQL (TEST_DATABASE_URL).
"""

from __future__ import annotations

import io
import os
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from cert_support import pass_certification
from flask_wtf import FlaskForm
from helpers import start
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Boolean,
    Integer,
    String,
    cast,
    func,
    literal,
    not_,
    select,
    union_all,
)
from sqlalchemy.types import JSON, DateTime, LargeBinary, Numeric, Text
from support import PASSWORD, PEOPLE
from test_security import ACCESS, ANYONE
from wtforms.fields.core import UnboundField

from quizapp.extensions import db
from quizapp.models import Cohort, CohortManager, CohortMember

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))
TRACE = [time.perf_counter()] if os.environ.get("FUZZ_TRACE") else []
settings.register_profile(
    "fuzz", max_examples=EXAMPLES, deadline=None, database=None,
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    # No shrinking: an example is a round over every route, and the failure message
    # names the request that failed, which is what a shrink would find.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large])
ROLES = sorted(ANYONE)

# --- What to throw ------------------------------------------------------------------

HOSTILE_STRINGS = [
    "", " ", "0", "1", "-1", "00", "1.5", "1e309", "NaN", "inf", "-0", "true", "null",
    "[]", "{}", "2147483647", "2147483648", "-2147483649", "9223372036854775807",
    "9223372036854775808", "99999999999999999999999999999", "１２３", "٣", "²",
    "\x00", "a\x00b", "\u202egnp", "\ufeff", "\u200b", "\ud7ff", "\U0010fffd",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "Zoë Ångström-Nguyễn", "👩🏽‍⚕️" * 20, "x" * 3000, "é" * 500,
    "'; DROP TABLE user; --", "\" OR 1=1 --", "<script>alert(1)</script>",
    "{{ 7*7 }}", "${7*7}", "%s%s%n", "../../etc/passwd", "..%2f..%2fetc", "%00",
    "=HYPERLINK(\"http://evil\")", "mech-001", "certification", "admin", "trainee",
    "admin@example.com", "2026-02-30", "2026-13-01", "9999-12-31", "0000-00-00",
    "on", "off", "next", "previous", "finish",
]
ID_VALUES = [0, 1, 2, 3, 5, -1, 2**31 - 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 10**30]
# Names read from the query string or built by templates rather than a form class.
EXTRA_NAMES = ["page", "first", "mode", "next", "token", "code", "format", "id",
               "user_id", "attempt_id", "rating", "options-0-text", "options-0-correct",
               "options-1-text", "citations-0-document", "citations-0-section",
               "csrf_token", "submit", "action"]

hostile_text = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
id_segment = st.one_of(st.sampled_from(ID_VALUES).map(str),
                       st.integers(min_value=-5, max_value=40).map(str))
text_segment = st.one_of(st.sampled_from(HOSTILE_STRINGS + ["mech-001", "doc-000"]),
                         st.text(min_size=1, max_size=30))


def _form_field_names() -> list[str]:
    """Every field name of every FlaskForm subclass the app defines."""
    names, pending = set(), list(FlaskForm.__subclasses__())
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        for klass in form.__mro__:
            names.update(key for key, value in vars(klass).items()
                         if isinstance(value, UnboundField))
    return sorted(names | set(EXTRA_NAMES))


def _segment(converter: str):
    return id_segment if converter in ("int", "IntegerConverter") else text_segment


_RULE_PART = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def _url(rule: str, draw) -> str:
    """The rule's path with each parameter replaced by a drawn value."""
    def replace(match):
        value = draw(_segment(match.group("converter") or "string"))
        return quote(value, safe="") if match.group("converter") != "path" else quote(value)
    return _RULE_PART.sub(replace, rule)


@st.composite
def payloads(draw, names: list[str]):
    """Fields to send: some of the app's field names and some unknown ones, each
    missing, once or repeated, with hostile values; now and then a file, or JSON of any
    shape instead of a form."""
    chosen = draw(st.lists(st.one_of(st.sampled_from(names), st.text(max_size=12)),
                           max_size=6, unique=True))
    fields = {name: draw(st.lists(hostile_text, min_size=1, max_size=3)) for name in chosen}
    shape = draw(st.sampled_from(["form", "form", "form", "json", "file"]))
    if shape == "json":
        json_values = st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                st.sampled_from(names), inner, max_size=3), max_leaves=8)
        return {"json": draw(json_values)}
    if shape == "file":
        fields["file"] = [(io.BytesIO(draw(st.binary(max_size=200))),
                           draw(st.sampled_from(["c.pdf", "c.jwt", "bank.zip", "q.csv",
                                                 "../../x.txt", "ü.docx"])))]
    return {"data": fields}


# --- What must not change -----------------------------------------------------------

SKIPPED_TABLES = {"throttle_counter", "alembic_version"}
SKIPPED_COLUMNS = {("user_session", "last_seen_at")}


def _table_aggregates(table):
    """One text column for the table: its aggregates joined by "|"."""
    row_filter = None
    if table.name == "audit_event":
        row_filter = not_(table.c.kind.startswith("auth."))
    parts = [func.count()]
    for column in table.columns:
        if (table.name, column.name) in SKIPPED_COLUMNS:
            continue
        kind = column.type
        if isinstance(kind, Boolean):
            parts.append(func.sum(cast(column, Integer)))
        elif isinstance(kind, Integer | Numeric):
            # Modulo a prime: a seed's 64 bits summed would overflow SQLite's integer.
            parts.append(func.sum(column % 1000003 if isinstance(kind, Integer) else column))
            if column.primary_key:
                parts.append(func.max(column))
        elif isinstance(kind, String | Text | JSON | LargeBinary):
            parts.append(func.sum(func.length(cast(column, Text) if isinstance(kind, JSON)
                                              else column)))
        elif isinstance(kind, DateTime) or "DateTime" in type(kind).__name__:
            parts.append(func.count(column))
    joined = literal(table.name, String)
    for part in parts:
        joined = joined + literal("|", String) + func.coalesce(cast(part, String), "")
    query = select(joined.label("print")).select_from(table)
    return query.where(row_filter) if row_filter is not None else query


_FINGERPRINT = []


def fingerprint() -> list[str]:
    """One statement: a line of aggregates per table (UNION ALL)."""
    if not _FINGERPRINT:
        _FINGERPRINT.append(union_all(*[_table_aggregates(t) for t in db.metadata.sorted_tables
                                         if t.name not in SKIPPED_TABLES]))
    return list(db.session.scalars(_FINGERPRINT[0]))


def _difference(before: list, after: list) -> list:
    return [(b, a) for b, a in zip(before, after, strict=True) if b != a]


# --- The world the fuzzer pokes at ---------------------------------------------------


@pytest.fixture
def world(bank_loaded, users, client):
    """Ids 1-3 name real things: a certificate (and its attempt) of one trainee, an
    open certification attempt of another, a cohort with a manager and members."""
    pass_certification(users["other"], datetime.now(UTC) - timedelta(days=2))
    cohort = Cohort(name="North clinic")
    db.session.add(cohort)
    db.session.flush()
    db.session.add_all([CohortManager(cohort_id=cohort.id, user_id=users["manager"].id),
                        CohortMember(cohort_id=cohort.id, user_id=users["trainee"].id),
                        CohortMember(cohort_id=cohort.id, user_id=users["other"].id)])
    db.session.commit()
    trainee = bank_loaded.test_client()
    trainee.post("/auth/login", data={"email": PEOPLE["trainee"][0], "password": PASSWORD})
    start(trainee)
    db.session.expire_all()
    return bank_loaded


def _routes(app, role: str) -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) the role may use (`ACCESS`; what the guard refuses is
    the authorization matrix's business), but never the ones that sign it out. The
    admin gets the routes no trainer or manager may use, and the public ones: the
    trainer's and the manager's runs cover the routes an admin shares with them."""
    found = []
    for rule in app.url_map.iter_rules():
        allowed = ACCESS.get(rule.endpoint, ANYONE)
        if role not in allowed or (role != "anonymous" and rule.endpoint in (
                "auth.logout", "auth.logout_everywhere")):
            continue
        if role == "admin" and allowed & {"trainer", "manager"} and allowed != ANYONE:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, rule.rule))
    return sorted(found)


def _sign_in(client, role: str) -> None:
    if role != "anonymous":
        response = client.post("/auth/login", data={"email": PEOPLE[role][0],
                                                    "password": PASSWORD})
        assert response.status_code == 302, f"the fuzzer could not sign in as {role}"


def _send(client, method: str, url: str, draw, names: list[str]):
    headers = draw(_headers)
    payload = draw(payloads(names))
    if method == "GET":
        fields = {k: v for k, v in (payload.get("data") or {}).items() if k != "file"}
        return client.get(url, query_string=fields, headers=headers)
    return client.open(url, method=method, headers=headers, **payload)


_headers = st.sampled_from([{}, {}, {"Accept": "application/json"},
                            {"Accept": "text/html", "X-Forwarded-For": "203.0.113.9"}])


@pytest.mark.parametrize("role", ROLES)
def test_hostile_input_never_breaks_a_route_or_changes_a_record_when_refused(world, role):
    """Each route the role may use gets `FUZZ_EXAMPLES` requests of drawn values (one
    hypothesis run per route, one request per example)."""
    app = world
    client = app.test_client()
    routes = _routes(app, role)
    names = _form_field_names()
    assert len(routes) >= 8 and len(names) >= 40
    _sign_in(client, role)
    state = {"before": fingerprint()}

    for route in routes:
        _fuzz_route(client, role, route, names, state)


def _fuzz_route(client, role: str, route: tuple[str, str, str], names: list[str],
                state: dict) -> None:
    endpoint, method, rule = route

    @settings(settings.get_profile("fuzz"))
    @given(data=st.data())
    def fuzz(data):
        url = _url(rule, data.draw)
        response = _send(client, method, url, data.draw, names)
        status, location = response.status_code, response.location or ""
        response.close()
        if TRACE:
            print(f"{time.perf_counter() - TRACE[0]:8.2f}s {status} {method} {url[:80]}",
                  flush=True)
        assert status < 500, (role, endpoint, method, url, status)
        db.session.expire_all()
        after = fingerprint()
        if 400 <= status < 500:
            changed = _difference(state["before"], after)
            assert not changed, (role, endpoint, method, url, status, changed)
        if location.startswith("/auth/login"):  # the request ended the session
            _sign_in(client, role)
            after = fingerprint()
        state["before"] = after

    fuzz()


@pytest.mark.parametrize("path", ["/manager/certificates/{}", "/trainee/attempts/{}/result",
                                  "/manager/users/{}", "/trainee/attempts/1/questions/{}"])
def test_an_id_past_the_databases_integer_is_not_found(client, auth, path):
    """Found by this file: ids past 2**31 - 1 overflowed inside queries (500 on both
    databases); the app's <int:...> converter now stops there (quizapp/app.py)."""
    auth.login("admin")
    for value in (2**31, 2**63, 10**30):
        assert client.get(path.format(value)).status_code == 404, value


def test_a_nul_character_is_a_4xx_on_either_database(client, auth, users):
    """Found by this file on PostgreSQL, which can neither store nor compare a text with
    a NUL in it: the query raised a DataError (500). The app now answers any DataError
    with a 400 and saves nothing (quizapp/app.py); SQLite simply finds no row."""
    assert client.get("/verify/a%00b").status_code in (400, 404)
    refused = client.post("/auth/login", data={"email": "a\x00b@example.com",
                                               "password": "x"})
    assert refused.status_code in (400, 401)
    auth.login("admin")
    assert client.get("/manager/exams/a%00b/settings").status_code in (400, 404)
    assert client.get("/trainer/documents/a%00b").status_code in (400, 403, 404)


@pytest.mark.parametrize("body", [[], "text", 5, None, {"email": 5},
                                  {"email": {"nested": "x"}}, {"email": ["a", 1]}])
def test_a_json_body_that_is_not_form_fields_is_a_400(client, body):
    """Found by this file: Flask-WTF reads a JSON body as the form, and a list or a
    number made every form a 500. Such bodies are now refused before any form."""
    response = client.post("/auth/register", json=body)
    assert response.status_code == 400
    fields = client.post("/auth/login", json={"email": "a@example.com", "password": "x"})
    assert fields.status_code == 401  # an object of strings is read as the form
