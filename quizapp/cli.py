"""Commands: `flask --app quizapp bank|users|attempts|demo ...`."""

from __future__ import annotations

import json
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from quizapp import accounts, attempts, demo, exchange
from quizapp.bank import check_bank, guess, load_bank
from quizapp.bank.check import copied_wording, read_sources
from quizapp.bank.coverage import summary
from quizapp.bank_store import export_json, import_bank
from quizapp.extensions import db
from quizapp.models import ROLES, User, utcnow

bank_cli = AppGroup("bank", help="Check, import, export and count the question bank.")
users_cli = AppGroup("users", help="Manage accounts.")
attempts_cli = AppGroup("attempts", help="Look after exam attempts.")
demo_cli = AppGroup("demo", help="Set up the demonstration.")


def register(app) -> None:
    for group in (bank_cli, users_cli, attempts_cli, demo_cli):
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
        user = accounts.create_user(email, name, password, roles)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {user.email} ({', '.join(sorted(user.roles))}).")


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
