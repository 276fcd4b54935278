"""CSV imports of agents, organizations and contacts: all rows or none, or the good ones.

The CLI reads the file (or stdin) and passes its text here with a `source` name for messages.
Every row is checked by the same directory service that `helpdesk agent|org|contact add`
uses, so each rule has one implementation (a contact whose address is already known, an
organization whose name or domain is, is refused there); this module only adds what is about
a file: the header, cell parsing (lists, numbers, yes/no), duplicates between rows, and line
numbers.

All rows are checked before anything is kept. The file goes in inside a SAVEPOINT and each
row inside one of its own, so a row the database refuses does not stop the check of the
rows after it. When any row is bad the file's savepoint is rolled back and `ImportFailed`
lists every bad row as `<source>:<line>: <reason>`, so the file can be fixed in one pass and
the caller's transaction stays usable. With `skip_bad` the good rows are kept and the bad
ones come back in `ImportResult.errors` (the CLI prints them and exits 3).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tui_helpdesk.domain import Role
from tui_helpdesk.rules.identity import InvalidIdentity, normalise_email
from tui_helpdesk.services import directory
from tui_helpdesk.services.desk import desk_settings
from tui_helpdesk.services.errors import ServiceError, ValidationError

AGENT_COLUMNS = ("login", "name", "email", "role", "groups", "skills", "languages", "capacity")
ORGANIZATION_COLUMNS = ("name", "domains", "segment", "sla_policy", "region", "notes")
CONTACT_COLUMNS = (
    "name",
    "email",
    "phone",
    "emails",
    "phones",
    "organization",
    "language",
    "vip",
)

_LIST_SEPARATORS = re.compile(r"[;|]")
_TRUE = frozenset({"1", "y", "yes", "true", "x"})
_FALSE = frozenset({"", "0", "n", "no", "false"})

Row = dict[str, str]


class ImportFailed(ValidationError):
    """Some rows of a file are bad; nothing of the file was written."""

    def __init__(self, errors: Sequence[str], source: str = "input") -> None:
        self.errors = list(errors)
        self.source = source
        count = len(self.errors)
        summary = f"{count} bad row{'' if count == 1 else 's'} in {source}; nothing imported"
        super().__init__("\n".join([summary, *self.errors]))


@dataclass(frozen=True)
class ImportResult:
    created: int
    skipped: int  # rows left out on purpose (none yet: every row is created or refused)
    lines: int  # physical lines read, header included
    errors: tuple[str, ...] = ()  # bad rows left out (`skip_bad`), as `<source>:<line>: why`
    warnings: tuple[str, ...] = ()  # about rows imported, each once, for the user to read

    @property
    def failed(self) -> int:
        return len(self.errors)


class _RowError(Exception):
    """A problem with one cell, found while parsing the row (before any service runs)."""


# --- reading the file ---------------------------------------------------------------------


def _canonical(header: str) -> str:
    return "_".join(header.strip().lower().replace("-", " ").split())


def _read_rows(
    text: str, source: str, known: Sequence[str], required: Sequence[Sequence[str]]
) -> tuple[Iterator[tuple[int, Row | str]], Callable[[], int]]:
    """Check the header, then yield (line, row) per record, or (line, error) for a record
    that does not fit the header. `line` is where the record starts in the file (a quoted
    cell may span lines). The second value returns the physical lines read so far."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ImportFailed([f"{source}:1: unreadable header: {exc}"], source) from None
    if header is None or not any(cell.strip() for cell in header):
        raise ImportFailed(
            [f"{source}:1: no header row (expected columns: {', '.join(known)})"], source
        )
    columns = [_canonical(cell) for cell in header]
    problems = []
    unnamed = [str(i + 1) for i, c in enumerate(columns) if not c]
    if unnamed:
        problems.append(f"header column {', '.join(unnamed)} has no name")
    unknown = [h.strip() for h, c in zip(header, columns, strict=True) if c and c not in known]
    if unknown:
        problems.append(
            f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
            f"(expected: {', '.join(known)})"
        )
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        problems.append(f"column {', '.join(map(repr, repeated))} appears more than once")
    for alternatives in required:
        if not any(name in columns for name in alternatives):
            problems.append(f"missing required column {' or '.join(map(repr, alternatives))}")
    if problems:
        raise ImportFailed([f"{source}:1: {'; '.join(problems)}"], source)

    def rows() -> Iterator[tuple[int, Row | str]]:
        line = reader.line_num
        while True:
            start = line + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield start, f"unreadable CSV: {exc}"
                return
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            if len(cells) > len(columns):
                yield start, f"{len(cells)} fields, but the header has {len(columns)}"
                continue
            yield start, {c: cell.strip() for c, cell in zip(columns, cells, strict=False)}

    return rows(), lambda: reader.line_num


def _items(value: str | None) -> list[str]:
    return [part.strip() for part in _LIST_SEPARATORS.split(value or "") if part.strip()]


def _flag(value: str | None, column: str) -> bool:
    word = (value or "").strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise _RowError(f"{column}: expected yes or no, got {value!r}")


def _optional(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


# --- the import loop ----------------------------------------------------------------------


def _run(
    session: Session,
    source: str,
    rows: Iterator[tuple[int, Row | str]],
    lines: Callable[[], int],
    duplicate_keys: Callable[[Row], list[tuple[str, str]]],
    add: Callable[[Row], object],
    skip_bad: bool,
) -> ImportResult:
    """Feed each row to `add` inside a savepoint of its own, all inside the file's savepoint;
    roll the file back if any row failed, unless `skip_bad`."""
    errors: list[str] = []
    first_seen: dict[tuple[str, str], int] = {}
    created = 0
    with session.begin_nested():
        for line, row in rows:
            if isinstance(row, str):
                errors.append(f"{source}:{line}: {row}")
                continue
            clashes = []
            for what, key in duplicate_keys(row):
                earlier = first_seen.setdefault((what, key), line)
                if earlier != line:
                    clashes.append(f"duplicate {what} {key!r} (also on line {earlier})")
            if clashes:
                errors.append(f"{source}:{line}: {'; '.join(clashes)}")
                continue
            try:
                with session.begin_nested():
                    add(row)
            except (ServiceError, _RowError) as exc:
                errors.append(f"{source}:{line}: {exc}")
                continue
            except SQLAlchemyError as exc:
                # The database refused what the checks let through; the row's savepoint is
                # rolled back and the rows after it are still checked.
                reason = str(getattr(exc, "orig", exc)).splitlines()[0]
                errors.append(f"{source}:{line}: refused by the database: {reason}")
                continue
            created += 1
        if errors and not skip_bad:
            raise ImportFailed(errors, source)  # leaving the block rolls the savepoint back
    return ImportResult(created=created, skipped=0, lines=lines(), errors=tuple(errors))


# --- agents -------------------------------------------------------------------------------


def _role(value: str | None) -> Role:
    word = (value or "").strip().lower()
    if not word:
        return Role.AGENT
    try:
        return Role(word)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise _RowError(f"role must be one of {roles}, got {value!r}") from None


def _capacity(value: str | None) -> int:
    if not value or not value.strip():
        return directory.AgentDraft("x", "x").capacity
    try:
        return int(value)
    except ValueError:
        raise _RowError(f"capacity: expected a whole number, got {value!r}") from None


def import_agents(
    session: Session, now: datetime, text: str, *, source: str, skip_bad: bool = False
) -> ImportResult:
    """Agents from CSV: login,name,email,role,groups,skills,languages,capacity (lists split
    on `;` or `|`). The groups must exist."""
    rows, lines = _read_rows(text, source, AGENT_COLUMNS, [("login",)])

    def keys(row: Row) -> list[tuple[str, str]]:
        login = row.get("login", "")
        return [("login", login)] if login else []

    def add(row: Row) -> object:
        login = row.get("login", "")
        return directory.add_agent(
            session,
            now,
            directory.AgentDraft(
                login=login,
                name=row.get("name") or login,
                email=_optional(row.get("email")),
                role=_role(row.get("role")),
                groups=_items(row.get("groups")),
                skills=_items(row.get("skills")),
                languages=_items(row.get("languages")),
                capacity=_capacity(row.get("capacity")),
            ),
        )

    return _run(session, source, rows, lines, keys, add, skip_bad)


# --- organizations ------------------------------------------------------------------------


def import_organizations(
    session: Session, now: datetime, text: str, *, source: str, skip_bad: bool = False
) -> ImportResult:
    """Organizations from CSV: name,domains,segment,sla_policy,region,notes (domains split on
    `;` or `|`)."""
    rows, lines = _read_rows(text, source, ORGANIZATION_COLUMNS, [("name",)])
    warnings: list[str] = []  # of the rows added (a row that fails raises before it returns)

    def keys(row: Row) -> list[tuple[str, str]]:
        name = row.get("name", "")
        found = [("organization", name.lower())] if name else []
        domains = {d.lower().lstrip("@") for d in _items(row.get("domains"))}
        return found + [("domain", d) for d in sorted(domains)]

    def add(row: Row) -> object:
        added = directory.create_organization(
            session,
            now,
            directory.OrganizationDraft(
                name=row.get("name", ""),
                domains=_items(row.get("domains")),
                segment=row.get("segment") or "standard",
                sla_policy=_optional(row.get("sla_policy")),
                region=_optional(row.get("region")),
                notes=_optional(row.get("notes")),
            ),
        )
        warnings.extend(added.warnings)
        return added.organization

    result = _run(session, source, rows, lines, keys, add, skip_bad)
    return replace(result, warnings=tuple(dict.fromkeys(warnings)))


# --- contacts -----------------------------------------------------------------------------


def import_contacts(
    session: Session, now: datetime, text: str, *, source: str, skip_bad: bool = False
) -> ImportResult:
    """Contacts from CSV: name,email,phone,emails,phones,organization,language,vip (`emails`
    and `phones` split on `;` or `|`; `email` / `phone`, else the first of the lists, is the
    primary one). Each row needs an email or a phone; an address another contact (or an
    earlier row) has is refused, and so is a row without an address whose name and number
    (normalised) are those of a contact already known (or of an earlier row), so a file can
    be imported twice without doubling anyone; local phone numbers are read in the desk's
    phone region. The organization must exist; without one, an email's domain picks it."""
    rows, lines = _read_rows(
        text, source, CONTACT_COLUMNS, [("email", "phone", "emails", "phones")]
    )
    region = desk_settings(session).phone_region

    def keys(row: Row) -> list[tuple[str, str]]:
        found = []
        for address in [row.get("email", ""), *_items(row.get("emails"))]:
            with suppress(InvalidIdentity):  # add_contact says what is wrong with it
                found.append(("email", normalise_email(address)))
        if not row.get("email") and not _items(row.get("emails")):
            # Known by phone only: the same name at the same number is the same person
            # (`directory.name_key`), as add_contact rules for contacts already kept.
            for number in [row.get("phone", ""), *_items(row.get("phones"))]:
                with suppress(ServiceError):
                    phone = directory.clean_phone(number, region)
                    if phone:
                        name = directory.name_key(row.get("name") or phone)
                        found.append(("contact", f"{name}, {phone}"))
        return list(dict.fromkeys(found))

    def add(row: Row) -> object:
        return directory.add_contact(
            session,
            now,
            directory.ContactDraft(
                name=_optional(row.get("name")),
                email=_optional(row.get("email")),
                phone=_optional(row.get("phone")),
                organization=_optional(row.get("organization")),
                language=_optional(row.get("language")),
                vip=_flag(row.get("vip"), "vip"),
                emails=_items(row.get("emails")),
                phones=_items(row.get("phones")),
            ),
            region,
        )

    return _run(session, source, rows, lines, keys, add, skip_bad)
