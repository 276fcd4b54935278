"""Finding contacts by name, number and organization: the SQL, per back end.

`services.customers.find_callers` asks for candidates here tier by tier and ranks them. Every
query below has a LIMIT, and those on contacts are served by an index, so the work of a
lookup is bounded whatever the number of contacts (nothing reads the contacts table whole;
organizations, a few thousand, are matched by reading their names):

- names on SQLite go through `contacts_fts` (FTS5, trigram tokenizer, rowid = contacts.id):
  a quoted phrase is a substring match, `^` anchors it at the start of the name. Text typed by
  a user only ever reaches MATCH inside "quoted" strings with `"` doubled, so FTS5 syntax in
  it (`*`, `NEAR(`, `AND`, `"`) is plain text. On PostgreSQL the same matches are `ILIKE`
  patterns (with `%`, `_` and `\\` escaped) served by the pg_trgm GIN index
  `ix_search_contacts_name`, except "starts with", a range of the B-tree on `lower(name)`
  (`ix_search_contacts_name_prefix`, migration 0007); fuzzy candidates are ordered by
  pg_trgm's `similarity()`.
- typo tolerance: a word with one typo keeps either its first or its last part intact, so
  fuzzy candidates are names that contain, for every longer word of the query, its first or
  its last part (`fuzzy_pieces`). That is a handful of trigram lookups ANDed and ORed, cheap
  on both back ends even when thousands of names share common trigrams, where ranking every
  name that shares one trigram with the query (bm25 over an OR of trigrams, or pg_trgm's `%`)
  costs tens of milliseconds at 200,000 contacts.
- partial numbers: the beginning of a number, as an index range on `contact_phones.phone`
  (a number's end or middle would need a scan of every number).

Also here, in plain Python: how alike a name is to what was typed (`fold`, `trigrams`,
`name_similarity`), how a partial number may begin in E.164 (`number_prefixes`); and
`elapsed_seconds`, the one date arithmetic customer history needs, per back end.
"""

from __future__ import annotations

import enum
import unicodedata
from difflib import SequenceMatcher
from typing import Any

import phonenumbers
from sqlalchemy import ColumnElement, String, and_, bindparam, func, or_, select, text
from sqlalchemy.orm import Session

from tui_helpdesk.store.functions import like_escape
from tui_helpdesk.store.models import Contact, ContactEmail, ContactPhone, Organization

MIN_PIECE = 3  # a trigram index finds nothing shorter
MAX_WORDS = 6  # of a query, for fuzzy matching


class NameMatch(enum.StrEnum):
    PREFIX = "prefix"  # the name starts with the text (an equal name is one of these)
    WORD = "word"  # a later word of the name starts with the text
    CONTAINS = "contains"  # the text is anywhere in the name


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def fts_phrase(value: str) -> str:
    """`value` as one FTS5 string: a phrase, whatever characters it holds."""
    return '"' + value.replace('"', '""') + '"'


def _fts_candidates(session: Session, match: str, limit: int) -> list[tuple[int, str]]:
    rows = session.execute(
        text(
            "SELECT c.id, c.name FROM contacts_fts JOIN contacts AS c ON c.id = contacts_fts.rowid "
            "WHERE contacts_fts MATCH :match AND c.merged_into_id IS NULL LIMIT :limit"
        ),
        {"match": match, "limit": limit},
    )
    return [(row[0], row[1]) for row in rows]


def _literal(pattern: str) -> Any:
    """A LIKE pattern written into the SQL: psycopg prepares a statement run often, and
    PostgreSQL's generic plan for `name ILIKE $1` cannot know how selective the pattern is
    (nor, for `LIKE $1`, that it is a prefix) and scans the whole table. The value is quoted
    by SQLAlchemy."""
    return bindparam(None, pattern, type_=String(), literal_execute=True)


def _ilike(pattern: str) -> ColumnElement[bool]:
    """`contacts.name ILIKE pattern` (the pg_trgm index `ix_search_contacts_name`)."""
    return Contact.name.ilike(_literal(pattern), escape="\\")


def _starts_with(value: str) -> ColumnElement[bool]:
    """`lower(contacts.name) LIKE 'value%'`: a range of the B-tree `ix_search_contacts_name_prefix`
    (`value` is lower case already). The trigram index would find every name holding the
    value's trigrams anywhere, and read them all to keep the few that start with it."""
    return func.lower(Contact.name).like(_literal(like_escape(value) + "%"), escape="\\")


def _pg_candidates(session: Session, condition: Any, limit: int) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Contact.id, Contact.name)
        .where(condition, Contact.merged_into_id.is_(None))
        .limit(limit)
    )
    return [(row[0], row[1]) for row in rows]


def name_candidates(
    session: Session, how: NameMatch, value: str, limit: int
) -> list[tuple[int, str]]:
    """(id, name) of up to `limit` unmerged contacts whose name matches `value` (lower case,
    at least three characters) as `how` says, in no particular order."""
    if len(value) < MIN_PIECE:
        return []
    if _is_sqlite(session):
        match = {
            NameMatch.PREFIX: "^" + fts_phrase(value),
            NameMatch.WORD: f"{fts_phrase(' ' + value)} OR {fts_phrase('-' + value)}",
            NameMatch.CONTAINS: fts_phrase(value),
        }[how]
        return _fts_candidates(session, match, limit)
    if how is NameMatch.PREFIX:
        return _pg_candidates(session, _starts_with(value), limit)
    escaped = like_escape(value)
    patterns = {
        NameMatch.WORD: [f"% {escaped}%", f"%-{escaped}%"],
        NameMatch.CONTAINS: [f"%{escaped}%"],
    }[how]
    condition = or_(*(_ilike(p) for p in patterns))
    return _pg_candidates(session, condition, limit)


def fuzzy_pieces(query: str) -> list[list[str]]:
    """What a name must contain to be a fuzzy candidate for `query` (lower case): for each
    word of four letters or more, its first or its last part (one typo leaves one of them
    whole), or, where two letters typed the wrong way round ("Jnoes") fall in both parts,
    the word with those two swapped back (each such swap, whole); shorter words are too
    short to survive a typo and only count when the query has no longer word. Words are
    runs of letters and digits (pg_trgm indexes nothing else). An empty list: nothing to
    look for."""
    words = "".join(c if c.isalnum() else " " for c in query).split()
    words = [w for w in words if len(w) >= MIN_PIECE][:MAX_WORDS]
    long_words = [w for w in words if len(w) > MIN_PIECE]
    if not long_words:
        return [words] if words else []
    pieces = []
    for word in long_words:
        size = max(MIN_PIECE, len(word) // 2)
        # The swaps of letters i and i + 1 that reach into both parts.
        swapped = [
            word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            for i in range(max(0, len(word) - size - 1), min(size, len(word) - 1))
        ]
        pieces.append(list(dict.fromkeys([word[:size], word[-size:], *swapped])))
    return pieces


def fuzzy_candidates(session: Session, query: str, limit: int, scan: int) -> list[tuple[int, str]]:
    """(id, name) of up to `limit` unmerged contacts that may be `query` (lower case) with
    typos, from at most `scan` names that hold the `fuzzy_pieces`. PostgreSQL orders them by
    trigram similarity to the query; SQLite leaves the ranking to the caller."""
    pieces = fuzzy_pieces(query)
    if not pieces:
        return []
    if _is_sqlite(session):
        match = " AND ".join(
            "(" + " OR ".join(fts_phrase(piece) for piece in alternatives) + ")"
            for alternatives in pieces
        )
        return _fts_candidates(session, match, min(limit, scan))
    condition = and_(
        *(or_(*(_ilike(f"%{like_escape(p)}%") for p in alternatives)) for alternatives in pieces)
    )
    scanned = (
        select(Contact.id, Contact.name)
        .where(condition, Contact.merged_into_id.is_(None))
        .limit(scan)
        .subquery()
    )
    rows = session.execute(
        select(scanned.c.id, scanned.c.name)
        .order_by(func.similarity(scanned.c.name, query).desc(), scanned.c.id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in rows]


def _starting(column: Any, prefix: str) -> tuple[ColumnElement[bool], ...]:
    """`column` starts with `prefix` (not empty), as a range of its index: exact in byte
    order, and the LIKE keeps it exact under any collation."""
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return column >= prefix, column < end, column.like(like_escape(prefix) + "%", escape="\\")


def phone_prefix_candidates(
    session: Session, prefixes: list[str], limit: int
) -> list[tuple[int, str]]:
    """(contact id, number) of numbers starting with one of `prefixes` ("+3902..."), as index
    ranges on `contact_phones.phone`, unmerged contacts only, at most `limit`."""
    found: dict[tuple[int, str], None] = {}
    for prefix in dict.fromkeys(prefixes):
        if len(found) >= limit:
            break
        rows = session.execute(
            select(ContactPhone.contact_id, ContactPhone.phone)
            .join(Contact, Contact.id == ContactPhone.contact_id)
            .where(*_starting(ContactPhone.phone, prefix), Contact.merged_into_id.is_(None))
            .order_by(ContactPhone.phone, ContactPhone.contact_id)
            .limit(limit - len(found))
        )
        found.update(((row[0], row[1]), None) for row in rows)
    return list(found)


def email_prefix_candidates(session: Session, prefix: str, limit: int) -> list[tuple[int, str]]:
    """(contact id, address) of addresses starting with `prefix` (lower case), an index
    range on `contact_emails.email`, unmerged contacts only, at most `limit`: "zoe" finds
    zoe.mueller@... whose name is written "Zoë"."""
    rows = session.execute(
        select(ContactEmail.contact_id, ContactEmail.email)
        .join(Contact, Contact.id == ContactEmail.contact_id)
        .where(*_starting(ContactEmail.email, prefix), Contact.merged_into_id.is_(None))
        .order_by(ContactEmail.email)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in rows]


ORG_TYPO_SIMILARITY = 0.8  # how alike a name with a typo must be ("castelo": Castello Foods)
ORG_TYPO_SHORTLIST = 20  # names compared letter by letter, the closest by trigrams


def organizations_named(session: Session, value: str, limit: int) -> list[Organization]:
    """Organizations whose name contains `value` (lower case; shorter than three characters,
    whose name is `value`): equal first, then starting with it, then the rest; when none
    does, names alike despite a typo. Organizations are few (thousands), so this reads
    their names."""
    found = _organizations_containing(session, value, limit)
    if found or len(value) <= MIN_PIECE:
        return found
    return _organizations_alike(session, value, limit)


def _organizations_alike(session: Session, value: str, limit: int) -> list[Organization]:
    """Organizations whose name is like `value` but for a typo or two: every name's
    trigrams against the query's, the closest few then compared letter by letter."""
    folded = fold(value)
    wanted = trigrams(folded)
    names = [(org_id, fold(name)) for org_id, name in session.execute(_ORG_NAMES)]
    closest = sorted(names, key=lambda row: -trigram_similarity(wanted, trigrams(row[1])))
    scored = [
        (similarity, org_id)
        for org_id, name in closest[:ORG_TYPO_SHORTLIST]
        if (similarity := name_similarity(folded, name)) >= ORG_TYPO_SIMILARITY
    ]
    ids = [org_id for _score, org_id in sorted(scored, key=lambda s: (-s[0], s[1]))[:limit]]
    orgs = {o.id: o for o in session.scalars(select(Organization).where(Organization.id.in_(ids)))}
    return [orgs[i] for i in ids if i in orgs]


_ORG_NAMES = select(Organization.id, Organization.name)


def _organizations_containing(session: Session, value: str, limit: int) -> list[Organization]:
    name = func.lower(Organization.name)
    escaped = like_escape(value)
    matches = name == value if len(value) < MIN_PIECE else name.like(f"%{escaped}%", escape="\\")
    ranked = (
        select(Organization)
        .where(matches)
        .order_by(
            (name == value).desc(),
            name.like(f"{escaped}%", escape="\\").desc(),
            name,
        )
        .limit(limit)
    )
    return list(session.scalars(ranked))


def organization_contacts(session: Session, org_ids: list[int], limit: int) -> list[Contact]:
    """Up to `limit` unmerged contacts of these organizations (through the organization
    index; the organizations' order first, then the oldest contacts)."""
    found: list[Contact] = []
    for org_id in org_ids:
        if len(found) >= limit:
            break
        found += session.scalars(
            select(Contact)
            .where(Contact.organization_id == org_id, Contact.merged_into_id.is_(None))
            .order_by(Contact.id)
            .limit(limit - len(found))
        )
    return found


# --- comparing names and numbers ---------------------------------------------------------


def fold(value: str) -> str:
    """Lower case, accents dropped, spaces collapsed: how names are compared."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


def name_similarity(query: str, name: str) -> float:
    """How alike a folded query and a folded name are (0..1): the whole strings, or word by
    word (each query word against the name's closest word), whichever is closer."""
    whole = SequenceMatcher(None, query, name).ratio()
    words = name.split()
    if not words:
        return whole
    per_word = [max(SequenceMatcher(None, w, n).ratio() for n in words) for w in query.split()]
    return max(whole, sum(per_word) / len(per_word) if per_word else 0.0)


def trigrams(folded: str) -> set[str]:
    """The trigrams of a folded name, each word padded as pg_trgm does ("  jo", " jon", ...)."""
    grams: set[str] = set()
    for word in folded.split():
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def trigram_similarity(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def number_prefixes(query: str, digits: str, region: str | None) -> list[str]:
    """How a partial number may begin in E.164: as typed (+39 02..., 0039 02...), or local
    to the desk's region (02 12... in Italy, 020 79... in Britain without its trunk 0)."""
    if query.lstrip().startswith("+"):
        return ["+" + digits]
    if digits.startswith("00"):
        return ["+" + digits[2:]]
    prefixes = []
    if region:
        code = phonenumbers.country_code_for_region(region.upper())
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
        trunk = meta.national_prefix if meta is not None else None
        national = digits[len(trunk) :] if trunk and digits.startswith(trunk) else digits
        if code:
            prefixes.append(f"+{code}{national}")
    return [*prefixes, "+" + digits]
