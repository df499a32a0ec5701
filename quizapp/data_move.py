"""Move every record from one database to another (SQLite to PostgreSQL, say).

`export_records` writes one JSON object per line: a header naming the schema revision,
the public halves of the issuer's keys (so credentials signed here verify wherever the
records go; the private signing key never travels in this file), then every row of
every table, parents before children. `import_records` reads such a file into an
empty database at the same revision. Both walk the models' metadata, so a
table added later moves without a change here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import LargeBinary, Table, func, insert, select, text, update

from quizapp.extensions import db
from quizapp.models import UTCDateTime

FORMAT = "quizapp-records"
VERSION = 1
BATCH = 1000


class DataMoveError(ValueError):
    """The file or the target database does not allow the move; nothing was written."""


def _tables() -> list[Table]:
    return list(db.metadata.sorted_tables)


def _revision() -> str | None:
    return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _to_json(value):
    """Times as ISO 8601 text, bytes (a stored PDF) as base64; the rest is JSON already."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def export_records(public_keys: Iterable[str] = ()) -> Iterator[str]:
    """The whole database as JSON lines, streamed table by table in key order, after
    the issuer's `public_keys` (PEM)."""
    yield json.dumps({"format": FORMAT, "version": VERSION, "revision": _revision()}) + "\n"
    for pem in public_keys:
        yield json.dumps({"issuer_key": pem}) + "\n"
    for table in _tables():
        columns = list(table.columns)
        query = select(*columns).order_by(*table.primary_key.columns)
        for row in db.session.execute(query.execution_options(yield_per=BATCH)):
            record = {c.name: _to_json(v) for c, v in zip(columns, row, strict=True)}
            yield json.dumps({"table": table.name, "row": record}, ensure_ascii=False) + "\n"


def counts() -> dict[str, int]:
    """Rows per table, for the report and for checking a move."""
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in _tables()}


def _decoder(table: Table):
    stamps = {c.name for c in table.columns if isinstance(c.type, UTCDateTime)}
    blobs = {c.name for c in table.columns if isinstance(c.type, LargeBinary)}

    def value_of(name: str, value):
        if value is None:
            return None
        if name in stamps:
            return datetime.fromisoformat(value)
        if name in blobs:
            return base64.b64decode(value)
        return value

    def decode(row: dict) -> dict:
        unknown = set(row) - set(table.columns.keys())
        if unknown:
            raise DataMoveError(f"{table.name}: unknown column(s) {', '.join(sorted(unknown))}")
        return {name: value_of(name, value) for name, value in row.items()}

    return decode


def _self_references(table: Table) -> list[str]:
    """Columns pointing at another row of the same table: written after every row is in,
    since a row may point at a later one (an old certificate at its successor)."""
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]


@dataclass
class Imported:
    rows: dict[str, int]  # per table
    issuer_keys: list[str]  # the public keys (PEM) the source installation signed with


def import_records(lines: Iterable[str]) -> Imported:
    """Read an export into this (empty, migrated) database.

    Refuses a non-empty database and a file from another schema revision, before
    writing anything. The caller commits, and keeps the issuer keys.
    """
    lines = iter(lines)
    try:
        header = json.loads(next(lines))
    except (StopIteration, json.JSONDecodeError) as error:
        raise DataMoveError("This is not a records file: its first line is no header.") \
            from error
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise DataMoveError("This is not a records file made by `data export`.")
    here = _revision()
    if header.get("revision") != here:
        raise DataMoveError(
            f"The file is at schema revision {header.get('revision')}, this database at"
            f" {here}. Run `flask --app quizapp db upgrade` on the older side first.")
    held = {name: n for name, n in counts().items() if n}
    if held:
        listed = ", ".join(f"{n} {name}" for name, n in sorted(held.items()))
        raise DataMoveError(f"This database is not empty ({listed}); import only into an"
                            " empty database, so nothing is mixed or overwritten.")
    tables = {table.name: table for table in _tables()}
    imported: dict[str, int] = dict.fromkeys(tables, 0)
    pending: list[dict] = []
    current: Table | None = None
    later: list[tuple[Table, dict]] = []  # self-references, set once all rows are in

    def flush() -> None:
        if pending:
            db.session.execute(insert(current), pending)
            pending.clear()

    decode = None
    issuer_keys: list[str] = []
    for number, line in enumerate(lines, start=2):
        try:
            entry = json.loads(line)
            if "issuer_key" in entry:
                issuer_keys.append(str(entry["issuer_key"]))
                continue
            table = tables[entry["table"]]
            row = entry["row"]
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise DataMoveError(f"Line {number} is not a record of a known table.") from error
        if table is not current:
            flush()
            current, decode = table, _decoder(table)
        row = decode(row)
        deferred = {name: row[name] for name in _self_references(table)
                    if row.get(name) is not None}
        if deferred:
            later.append((table, {**{c.name: row[c.name] for c in table.primary_key},
                                  **deferred}))
            row = {**row, **dict.fromkeys(deferred)}
        pending.append(row)
        imported[table.name] += 1
        if len(pending) >= BATCH:
            flush()
    flush()
    for table, values in later:
        keys = [c for c in table.primary_key.columns]
        db.session.execute(update(table).where(*(c == values[c.name] for c in keys))
                           .values({k: v for k, v in values.items()
                                    if k not in {c.name for c in keys}}))
    _reset_sequences()
    return Imported(imported, issuer_keys)


def _reset_sequences() -> None:
    """PostgreSQL hands out ids from sequences that an INSERT with explicit ids does not
    move: set each to the largest id imported, so the next row gets a fresh one."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in _tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                    column.autoincrement == "auto" and column.type.python_type is int
                    and len(table.primary_key.columns) == 1):
                db.session.execute(text(
                    "SELECT setval(pg_get_serial_sequence(:table, :column),"
                    f" COALESCE((SELECT max({column.name}) FROM \"{table.name}\"), 0) + 1,"
                    " false)"), {"table": f'"{table.name}"', "column": column.name})
