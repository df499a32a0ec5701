"""Commands: `flask --app quizapp bank|users|attempts|demo|data|report ...`."""

from __future__ import annotations

import json
import secrets
import smtplib
import sys
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from quizapp import (
    accounts,
    attempts,
    certs,
    credentials,
    data_move,
    demo,
    exchange,
    item_analysis,
)
from quizapp.bank import check_bank, guess, load_bank
from quizapp.bank.check import copied_wording, read_sources
from quizapp.bank.coverage import summary
from quizapp.bank_store import export_json, import_bank
from quizapp.cohorts import ReportFilter
from quizapp.exports import csv_lines
from quizapp.extensions import db
from quizapp.models import ROLES, User, utcnow

bank_cli = AppGroup("bank", help="Check, import, export and count the question bank.")
users_cli = AppGroup("users", help="Manage accounts.")
attempts_cli = AppGroup("attempts", help="Look after exam attempts.")
demo_cli = AppGroup("demo", help="Set up the demonstration.")
report_cli = AppGroup("report", help="Item analysis and exam statistics, for scripts.")
certs_cli = AppGroup("certs", help="Certificates: expiry reminders, the signing key.")
data_cli = AppGroup("data", help="Move every record between databases (SQLite to"
                    " PostgreSQL).")


def register(app) -> None:
    for group in (data_cli, bank_cli, users_cli, attempts_cli, demo_cli, report_cli,
                  certs_cli):
        app.cli.add_command(group)


def _bank_path(path: str | None) -> Path:
    return Path(path or current_app.config["QUESTION_BANK_PATH"])


def _checked_bank(path: str | None):
    bank, problems = load_bank(_bank_path(path))
    problems += check_bank(bank)
    return bank, problems


@bank_cli.command("check")
@click.option("--path", help="The bank folder (default: the configured question_bank).")
@click.option("--sources", help="The folder holding the source articles, to catch copied"
              " wording (default: ../shared/source-documents when it exists).")
def bank_check(path, sources):
    """Validate the bank files; exit 1 if there is any error."""
    bank, problems = _checked_bank(path)
    folder = Path(sources or current_app.config["SOURCE_DOCUMENTS_PATH"])
    texts = read_sources(bank, folder) if folder.is_dir() else {}
    if texts:
        problems += copied_wording(bank, texts)
        click.echo(f"Checked for copied wording against {len(texts)} source document(s).")
    else:
        click.echo(f"Not checked for copied wording: no source documents in {folder}.")
    for problem in problems:
        click.echo(str(problem))
    reports = guess.guessability(bank.questions.values())
    click.echo(guess.summary_line(reports))
    for line in guess.strategy_lines(reports):
        click.echo(line)
    errors = sum(p.level == "error" for p in problems)
    warnings = len(problems) - errors
    click.echo(f"{len(bank.questions)} questions, {len(bank.facts)} facts,"
               f" {len(bank.exams)} exams: {errors} error(s), {warnings} warning(s).")
    if errors:
        sys.exit(1)


@bank_cli.command("import")
@click.option("--path", help="The bank folder (default: the configured question_bank).")
@click.option("--format", "fmt", type=click.Choice(["files", "csv"]), default="files",
              show_default=True, help="files: the bank folder; csv: one CSV file (FILE).")
@click.option("--overwrite-app-edits", is_flag=True,
              help="Replace questions edited in the app since the last import by the"
                   " files' version (the edits stay in their history).")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
def bank_import(path, fmt, overwrite_app_edits, file):
    """Load the bank files (or a CSV FILE) into the database (safe to run again).

    A question edited in the app since the last import is reported and left as it
    is, unless --overwrite-app-edits."""
    if fmt == "csv":
        _import_csv(file, overwrite_app_edits)
        return
    if file:
        raise click.UsageError("FILE is for --format csv; give a bank folder with --path.")
    bank, problems = _checked_bank(path)
    errors = [p for p in problems if p.level == "error"]
    if errors:
        for problem in errors:
            click.echo(str(problem), err=True)
        click.echo("Nothing imported: fix the errors above (see `bank check`).", err=True)
        sys.exit(1)
    report = import_bank(bank, overwrite=overwrite_app_edits)
    db.session.commit()
    _echo_report(report)


def _import_csv(file: str | None, overwrite: bool) -> None:
    if not file:
        raise click.UsageError("Give the CSV file: bank import --format csv FILE.")
    try:
        data = Path(file).read_bytes()
    except OSError as error:
        raise click.ClickException(f"Cannot read {file}: {error.strerror}.") from error
    preview, report = exchange.import_csv(data, author=None, overwrite=overwrite,
                                          source=Path(file).name)
    for problem in (*preview.errors, *preview.warnings):
        click.echo(str(problem), err=True)
    if report is None:
        click.echo("Nothing imported: every row must be valid (fix the errors above).",
                   err=True)
        sys.exit(1)
    db.session.commit()
    _echo_report(report)


def _echo_report(report) -> None:
    click.echo(f"Imported: {report.summary()}.")
    if report.kept_app_edits:
        click.echo("Edited in the app since the last import, so left as the app has them"
                   " (the files differ; --overwrite-app-edits replaces them):")
        for qid in report.kept_app_edits:
            click.echo(f"  {qid}")


@bank_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["files", "json", "gift", "csv"]),
              required=True)
@click.option("--out", help="files: the bank folder to write; json, gift, csv: a file"
                            " (default stdout).")
def bank_export(fmt, out):
    """Write the database's bank as bank files, JSON, GIFT (Moodle) or CSV."""
    try:
        if fmt == "files":
            count = exchange.write_folder(_bank_path(out))
            click.echo(f"Wrote {count} questions to {_bank_path(out)}.")
            return
        if fmt == "json":
            text = json.dumps(export_json(), indent=2, ensure_ascii=False) + "\n"
        else:
            text = exchange.gift_text() if fmt == "gift" else exchange.csv_text()
    except exchange.ExchangeError as error:
        raise click.ClickException(str(error)) from error
    if not out:
        click.echo(text, nl=False)
        return
    try:
        # CSV with a byte order mark, so that spreadsheets open it as UTF-8.
        Path(out).write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8",
                             newline="")
    except OSError as error:
        raise click.ClickException(f"Cannot write {out}: {error.strerror}.") from error
    click.echo(f"Wrote {out}.")


@bank_cli.command("stats")
@click.option("--path", help="The bank folder (default: the configured question_bank).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bank_stats(path, as_json):
    """Count the bank's questions and show its coverage of the documents."""
    bank, _problems = load_bank(_bank_path(path))
    facts = summary(bank)
    if as_json:
        click.echo(json.dumps(facts, indent=2, ensure_ascii=False))
        return
    click.echo(f"Questions: {facts['questions']} ({facts['published']} published,"
               f" {facts['safety_critical']} safety-critical)")
    click.echo("Per topic (published / minimum):")
    for row in facts["per_topic"].values():
        mark = "ok" if row["met"] else "BELOW MINIMUM"
        click.echo(f"  {row['name']:<58} {row['published']:>3} / {row['minimum']:<3} {mark}")
    for label, key in (("type", "per_type"), ("difficulty", "per_difficulty"),
                       ("status", "per_status")):
        counts = ", ".join(f"{k} {v}" for k, v in facts[key].items())
        click.echo(f"Per {label}: {counts}")
    click.echo(f"Client scenarios: {facts['scenario_share']:.0%}"
               f" (minimum {facts['minimum_scenario_share']:.0%})")
    uncovered = facts["uncovered_facts"]
    click.echo(f"Facts: {facts['facts']}; with no question: "
               + (", ".join(uncovered) if uncovered else "none"))
    click.echo("Recorded conflicts between the sources:")
    for conflict in facts["conflicts"]:
        click.echo(f"  {conflict['id']}: {conflict['subject']}")
        for claim in conflict["claims"]:
            click.echo(f"    {claim['document']} ({claim['section']}): {claim['claim']}")
        click.echo(f"    common ground: {conflict['common_ground']}")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="Repeat for several roles.")
@click.password_option(help="Prompted for when not given.")
def users_create(email, name, roles, password):
    """Create an account."""
    try:
        user = accounts.create_user(email, name, password, roles, how="on the command line")
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {user.email} ({', '.join(sorted(user.roles))}).")


@users_cli.command("reset-link")
@click.argument("email")
@click.option("--hours", type=click.IntRange(1, 24 * 30),
              help="How long the link works (default: PASSWORD_RESET_HOURS, 24).")
def users_reset_link(email, hours):
    """Print a one-time password-reset link for the account with EMAIL.

    The link works once, for PASSWORD_RESET_HOURS hours (24 unless set), and voids
    any older link of that account. It is printed as a full address on
    PUBLIC_BASE_URL when that is set (for example https://academy.example.com), else
    on SERVER_NAME when that is set, else as a path (/auth/reset/...) to put after the
    site's address. Only the token's hash is stored: the link cannot be shown again.
    """
    from flask import url_for

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No account has the email {email}.")
    valid_for = timedelta(hours=hours or current_app.config["PASSWORD_RESET_HOURS"])
    try:
        link = accounts.issue_reset_link(None, user, utcnow(), valid_for)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    config = current_app.config
    with current_app.test_request_context():
        path = url_for("auth.reset_password", token=link.token)
    if config.get("PUBLIC_BASE_URL"):
        url = config["PUBLIC_BASE_URL"].rstrip("/") + path
    elif config.get("SERVER_NAME"):
        url = f"{config.get('PREFERRED_URL_SCHEME') or 'http'}://{config['SERVER_NAME']}{path}"
    else:
        url = path
    click.echo(f"Password-reset link for {user.name} <{user.email}>, valid until"
               f" {link.expires_at:%Y-%m-%d %H:%M} UTC (shown once):")
    click.echo(url)


@attempts_cli.command("close-expired")
def close_expired():
    """Finish every attempt whose time has run out (run it from cron)."""
    grace = timedelta(seconds=current_app.config["EXAM_GRACE_SECONDS"])
    closed = attempts.close_expired(utcnow(), grace)
    click.echo(f"Closed {closed} expired attempt(s).")


DEMO_ACCOUNTS = (
    ("trainee@example.com", "Dana Trainee", ("trainee",)),
    ("trainer@example.com", "Theo Trainer", ("trainer",)),
    ("manager@example.com", "Mina Manager", ("manager",)),
    ("admin@example.com", "Ada Admin", ("admin", "manager", "trainer")),
    # Failed the certification two days ago: shows the study plan and the retake.
    ("retake@example.com", "Rita Retake", ("trainee",)),
)


@demo_cli.command("accounts")
def demo_accounts():
    """Create one account per role, only when there are no users yet."""
    if db.session.scalar(select(func.count()).select_from(User)):
        click.echo("Accounts exist already; no demo accounts created.")
        return
    click.echo("Demo accounts (shown once; keep them):")
    for email, name, roles in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        user = accounts.create_user(email, name, password, roles)
        click.echo(f"  {', '.join(roles):<24} {email:<24} password: {password}")
        if email.startswith("retake@"):
            db.session.commit()
            demo.fail_certification(user, utcnow())
    db.session.commit()


@data_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def data_export(file):
    """Write every record of this database to FILE (JSON lines; '-' for stdout)."""
    with click.open_file(file, "w", encoding="utf-8") as out:
        for line in data_move.export_records(certs.public_key_pems()):
            out.write(line)
    if file != "-":
        total = sum(data_move.counts().values())
        click.echo(f"Exported {total} records to {file}.")


@data_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def data_import(file):
    """Read FILE (from `data export`) into this database, which must be empty and
    migrated to the same revision (`flask --app quizapp db upgrade`)."""
    with open(file, encoding="utf-8") as source:
        try:
            imported = data_move.import_records(source)
            # Before the commit: a file whose keys are refused writes no record.
            kept = certs.keep_issuer_keys(imported.issuer_keys)
        except (data_move.DataMoveError, credentials.CredentialError) as error:
            db.session.rollback()
            click.echo(f"Nothing imported: {error}.".replace("..", "."), err=True)
            sys.exit(2)
    db.session.commit()
    moved = {name: n for name, n in imported.rows.items() if n}
    click.echo(f"Imported {sum(moved.values())} records: "
               + ", ".join(f"{n} {name}" for name, n in moved.items()) + ".")
    if not imported.issuer_keys:
        click.echo("The file held no public key of its issuer: credentials issued before"
                   " the move do not verify here.")
        return
    click.echo(f"The issuer's {len(imported.issuer_keys)} public key(s) are kept here"
               f" ({kept} new, the rest already here): the credentials it signed verify"
               " here (the signing key was not moved; copy it, or set"
               " ISSUER_SIGNING_KEY, to keep signing with it).")


@demo_cli.command("seed-attempts")
def demo_seed_attempts():
    """Simulate 60 trainees in three cohorts taking the exams over the past four
    months (once; a second run changes nothing)."""
    manager = next(email for email, _, roles in DEMO_ACCOUNTS if roles == ("manager",))
    try:
        report = demo.seed_attempts(
            utcnow(), manager_email=manager,
            joining=tuple(email for email, _, roles in DEMO_ACCOUNTS if roles == ("trainee",)))
    except LookupError as error:
        raise click.ClickException(f"Nothing seeded: {error}.") from error
    if report.already_ran:
        click.echo("The demo attempts were seeded already; nothing changed.")
        return
    click.echo(f"Seeded {report.certification_attempts} certification and"
               f" {report.practice_attempts} practice attempts by {demo.TRAINEES} demo"
               f" trainees ({report.trainees_created} accounts created);"
               f" {report.certified} certified.")
    for name, members in report.cohorts.items():
        click.echo(f"  {name}: {members} trainees")
    click.echo(f"Cohorts managed by {report.manager}." if report.manager else
               "No demo manager account: the cohorts have no manager (an admin sees them).")
    click.echo(f"Planted wrong key: {report.planted}." if report.planted else
               f"No wrong key planted: {demo.PLANTED_QUESTION} is not published.")
    click.echo(f"Angoff panel: {report.angoff_ratings} ratings by {len(demo.PANEL)} trainers"
               " (a manager can switch the certification's pass mark to Angoff).")


def _report_options(formats: tuple[str, ...]):
    """EXAM, --format and --all-attempts, the same on every `report` command."""
    def wrap(command):
        command = click.option("--all-attempts", is_flag=True,
                               help="Every finished attempt, not only first attempts.")(command)
        command = click.option("--format", "fmt", type=click.Choice(formats),
                               default=formats[0], show_default=True)(command)
        return click.argument("exam")(command)
    return wrap


def _for_exam(service, exam: str, all_attempts: bool):
    """Call an item-analysis service on EXAM (every attempt the data holds, no viewer
    to narrow it); an unknown exam is a usage error: exit 2."""
    try:
        return service(None, ReportFilter(exam_id=exam), all_attempts)
    except item_analysis.NotFound as error:
        click.echo(f"{error} Name an exam by its id in exams.yaml (for example"
                   " certification, practice-aftercare).", err=True)
        sys.exit(2)


def _print(fmt: str, header, rows, data) -> None:
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for line in csv_lines(header, rows):
            click.echo(line, nl=False)


@report_cli.command("items")
@_report_options(("csv", "json"))
def report_items(exam, fmt, all_attempts):
    """Statistics of each question of EXAM, one row per question."""
    analysis = _for_exam(item_analysis.analyse, exam, all_attempts)
    _print(fmt, item_analysis.ITEM_COLUMNS, item_analysis.item_rows(analysis),
           item_analysis.item_dicts(analysis))


@report_cli.command("exam")
@_report_options(("json", "csv"))
def report_exam(exam, fmt, all_attempts):
    """Statistics of EXAM as a whole: mean, spread, alpha, SEM."""
    analysis = _for_exam(item_analysis.analyse, exam, all_attempts)
    _print(fmt, item_analysis.EXAM_COLUMNS, item_analysis.exam_rows(analysis),
           item_analysis.exam_dict(analysis))


@report_cli.command("responses")
@_report_options(("csv",))
def report_responses(exam, fmt, all_attempts):
    """The response matrix of EXAM: one row per attempt, one column per question
    (its mark, or empty where the question was not on that form)."""
    columns, rows = _for_exam(item_analysis.responses, exam, all_attempts)
    _print(fmt, ["attempt", *columns], item_analysis.response_rows(columns, rows), None)


@certs_cli.command("remind")
def certs_remind():
    """Email the holders of certificates that entered their recertification window
    (once each; run it daily from cron). Without MAIL_SERVER nothing is sent."""
    from quizapp import mailer

    now = utcnow()
    due = certs.due_reminders(now)
    config = current_app.config
    if not mailer.configured(config):
        click.echo(f"Nothing was sent: no SMTP server is configured (MAIL_SERVER)."
                   f" {len(due)} certificate holder(s) are due a reminder.")
        return
    base = certs.public_base_url()
    certificate_of = {}
    mails = []
    for certificate in due:
        subject, body = certs.reminder_text(certificate, base)
        mail = mailer.Mail(certificate.user.email, subject, body)
        certificate_of[id(mail)] = certificate
        mails.append(mail)

    def sent(mail):
        # Recorded as each is accepted, so a failure halfway resends none of them.
        certificate_of[id(mail)].reminded_at = utcnow()
        db.session.commit()

    try:
        count = mailer.send(config, mails, sent)
    except (OSError, smtplib.SMTPException) as error:
        raise click.ClickException(f"Sending stopped: {error}. Those sent are recorded;"
                                   " run the command again to send the rest.") from error
    click.echo(f"Sent {count} reminder(s).")


@certs_cli.command("rotate-key")
def certs_rotate_key():
    """Make a new key to sign credentials with; the old public key stays published, so
    credentials signed before still verify."""
    from quizapp import certs, credentials

    if current_app.config.get("ISSUER_SIGNING_KEY"):
        raise click.ClickException(
            "The signing key comes from ISSUER_SIGNING_KEY: replace it there, and put the"
            " old public key in the key folder's retired/ so it stays published.")
    folder = certs.key_folder()
    new, old = credentials.rotate(folder)
    click.echo(f"New signing key {new}" + (f"; {old} retired, still published." if old else "."))
