"""The search box language, and the word tools behind suggestions and typo tolerance.

This module owns what people may type to search tickets and knowledge articles
(`printer -toner "paper jam" tag:hardware category:"Technical > Network" passw*`) and turns it
into a `SearchQuery` made of plain, normalised tokens: every token is a run of `\\w`
characters in lower case, at most 64 characters long. Nothing of the input's punctuation
survives, so the full-text back ends (SQLite FTS5 and PostgreSQL tsvector, in `store/`) can
quote each token and bind it as a parameter: FTS5 or tsquery operators typed by a user
(`NEAR(`, `AND`, `*`, `^`, `:`, `&`, `!`) are either dropped here or reach the index as
ordinary words. `parse_query` never raises, whatever the text.

Also here, for the services that suggest knowledge articles and similar tickets while a ticket
is being written: `keywords` (the informative words of free text) and `close_words` (typo
tolerance: vocabulary words within a small Damerau-Levenshtein distance).

Normalisation is `str.lower()`, not `str.casefold()`: both back ends index lower-cased text
(FTS5 unicode61, PostgreSQL `simple`), and casefolding would turn "Straße" into "strasse" and
"ﬁle" into "file", which neither index contains. Tags are normalised as the ticket services
store them (lower case, spaces as dashes).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

MAX_TOKEN_CHARS = 64
# A pasted paragraph in quotes is still one phrase; past this many words we keep the start
# (a shorter phrase matches a superset, never less) so one term cannot become huge.
MAX_PHRASE_WORDS = 32
MAX_QUERY_CHARS = 4096  # a search box, not a document: the rest of a pasted page is ignored
MAX_TAG_CHARS = 64  # the ticket_tags.tag column
MAX_CATEGORY_CHARS = 400  # the categories.path column

_WORD = re.compile(r"\w+")
_ALL_WORD = re.compile(r"\w+\Z")
_BARE = re.compile(r'[^\s"]*')
_STARRED = re.compile(r"\w\*+\Z")  # `passw*`: a word character, then only stars
_KEY = re.compile(r"(tag|category):", re.IGNORECASE)
# PostgreSQL refuses NUL in text parameters; no control character belongs in a tag or a path.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Term:
    """One thing to look for: a word, or a phrase (several words in this order)."""

    words: tuple[str, ...]
    phrase: bool
    negated: bool
    prefix: bool  # the last word may be the start of a longer one


@dataclass(frozen=True)
class SearchQuery:
    """A parsed search: terms to match in text, and filters on tags and categories."""

    text: str
    terms: tuple[Term, ...]
    tags: tuple[str, ...]
    excluded_tags: tuple[str, ...]
    categories: tuple[str, ...]

    @property
    def positive(self) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if not term.negated)

    @property
    def negative(self) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if term.negated)

    @property
    def is_empty(self) -> bool:
        """Nothing to search for: "everything except x" is not a query."""
        return not (self.positive or self.tags or self.categories)


# --- tokens ----------------------------------------------------------------------------------


def normalise_token(raw: str) -> str:
    """A `\\w+` run as an index token: lower case, at most 64 characters; "" if nothing is left.

    Lower-casing can produce combining marks, which are not `\\w` ("İ" becomes "i" + U+0307):
    they are dropped, as the back ends' tokenizers drop them. A token of underscores alone is
    dropped too: both back ends treat "_" as a separator, so it could never match.
    """
    token = raw.lower()
    for _ in range(3):  # lower() of a lower-cased string is (nearly always) a fixed point
        if _ALL_WORD.match(token) and token == token.lower():
            break
        token = "".join(_WORD.findall(token)).lower()
    else:
        return ""
    token = token[:MAX_TOKEN_CHARS]
    return token if token.strip("_") else ""


def tokens(text: str) -> list[str]:
    """The normalised tokens of `text`, in order (repeats kept). Expects NFC text."""
    out: list[str] = []
    for match in _WORD.finditer(text):
        token = normalise_token(match.group())
        if token:
            out.append(token)
    return out


def _nfc(text: str) -> str:
    # "café" typed with a combining accent must give the same token as the composed form.
    try:
        return unicodedata.normalize("NFC", text)
    except (TypeError, ValueError):
        return ""


# --- scanning --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """One whitespace- or quote-delimited piece of the input, before normalisation."""

    negated: bool
    key: str | None  # "tag" or "category"
    body: str
    quoted: bool
    star: bool  # a bare body ending in `*` right after a word character
    end: int  # where the piece ends in the (NFC) text


def _scan(text: str) -> Iterator[_Item]:
    """Split on whitespace outside quotes. A quote also starts a new piece in mid-word
    (`foo"bar baz"` is `foo` then the phrase `bar baz`); an unclosed quote runs to the end."""
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negated = False
        while i < n and text[i] == "-":
            negated = True
            i += 1
        if i >= n or text[i].isspace():
            continue  # a lone `-` (or `--`) negates nothing
        key = None
        match = _KEY.match(text, i)
        if match:
            key = match.group(1).lower()
            i = match.end()
        if i < n and text[i] == '"':
            close = text.find('"', i + 1)
            end = n if close < 0 else close + 1
            yield _Item(negated, key, text[i + 1 : close if close >= 0 else n], True, False, end)
            i = end
            continue
        match = _BARE.match(text, i)
        assert match is not None  # `[^\s"]*` always matches, perhaps empty
        body = match.group()
        i = match.end()
        yield _Item(negated, key, body, False, bool(_STARRED.search(body)), i)


# --- the query -------------------------------------------------------------------------------


def _tag(value: str) -> str:
    # As services.ticket_core.normalise_tags stores them, so `tag:"Needs Review"` finds them.
    return _CONTROLS.sub("", value).strip().lower().replace(" ", "-")[:MAX_TAG_CHARS]


def _category(value: str) -> str:
    text = _CONTROLS.sub("", value).strip()
    parts = [part.strip() for part in text.split(">")]
    if len(parts) > 1 and all(parts):
        text = " > ".join(parts)  # "Technical>Network" is the stored "Technical > Network"
    return text[:MAX_CATEGORY_CHARS]


def _add_term(terms: list[Term], term: Term, max_terms: int) -> None:
    """Append unless a term with the same words, phrase and negation is there already.

    A duplicate that differs only in `prefix` keeps the stronger reading: for a positive term
    "foo AND foo*" is just "foo"; for a negated one "NOT foo AND NOT foo*" is "NOT foo*".
    """
    for index, seen in enumerate(terms):
        if (seen.words, seen.phrase, seen.negated) == (term.words, term.phrase, term.negated):
            prefix = (seen.prefix or term.prefix) if term.negated else seen.prefix and term.prefix
            if prefix != seen.prefix:
                terms[index] = Term(seen.words, seen.phrase, seen.negated, prefix)
            return
    if len(terms) < max_terms:
        terms.append(term)


def _unique(values: list[str], *, fold: bool = False) -> tuple[str, ...]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        key = value.lower() if fold else value
        if key not in seen:
            seen.add(key)
            out.append(value)
    return tuple(out)


def parse_query(text: str, *, typing: bool = False, max_terms: int = 32) -> SearchQuery:
    """Parse what was typed in a search box. Never raises.

    `typing=True` is for results while the user types: the last word, when nothing follows
    it, is taken as the start of a word (`prefix`). `max_terms` bounds the terms kept (later
    ones are dropped); tags and categories are bounded by the same number. Only the first
    4,096 characters are read.
    """
    source = _nfc(text[:MAX_QUERY_CHARS]) if isinstance(text, str) else ""
    typing = typing and len(text) <= MAX_QUERY_CHARS  # a cut text has no word being typed
    limit = max(0, max_terms) if isinstance(max_terms, int) else 32
    items = list(_scan(source))
    last = items[-1] if items else None

    terms: list[Term] = []
    tags: list[str] = []
    excluded: list[str] = []
    categories: list[str] = []
    for item in items:
        if item.key == "tag":
            tag = _tag(item.body)
            if tag:
                (excluded if item.negated else tags).append(tag)
            continue
        if item.key == "category":
            category = _category(item.body)
            if category and not item.negated:  # there is no "not in category" filter
                categories.append(category)
            continue
        words = tuple(tokens(item.body)[:MAX_PHRASE_WORDS])
        if not words:
            continue
        single_bare = not item.quoted and len(words) == 1
        typed = (
            typing and item is last and not item.negated and item.end == len(source)
        )  # nothing after it: not even a space, so the word may be unfinished
        prefix = single_bare and (item.star or typed)
        _add_term(terms, Term(words, item.quoted or len(words) > 1, item.negated, prefix), limit)

    return SearchQuery(
        text=text if isinstance(text, str) else "",
        terms=tuple(terms),
        tags=_unique(tags)[:limit],
        excluded_tags=_unique(excluded)[:limit],
        categories=_unique(categories, fold=True)[:limit],
    )


# --- suggestions -----------------------------------------------------------------------------

# English function words, the fragments that contractions leave (don't -> "don", "t"), and
# help-desk filler. "issue", "problem", "help", "ticket", "urgent" are here on purpose: nearly
# every ticket and many articles say them, so they would match everything and rank nothing.
# Words of one or two letters are dropped by `keywords` anyway; they are listed for other users.
_STOP_LIST = """
    a about above after again against all already also am an and any anyone anything are as at
    be because been before being below between both but by can cannot could did do does doing
    done down during each either else even ever every few for from further get gets getting got
    had has have having he her here hers herself him himself his how however i if in into is it
    its itself just me might more most much must my myself no nor not now of off on once only or
    other our ours ourselves out over own per same shall she should since so some someone
    something still such than that the their theirs them themselves then there these they this
    those though through thus to too under until up upon us very via was we were what whatever
    when where whether which while who whom whose why will with within without would yet you
    your yours yourself yourselves
    aren couldn didn doesn don hadn hasn haven isn shan shouldn wasn weren won wouldn ll ve re
    hello hi hey dear greetings thanks thank thx please pls kindly regards kind best cheers
    sincerely team sir madam help issue issues problem problems ticket asap urgent urgently need
    needs want like know let able unable try tried trying seems today yesterday
"""
STOP_WORDS: frozenset[str] = frozenset(_STOP_LIST.split())


def keywords(text: str, *, limit: int = 12) -> tuple[str, ...]:
    """The informative words of free text (a ticket being written), for suggestions.

    Normalised tokens without stop words, words of one or two characters, or numbers of fewer
    than four digits (years and error codes like 0x80070005 or 5001 stay); first occurrence
    order, no repeats, the first `limit` of them. Never raises.
    """
    if not isinstance(text, str) or not isinstance(limit, int) or limit <= 0:
        return ()
    found: dict[str, None] = {}
    for match in _WORD.finditer(_nfc(text)):
        token = normalise_token(match.group())
        if len(token) < 3 or token in STOP_WORDS or token in found:
            continue
        if token.isdigit() and len(token) < 4:
            continue
        found[token] = None
        if len(found) >= limit:
            break
    return tuple(found)


# --- typo tolerance --------------------------------------------------------------------------

# rapidfuzz is not a dependency: restricted Damerau-Levenshtein (optimal string alignment,
# an adjacent transposition costs 1) in pure Python, behind filters that reject most
# candidates with a few C-level string operations.


def max_edits(word: str) -> int:
    """How many edits a word of this length tolerates: 0 up to 3 characters, 1 up to 7, then 2."""
    size = len(word)
    return 0 if size < 4 else 1 if size < 8 else 2


def _within_one(a: str, b: str) -> bool:
    """True when a != b and one substitution, insertion, deletion or swap turns a into b."""
    if len(a) > len(b):
        a, b = b, a
    i = 0
    size = len(a)
    while i < size and a[i] == b[i]:
        i += 1
    if size == len(b):
        if i == size:
            return False
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return i + 1 < size and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    return a[i:] == b[i + 1 :]


def osa_distance(a: str, b: str, cutoff: int) -> int | None:
    """Optimal-string-alignment distance of a and b, or None when it is above `cutoff`.

    Only the diagonal band of width 2 * cutoff + 1 is computed: a cell further from the
    diagonal needs more than `cutoff` insertions or deletions to reach.
    """
    la, lb = len(a), len(b)
    if abs(la - lb) > cutoff:
        return None
    far = cutoff + 1
    before = [far] * (lb + 1)
    previous = [j if j <= cutoff else far for j in range(lb + 1)]
    for i in range(1, la + 1):
        char = a[i - 1]
        current = [far] * (lb + 1)
        if i <= cutoff:
            current[0] = i
        best = current[0]
        for j in range(max(1, i - cutoff), min(lb, i + cutoff) + 1):
            other = b[j - 1]
            value = previous[j - 1] + (char != other)
            if previous[j] + 1 < value:
                value = previous[j] + 1
            if current[j - 1] + 1 < value:
                value = current[j - 1] + 1
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                value = min(value, before[j - 2] + 1)
            current[j] = min(value, far)
            best = min(best, value)
        # Every alignment crosses row i, or jumps over it by a swap that costs no less than
        # some cell of row i; so once a whole row is above the cut-off, the end is too.
        if best > cutoff:
            return None
        before, previous = previous, current
    distance = previous[lb]
    return distance if distance <= cutoff else None


def _pieces(word: str, k: int) -> tuple[str, str, str]:
    """Prefix, middle and suffix of `word` such that k edits leave one of them intact.

    The edits touch the word at most at two spots of one or two characters (a swap touches
    two). With one character left out between the pieces, either every edit is right of the
    prefix, or every edit is left of the suffix, or (k = 2) one is on each side of the middle.
    So a candidate within k edits starts with the prefix, ends with the suffix or (k = 2)
    contains the middle.
    """
    if k == 1:
        half = len(word) // 2
        return word[:half], "", word[half + 1 :]
    side = (len(word) - 2) // 3
    middle_end = len(word) - side - 1
    return word[:side], word[side + 1 : middle_end], word[middle_end + 1 :]


def close_words(word: str, candidates: Iterable[str], *, limit: int = 3) -> list[str]:
    """Candidates a typo away from `word`, nearest first: [(distance, candidate)] order.

    Within 1 edit for words of 4-7 characters, 2 for longer ones, none for shorter ones (an
    edit in "tcp" is a different word, not a typo). Comparison ignores case; the word itself
    is never returned. For the "did you mean" of knowledge and ticket search.
    """
    if not isinstance(word, str) or not isinstance(limit, int) or limit <= 0:
        return []
    target = word.lower()
    k = max_edits(target)
    if k == 0:
        return []
    size = len(target)
    letters = set(target)
    head, middle, tail = _pieces(target, k)
    found: dict[str, int] = {}
    for candidate in candidates:
        if not isinstance(candidate, str) or abs(len(candidate) - size) > k:
            continue
        other = candidate.lower()
        if other == target or candidate in found:
            continue
        if not (other.startswith(head) or other.endswith(tail) or (middle and middle in other)):
            continue
        if k == 1:
            if _within_one(target, other):
                found[candidate] = 1
            continue
        # Each edit brings in at most one letter the word lacks and removes at most one.
        mine = set(other)
        if len(mine - letters) > k or len(letters - mine) > k:
            continue
        distance = osa_distance(target, other, k)
        if distance is not None:
            found[candidate] = distance
    ranked = sorted(found.items(), key=lambda pair: (pair[1], pair[0]))
    return [candidate for candidate, _ in ranked[:limit]]
