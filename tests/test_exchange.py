"""One source of truth and the exchange formats: `bank import` keeps edits made in the
app; bank files, GIFT and CSV out of the studio and the command line; bank files and
CSV back in, checked by the rules of `bank check`, all or nothing."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from support import BANK_PATH
from test_bank_gift import parse_with_gift_pegjs
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from quizapp import audit, exchange, studio
from quizapp.bank import load_bank
from quizapp.bank.model import Question as BankQuestion
from quizapp.extensions import db
from quizapp.models import Fact, Question, QuestionVersion

EDITED = "mech-003"
EXTRA = " Trainers added this sentence in the app."


def text(response) -> str:
    return response.get_data(as_text=True)


def versions() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(QuestionVersion))


def question(qid: str) -> Question:
    db.session.expire_all()
    return db.session.get(Question, qid)


def edit_in_studio(user, qid: str = EDITED) -> Question:
    """Save an edit of a published question through the studio: a pending version."""
    row = question(qid)
    data = dataclasses.replace(studio.editor_input(row),
                               explanation=row.newest.content["explanation"] + EXTRA,
                               note="Clearer explanation.")
    studio.save_question(user, data, qid)
    db.session.commit()
    return question(qid)


def edit_in_models(user, qid: str = EDITED) -> Question:
    """An edit saved straight into the models, as the studio would save it."""
    row = question(qid)
    bank_question = row.newest.as_bank_question()
    edited = dataclasses.replace(bank_question, explanation=bank_question.explanation + EXTRA)
    row.versions.append(QuestionVersion(
        version=row.newest.version + 1, content=edited.content(),
        content_hash=edited.content_hash(), author_id=user.id, note="Edited."))
    row.current_version = row.newest.version
    db.session.commit()
    return question(qid)


def post_files(client, url: str, fields: dict):
    """A multipart POST built in memory (the test client spools a large body to a
    temporary file it never closes)."""
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def upload_bank(client, name: str, data: bytes, overwrite: bool = False):
    fields = {"file": FileStorage(BytesIO(data), name)}
    if overwrite:
        fields["overwrite"] = "y"
    return post_files(client, "/trainer/exchange/files", fields)


def upload_csv(client, data: bytes | str, name: str = "questions.csv"):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return post_files(client, "/trainer/exchange/csv",
                      {"file": FileStorage(BytesIO(data), name)})


def confirm_csv(client, preview_page: str, overwrite: bool = False):
    fields = {name: re.search(rf'name="{name}" type="hidden" value="([^"]*)"',
                              preview_page).group(1)
              for name in ("content", "filename")}
    if overwrite:
        fields["overwrite"] = "y"
    return client.post("/trainer/exchange/csv/import", data=fields)


def csv_rows(data: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.removeprefix("\ufeff"))))


def csv_of(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.fixture
def trainer(bank_loaded, auth, client):
    auth.login("trainer")
    return client


def unzip(data: bytes, folder: Path) -> Path:
    with zipfile.ZipFile(BytesIO(data)) as archive:
        archive.extractall(folder)
    return folder / "question_bank"


def zipped(root: Path, top: str = "question_bank") -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(root.rglob("*.yaml")):
            archive.write(path, f"{top}/{path.relative_to(root)}" if top else
                          str(path.relative_to(root)))
    return buffer.getvalue()


# --- One source of truth: `bank import` and edits made in the app ------------------------


def test_bank_import_keeps_an_edit_made_in_the_studio_unless_told(bank_loaded, runner, users,
                                                                  shipped_bank):
    before = edit_in_studio(users["trainer"])
    assert (before.newest.version, before.current_version) == (2, 1)  # pending approval

    result = runner.invoke(args=["bank", "import"])
    assert result.exit_code == 0, result.output
    assert f"1 edited in the app and kept (the files differ): {EDITED}" in result.output
    assert f"\n  {EDITED}\n" in result.output
    kept = question(EDITED)
    assert (kept.newest.version, kept.current_version) == (2, 1)
    assert kept.newest.content["explanation"].endswith(EXTRA)

    result = runner.invoke(args=["bank", "import", "--overwrite-app-edits"])
    assert result.exit_code == 0, result.output
    assert f"edited in the app and replaced by the files: {EDITED}" in result.output
    replaced = question(EDITED)
    shipped = shipped_bank.questions[EDITED]
    assert (replaced.newest.version, replaced.current_version) == (3, 3)
    assert replaced.newest.content_hash == shipped.content_hash() == replaced.imported_hash
    assert replaced.versions[1].content["explanation"].endswith(EXTRA)  # still in history
    assert "imported" in [e.kind for e in audit.trail(audit.subject("question", EDITED))]

    again = runner.invoke(args=["bank", "import"])
    assert "kept" not in again.output and "0 new version(s)" in again.output


def test_an_edit_saved_in_the_models_is_kept_too(bank_loaded, users, shipped_bank):
    from quizapp.bank_store import import_bank

    edit_in_models(users["trainer"])
    report = import_bank(shipped_bank)
    db.session.commit()
    assert report.kept_app_edits == [EDITED]
    assert report.new_versions == [] and report.unchanged == len(shipped_bank.questions) - 1
    assert question(EDITED).newest.content["explanation"].endswith(EXTRA)


def test_files_holding_the_app_edit_confirm_it(bank_loaded, runner, users, tmp_path):
    edited = edit_in_models(users["trainer"])
    out = tmp_path / "question_bank"
    assert runner.invoke(args=["bank", "export", "--format", "files", "--out", str(out)]
                         ).exit_code == 0
    count = versions()
    result = runner.invoke(args=["bank", "import", "--path", str(out)])
    assert result.exit_code == 0, result.output
    assert "kept" not in result.output and "0 new version(s)" in result.output
    assert versions() == count
    assert question(EDITED).imported_hash == edited.newest.content_hash


def test_a_status_changed_in_the_app_is_kept(bank_loaded, runner, users):
    studio.retire(users["trainer"], "ind-001", "Duplicates a newer question.")
    db.session.commit()
    result = runner.invoke(args=["bank", "import"])
    assert "kept (the files differ): ind-001" in result.output
    assert question("ind-001").status == "retired"


def test_questions_made_in_the_app_stay_with_their_facts(bank_loaded, runner, users):
    fact = db.session.scalars(select(Fact).where(Fact.topic_id == "aftercare")).first()
    data = studio.QuestionInput(
        topic="aftercare", type="single",
        stem="Which cleanser suits the first evening after a session?",
        options=(studio.OptionInput("", "A mild, fragrance-free cleanser", True, ""),
                 studio.OptionInput("", "A grainy exfoliating scrub", False,
                                    "Scrubs rub skin that is still healing."),
                 studio.OptionInput("", "An acid peel pad", False,
                                    "Acids sting and inflame freshly needled skin.")),
        explanation="Freshly treated skin wants gentle cleansing.", difficulty="easy",
        facts=(fact.id,),
        citations=(studio.CitationInput(fact.document_id, fact.section, fact.text),),
    )
    made = studio.save_question(users["trainer"], data).question
    db.session.commit()
    result = runner.invoke(args=["bank", "import"])
    assert result.exit_code == 0, result.output
    assert "1 question(s) made in the app left as they are" in result.output
    assert question(made.id).status == "draft"
    db.session.expire_all()
    assert made.id in db.session.get(Fact, fact.id).question_ids


# --- Bank files out ---------------------------------------------------------------------


def test_export_files_after_an_app_edit_passes_bank_check(bank_loaded, runner, users,
                                                          tmp_path):
    edit_in_studio(users["trainer"])
    edit_in_models(users["trainer"], "day-002")
    out = tmp_path / "question_bank"
    result = runner.invoke(args=["bank", "export", "--format", "files", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {
        "sources.yaml", "topics.yaml", "conflicts.yaml", "exams.yaml", "questions", "facts"}
    check = runner.invoke(args=["bank", "check", "--path", str(out)])
    assert check.exit_code == 0, check.output
    assert "0 error(s)" in check.output
    exported, _ = load_bank(out)
    assert exported.questions[EDITED].explanation.endswith(EXTRA)
    assert exported.questions["day-002"].explanation.endswith(EXTRA)
    assert set(exported.facts) == set(load_bank(BANK_PATH)[0].facts)


def test_an_empty_database_exports_nothing_over_a_folder(app, runner, tmp_path):
    out = tmp_path / "question_bank"
    (out / "questions").mkdir(parents=True)
    (out / "questions" / "aftercare.yaml").write_text("topic: aftercare\n")
    result = runner.invoke(args=["bank", "export", "--format", "files", "--out", str(out)])
    assert result.exit_code == 1 and "nothing to export" in result.output
    assert (out / "questions" / "aftercare.yaml").read_text() == "topic: aftercare\n"


def test_the_studio_zip_passes_bank_check_when_unzipped(trainer, runner, users, tmp_path):
    edit_in_studio(users["trainer"])
    response = trainer.get("/trainer/exchange/question_bank.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    root = unzip(response.data, tmp_path)
    result = runner.invoke(args=["bank", "check", "--path", str(root)])
    assert result.exit_code == 0, result.output
    assert load_bank(root)[0].questions[EDITED].explanation.endswith(EXTRA)


# --- GIFT and CSV out --------------------------------------------------------------------


def test_gift_download_of_the_whole_bank_parses_in_gift_pegjs(trainer, shipped_bank):
    response = trainer.get("/trainer/exchange/questions.gift.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    parsed = parse_with_gift_pegjs(text(response))
    items = [item for item in parsed if item["type"] != "Category"]
    assert len(items) == len(shipped_bank.published()) == 138
    assert sorted(item["title"] for item in items) == sorted(shipped_bank.questions)


def test_gift_holds_the_live_version_of_published_questions_only(bank_loaded, users):
    edit_in_studio(users["trainer"])  # pending: not what trainees see yet
    studio.retire(users["trainer"], "ind-001", "Replaced.")
    db.session.commit()
    gift = exchange.gift_text()
    assert EXTRA.strip() not in gift
    assert "::ind-001::" not in gift and "::mech-001::" in gift


def test_cli_exports_gift_and_csv(bank_loaded, runner, tmp_path, shipped_bank):
    gift_file, csv_file = tmp_path / "bank.gift.txt", tmp_path / "bank.csv"
    for fmt, path in (("gift", gift_file), ("csv", csv_file)):
        result = runner.invoke(args=["bank", "export", "--format", fmt, "--out", str(path)])
        assert result.exit_code == 0, result.output
    items = [i for i in parse_with_gift_pegjs(gift_file.read_text(encoding="utf-8"))
             if i["type"] != "Category"]
    assert len(items) == len(shipped_bank.questions)
    raw = csv_file.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # so that spreadsheets read UTF-8
    assert sorted(r["id"] for r in csv_rows(raw.decode("utf-8"))) == sorted(
        shipped_bank.questions)
    printed = runner.invoke(args=["bank", "export", "--format", "csv"])
    assert printed.output.startswith("id,topic,type,")


# --- CSV in ------------------------------------------------------------------------------


def test_csv_round_trip_through_the_studio(trainer, users, runner):
    download = trainer.get("/trainer/exchange/questions.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    original = download.data.decode("utf-8-sig")

    unchanged = upload_csv(trainer, original)
    assert unchanged.status_code == 200
    assert "0 of them new or changed" in text(unchanged)

    rows = csv_rows(original)
    edited = next(r for r in rows if r["id"] == EDITED)
    edited["explanation"] += EXTRA
    new = dict(edited, id="mech-900", status="draft",
               stem="Which layer of the skin does a session aim to reach? (new)")
    count = versions()
    preview = upload_csv(trainer, csv_of([*rows, new]))
    assert preview.status_code == 200, text(preview)
    page = text(preview)
    assert "2 of them new or changed" in page and "saved as a new version" in page
    assert versions() == count  # a preview writes nothing

    response = confirm_csv(trainer, page)
    assert response.status_code == 302, text(response)
    row = question(EDITED)
    assert (row.newest.version, row.current_version) == (2, 1)  # awaits approval
    assert row.newest.author_id == users["trainer"].id
    assert row.newest.content["explanation"].endswith(EXTRA)
    added = question("mech-900")
    assert (added.status, added.newest.author_id) == ("draft", users["trainer"].id)
    assert versions() == count + 2
    # The studio's edit is an edit made in the app: `bank import` keeps it.
    result = runner.invoke(args=["bank", "import"])
    assert f"kept (the files differ): {EDITED}" in result.output


def test_a_csv_with_one_bad_row_writes_nothing(trainer):
    rows = csv_rows(text(trainer.get("/trainer/exchange/questions.csv")))
    rows[0]["explanation"] += EXTRA  # a good change
    rows[5]["correct"] = "z"  # a bad one, on spreadsheet row 7
    count = versions()
    preview = upload_csv(trainer, csv_of(rows))
    assert preview.status_code == 400
    page = text(preview)
    assert "Nothing can be imported" in page
    assert re.search(r'scope="row">7</th>.*?Column correct: .*?is not an option letter',
                     page, re.S)
    assert 'name="content"' not in page  # no import button
    # Sending the file to the import anyway writes nothing either.
    boundary = exchange.encode(csv_of(rows).encode())
    response = trainer.post("/trainer/exchange/csv/import",
                            data={"content": boundary, "filename": "x.csv"})
    assert response.status_code == 400
    assert versions() == count


def test_a_new_published_question_needs_a_fact_like_in_the_files(trainer):
    rows = csv_rows(text(trainer.get("/trainer/exchange/questions.csv")))
    new = dict(rows[0], id="mech-901",
               stem="What does the needling mainly set off in the skin? (new wording)")
    preview = upload_csv(trainer, csv_of([new]))
    assert preview.status_code == 400
    assert "is not listed under any fact" in text(preview)


def test_cli_imports_csv_all_or_nothing(bank_loaded, runner, tmp_path, shipped_bank):
    path = tmp_path / "bank.csv"
    runner.invoke(args=["bank", "export", "--format", "csv", "--out", str(path)])
    rows = csv_rows(path.read_text(encoding="utf-8-sig"))
    rows[0]["explanation"] += EXTRA
    qid = rows[0]["id"]
    bad = [dict(r) for r in rows]
    bad[3]["option_a"] = ""
    path.write_text(csv_of(bad), encoding="utf-8")
    count = versions()
    result = runner.invoke(args=["bank", "import", "--format", "csv", str(path)])
    assert result.exit_code == 1
    assert "row 5, column option_a" in result.output and "Nothing imported" in result.output
    assert versions() == count

    path.write_text(csv_of(rows), encoding="utf-8")
    result = runner.invoke(args=["bank", "import", "--format", "csv", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 new version(s)" in result.output and "0 retired" in result.output
    row = question(qid)  # imported as files are: live at once
    assert (row.newest.version, row.current_version, row.newest.author_id) == (2, 2, None)
    assert versions() == count + 1

    missing = runner.invoke(args=["bank", "import", "--format", "csv"])
    assert missing.exit_code == 2 and "Give the CSV file" in missing.output


@pytest.mark.parametrize(("data", "words"), [
    (b"", "the file is empty"),
    (b"id,topic\r\n\xff\xfe bad", "not UTF-8"),
    (b"just,some,columns\r\n1,2,3\r\n", "unknown column(s)"),
    ("id,topic\r\n" + "x" * (exchange.CSV_LIMIT + 10), "at most 2 MB"),
])
def test_bad_csv_files_get_a_clear_message(trainer, data, words):
    response = upload_csv(trainer, data)
    assert response.status_code == 400
    assert words in text(response)


# --- Bank files in -----------------------------------------------------------------------


def test_a_zip_upload_saves_the_changes_as_the_trainers_edits(trainer, users, tmp_path):
    root = unzip(trainer.get("/trainer/exchange/question_bank.zip").data, tmp_path)
    path = root / "questions" / "mechanism.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    target = next(q for q in data["questions"] if q["id"] == EDITED)
    target["explanation"] += EXTRA
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")
    count = versions()
    response = upload_bank(trainer, "question_bank.zip", zipped(root))
    assert response.status_code == 302, text(response)
    row = question(EDITED)
    assert (row.newest.version, row.current_version) == (2, 1)
    assert row.newest.author_id == users["trainer"].id
    assert row.imported_hash != row.newest.content_hash  # an app edit, for `bank import`
    assert versions() == count + 1
    flashed = text(trainer.get("/trainer/exchange"))
    assert "awaiting a second trainer" in flashed and EDITED in flashed


def test_one_topic_file_can_be_uploaded(trainer, users):
    data = yaml.safe_load((BANK_PATH / "questions" / "devices.yaml").read_text("utf-8"))
    data["questions"][0]["explanation"] += EXTRA
    qid = data["questions"][0]["id"]
    data["questions"][-1]["status"] = "retired"
    retired = data["questions"][-1]["id"]
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()
    response = upload_bank(trainer, "devices.yaml", body)
    assert response.status_code == 302, text(response)
    assert question(qid).newest.content["explanation"].endswith(EXTRA)
    assert question(retired).status == "retired"
    assert [e.kind for e in audit.trail(audit.subject("question", retired))][-1] == "retired"
    assert question("mech-001").newest.version == 1  # other topics untouched
    # A question left out of its topic's file would be retired, but the facts still
    # list it: the checks of `bank check` refuse that, and nothing is written.
    data["questions"].pop()
    response = upload_bank(trainer, "devices.yaml",
                           yaml.safe_dump(data, sort_keys=False).encode())
    assert response.status_code == 400
    assert f"lists unknown question &#39;{retired}&#39;" in text(response)


def test_an_upload_that_adds_an_error_writes_nothing(trainer, tmp_path):
    root = unzip(trainer.get("/trainer/exchange/question_bank.zip").data, tmp_path)
    path = root / "questions" / "mechanism.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["questions"][0]["explanation"] += EXTRA
    del data["questions"][1]["explanation"]
    broken = data["questions"][1]["id"]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    count = versions()
    response = upload_bank(trainer, "bank.zip", zipped(root, top=""))
    assert response.status_code == 400
    assert f"{broken}</code>: missing field &#39;explanation&#39;" in text(response)
    assert "Nothing was saved" in text(response)
    assert versions() == count


def test_exams_topics_and_conflicts_do_not_change_by_upload(trainer, tmp_path):
    root = unzip(trainer.get("/trainer/exchange/question_bank.zip").data, tmp_path)
    exams = (root / "exams.yaml").read_text(encoding="utf-8")
    (root / "exams.yaml").write_text(exams.replace("pass_mark_percent: 80",
                                                   "pass_mark_percent: 50"), "utf-8")
    response = upload_bank(trainer, "bank.zip", zipped(root))
    assert response.status_code == 400
    assert "exams.yaml: differs from the app" in text(response)


def zip_with(members: dict[str, bytes]) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "data", "words"), [
    ("bank.zip", b"", "is empty"),
    ("notes.txt", b"some text", "is not bank files"),
    ("bank.zip", b"PK\x03\x04 broken beyond repair", "not a zip file that can be read"),
    ("bank.zip", b"x" * (exchange.UPLOAD_LIMIT + 1), "at most 5 MB"),
    ("bank.zip", zip_with({"../../etc/passwd.yaml": b"x: 1"}), "is not a bank file"),
    ("bank.zip", zip_with({"question_bank/app.py": b"print()"}), "is not a bank file"),
    ("bank.zip", zip_with({"README.md": b"# hi"}), "holds no bank files"),
    ("bank.zip", zip_with({"questions/a.yaml": b"x", "q/questions/a.yaml": b"y"}),
     "holds questions/a.yaml twice"),
    ("topic.yaml", b"topic: [unclosed", "is not valid YAML"),
    ("topic.yaml", "topic: aftercare\nquestions: []\nstem: \u0007bell".encode(),
     "is not valid YAML"),
    ("topic.yaml", b"just: a mapping", "is not a topic file"),
    ("topic.yaml", b"topic: ../../x\nquestions: []", "is not a topic file"),
    ("bank.zip", zip_with({"questions/aftercare.yaml": "topic: aftercare\nquestions:\n"
                           "  - id: \ufffe\n".encode()}), "not valid YAML"),
    ("bank.zip", zip_with({"questions/aftercare.yaml": b"\xff\xfe\x00bad"}),
     "not valid YAML"),
])
def test_bad_bank_uploads_get_a_clear_message(trainer, name, data, words):
    count = versions()
    response = upload_bank(trainer, name, data)
    assert response.status_code == 400
    assert words in text(response).replace("&#39;", "'")
    assert versions() == count


def test_an_upload_far_over_the_limit_is_refused_before_it_is_read(trainer):
    response = upload_bank(trainer, "bank.zip", b"x" * (exchange.UPLOAD_LIMIT + 600 * 1024))
    assert response.status_code == 413
    assert "MB at most" in text(response)


def test_an_upload_does_not_replace_another_trainers_edit_unless_told(
    bank_loaded, client, auth, users
):
    edit_in_studio(users["admin"])
    auth.login("trainer")
    data = yaml.safe_load((BANK_PATH / "questions" / "mechanism.yaml").read_text("utf-8"))
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()
    response = upload_bank(client, "mechanism.yaml", body)
    assert response.status_code == 302
    assert "kept" in text(client.get("/trainer/exchange"))
    assert question(EDITED).newest.author_id == users["admin"].id
    response = upload_bank(client, "mechanism.yaml", body, overwrite=True)
    assert response.status_code == 302
    row = question(EDITED)
    assert row.newest.author_id == users["trainer"].id
    assert not row.newest.content["explanation"].endswith(EXTRA)


def test_downloads_are_files_not_pages(trainer):
    for url, mimetype in (("/trainer/exchange/question_bank.zip", "application/zip"),
                          ("/trainer/exchange/questions.gift.txt", "text/plain"),
                          ("/trainer/exchange/questions.csv", "text/csv")):
        response = trainer.get(url)
        assert response.status_code == 200 and response.mimetype == mimetype
        assert response.headers["Content-Disposition"].startswith("attachment;")


def test_bank_question_values_survive_the_csv_service(bank_loaded, shipped_bank):
    """The service reads back what it writes."""
    preview = exchange.preview_csv(exchange.csv_text())
    assert preview.ok and preview.changes == 0
    assert all(isinstance(r.question, BankQuestion) for r in preview.rows)
    assert len(preview.rows) == len(shipped_bank.questions)
