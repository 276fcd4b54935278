"""The search box language: hand-written tables for every rule (phrases, negation, filters,
operator junk, typing), keywords of a real ticket, typo tolerance, and properties on any text."""

from __future__ import annotations

import random
import re
import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tui_helpdesk.rules.search_query import (
    MAX_PHRASE_WORDS,
    MAX_TOKEN_CHARS,
    STOP_WORDS,
    SearchQuery,
    Term,
    close_words,
    keywords,
    normalise_token,
    osa_distance,
    parse_query,
    tokens,
)

TOKEN = re.compile(r"^\w+$")


def word(*words: str, neg: bool = False, prefix: bool = False) -> Term:
    """A term as a bare word gives it: a phrase when it has several tokens."""
    return Term(tuple(words), len(words) > 1, neg, prefix)


def phrase(*words: str, neg: bool = False) -> Term:
    return Term(tuple(words), True, neg, False)


# --- terms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("printer", [word("printer")]),
        ("  Printer   TONER ", [word("printer"), word("toner")]),
        ('"paper jam"', [phrase("paper", "jam")]),
        ('"jam"', [phrase("jam")]),  # quoted one word is still a phrase
        ('printer "paper jam" tray', [word("printer"), phrase("paper", "jam"), word("tray")]),
        ('"unclosed phrase runs', [phrase("unclosed", "phrase", "runs")]),
        ('a "b c', [word("a"), phrase("b", "c")]),
        ('foo"bar baz"', [word("foo"), phrase("bar", "baz")]),
        ('"bar baz"qux', [phrase("bar", "baz"), word("qux")]),
        ('"a  b"  "c"', [phrase("a", "b"), phrase("c")]),
        ("e-mail", [word("e", "mail")]),
        ("wi-fi's", [word("wi", "fi", "s")]),
        ("don't", [word("don", "t")]),
        ("v2.3.1", [word("v2", "3", "1")]),
        ("snake_case", [word("snake_case")]),
        ('"Paper-Jam, tray 2!"', [phrase("paper", "jam", "tray", "2")]),
    ],
)
def test_words_and_phrases(text: str, terms: list[Term]) -> None:
    assert parse_query(text).terms == tuple(terms)


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("-toner", [word("toner", neg=True)]),
        ("--toner", [word("toner", neg=True)]),
        ('-"paper jam"', [phrase("paper", "jam", neg=True)]),
        ('--"paper jam"', [phrase("paper", "jam", neg=True)]),
        ("printer -toner", [word("printer"), word("toner", neg=True)]),
        ("- toner", [word("toner")]),  # a lone dash negates nothing
        ("printer - -- ---", [word("printer")]),
        ("-e-mail", [word("e", "mail", neg=True)]),
        ("pre-paid", [word("pre", "paid")]),  # a dash inside a word is not a negation
        ('foo-"bar"', [word("foo"), phrase("bar")]),
        ('"-toner"', [phrase("toner")]),  # inside quotes a dash is punctuation
    ],
)
def test_negation(text: str, terms: list[Term]) -> None:
    assert parse_query(text).terms == tuple(terms)


# --- filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tags", "excluded", "categories", "terms"),
    [
        ("tag:vpn", ["vpn"], [], [], []),
        ("TAG:VPN Tag:Hardware", ["vpn", "hardware"], [], [], []),
        ('tag:"Needs Review"', ["needs-review"], [], [], []),  # as tickets store tags
        ('tag:"  padded  "', ["padded"], [], [], []),
        ("tag:vpn tag:VPN", ["vpn"], [], [], []),
        ("-tag:spam", [], ["spam"], [], []),
        ("--tag:spam tag:vpn", ["vpn"], ["spam"], [], []),
        ("tag:", [], [], [], []),
        ('tag:"" tag:"   "', [], [], [], []),
        ("tag: printer", [], [], [], [word("printer")]),
        ("tag:a\x00b", ["ab"], [], [], []),  # no NUL reaches PostgreSQL
        ("category:Network", [], [], ["Network"], []),
        ('category:"Technical > Network"', [], [], ["Technical > Network"], []),
        ('Category:"  Technical > Network "', [], [], ["Technical > Network"], []),
        ("category:Technical>Network", [], [], ["Technical > Network"], []),
        ('category:"Technical > Net', [], [], ["Technical > Net"], []),  # unclosed
        ('category:"Technical >"', [], [], ["Technical >"], []),  # left as written
        ("category:network category:NETWORK", [], [], ["network"], []),
        ("category:", [], [], [], []),
        ("-category:Network", [], [], [], []),  # no such filter: ignored
        (
            'printer tag:hw -tag:old category:"Hardware > Printers" -toner',
            ["hw"],
            ["old"],
            ["Hardware > Printers"],
            [word("printer"), word("toner", neg=True)],
        ),
        ('"tag:vpn"', [], [], [], [phrase("tag", "vpn")]),  # quoted: just words
        ("tags:vpn", [], [], [], [word("tags", "vpn")]),
        ("foo:bar", [], [], [], [word("foo", "bar")]),
        ("col:val", [], [], [], [word("col", "val")]),
        ("http://x.example/a", [], [], [], [word("http", "x", "example", "a")]),
        ("-foo:bar", [], [], [], [word("foo", "bar", neg=True)]),
    ],
)
def test_tags_and_categories(
    text: str, tags: list[str], excluded: list[str], categories: list[str], terms: list[Term]
) -> None:
    query = parse_query(text)
    assert query.tags == tuple(tags)
    assert query.excluded_tags == tuple(excluded)
    assert query.categories == tuple(categories)
    assert query.terms == tuple(terms)


# --- hostile and foreign input ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ['"', '""', '" "', "*", "**", "(", ")", "^", ":", "'", ";--", "-", "--", "- -", "()", "{}",
     "", "   ", "\t\n", "\x00", "«»", "…", "-*", '-"', "-''", "+", "&&", "||", "!"],
)  # fmt: skip
def test_junk_contributes_nothing(text: str) -> None:
    query = parse_query(text, typing=True)
    assert query == SearchQuery(text, (), (), (), ())
    assert query.is_empty


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("NEAR(a b)", [word("near", "a"), word("b")]),  # NEAR is a word, "(" nothing
        ("a AND (b OR c)", [word("a"), word("and"), word("b"), word("or"), word("c")]),
        ("NOT toner", [word("not"), word("toner")]),
        ("printer OR", [word("printer"), word("or")]),
        ("title:printer", [word("title", "printer")]),  # an FTS5 column filter is just words
        ("^printer", [word("printer")]),
        ("printer*", [word("printer", prefix=True)]),
        ("'; DROP TABLE tickets;--", [word("drop"), word("table"), word("tickets")]),
        ("a' OR '1'='1", [word("a"), word("or"), word("1", "1")]),
        ("printer & !toner | tray", [word("printer"), word("toner"), word("tray")]),
        ("toner:*", [word("toner")]),  # tsquery prefix syntax: not ours
        ("{a b}", [word("a"), word("b")]),
        ('"NEAR(a b, 3)"', [phrase("near", "a", "b", "3")]),
    ],
)
def test_operators_are_inert(text: str, terms: list[Term]) -> None:
    assert parse_query(text).terms == tuple(terms)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("café", ("café",)),
        ("cafe\u0301", ("café",)),  # a combining accent is composed first (NFC)
        ("Müller", ("müller",)),
        ("東京", ("東京",)),
        ("Straße", ("straße",)),  # lower(), not casefold(): the indexes keep ß
        ("ΣΟΦΟΣ", ("σοφος",)),
        ("İstanbul", ("istanbul",)),  # lower() adds a combining dot: dropped
        ("Ærøskøbing", ("ærøskøbing",)),
        ("naïve-café", ("naïve", "café")),
        ("٣٤٥", ("٣٤٥",)),
    ],
)
def test_non_ascii_words(text: str, words: tuple[str, ...]) -> None:
    (term,) = parse_query(text).terms
    assert term.words == words


def test_long_tokens_are_cut() -> None:
    (term,) = parse_query("x" * 1000).terms
    assert term.words == ("x" * MAX_TOKEN_CHARS,)
    (term,) = parse_query("É" * 100).terms
    assert term.words == ("é" * MAX_TOKEN_CHARS,)


def test_long_phrases_keep_their_start() -> None:
    text = '"' + " ".join(f"w{i}" for i in range(100)) + '"'
    (term,) = parse_query(text).terms
    assert term.words == tuple(f"w{i}" for i in range(MAX_PHRASE_WORDS))


def test_only_the_start_of_a_huge_text_is_read() -> None:
    text = "printer " * 10 + "x" * 100_000 + " toner"
    started = time.perf_counter()
    query = parse_query(text, typing=True)
    assert time.perf_counter() - started < 1.0
    assert query.text == text
    assert query.terms == (word("printer"), word("x" * MAX_TOKEN_CHARS))  # no prefix: cut
    many = parse_query("a " * 1_000_000 + "tag:late")
    assert many.terms == (word("a"),) and many.tags == ()


def test_underscores_alone_are_no_token() -> None:
    assert parse_query("___ _").terms == ()
    assert parse_query("__init__").terms == (word("__init__"),)


# --- duplicates and limits -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("vpn VPN Vpn", [word("vpn")]),
        ('vpn "vpn"', [word("vpn"), phrase("vpn")]),  # phrase differs
        ("vpn -vpn", [word("vpn"), word("vpn", neg=True)]),  # negation differs
        ('"a b" "A  B" a-b', [phrase("a", "b")]),
        ("-x -x --x", [word("x", neg=True)]),
        ("passw passw*", [word("passw")]),  # "passw AND passw*" is "passw"
        ("passw* passw", [word("passw")]),
        ("-passw -passw*", [word("passw", neg=True, prefix=True)]),  # NOT passw* is stronger
    ],
)
def test_duplicates_kept_once(text: str, terms: list[Term]) -> None:
    assert parse_query(text).terms == tuple(terms)


@pytest.mark.parametrize(
    ("text", "max_terms", "expected"),
    [
        ("a b c d e", 3, ["a", "b", "c"]),
        ("a a b b c", 2, ["a", "b"]),  # duplicates do not use up the budget
        ("a b", 0, []),
        ("a b", -5, []),
        (" ".join(f"w{i}" for i in range(50)), 32, [f"w{i}" for i in range(32)]),
    ],
)
def test_max_terms(text: str, max_terms: int, expected: list[str]) -> None:
    query = parse_query(text, max_terms=max_terms)
    assert [term.words[0] for term in query.terms] == expected


def test_filters_are_bounded_too() -> None:
    query = parse_query(" ".join(f"tag:t{i}" for i in range(10)), max_terms=4)
    assert query.tags == ("t0", "t1", "t2", "t3")


# --- typing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "typing", "terms"),
    [
        ("pass", True, [word("pass", prefix=True)]),
        ("pass", False, [word("pass")]),
        ("pass ", True, [word("pass")]),  # the space ends the word
        ("pass\t", True, [word("pass")]),
        ("printer pass", True, [word("printer"), word("pass", prefix=True)]),
        ('"pass"', True, [phrase("pass")]),  # closing quote ends the word
        ('"paper ja', True, [phrase("paper", "ja")]),  # phrases are never prefixes
        ("foo -ba", True, [word("foo"), word("ba", neg=True)]),  # only a positive word
        ("e-ma", True, [word("e", "ma")]),  # several tokens: a phrase
        ("printer tag:ne", True, [word("printer")]),
        ("printer (", True, [word("printer")]),  # the last piece is junk: nothing typed
        ("printer -", True, [word("printer")]),
        ('printer "', True, [word("printer")]),
        ("café", True, [word("café", prefix=True)]),
        ("printer toner printer", True, [word("printer"), word("toner")]),  # kept once
        ("passw*", False, [word("passw", prefix=True)]),
        ("passw* toner", False, [word("passw", prefix=True), word("toner")]),  # anywhere
        ("passw** ", True, [word("passw", prefix=True)]),
        ("-passw*", False, [word("passw", neg=True, prefix=True)]),
        ("pass*word", False, [word("pass", "word")]),  # a star inside: punctuation
        ("passw.*", False, [word("passw")]),
        ("e-ma*", False, [word("e", "ma")]),
        ('"passw*"', False, [phrase("passw")]),
    ],
)
def test_prefix(text: str, typing: bool, terms: list[Term]) -> None:
    assert parse_query(text, typing=typing).terms == tuple(terms)


# --- the query object ------------------------------------------------------------------------


def test_query_keeps_text_and_splits_terms() -> None:
    text = 'printer -toner "paper jam" -"out of order"'
    query = parse_query(text)
    assert query.text == text
    assert query.positive == (word("printer"), phrase("paper", "jam"))
    assert query.negative == (word("toner", neg=True), phrase("out", "of", "order", neg=True))


@pytest.mark.parametrize(
    ("text", "empty"),
    [
        ("", True),
        ("-toner", True),  # negations alone are no query
        ("-tag:spam", True),
        ("-toner -tag:spam", True),
        ("toner", False),
        ("tag:vpn", False),
        ("category:Network", False),
        ('"jam"', False),
    ],
)
def test_is_empty(text: str, empty: bool) -> None:
    assert parse_query(text).is_empty is empty


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=400)
@given(text=st.text(), typing=st.booleans(), max_terms=st.integers(-2, 40))
def test_any_text_parses_to_safe_tokens(text: str, typing: bool, max_terms: int) -> None:
    query = parse_query(text, typing=typing, max_terms=max_terms)
    assert query.text == text
    assert len(query.terms) <= max(0, max_terms)
    keys = [(term.words, term.phrase, term.negated) for term in query.terms]
    assert len(keys) == len(set(keys))
    for term in query.terms:
        assert 1 <= len(term.words) <= MAX_PHRASE_WORDS
        for token in term.words:
            assert TOKEN.match(token)
            assert token == token.lower()
            assert len(token) <= MAX_TOKEN_CHARS
        if term.prefix:
            assert len(term.words) == 1 and not term.phrase
        if len(term.words) > 1:
            assert term.phrase
    for tag in query.tags + query.excluded_tags:
        assert tag and tag == tag.strip() == tag.lower() and "\x00" not in tag
    for category in query.categories:
        assert category and category == category.strip() and "\x00" not in category
    assert set(query.positive) | set(query.negative) == set(query.terms)
    assert query.is_empty == (not query.positive and not query.tags and not query.categories)


@given(text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_parse_is_deterministic_and_typing_changes_only_prefix(text: str) -> None:
    plain = parse_query(text)
    assert parse_query(text) == plain
    typed = parse_query(text, typing=True)
    assert [(t.words, t.phrase, t.negated) for t in typed.terms] == [
        (t.words, t.phrase, t.negated) for t in plain.terms
    ]
    assert sum(t.prefix for t in typed.terms) - sum(t.prefix for t in plain.terms) in (0, 1)


@given(text=st.text(max_size=60))
def test_terms_survive_being_quoted_again(text: str) -> None:
    """What a back end builds from the tokens, parsed again, gives the same words: nothing in
    a token can close a quote, negate, or name a filter."""
    for term in parse_query(text).terms:
        again = parse_query(("-" if term.negated else "") + '"' + " ".join(term.words) + '"')
        assert [(t.words, t.negated) for t in again.terms] == [(term.words, term.negated)]


@given(st.from_regex(r"[A-Za-zÀ-ÖØ-öø-ÿ0-9]{1,20}", fullmatch=True))
def test_a_plain_word_is_one_term(text: str) -> None:
    query = parse_query(text, typing=True)
    assert query.terms == (Term((text.lower(),), False, False, True),)


def test_normalise_token_edges() -> None:
    assert normalise_token("ABC") == "abc"
    assert normalise_token("___") == ""
    assert normalise_token("İ") == "i"
    assert tokens("Wi-Fi, 5 GHz") == ["wi", "fi", "5", "ghz"]


# --- keywords --------------------------------------------------------------------------------

TICKET = (
    "Hello team, since this morning my laptop (Dell Latitude 7420) cannot connect to the "
    'company VPN from home. The GlobalProtect client shows error 809 and then "gateway '
    'unreachable". I already restarted the laptop twice and reinstalled the client, but the '
    "problem is still there. Colleagues on the same Wi-Fi network can connect fine. Could you "
    "please help? Thanks and kind regards, Anna"
)


def test_keywords_of_a_ticket() -> None:
    assert 55 <= len(TICKET.split()) <= 65
    assert keywords(TICKET) == (
        "morning",
        "laptop",
        "dell",
        "latitude",
        "7420",  # a model number: four digits stay
        "connect",
        "company",
        "vpn",
        "home",
        "globalprotect",
        "client",
        "shows",
    )
    rest = keywords(TICKET, limit=100)
    assert rest[12:] == (
        "error",  # "809" is gone: numbers under four digits say little
        "gateway",
        "unreachable",
        "restarted",
        "twice",
        "reinstalled",
        "colleagues",
        "network",  # "Wi-Fi" gave "wi" and "fi": too short
        "fine",
        "anna",
    )


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("", 12, ()),
        ("Hi, thanks, please help, regards", 12, ()),
        ("the printer THE PRINTER printer", 12, ("printer",)),
        ("Outlook crashes; Outlook crashes again", 12, ("outlook", "crashes")),
        ("error 0x80070005 and 404 in 2024", 12, ("error", "0x80070005", "2024")),
        ("an ok db on my pc", 12, ()),  # one and two letters are not informative
        ("printer toner tray jam", 2, ("printer", "toner")),
        ("printer toner", 0, ()),
        ("printer toner", -1, ()),
        ("I don't know why it doesn't work", 12, ("work",)),
        ("Drucker druckt nicht, Straße", 12, ("drucker", "druckt", "nicht", "straße")),
        ("___ __init__", 12, ("__init__",)),
    ],
)
def test_keywords(text: str, limit: int, expected: tuple[str, ...]) -> None:
    assert keywords(text, limit=limit) == expected


def test_stop_words_are_lower_case_words() -> None:
    assert 150 <= len(STOP_WORDS) <= 250
    assert all(TOKEN.match(w) and w == w.lower() for w in STOP_WORDS)
    assert {"the", "a", "is", "my", "we", "you", "it", "hello", "thanks", "please"} <= STOP_WORDS
    assert {"issue", "problem"} <= STOP_WORDS
    assert not {"printer", "vpn", "password", "error", "network"} & STOP_WORDS


@given(text=st.text(), limit=st.integers(-1, 20))
def test_keywords_properties(text: str, limit: int) -> None:
    found = keywords(text, limit=limit)
    assert len(found) <= max(0, limit)
    assert len(set(found)) == len(found)
    all_tokens = tokens(text)
    for token in found:
        assert token in all_tokens
        assert len(token) >= 3 and token not in STOP_WORDS
        assert not (token.isdigit() and len(token) < 4)
    # first occurrence order
    assert list(found) == sorted(found, key=all_tokens.index)


# --- close words -----------------------------------------------------------------------------


def reference_osa(a: str, b: str) -> int:
    """Textbook optimal string alignment distance, no cut-off, no band."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


@pytest.mark.parametrize(
    ("word", "candidates", "expected"),
    [
        ("pasword", ["password", "passport", "sword"], ["password"]),
        ("recieve", ["recipe", "relieve", "receive"], ["receive", "relieve"]),
        ("mial", ["mile", "meal", "mail"], ["mail", "meal"]),  # swap and substitution
        ("Pasword", ["PASSWORD"], ["PASSWORD"]),  # case is ignored, the candidate returned
        ("printer", ["printer", "Printer", "printers", "printers"], ["printers"]),
        ("tcp", ["tco", "top", "tcpp"], []),  # three letters: no typos
        ("vp", ["vpn"], []),
        ("", ["a"], []),
        ("pasword", ["passwort"], []),  # two edits, but a 7-letter word allows one
        ("passwrod", ["password", "passport"], ["password"]),  # 8 letters: up to two
        ("netwroks", ["netwroks", "network", "networks"], ["networks", "network"]),
        ("confguratoin", ["configuration", "configurator"], ["configuration"]),
        ("authentification", ["authentication", "authorization"], ["authentication"]),
        ("exchange", ["exchnage", "exhcange", "exchanges", "xchange"],
         ["exchanges", "exchnage", "exhcange", "xchange"]),
    ],
)  # fmt: skip
def test_close_words(word: str, candidates: list[str], expected: list[str]) -> None:
    assert close_words(word, candidates, limit=10) == expected


def test_close_words_limit_and_iterables() -> None:
    candidates = (w for w in ["mail", "meal", "mall", "mile"])
    assert close_words("mial", candidates, limit=1) == ["mail"]
    assert close_words("mial", ["mail"], limit=0) == []
    # mall and maim are two edits away; the default limit keeps three of the four at one
    candidates_list = ["mall", "mil", "meal", "maim", "mail", "dial"]
    assert close_words("mial", candidates_list) == ["dial", "mail", "meal"]


def test_osa_distance_cut_off() -> None:
    assert osa_distance("pasword", "password", 1) == 1
    assert osa_distance("recieve", "receive", 1) == 1
    assert osa_distance("ca", "abc", 5) == 3  # restricted: no edit inside a swapped pair
    assert osa_distance("kitten", "sitting", 2) is None
    assert osa_distance("kitten", "sitting", 3) == 3


short_words = st.text(alphabet="abcd", min_size=0, max_size=11)


@settings(max_examples=300)
@given(a=short_words, b=short_words, cutoff=st.integers(0, 3))
def test_osa_distance_matches_the_textbook(a: str, b: str, cutoff: int) -> None:
    distance = reference_osa(a, b)
    assert osa_distance(a, b, cutoff) == (distance if distance <= cutoff else None)


@settings(max_examples=300)
@given(word=short_words, candidates=st.lists(short_words, max_size=30))
def test_close_words_filters_lose_nothing(word: str, candidates: list[str]) -> None:
    """The prefix/middle/suffix and letter-set filters only skip what is truly too far."""
    k = 0 if len(word) < 4 else 1 if len(word) < 8 else 2
    expected = sorted(
        {(reference_osa(word, c), c) for c in candidates if c != word},
    )
    expected = [c for d, c in expected if d <= k] if k else []
    assert close_words(word, candidates, limit=100) == expected


def _edited(word: str, edits: list[tuple[str, int, str]]) -> str:
    for kind, at, char in edits:
        i = at % (len(word) + 1)
        if kind == "sub":
            word = word[:i] + char + word[i + 1 :]
        elif kind == "ins":
            word = word[:i] + char + word[i:]
        elif kind == "del":
            word = word[:i] + word[i + 1 :]
        elif i + 1 < len(word):
            word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word


edit = st.tuples(
    st.sampled_from(["sub", "ins", "del", "swap"]), st.integers(0, 20), st.sampled_from("abz")
)


@settings(max_examples=300)
@given(
    word=st.text(alphabet="abc", min_size=4, max_size=13),
    edits=st.lists(st.lists(edit, max_size=4), max_size=20),
)
def test_close_words_agrees_with_the_textbook_near_the_word(
    word: str, edits: list[list[tuple[str, int, str]]]
) -> None:
    """Candidates a few edits from the word, where the filters and the band matter most."""
    candidates = [_edited(word, some) for some in edits]
    k = 1 if len(word) < 8 else 2
    expected = sorted({(reference_osa(word, c), c) for c in candidates if c != word})
    assert close_words(word, candidates, limit=100) == [c for d, c in expected if d <= k]


@given(
    word=st.text(alphabet="abcdefgh", min_size=4, max_size=12),
    data=st.data(),
)
def test_close_words_finds_every_single_edit(word: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(word) - 1))
    kind = data.draw(st.sampled_from(["sub", "ins", "del", "swap"]))
    if kind == "sub":
        typo = word[:i] + "z" + word[i + 1 :]
    elif kind == "ins":
        typo = word[:i] + "z" + word[i:]
    elif kind == "del":
        typo = word[:i] + word[i + 1 :]
    else:
        assume(i + 1 < len(word) and word[i] != word[i + 1])
        typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    assume(len(typo) >= 4)
    assert word in close_words(typo, ["zzzz", word, "hhhhhhhh"], limit=5)


def test_close_words_is_fast_on_a_vocabulary() -> None:
    """A few thousand candidates per query while typing: the brief asks well under 5 ms; we
    allow ten times that so a busy CI machine does not fail it, and catch a slow rewrite."""
    rng = random.Random(7)
    letters = "etaoinshrdlucmfwypvbgkqjxz"
    vocabulary = [
        "".join(rng.choice(letters[: rng.randint(8, 26)]) for _ in range(rng.randint(3, 14)))
        for _ in range(4990)
    ] + ["password", "passwords", "receive", "printer", "configuration", "authentication"]
    for typo in ("pasword", "recieve", "printr", "confguration", "authentification"):
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            close_words(typo, vocabulary)
            best = min(best, time.perf_counter() - start)
        assert best < 0.05, f"{typo}: {best * 1000:.1f} ms for 5,000 candidates"
    assert close_words("pasword", vocabulary)[0] == "password"
