"""Every page type anyone can see, in a real browser: axe-core finds no critical or
serious accessibility violation at 1280 px and at 375 px, nothing scrolls sideways at
375 px, and each page has exactly one h1.

`PAGES` is the registry: one entry per page type (an endpoint, or one state of it),
saying who looks at it and what data it needs. `test_every_page_type_has_an_entry`
lists the app's GET endpoints from `app.url_map` and fails on any without an entry,
so a new page type must be added here (and so checked). Endpoints that never render
a page are in `NOT_PAGES`, each with the reason, and that claim is tested too.

To add a page type: add a `Page(...)` to `PAGES`. `who` is a key of `PEOPLE` (or
"visitor"); `args` builds the endpoint's URL arguments from `World`, which makes
the data a page needs on first use (add a cached property there for new data).

Each page type is loaded once and checked at both widths: at the width it was loaded
at, then resized to the other (the same document, laid out anew); a failure names the
width(s) it was seen at. Every entry is opened in one browser page, signed in as its
person by that person's cookies.

axe-core comes from the `axe-playwright-python` package, which carries its own copy
(nothing is fetched at run time); the page loads it into every document it opens.
Screenshots: see browser_support.py (SCREENSHOT_DIR).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import axe_playwright_python
import browser_support
import pytest
from browser_support import (
    module_app,
    new_page,
    save_screenshot,
    serve,
    sign_in,
)
from flask import url_for
from helpers import right_answer, tokens, wrong_answer
from sqlalchemy import select
from support import BANK_PATH, PASSWORD, start_from_bank_template

from quizapp import attempts
from quizapp.accounts import create_user
from quizapp.bank import load_bank
from quizapp.bank.csv_exchange import to_csv
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    AttemptItem,
    Certificate,
    Document,
    Exam,
    Question,
    QuestionVersion,
    Topic,
    User,
    utcnow,
)

browser = browser_support.browser  # the fixture: the test session's one Chromium

WIDE, NARROW = 1280, 375
HEIGHT = {WIDE: 900, NARROW: 812}
# What fails a page; AXE_FAIL_ON=minor,moderate,serious,critical shows everything.
FAILING_IMPACTS = tuple(os.environ.get("AXE_FAIL_ON", "critical,serious").split(","))
PRACTICE_EXAM = "practice-devices"

# Who looks. Long names and addresses on purpose: they must wrap on a phone.
PEOPLE = {
    "trainee": ("tessa@example.com", "Tessa Trainee", ("trainee",)),
    "passer": ("maximiliana.oyelaran-featherstonehaugh@physiotherapy-clinic.example.co.uk",
               "Maximiliana Oyelaran-Featherstonehaugh", ("trainee",)),
    "failer": ("fay@example.com", "Fay Failer", ("trainee",)),
    "taker": ("tim@example.com", "Tim Taker", ("trainee",)),
    "practiser": ("paula@example.com", "Paula Practiser", ("trainee",)),
    "trainer": ("trainer@example.com", "Tom Trainer", ("trainer",)),
    "manager": ("manager@example.com", "Maya Manager", ("manager",)),
    "admin": ("admin@example.com", "Alex Admin", ("admin",)),
    "regraded": ("rhiannon@example.com", "Rhiannon Regraded", ("trainee",)),
}
VISITOR = "visitor"


# --- The data pages need, made on first use through the app's services ------------


class World:
    """Attempts, certificates and the like, each made the first time an entry asks
    for it, through the services the pages call (start, show, save, finish: what a
    person's clicks do), and only when a page type that shows it is checked.
    `client(who)` is a Flask test client signed in as that person."""

    def __init__(self, app):
        self.app = app
        self._clients = {}

    def client(self, who: str):
        if who not in self._clients:
            client = self.app.test_client()
            response = client.post("/auth/login",
                                   data={"email": PEOPLE[who][0], "password": PASSWORD})
            assert response.status_code == 302, f"{who} could not sign in"
            self._clients[who] = client
        return self._clients[who]

    def user(self, who: str) -> User:
        return db.session.scalar(select(User).where(User.email == PEOPLE[who][0]))

    def _grace(self) -> timedelta:
        return timedelta(seconds=self.app.config["EXAM_GRACE_SECONDS"])

    def _attempt(self, attempt_id: int) -> Attempt:
        db.session.expire_all()
        return db.session.get(Attempt, attempt_id)

    def _start(self, who: str, exam_id: str) -> int:
        return attempts.start(self.user(who), db.session.get(Exam, exam_id), utcnow(),
                              self._grace()).id

    def _items(self, attempt_id: int) -> list[AttemptItem]:
        db.session.expire_all()
        return db.session.scalars(select(AttemptItem).where(
            AttemptItem.attempt_id == attempt_id).order_by(AttemptItem.position)).all()

    def _answer(self, attempt_id: int, item: AttemptItem, right: bool,
                go: str = "next", flagged: bool = False):
        """What showing the question and sending its form does: the page marks it
        shown, the answer is saved (and, `go="check"`, checked)."""
        attempt = self._attempt(attempt_id)
        now = utcnow()
        attempts.mark_shown(attempt, item.position, now)
        choice = right_answer(item) if right else wrong_answer(item)
        attempts.save_answer(attempt, item.position,
                             attempts.Answer(tuple(tokens(item, choice)), item.sequence,
                                             flagged),
                             now, self._grace(), check=go == "check")

    def _take(self, who: str, exam_id: str, wrong: int = 0) -> int:
        """Start, answer (the first `wrong` questions wrongly) and submit an exam."""
        attempt_id = self._start(who, exam_id)
        for item in self._items(attempt_id):
            self._answer(attempt_id, item, right=item.position > wrong)
        attempts.finish(self._attempt(attempt_id), utcnow())
        return attempt_id

    @cached_property
    def practice_result(self) -> int:
        return self._take("passer", PRACTICE_EXAM, wrong=2)

    @cached_property
    def passed(self) -> int:
        self.practice_result  # noqa: B018  (history then holds both kinds)
        return self._take("passer", "certification")

    @cached_property
    def certificate_code(self) -> str:
        attempt_id = self.passed
        return db.session.scalar(select(Certificate.code).where(
            Certificate.attempt_id == attempt_id))

    @cached_property
    def failed(self) -> int:
        return self._take("failer", "certification", wrong=12)

    @cached_property
    def open_exam(self) -> int:
        """A certification attempt in progress, a few questions answered, one flagged."""
        attempt_id = self._start("taker", "certification")
        for item in self._items(attempt_id)[:3]:
            self._answer(attempt_id, item, right=True, flagged=item.position == 3)
        return attempt_id

    @cached_property
    def practice_checked(self) -> int:
        """A practice attempt whose first answer was checked (feedback shown)."""
        attempt_id = self._start("practiser", PRACTICE_EXAM)
        item = self._items(attempt_id)[0]
        self._answer(attempt_id, item, right=False, go="check")
        return attempt_id

    @cached_property
    def long_question(self) -> str:
        """The published question with the longest stem and options."""
        rows = db.session.execute(
            select(Question.id, QuestionVersion.content)
            .join(QuestionVersion, (QuestionVersion.question_id == Question.id)
                  & (QuestionVersion.version == Question.current_version))
        ).all()
        return max(rows, key=lambda r: len(r.content["stem"]) + sum(
            len(o["text"]) for o in r.content["options"]))[0]

    @cached_property
    def first_topic(self) -> str:
        return db.session.scalars(select(Topic.id).order_by(Topic.position)).first()

    @cached_property
    def studio_edit(self) -> str:
        """A published question with an edit awaiting approval (two versions to compare,
        an entry in the review queue)."""
        import dataclasses

        from quizapp import studio

        question_id = "consult-002"
        trainer = self.user("trainer")
        data = studio.editor_input(studio.get_question(question_id))
        studio.save_question(trainer, dataclasses.replace(
            data, explanation=data.explanation + " Ask about earlier treatments too.",
            note="Add what to ask about earlier treatments."), question_id)
        db.session.commit()
        return question_id

    @cached_property
    def regrade(self) -> dict:
        """Two keys corrected on safety-critical questions "regraded" answered rightly:
        the first regrade applied (the pass became a fail awaiting a decision), the
        second still to preview."""
        import hashlib
        import json

        from quizapp import regrade

        attempt_id = self._take("regraded", "certification")
        corrected = []
        for item in [i for i in self._items(attempt_id) if i.version.content["safety_critical"]
                     and i.version.content["type"] == "single"][:2]:
            content = json.loads(json.dumps(item.version.content))
            for option in content["options"]:
                option["correct"] = not option["correct"] and option["id"] == wrong_answer(
                    item)[0]
            question = item.version.question
            question.versions.append(QuestionVersion(
                version=question.newest.version + 1, content=content, key_correction=True,
                content_hash=hashlib.sha256(json.dumps(content).encode()).hexdigest(),
                note="The guideline was misread when this question was written; the key"
                     " now follows section 4.2 of the protocol."))
            question.current_version = question.newest.version
            db.session.commit()
            corrected.append((question.id, question.current_version))
        manager = self.user("manager")
        first = regrade.preview(*corrected[0])
        regrade.apply(*corrected[0], manager, first.attempt_ids, utcnow())
        question_id, version = corrected[1]
        return {"attempt_id": attempt_id, "question_id": question_id, "version": version}

    @cached_property
    def uploaded_document(self) -> str:
        """A training document uploaded by the trainer, with its drafts saved."""
        from quizapp import sources

        text = (Path(__file__).parent / "fixtures" / "numbing_protocol.md").read_bytes()
        client = self.client("trainer")
        response = client.post("/trainer/sources", data={"file": (BytesIO(text), "sheet.md")},
                               content_type="multipart/form-data")
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        document_id = response.location.rsplit("/", 1)[-1]
        document = db.session.get(Document, document_id)
        offered = sources.proposals(document, "treatment-day")
        response = client.post(f"/trainer/documents/{document_id}/drafts", data={
            "topic": "treatment-day", "fingerprint": sources.texts_fingerprint(document),
            "picks": [str(n) for n in range(1, len(offered) + 1)]})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return document_id

    @cached_property
    def exam_change(self) -> str:
        """A practice exam no other page uses, moved to the Angoff method: two versions
        and what changed between them."""
        from quizapp import exam_settings

        exam_id = "practice-aftercare"
        exam_settings.save_settings(
            exam_id, {"pass_mark_method": "angoff", "pass_mark_percent": 75},
            self.user("manager"), "Pass marks now follow the trainers' Angoff ratings;"
            " 75% where a question lacks them.", utcnow())
        db.session.commit()
        return exam_id

    @cached_property
    def accommodation(self) -> int:
        """An accommodation for "passer" (a long name), in a cohort the manager sees:
        the trainee's user id."""
        from quizapp import accommodations
        from quizapp.models import Cohort, CohortManager, CohortMember

        person, manager = self.user("passer"), self.user("manager")
        cohort = Cohort(name="Evening class, spring intake (accommodations)")
        db.session.add(cohort)
        db.session.flush()
        db.session.add_all([CohortMember(cohort_id=cohort.id, user_id=person.id),
                            CohortManager(cohort_id=cohort.id, user_id=manager.id)])
        accommodations.grant(manager, person.id, accommodations.Grant(
            "certification", extra_time_percent=25, extra_attempts=1,
            reason="Dyslexia assessment of 12 January 2026: a quarter more reading time,"
                   " and one more attempt after the missed sitting of 3 February."), utcnow())
        db.session.commit()
        return person.id

    @cached_property
    def cohort(self) -> int:
        """A cohort the manager made, with "passer" and "failer" in it (trainees in no
        cohort stay to be offered on its page): its id."""
        from quizapp import cohorts

        manager = self.user("manager")
        made = cohorts.create_cohort(manager, "North clinic, autumn intake of practitioners",
                                     "Practitioners of the north clinic who start in October.")
        cohorts.add_members(manager, made, [self.user("passer").id, self.user("failer").id])
        db.session.commit()
        return made.id

    @cached_property
    def empty_cohort(self) -> int:
        """A cohort an admin made, with nobody in it yet: its id."""
        from quizapp import cohorts

        made = cohorts.create_cohort(self.user("admin"), "Newly formed cohort")
        db.session.commit()
        return made.id

    @cached_property
    def certificate_id(self) -> int:
        return db.session.scalar(select(Certificate.id).where(
            Certificate.code == self.certificate_code))

    @cached_property
    def revoked_certificate(self) -> str:
        """A certificate of "practiser" (made directly: she never sat the certification)
        that an admin revoked: its code."""
        from quizapp import certs
        from quizapp.models import utcnow

        now = utcnow()
        made = Certificate(code=certs.new_code(), user_id=self.user("practiser").id,
                           exam_id="certification", holder_name=PEOPLE["practiser"][1],
                           title="Microneedling Practitioner Certification",
                           issued_at=now - timedelta(days=400),
                           expires_at=now + timedelta(days=330),
                           renew_from=now + timedelta(days=240))
        db.session.add(made)
        db.session.flush()
        certs.pdf_of(made)
        certs.revoke(made, self.user("admin"), "exam_integrity",
                     "Shared the exam's questions in a group chat.", now)
        db.session.commit()
        return made.code

    @cached_property
    def name_correction(self) -> str:
        """"passer" asked for the name on her certificate to be corrected."""
        code = self.certificate_code
        response = self.client("passer").post(f"/trainee/certificates/{code}/name", data={
            "name": "Maximiliana Oyelaran-Featherstonehaugh-Ndlovu",
            "reason": "My double-barrelled surname is missing its second half."})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return code


# --- The registry -------------------------------------------------------------------


def _no_args(_world: World) -> dict:
    return {}


@dataclass(frozen=True)
class Page:
    """One page type: `endpoint` opened by `who` with URL arguments from `args`.

    `variant` tells apart states of one endpoint; `path` replaces the endpoint's URL
    for pages no endpoint renders (a 404); `status` is the answer expected; `then`
    acts on the loaded page (e.g. sends a form with errors) before the checks;
    `needs` names `World` properties to make first (data the page shows that its URL
    does not name)."""

    endpoint: str | None
    who: str
    args: Callable[[World], dict] = _no_args
    variant: str = ""
    status: int = 200
    path: str | None = None
    then: Callable | None = None
    needs: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return "-".join(p for p in (self.endpoint or "error", self.variant) if p)

    def url(self, app, world: World) -> str:
        if self.path is not None:
            return self.path
        with app.test_request_context():
            return url_for(self.endpoint, **self.args(world))


def _send_login_with_a_wrong_password(page):
    page.fill("input[name=email]", "tessa@example.com")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".flash-error").count() == 1


def _drop_an_edited_pdf(page):
    page.set_input_files("#file", files=[{"name": "certificate.pdf",
                                          "mimeType": "application/pdf",
                                          "buffer": b"%PDF-1.7 not the one we issued"}])
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".check-mismatch").count() == 1


def _sign_in_until_throttled(page):
    # The failed sign-ins that use up the allowance are posted from the page's context
    # (its cookies, the same address): each one through the form would load and lay
    # out a page only to be thrown away. The one that is refused is sent through the
    # form, so the page checked is the 429 the browser got for it (a refused sign-in
    # gives its count back, so the allowance stays spent).
    for _ in range(12):
        response = page.context.request.post("/auth/login", form={
            "email": "no-one-has-this@example.com", "password": "not the password"})
        if response.status == 429:
            break
    assert response.status == 429, f"sign-ins were not throttled: {response.status}"
    page.fill("input[name=email]", "no-one-has-this@example.com")
    page.fill("input[name=password]", "not the password")
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Too many attempts"
    assert "Try again in" in page.locator("main").inner_text()


def _send_empty_form(page):
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".error").count() > 0


def _rate_out_of_range(page):
    page.locator("main input[type=number]").first.fill("150")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert page.locator(".error").count() > 0


def _grant_too_much_time(page):
    page.fill("input[name=extra_time_percent]", "500")
    page.locator("main form.card button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".error").count() > 0


def _preview_a_csv_with_a_bad_row(page):
    rows = list(csv.reader(io.StringIO(to_csv(list(load_bank(BANK_PATH)[0].questions.values())
                                              [:4]))))
    rows[2][rows[0].index("correct")] = "z"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    page.set_input_files("#csv-file", files=[{"name": "questions.csv", "mimeType": "text/csv",
                                              "buffer": out.getvalue().encode()}])
    page.locator("main form[action$='/exchange/csv'] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("p.error").count() > 0


def _make_a_reset_link(page):
    page.get_by_role("button", name="Create a reset link").click()
    page.wait_for_load_state()
    assert page.locator("#reset-link").count() == 1


def _send_a_weak_password(page):
    page.fill("input[name=password]", "password123")
    page.fill("input[name=confirm]", "password123")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("p.error").count() > 0


PAGES = [
    # Anyone
    Page("public.index", VISITOR),
    Page("auth.login", VISITOR),
    Page("auth.login", VISITOR, variant="wrong-password", then=_send_login_with_a_wrong_password),
    Page("auth.register", VISITOR),
    Page("auth.register", VISITOR, variant="errors", then=_send_empty_form),
    Page("public.verify_form", VISITOR),
    Page("public.verify", VISITOR, lambda w: {"code": w.certificate_code}),
    Page("public.verify", VISITOR, lambda w: {"code": "NO-SUCH-CODE"}, variant="unknown",
         status=404),
    Page(None, VISITOR, variant="404", path="/no/such/page", status=404),
    # A trainee with nothing done yet
    Page("public.index", "trainee", variant="signed-in"),
    Page("trainee.dashboard", "trainee", variant="new"),
    Page("trainee.briefing", "trainee", lambda w: {"exam_id": "certification"}),
    Page("trainee.briefing", "trainee", lambda w: {"exam_id": PRACTICE_EXAM},
         variant="practice"),
    Page("trainee.study", "trainee"),
    Page("trainee.study_topic", "trainee", lambda w: {"topic_id": w.first_topic}),
    Page("trainee.history", "trainee", variant="empty"),
    # A trainee who practised and passed the certification (long name and address)
    Page("trainee.dashboard", "passer", variant="certified", needs=("passed",)),
    Page("trainee.history", "passer", needs=("passed",)),
    Page("trainee.result", "passer", lambda w: {"attempt_id": w.passed}, variant="passed"),
    Page("trainee.result", "passer", lambda w: {"attempt_id": w.practice_result},
         variant="practice"),
    Page("trainee.certificate", "passer", lambda w: {"code": w.certificate_code}),
    # A trainee who failed the certification: result, study plan, closed retake
    Page("trainee.result", "failer", lambda w: {"attempt_id": w.failed}, variant="failed"),
    Page("trainee.dashboard", "failer", variant="failed", needs=("failed",)),
    Page("trainee.briefing", "failer", lambda w: {"exam_id": "certification"},
         variant="retake-closed", needs=("failed",)),
    # A trainee in the middle of the certification exam
    Page("trainee.question", "taker", lambda w: {"attempt_id": w.open_exam, "position": 2},
         variant="certification"),
    Page("trainee.summary", "taker", lambda w: {"attempt_id": w.open_exam}),
    Page("trainee.study", "taker", variant="locked", status=409, needs=("open_exam",)),
    # A trainee practising, with feedback on a checked answer
    Page("trainee.question", "practiser",
         lambda w: {"attempt_id": w.practice_checked, "position": 1}, variant="practice-checked"),
    Page("trainee.question", "practiser",
         lambda w: {"attempt_id": w.practice_checked, "position": 2}, variant="practice"),
    # Trainers
    Page("trainer.questions", "trainer"),
    Page("trainer.question", "trainer", lambda w: {"question_id": w.long_question}),
    # The studio: browser (filtered), editor, preview, history, review queue
    Page("trainer.questions", "trainer", lambda w: {"topic": w.first_topic, "q": "skin"},
         variant="filtered"),
    Page("trainer.new_question", "trainer"),
    Page("trainer.new_question", "trainer", lambda w: {"topic": w.first_topic},
         variant="editor"),
    Page("trainer.new_question", "trainer", lambda w: {"topic": w.first_topic},
         variant="errors", then=_send_empty_form),
    Page("trainer.edit_question", "trainer", lambda w: {"question_id": w.long_question}),
    Page("trainer.preview", "trainer", lambda w: {"question_id": w.long_question}),
    Page("trainer.preview", "trainer",
         lambda w: {"question_id": w.long_question, "mode": "practice"}, variant="practice"),
    Page("trainer.history", "trainer", lambda w: {"question_id": w.studio_edit}),
    Page("trainer.question", "trainer", lambda w: {"question_id": w.studio_edit},
         variant="pending"),
    Page("trainer.review_queue", "trainer", needs=("studio_edit",)),
    # Sources and exchange: documents, one uploaded with its drafts, a section's
    # editor, proposals; the exchange page and a CSV preview with row errors
    Page("trainer.sources", "trainer"),
    Page("trainer.sources", "trainer", variant="errors", then=_send_empty_form),
    Page("trainer.document", "trainer", lambda w: {"document_id": w.uploaded_document}),
    Page("trainer.document", "trainer", lambda w: {"document_id": "doc-002"},
         variant="shipped"),
    Page("trainer.edit_section", "trainer",
         lambda w: {"document_id": w.uploaded_document, "number": 2}),
    Page("trainer.document_drafts", "trainer",
         lambda w: {"document_id": w.uploaded_document, "topic": "treatment-day"}),
    Page("trainer.exchange", "trainer"),
    Page("trainer.exchange", "trainer", variant="csv-preview-errors",
         then=_preview_a_csv_with_a_bad_row),
    Page("manager.users", "trainer", variant="forbidden", status=403),
    # Managers and admins
    Page("manager.users", "manager", needs=("passed", "failed")),
    Page("manager.new_user", "manager"),
    Page("manager.new_user", "manager", variant="errors", then=_send_empty_form),
    Page("manager.new_user", "admin", variant="admin"),
    Page(None, "manager", variant="404-signed-in", path="/manager/nothing-here", status=404),
    # A regrade after a key correction: the list (with a decision to make), a preview,
    # and the result of the attempt it turned into a fail
    Page("manager.regrades", "manager", needs=("regrade",)),
    Page("manager.regrade_preview", "manager",
         lambda w: {k: w.regrade[k] for k in ("question_id", "version")}),
    Page("trainee.result", "regraded", lambda w: {"attempt_id": w.regrade["attempt_id"]},
         variant="regraded"),
    # Accounts (admin): the list with links, one account (long name and address), the
    # reset link shown once; the reset page a visitor opens, with errors, and spent
    Page("manager.users", "admin", variant="admin"),
    Page("manager.user", "admin", lambda w: {"user_id": _user_id("passer")}),
    Page("manager.user", "admin", lambda w: {"user_id": _user_id("passer")},
         variant="reset-link", then=_make_a_reset_link),
    Page("auth.reset_password", VISITOR, lambda w: {"token": _reset_token("failer")}),
    Page("auth.reset_password", VISITOR, lambda w: {"token": _reset_token("failer")},
         variant="weak-password", then=_send_a_weak_password),
    Page("auth.reset_password", VISITOR, lambda w: {"token": "no-such-link-" + "x" * 30},
         variant="invalid", status=410),
    # Exam settings: the list, the form (and refused), the versions with what changed;
    # trainers' Angoff ratings (and a rating out of range); accommodations
    Page("manager.exams", "manager", needs=("exam_change",)),
    Page("manager.exam_settings", "manager", lambda w: {"exam_id": "certification"}),
    Page("manager.exam_settings", "manager", lambda w: {"exam_id": "certification"},
         variant="errors", then=_send_empty_form),
    Page("manager.exam_versions", "manager", lambda w: {"exam_id": w.exam_change}),
    Page("trainer.angoff_ratings", "trainer", lambda w: {"topic": "contraindications"}),
    Page("trainer.angoff_ratings", "trainer", variant="errors", then=_rate_out_of_range),
    Page("manager.accommodations_list", "manager", needs=("accommodation",)),
    Page("manager.trainee_accommodations", "manager",
         lambda w: {"user_id": w.accommodation}),
    Page("manager.trainee_accommodations", "manager",
         lambda w: {"user_id": w.accommodation, "exam": "certification"},
         variant="errors", then=_grant_too_much_time),
    # The dashboard (with attempts, with none, with a filter it cannot read) and cohorts
    Page("manager.dashboard", "manager", needs=("passed", "failed", "cohort")),
    Page("manager.dashboard", "admin", lambda w: {"cohort": w.empty_cohort},
         variant="empty"),
    Page("manager.dashboard", "manager", lambda w: {"since": "2026-13-01"},
         variant="bad-date", status=400),
    Page("manager.cohorts", "manager", needs=("cohort",)),
    Page("manager.cohort", "manager", lambda w: {"cohort_id": w.cohort}),
    Page("manager.new_cohort", "manager"),
    Page("manager.new_cohort", "manager", variant="errors", then=_send_empty_form),
    # Trainees: the list, a record (certified after practice; failed, seen by an admin),
    # the transcript of a finished attempt and of one in progress (no key shown)
    Page("manager.trainees", "manager", needs=("passed", "failed", "cohort")),
    Page("manager.trainee", "manager", lambda w: {"user_id": _user_id("passer")},
         needs=("passed", "cohort")),
    Page("manager.trainee", "admin", lambda w: {"user_id": _user_id("failer")},
         variant="failed", needs=("failed",)),
    Page("manager.transcript", "manager", lambda w: {"attempt_id": w.passed},
         needs=("cohort",)),
    Page("manager.transcript", "admin", lambda w: {"attempt_id": w.open_exam},
         variant="in-progress"),
    # Certificates: a dropped file checked, a revoked one; the managers' list (and by
    # status), one certificate with its actions, a name correction to decide
    Page("public.verify", VISITOR, lambda w: {"code": w.certificate_code},
         variant="file-checked", then=_drop_an_edited_pdf),
    Page("public.verify", VISITOR, lambda w: {"code": w.revoked_certificate},
         variant="revoked"),
    Page("manager.certificates", "manager", needs=("passed", "cohort")),
    Page("manager.certificates", "admin", lambda w: {"status": "revoked"}, variant="revoked",
         needs=("revoked_certificate",)),
    Page("manager.certificate", "manager", lambda w: {"certificate_id": w.certificate_id},
         needs=("cohort",)),
    Page("manager.name_corrections", "admin", needs=("name_correction",)),
    # Item analysis: a few attempts ("not enough data" for flags), a filter it cannot read
    Page("manager.items", "manager", lambda w: {"exam_id": "certification"},
         needs=("passed", "failed", "cohort")),
    Page("manager.items", "manager", lambda w: {"exam_id": "certification",
                                                "since": "2026-13-01"},
         variant="bad-date", status=400),
    # Security: asking for a new password, the 429 page after too many failed sign-ins
    # (an email no one has, so no one's sign-in here is held up), the account page
    # with its sessions (a long name), the audit trail (and a filter it cannot read)
    Page("auth.forgot_password", VISITOR),
    Page("auth.forgot_password", VISITOR, variant="errors", then=_send_empty_form),
    Page("auth.login", VISITOR, variant="too-many", then=_sign_in_until_throttled),
    Page("auth.account", "passer"),
    Page("manager.audit", "admin", needs=("passed", "failed")),
    Page("manager.audit", "admin", lambda w: {"since": "yesterday"}, variant="bad-filter",
         status=400),
]

# GET endpoints that never render a page of their own, and why. POST-only endpoints
# (forms' targets, the JSON autosave) are left out by method; a GET endpoint that
# answers JSON, a file or only a redirect goes here, with its reason.
NOT_PAGES = {
    "static": "serves files (CSS, JavaScript), not pages",
    "trainee.resume": "only redirects: to the question the trainee was on, or the result",
    "trainer.download_bank": "a file to download: the bank folder as a zip",
    "trainer.download_gift": "a file to download: GIFT text for Moodle",
    "trainer.download_csv": "a file to download: the questions as CSV",
    "health.healthz": "JSON for load balancers: whether the database answers",
    "manager.export_attempts": "a file to download: attempts and results as CSV",
    "manager.export_certificates": "a file to download: certificates as CSV",
    "public.status": "JSON for verifiers' software: a certificate's status",
    "public.credential": "a file to download: the signed credential (a JWT)",
    "public.jwks": "JSON for verifiers' software: the issuer's public keys",
    "public.issuer": "JSON for verifiers' software: the issuer's profile",
    "trainee.certificate_pdf": "a file to download: the certificate as a PDF",
    "trainee.certificate_credential": "a file to download: the signed credential (a JWT)",
    "manager.certificates_zip": "a file to download: certificates' PDFs as one ZIP",
    "manager.items_csv": "a file to download: an exam's item statistics as CSV",
}


# --- Fixtures -----------------------------------------------------------------------

AXE_SCRIPT = Path(axe_playwright_python.__file__).with_name("axe.min.js")


@pytest.fixture(scope="module")
def app(tmp_path_factory, shipped_bank, sqlite_templates, bank_template_state):
    with module_app(tmp_path_factory.mktemp("pages"), shipped_bank, sqlite_templates) as app:
        start_from_bank_template(app, bank_template_state())
        for email, name, roles in PEOPLE.values():
            create_user(email, name, PASSWORD, roles)
        db.session.commit()
        yield app


@pytest.fixture(scope="module")
def world(app):
    return World(app)


@pytest.fixture(scope="module")
def base_url(app):
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def person_page(browser, base_url):
    """The one page every entry is opened in, with axe-core loaded into every document
    it opens, signed in as the entry's person: each person's cookies (the only state
    the app keeps in the browser) are put in place, as their own browser would hold
    them, and kept again after the entry."""
    page = new_page(browser, base_url, init_scripts=[AXE_SCRIPT])
    context = page.context
    cookies: dict[str, list] = {}
    current = []

    def get(who: str):
        if current and current[0] != who:
            cookies[current[0]] = context.cookies()
        if not current or current[0] != who:
            context.clear_cookies()
            if who in cookies:
                context.add_cookies(cookies[who])
            elif who != VISITOR:
                sign_in(context, PEOPLE[who][0])
            current[:] = [who]
        return page

    yield get
    context.close()


@pytest.fixture
def open_page(app, world, person_page):
    def load(entry: Page):
        for need in entry.needs:
            getattr(world, need)
        url = entry.url(app, world)
        page = person_page(entry.who)
        response = page.goto(url)
        assert response is not None and response.status == entry.status, (
            f"{entry.name}: {url} answered {response and response.status}")
        landed = urlsplit(page.url)
        assert landed.path + (f"?{landed.query}" if landed.query else "") == url, (
            f"{entry.name}: {url} redirected to {page.url}")
        if entry.then is not None:
            entry.then(page)
        return page

    return load


# --- The registry is complete -------------------------------------------------------


def page_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and rule.endpoint not in NOT_PAGES}


def test_every_page_type_has_an_entry(app):
    missing = page_endpoints(app) - {entry.endpoint for entry in PAGES}
    assert not missing, (
        f"GET endpoints with no entry in PAGES (tests/test_browser_pages.py): {sorted(missing)}."
        " Add one per page type, or, if it renders no page, a reason in NOT_PAGES.")


def test_the_registry_names_only_real_endpoints_once(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {e.endpoint for e in PAGES if e.endpoint} <= endpoints
    assert set(NOT_PAGES) <= endpoints
    names = [entry.name for entry in PAGES]
    assert len(names) == len(set(names))


def test_what_is_not_a_page_renders_no_page(app, world):
    client = world.client("taker")
    with app.test_request_context():
        css = url_for("static", filename="app.css")
        resume = url_for("trainee.resume", attempt_id=world.open_exam)
    with client.get(css) as response:
        assert response.mimetype == "text/css"
    with client.get(resume) as response:
        assert response.status_code == 302 and "/questions/" in response.location


# --- Each page type in the browser --------------------------------------------------


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is laid out now (all of axe's rules, as
    `axe.run` with no options runs them; only the violations come back, not the
    passes). axe is loaded first if the document does not have it yet."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=AXE_SCRIPT)
    return page.evaluate("options => axe.run(document, options).then(r => r.violations)",
                         {"resultTypes": ["violations"]})


def _describe(violations) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
    return "\n".join(lines)


WIDEST = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right > window.innerWidth + 0.5 && box.width > 0)
      out.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
               + ' right=' + Math.round(box.right));
  }
  return out.slice(0, 8);
}"""


NONE_ATTRIBUTES = """[...document.querySelectorAll('*')].flatMap(element =>
    [...element.attributes].filter(a => a.value === 'None')
        .map(a => `${element.tagName.toLowerCase()} ${a.name}`))"""


def problems_at(page, width: int) -> list[str]:
    """What is wrong with the loaded page at this width: axe's critical and serious
    violations; at 375 px sideways scrolling; not exactly one h1."""
    if page.viewport_size != {"width": width, "height": HEIGHT[width]}:
        page.set_viewport_size({"width": width, "height": HEIGHT[width]})
    problems = []
    violations = [v for v in axe_violations(page) if v["impact"] in FAILING_IMPACTS]
    if violations:
        problems.append(f"axe-core:\n{_describe(violations)}")
    if width == NARROW:
        scroll_width, inner = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll_width > inner:
            problems.append(f"scrolls sideways ({scroll_width} > {inner} px):"
                            f" {page.evaluate(WIDEST)}")
    headings = page.locator("h1").all_inner_texts()
    if len(headings) != 1:
        problems.append(f"{len(headings)} h1 elements, not one: {headings}")
    if width == WIDE:
        # A Python None printed as an attribute's value (autocomplete="None").
        printed_none = page.evaluate(NONE_ATTRIBUTES)
        if printed_none:
            problems.append(f"attributes with the value None: {printed_none}")
    return problems


@pytest.mark.parametrize("entry", PAGES, ids=lambda entry: entry.name)
def test_page_type_is_accessible(entry, open_page):
    """axe: no critical or serious violation at 1280 px nor at 375 px; at 375 px no
    sideways scrolling; one h1. Every problem of the page, at each width, is reported
    at once."""
    page = open_page(entry)
    found = {}
    # The width the page was loaded at first (the previous entry's last), then the other.
    for width in sorted((WIDE, NARROW), key=lambda w: page.viewport_size["width"] != w):
        problems = problems_at(page, width)
        save_screenshot(page, f"{entry.name}-{width}")
        if problems:
            found[width] = problems
    assert not found, "\n".join(f"{entry.name} at {width} px:\n" + "\n".join(found[width])
                                for width in sorted(found, reverse=True))


def test_the_axe_check_finds_violations(browser):
    """The check can fail: a page with known serious faults gives them."""
    page = browser.new_page()
    try:
        page.set_content('<html><body><img src="x.png"><a href="/"></a>'
                         '<p style="color:#bbb;background:#fff">faint</p></body></html>')
        found = {v["id"]: v["impact"] for v in axe_violations(page)}
    finally:
        page.close()
    assert {"image-alt", "link-name", "color-contrast", "html-has-lang"} <= set(found)
    assert {found["image-alt"], found["link-name"]} <= {"critical", "serious"}


# --- Accounts: the data their entries need ------------------------------------------


def _user_id(who: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == PEOPLE[who][0]))


def _reset_token(who: str) -> str:
    """A fresh one-time reset link's token (it voids the person's older ones)."""
    from quizapp.accounts import issue_reset_link

    user = db.session.get(User, _user_id(who))
    link = issue_reset_link(None, user, utcnow(), timedelta(hours=1))
    db.session.commit()
    return link.token
