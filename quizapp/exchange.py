"""The bank in and out of the app: bank files (a folder, or a zip in the studio), GIFT
for Moodle, CSV for spreadsheets.

Exports read the live bank (`studio.live_bank`: every question's newest version with
its status, retired ones too, the facts and documents as the app holds them). Bank
files and CSV carry all of it, so what is exported can come back; GIFT carries the
published questions as trainees see them (their live versions), since Moodle has no
use for drafts.

Uploads are checked by the rules `bank check` applies to the files: the live bank is
written out as bank files, the uploaded files are laid over them, and the folder is
read (`load_bank`) and checked (`check_bank`). An upload may not add an error: what
the live bank already has (an unfinished draft, say) does not stop it. Only then is
anything written, by `bank_store.import_bank`, in one transaction (the caller's).
CSV goes through `bank.csv_exchange`, row by row with the same rules, and the bank
as a whole as for files.

An upload in the studio saves the trainer's edits under the review workflow (see
`bank_store.import_bank` with an author); the command line imports as `bank import`
does the files.

The live bank as bank files, and what `bank check` says of them, are made once per
state of the live bank (`studio.snapshot()`, itself remade whenever the database
changes) and of the bank folder's own files (see `_live_state`).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import io
import re
import shutil
import tempfile
import threading
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml
from flask import current_app
from sqlalchemy import select

from quizapp import studio
from quizapp.bank import check_bank, load_bank, write_questions
from quizapp.bank.csv_exchange import RowProblem, from_csv, to_csv
from quizapp.bank.files import ID_PATTERN, _BlockDumper
from quizapp.bank.gift import to_gift
from quizapp.bank.model import Bank, Problem
from quizapp.bank.model import Question as BankQuestion
from quizapp.bank_store import ImportReport, import_bank, import_questions, stored_questions
from quizapp.errors import ServiceError
from quizapp.extensions import db
from quizapp.models import Topic, User

ROOT_NAME = "question_bank"
# Not in the database: copied from the bank folder (QUESTION_BANK_PATH), and not
# changed by an upload (exam rules, topic minimums and conflicts are shipped content).
FIXED_FILES = ("topics.yaml", "conflicts.yaml", "exams.yaml")
TOP_FILES = ("sources.yaml", *FIXED_FILES)
TOPIC_FOLDERS = ("questions", "facts")
IGNORED = re.compile(r"(^|/)(__MACOSX/.*|\.DS_Store|README\.md|\.gitkeep)$")
UPLOAD_LIMIT = 5 * 1024 * 1024  # a zip of the whole bank is about 150 KB
UNPACKED_LIMIT = 20 * 1024 * 1024
MAX_MEMBERS = 200
CSV_LIMIT = 2 * 1024 * 1024  # the whole bank as CSV is about 300 KB
SOURCES_HEADER = (
    "# The source documents the bank is built from. The articles themselves live outside\n"
    "# the repository (../shared/source-documents/); only their identity is kept here.\n"
    "# `short_title` is how a question stem names the document (\"According to ...\").\n"
)


class ExchangeError(ServiceError):
    """An upload or export that cannot be done; the message says why, for the trainer."""

    status = 400


# --- Bank files out -------------------------------------------------------------------


def write_folder(root: Path | str, bank: Bank | None = None) -> int:
    """Write the live bank as a complete bank folder; return the number of questions.

    `bank check` on the folder says what it says of the live bank: the same questions,
    facts and documents, and the bank folder's topics, conflicts and exams."""
    bank = bank or studio.live_bank()
    if not bank.questions:
        # Writing an empty bank over a folder would empty its topic files.
        raise ExchangeError("The database holds no questions: there is nothing to export"
                            " (load the bank with `bank import` first).", status=409)
    root = Path(root)
    configured = Path(current_app.config["QUESTION_BANK_PATH"])
    (root / "facts").mkdir(parents=True, exist_ok=True)
    for name in FIXED_FILES:
        source, target = configured / name, root / name
        if source.is_file() and not (target.exists() and target.samefile(source)):
            shutil.copyfile(source, target)
    shipped_files = _shipped_document_files(configured)
    documents = []
    for document in bank.documents.values():
        entry = {"id": document.id}
        if shipped_files.get(document.id):
            entry["file"] = shipped_files[document.id]
        entry.update(title=document.title, short_title=document.short_title,
                     sections=list(document.sections))
        documents.append(entry)
    (root / "sources.yaml").write_text(SOURCES_HEADER + _dump({"documents": documents}),
                                       encoding="utf-8")
    by_topic: dict[str, list] = {}
    for fact in bank.facts.values():
        form = {"id": fact.id, "document": fact.document, "section": fact.section}
        if fact.risk is not None:
            form["risk"] = fact.risk
        form.update(fact=fact.fact, questions=list(fact.questions))
        by_topic.setdefault(fact.topic, []).append(form)
    for old in (root / "facts").glob("*.yaml"):
        if old.stem not in by_topic:
            old.unlink()
    for topic, facts in by_topic.items():
        (root / "facts" / f"{topic}.yaml").write_text(
            _dump({"topic": topic, "facts": facts}), encoding="utf-8")
    questions = list(bank.questions.values())
    topics = {q.topic for q in questions}
    if (root / "questions").is_dir():
        for old in (root / "questions").glob("*.yaml"):
            if old.stem not in topics:
                old.unlink()
    write_questions(questions, root)
    return len(questions)


def _dump(data: dict) -> str:
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True,
                     width=88)


def _shipped_document_files(folder: Path) -> dict[str, str]:
    """Document id -> the article's file name, from the bank folder's sources.yaml (the
    database does not keep it; `bank check` reads the articles by it)."""
    try:
        data = yaml.safe_load((folder / "sources.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return {d.get("id"): d.get("file") for d in data.get("documents") or ()
            if isinstance(d, dict)}


def zip_bytes() -> bytes:
    """The live bank as a zip of the bank folder (`question_bank/...`)."""
    files = _live_state().files()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(n for n in files if n.endswith(".yaml")):
            archive.writestr(str(PurePosixPath(ROOT_NAME) / name), files[name])
    return buffer.getvalue()


# --- The live bank as files, made once per state ------------------------------------


def _own_copy(bank: Bank) -> Bank:
    """A copy of a bank that is shared (a snapshot's) that its user may change: its
    dicts and lists copied, as `studio.live_bank()` copies them."""
    return dataclasses.replace(bank, **{
        f.name: type(value)(value) for f in dataclasses.fields(bank)
        if f.init and isinstance(value := getattr(bank, f.name), (dict, list))})


@dataclass(eq=False)
class _LiveState:
    """What the exchange derives from one state of the live bank (one
    `studio.Snapshot`) and of the bank folder's own files, each made on first use:
    the live bank written out by `write_folder` (each file's path in the folder and
    its bytes); what loading and checking those files finds; and what `check_bank`
    says of the live bank as values."""

    snapshot: object  # the studio.Snapshot these come from; kept, so its id stays unique
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _files: dict[str, bytes] | None = None
    _checked: tuple[Bank, list[Problem]] | None = None
    _bank_problems: list[Problem] | None = None

    def bank(self) -> Bank:
        return _own_copy(self.snapshot.bank)

    def files(self) -> dict[str, bytes]:
        with self._lock:
            if self._files is None:
                with tempfile.TemporaryDirectory() as folder:
                    root = Path(folder) / ROOT_NAME
                    write_folder(root, self.bank())
                    self._files = {path.relative_to(root).as_posix(): path.read_bytes()
                                   for path in sorted(root.rglob("*")) if path.is_file()}
            return dict(self._files)

    def write(self, root: Path) -> None:
        """Write the live bank's files into `root`, as `write_folder` would."""
        _write_files(root, self.files())

    def checked(self) -> tuple[Bank, list[Problem]]:
        """`_checked_folder` of the live bank's files. Read the bank, do not change it."""
        files = self.files()  # before taking the lock: files() takes it
        with self._lock:
            if self._checked is None:
                with tempfile.TemporaryDirectory() as folder:
                    root = Path(folder) / ROOT_NAME
                    _write_files(root, files)
                    self._checked = _checked_folder(root)
            bank, problems = self._checked
            return bank, list(problems)

    def bank_problems(self) -> list[Problem]:
        """`check_bank` of the live bank."""
        with self._lock:
            if self._bank_problems is None:
                self._bank_problems = check_bank(self.bank())
            return list(self._bank_problems)


def _write_files(root: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)


# A few states for the whole process, by the identity of their snapshot (an object
# made anew whenever the database changes; the entry keeps it, so its id is not
# reused) and the bank folder's own files that `write_folder` copies or reads. An
# entry is only ever used for exactly the state it was made from.
_STATES: OrderedDict[tuple, _LiveState] = OrderedDict()
_STATES_KEPT = 4
_STATES_LOCK = threading.Lock()


def _folder_signature() -> tuple:
    configured = Path(current_app.config["QUESTION_BANK_PATH"])
    contents = []
    for name in TOP_FILES:
        try:
            contents.append((configured / name).read_bytes())
        except OSError:
            contents.append(None)
    return str(configured.resolve()), tuple(contents)


def _live_state() -> _LiveState:
    """The live bank as it is now, with what the exchange has derived from it."""
    snapshot = studio.snapshot()
    key = (id(snapshot), _folder_signature())
    with _STATES_LOCK:
        state = _STATES.get(key)
        if state is None or state.snapshot is not snapshot:
            state = _STATES[key] = _LiveState(snapshot)
        _STATES.move_to_end(key)
        while len(_STATES) > _STATES_KEPT:
            _STATES.popitem(last=False)
        return state


# --- GIFT and CSV out -----------------------------------------------------------------


def _topic_order() -> list[str]:
    return list(db.session.scalars(select(Topic.id).order_by(Topic.position, Topic.id)))


def gift_text() -> str:
    """The published questions, as trainees see them, as one GIFT file for Moodle."""
    questions = [q for q, _version in stored_questions() if q.status == "published"]
    try:
        return to_gift(questions, _topic_order())
    except ValueError as error:
        raise ExchangeError(f"The GIFT export stopped at {error}", status=409) from error


def csv_text() -> str:
    """Every question's newest version, retired ones too, as CSV (one row each)."""
    try:
        return to_csv(studio.live_bank().questions.values())
    except ValueError as error:
        raise ExchangeError(f"The CSV export stopped at {error}", status=409) from error


# --- Checking against the bank as a whole -------------------------------------------


def _key(problem: Problem | RowProblem) -> tuple[str, str, str]:
    """What makes a problem the same one before and after a change: its item and its
    words, figures aside (a topic count or a percentage moves with every change)."""
    return (problem.level, problem.item, re.sub(r"\d+(?:\.\d+)?", "#", problem.message))


def _new_problems(before: Iterable[Problem], after: Iterable[Problem]) -> list[Problem]:
    known = {_key(p) for p in before}
    return [p for p in after if _key(p) not in known]


def _checked_folder(root: Path) -> tuple[Bank, list[Problem]]:
    bank, problems = load_bank(root)
    return bank, problems + check_bank(bank)


# --- Bank files in --------------------------------------------------------------------


@dataclass(frozen=True)
class UploadResult:
    files: tuple[str, ...]  # the bank files taken from the upload, as paths in the folder
    errors: tuple[Problem, ...]  # what stops it: nothing was written
    warnings: tuple[Problem, ...]  # advice the upload adds
    report: ImportReport | None  # what was written, when nothing stopped it

    @property
    def ok(self) -> bool:
        return not self.errors


def upload_files(filename: str, data: bytes, author: User, overwrite: bool = False,
                 ) -> UploadResult:
    """Check an uploaded zip of bank files, or one topic file, against the live bank;
    when it adds no error, save it as `author`'s edits (see `bank_store.import_bank`).
    The caller commits. Raise ExchangeError when the upload is not bank files at all."""
    members = _members(filename, data)
    live = _live_state()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / ROOT_NAME
        live.write(root)
        before_bank, before = live.checked()
        errors = []
        for name, content in members.items():
            current = (root / name).read_bytes() if (root / name).is_file() else None
            if name in FIXED_FILES and content != current:
                errors.append(Problem(
                    "error", f"{ROOT_NAME}/{name}", "",
                    "differs from the app's: topics, conflicts and exams come with the"
                    " shipped bank files (`bank import`), not from an upload; leave it"
                    " out of the zip"))
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(content)
        after_bank, after = _checked_folder(root)
    uploaded = {f"{ROOT_NAME}/{name}" for name in members}
    found = _new_problems(before, after)
    errors += [p for p in found if p.level == "error"]
    warnings = tuple(p for p in found if p.level == "warning")
    if errors:
        return UploadResult(tuple(members), tuple(errors), warnings, None)
    scope = {qid for bank in (before_bank, after_bank) for qid, origin in bank.origin.items()
             if not qid.startswith("fact:") and origin in uploaded}
    report = import_bank(after_bank, overwrite, only=scope, author=author,
                         source=PurePosixPath(filename.replace("\\", "/")).name)
    return UploadResult(tuple(members), (), warnings, report)


def _members(filename: str, data: bytes) -> dict[str, bytes]:
    """The bank files in an upload, by their path in the bank folder."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name or "(no name)"
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in (".zip", ".yaml", ".yml"):
        raise ExchangeError(
            f"'{name}' is not bank files: upload a .zip of the bank folder (as the"
            " download gives it) or one topic file of questions or facts (.yaml).")
    if not data:
        raise ExchangeError(f"'{name}' is empty.")
    if len(data) > UPLOAD_LIMIT:
        raise ExchangeError(f"'{name}' is {len(data):,} bytes; an upload may be at most"
                            f" {UPLOAD_LIMIT // 1024 // 1024} MB.")
    if suffix == ".zip":
        return _unzip(name, data)
    return {_topic_file_path(name, data): data}


def _topic_file_path(name: str, data: bytes) -> str:
    """Where one uploaded YAML file belongs: questions/<topic>.yaml, facts/<topic>.yaml
    or sources.yaml, by what it holds."""
    try:
        content = yaml.safe_load(data)
    except yaml.YAMLError as error:
        raise ExchangeError(f"'{name}' is not valid YAML: {error}") from error
    if isinstance(content, dict) and "documents" in content and "topic" not in content:
        return "sources.yaml"
    topic = content.get("topic") if isinstance(content, dict) else None
    kinds = [k for k in TOPIC_FOLDERS if isinstance(content, dict) and k in content]
    if not isinstance(topic, str) or not ID_PATTERN.match(topic) or len(kinds) != 1:
        raise ExchangeError(
            f"'{name}' is not a topic file: one names its topic at the top"
            " (`topic: aftercare`) and lists its `questions:` or its `facts:`.")
    return f"{kinds[0]}/{topic}.yaml"


def _unzip(name: str, data: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist()
                 if not i.is_dir() and not IGNORED.search(i.filename)]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        raise ExchangeError(f"'{name}' is not a zip file that can be read ({error}).") \
            from error
    if not infos:
        raise ExchangeError(f"'{name}' holds no bank files.")
    if len(infos) > MAX_MEMBERS:
        raise ExchangeError(f"'{name}' holds {len(infos)} files; a bank has far fewer"
                            f" (at most {MAX_MEMBERS} are taken).")
    if sum(i.file_size for i in infos) > UNPACKED_LIMIT:
        raise ExchangeError(f"'{name}' unpacks to more than"
                            f" {UNPACKED_LIMIT // 1024 // 1024} MB; a bank is far smaller.")
    members: dict[str, bytes] = {}
    for info in infos:
        path = _bank_path(info.filename)
        if path is None:
            raise ExchangeError(
                f"'{info.filename}' in '{name}' is not a bank file. A bank zip holds"
                f" {', '.join(TOP_FILES)}, questions/<topic>.yaml and facts/<topic>.yaml,"
                f" in a folder of their own or at the top.")
        if path in members:
            raise ExchangeError(f"'{name}' holds {path} twice.")
        if info.flag_bits & 0x1:
            raise ExchangeError(f"'{info.filename}' in '{name}' is encrypted; upload a zip"
                                " without a password.")
        try:
            members[path] = archive.read(info)
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError,
                EOFError, OSError) as error:
            raise ExchangeError(f"'{info.filename}' in '{name}' cannot be unpacked"
                                f" ({error}).") from error
        if len(members[path]) > info.file_size:  # a header that lies about the size
            raise ExchangeError(f"'{info.filename}' in '{name}' is damaged.")
    return members


def _bank_path(member: str) -> str | None:
    """A zip member's path in the bank folder, or None when it is not a bank file.
    A top folder of any name (question_bank/) is allowed; nothing can climb out."""
    parts = PurePosixPath(member.replace("\\", "/")).parts
    if not parts or parts[0] == "/" or ".." in parts or ":" in parts[0]:
        return None
    if len(parts) > 1 and parts[0] not in TOPIC_FOLDERS:
        parts = parts[1:]
    if len(parts) == 1 and parts[0] in TOP_FILES:
        return parts[0]
    if (len(parts) == 2 and parts[0] in TOPIC_FOLDERS and parts[1].endswith(".yaml")
            and ID_PATTERN.match(parts[1].removesuffix(".yaml"))):
        return f"{parts[0]}/{parts[1]}"
    return None


# --- CSV in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvRow:
    number: int  # as a spreadsheet numbers it: the header is row 1
    question: BankQuestion
    change: str  # "new", "changed" or "unchanged"


@dataclass(frozen=True)
class CsvPreview:
    """What a CSV file would do. Nothing has been written."""

    rows: tuple[CsvRow, ...]
    errors: tuple[RowProblem, ...]
    warnings: tuple[RowProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    @property
    def changes(self) -> int:
        return sum(row.change != "unchanged" for row in self.rows)

    def problems_of(self, number: int | None) -> list[RowProblem]:
        """The problems of one row (None: of the file as a whole)."""
        return [p for p in (*self.errors, *self.warnings) if p.row == number]

    def lines(self) -> list[tuple[int, CsvRow | None, list[RowProblem]]]:
        """Every row read or found wanting, in the file's order, with its problems."""
        read = {row.number: row for row in self.rows}
        numbers = sorted(set(read) | {p.row for p in self.errors if p.row is not None})
        return [(n, read.get(n), self.problems_of(n)) for n in numbers]


def preview_csv(data: bytes | str) -> CsvPreview:
    """Read a CSV file and check every row, and the bank with the rows in it, by the
    rules of the bank files; write nothing."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > CSV_LIMIT:
        return CsvPreview((), (RowProblem(None, "", f"the file is {len(data):,} bytes; a"
                                          f" CSV file may be at most"
                                          f" {CSV_LIMIT // 1024 // 1024} MB"),), ())
    state = _live_state()
    live = state.bank()
    read = from_csv(data, live)
    rows = []
    for number, question in read.rows:
        stored = live.questions.get(question.id)
        change = "new" if stored is None else (
            "unchanged" if _same_question(stored, question) else "changed")
        rows.append(CsvRow(number, question, change))
    unchanged = {row.number for row in rows if row.change == "unchanged"}
    # A row that changes nothing writes nothing: what the checks say of it was said of
    # the live bank already (an unfinished draft exported with the rest, say).
    errors = [p for p in read.errors if p.row not in unchanged]
    warnings = [p for p in read.warnings if p.row not in unchanged]
    if not errors and rows:
        merged = dataclasses.replace(
            live, questions={**live.questions, **{r.question.id: r.question for r in rows}},
            origin={**live.origin, **{r.question.id: "csv" for r in rows
                                      if r.question.id not in live.origin}})
        row_of = {r.question.id: r.number for r in rows}
        for problem in _new_problems(state.bank_problems(), check_bank(merged)):
            found = RowProblem(row_of.get(problem.item), "", problem.message, problem.level,
                               problem.item)
            (errors if problem.level == "error" else warnings).append(found)
    return CsvPreview(tuple(rows), tuple(errors), tuple(warnings))


def _same_question(stored: BankQuestion, question: BankQuestion) -> bool:
    return (stored.content_hash() == question.content_hash()
            and (stored.status, stored.topic) == (question.status, question.topic))


def import_csv(data: bytes | str, author: User | None, overwrite: bool = False,
               source: str = "a CSV file") -> tuple[CsvPreview, ImportReport | None]:
    """Check a CSV file as `preview_csv` does; write it only if every row is valid
    (the caller commits, so it is one transaction). `author` None: the command line,
    which imports as `bank import` does; a trainer: the studio, whose edits follow
    the review workflow."""
    preview = preview_csv(data)
    if not preview.ok:
        return preview, None
    live = studio.live_bank()
    changed = {row.question.id for row in preview.rows if row.change != "unchanged"}
    merged = dataclasses.replace(
        live, questions={**live.questions, **{r.question.id: r.question for r in preview.rows}})
    return preview, import_questions(merged, changed, overwrite, author=author, source=source)


def encode(data: bytes) -> str:
    """A file's bytes as text a form can carry back (the preview's confirm button)."""
    return base64.b64encode(data).decode("ascii")


def decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as error:
        raise ExchangeError("The file sent back from the preview was damaged: upload it"
                            " again.") from error
