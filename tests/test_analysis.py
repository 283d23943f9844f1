"""Words, their offsets, folding and Snowball stemming; the whoosh analyzer built on them."""

from __future__ import annotations

import itertools
import pickle
from pathlib import Path

import pytest
import snowballstemmer
from conftest import REUTERS, need_corpus

from newssearch import Document, analysis, load_documents
from newssearch.analysis import Stemmer, fold, spans, stemmer, words
from newssearch.engine.schema import NewsAnalyzer

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# --- words -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Café", ["cafe"]),
        ("CAFÉ cafe Cafe", ["cafe", "cafe", "cafe"]),
        ("naïve NAÏVE", ["naive", "naive"]),
        ("Straße STRASSE", ["strasse", "strasse"]),
        ("Ελλάδα", ["ελλαδα"]),
        ("Αθήνα ΑΘΗΝΑ", ["αθηνα", "αθηνα"]),
        ("Москва́ МОСКВА", ["москва", "москва"]),
        ("ёлка", ["елка"]),
        ("Zürich Ångström São Paulo", ["zurich", "angstrom", "sao", "paulo"]),
        ("in 2019", ["in", "2019"]),
        ("B-52", ["b", "52"]),
        ("3.14 and 1,000", ["3", "14", "and", "1", "000"]),
        ("Nagorno-Karabakh", ["nagorno", "karabakh"]),
        ("Azerbaijan's", ["azerbaijan", "s"]),
        ("Azerbaijan’s", ["azerbaijan", "s"]),
        ("foo_bar", ["foo", "bar"]),
        ("snake_case_ünïcode", ["snake", "case", "unicode"]),
        ("the ministry of defense", ["the", "ministry", "of", "defense"]),
        ("To be, or not to be", ["to", "be", "or", "not", "to", "be"]),
        ("नमस्ते दुनिया", ["नमस्ते", "दुनिया"]),
        ("e-mail: a@b.com, #tag", ["e", "mail", "a", "b", "com", "tag"]),
        ("ﬁnance", ["finance"]),
        ("Ｆｕｌｌ", ["full"]),
        ("", []),
        ("  -- !! ...", []),
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_a_script_with_combining_marks_stays_one_word() -> None:
    # न म स ् त े: the virama and the vowel sign are marks, not separators.
    assert words("नमस्ते") == ["नमस्ते"]
    assert len(words("नमस्ते")[0]) == 6
    assert words("தமிழ்நாடு") == ["தமிழ்நாடு"]


def test_ascii_and_unicode_paths_agree() -> None:
    # Plain ASCII takes a fast path; one non-ASCII character anywhere takes the other.
    ascii_text = "The U.S.-Belarus plan_B, signed 2019 by Azerbaijan's minister."
    assert words(ascii_text + " é") == [*words(ascii_text), "e"]


@pytest.mark.parametrize(
    ("word", "folded"),
    [
        ("Café", "cafe"),
        ("naïve", "naive"),
        ("Straße", "strasse"),
        ("ẞ", "ss"),
        ("İstanbul", "istanbul"),
        ("ΟΔΥΣΣΕΥΣ", "οδυσσευσ"),
        ("Οδυσσεύς", "οδυσσευσ"),
        ("Ёлка", "елка"),
        ("ABC123", "abc123"),
        ("abc", "abc"),
    ],
)
def test_fold(word: str, folded: str) -> None:
    assert fold(word) == folded


# --- spans -------------------------------------------------------------------------------

SPAN_TEXTS = [
    "Nagorno-Karabakh: Azerbaijan's B-52, the Café; naïve ẞtraße.",
    "  Ministry of Defense\n\nof the Republic (2019)  ",
    "Αθήνα, Москва́ и नमस्ते दुनिया — ½ ﬁnance",
    "plain ascii text_with_underscores and 42",
    "",
]


@pytest.mark.parametrize("text", SPAN_TEXTS)
def test_spans_give_exactly_the_words(text: str) -> None:
    assert [word for _, _, word in spans(text)] == words(text)


@pytest.mark.parametrize("text", SPAN_TEXTS)
def test_spans_point_into_the_original_text(text: str) -> None:
    for start, end, word in spans(text):
        assert 0 <= start < end <= len(text)
        assert words(text[start:end]) and word in words(text[start:end])


def test_span_offsets() -> None:
    text = "Nagorno-Karabakh: Azerbaijan's Café"
    assert list(spans(text)) == [
        (0, 7, "nagorno"),
        (8, 16, "karabakh"),
        (18, 28, "azerbaijan"),
        (29, 30, "s"),
        (31, 35, "cafe"),
    ]
    assert [text[s:e] for s, e, _ in spans(text)] == [
        "Nagorno",
        "Karabakh",
        "Azerbaijan",
        "s",
        "Café",
    ]


def test_span_offsets_around_combining_marks() -> None:
    # "Cafe" + U+0301 is five code points: the accent belongs to the word's span.
    text = "Cafe\u0301 नमस्ते x"
    assert list(spans(text)) == [(0, 5, "cafe"), (6, 12, "नमस्ते"), (13, 14, "x")]


def test_a_word_that_folding_splits_shares_its_span() -> None:
    assert list(spans("½ cup")) == [(0, 1, "1"), (0, 1, "2"), (2, 5, "cup")]
    assert words("½ cup") == ["1", "2", "cup"]


# Every ASCII character, inside words and between them.
ASCII_EDGES = "".join(f"a{chr(c)}Z{chr(c)}9 " for c in range(128))


@pytest.mark.parametrize("text", [t for t in SPAN_TEXTS if t.isascii()] + [ASCII_EDGES])
def test_ascii_spans_are_those_any_script_gives(text: str) -> None:
    assert spans(text) == analysis._any_spans(text)


def test_ascii_spans_are_those_any_script_gives_on_reuters() -> None:
    read = load_documents(need_corpus(REUTERS))
    docs = itertools.islice((d for d in read if isinstance(d, Document)), 3000)
    texts = [text for doc in docs for text in (doc.title, doc.body) if text.isascii()]
    assert len(texts) > 5000
    for text in texts:
        assert spans(text) == analysis._any_spans(text)


# --- stemming ----------------------------------------------------------------------------


def test_english_stems() -> None:
    english = stemmer("english")
    assert {english.stem(w) for w in ["plans", "planned", "planning", "plan"]} == {"plan"}
    assert english.stem("cooperation") == english.stem("cooperate")
    assert english.stem("defense") == english.stem("defenses")
    assert english.stems("The plans were PLANNED") == ["the", "plan", "were", "plan"]
    assert english.stems("Cooperation, cooperate") == [english.stem("cooperate")] * 2


def test_stop_words_are_stemmed_not_dropped() -> None:
    assert stemmer("english").stems("the ministry of defense") == [
        "the",
        "ministri",
        "of",
        "defens",
    ]


def test_another_language_stems_differently() -> None:
    german, english = stemmer("german"), stemmer("english")
    assert german.stems("Häuser Haus") == ["haus", "haus"]
    assert english.stems("Häuser Haus") == ["hauser", "haus"]
    assert german.stem("planning") == "planning"
    assert english.stem("planning") == "plan"
    french = stemmer("french")
    assert french.stems("mangeait manger") == ["mang", "mang"]
    assert english.stems("mangeait manger") == ["mangeait", "manger"]


def test_stemming_stays_accent_insensitive() -> None:
    for language in ["english", "french", "german", "spanish", "russian", "greek"]:
        lang = stemmer(language)
        assert lang.stems("Café") == lang.stems("cafe"), language
    assert stemmer("russian").stems("Москва́") == stemmer("russian").stems("Москвы")
    assert stemmer("greek").stems("Ελλάδα") == stemmer("greek").stems("Ελλάδας")


@pytest.mark.parametrize(
    ("language", "forms"),
    [
        # Snowball conflates these; folding first must not undo it. In Russian `й` is a
        # letter of its own, not an accented `и`: `новый` must keep the stem of `новая`.
        ("russian", ["новый", "новая", "новое", "новые"]),
        ("russian", ["большой", "большая", "большие"]),
        ("russian", ["мой", "моя", "мое"]),
    ],
)
def test_folding_keeps_snowball_conflations(language: str, forms: list[str]) -> None:
    snowball = snowballstemmer.stemmer(language)
    assert len({snowball.stemWord(f) for f in forms}) == 1  # what Snowball itself does
    lang = stemmer(language)
    assert len({tuple(lang.stems(f)) for f in forms}) == 1, [lang.stems(f) for f in forms]


def test_cyrillic_short_i_is_a_letter_not_an_accent() -> None:
    # `й` decomposes to `и` + U+0306 under NFKD, but it is a letter, unlike the stress mark
    # in `Москва́` or the accents of `Café`.
    assert fold("й") == "й"
    assert fold("Йошкар") == "йошкар"
    assert words("новый Москва́") == ["новый", "москва"]


def test_unknown_language() -> None:
    with pytest.raises(ValueError) as caught:
        Stemmer("klingon")
    message = str(caught.value)
    assert message.startswith("unknown language 'klingon'; Snowball offers: ")
    assert "english, esperanto" in message
    assert message.endswith(", ".join(analysis.languages()))
    with pytest.raises(ValueError, match="unknown language 'English'"):
        stemmer("English")


def test_languages() -> None:
    names = analysis.languages()
    assert names == sorted(names)
    assert {"english", "german", "french", "russian", "hindi"} <= set(names)


def test_stemmer_is_shared_per_language() -> None:
    assert stemmer("english") is stemmer("english")
    assert stemmer("english") is not stemmer("german")
    assert stemmer("german").language == "german"


def _vocabulary() -> list[str]:
    roots = [
        "plan", "cooperat", "defen", "minist", "nation", "govern", "develop", "agree", "trade",
        "export", "report", "meet", "organiz", "interact", "support", "happy", "run", "stop",
        "general", "relat", "analy", "militar", "industr", "sign", "train", "cover", "attend",
    ]  # fmt: skip
    suffixes = [
        "", "s", "e", "es", "ed", "ing", "ion", "ions", "ive", "ively", "ment", "ments", "er",
        "ers", "ly", "ness", "ity", "ies", "ied", "ational", "ize", "ization", "ful", "able",
    ]  # fmt: skip
    found = {root + suffix for root in roots for suffix in suffixes}
    for seed in sorted(SEEDS.glob("*.txt")):
        found.update(words(seed.read_text(encoding="utf-8")))
    return sorted(found)


def test_the_stem_cache_gives_snowballs_stems() -> None:
    vocabulary = _vocabulary()
    assert len(vocabulary) > 500
    reference = snowballstemmer.stemmer("english")
    expected = [reference.stemWord(w) for w in vocabulary]
    cached = Stemmer("english")
    assert [cached.stem(w) for w in vocabulary] == expected  # filling the cache
    assert [cached.stem(w) for w in vocabulary] == expected  # from the cache
    assert cached.stems(" ".join(vocabulary)) == expected
    assert Stemmer("english").stems(" ".join(reversed(vocabulary))) == expected[::-1]


def test_the_stem_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analysis, "_STEM_CACHE_LIMIT", 10)
    lang = Stemmer("english")
    vocabulary = _vocabulary()[:50]
    reference = snowballstemmer.stemmer("english")
    assert [lang.stem(w) for w in vocabulary] == [reference.stemWord(w) for w in vocabulary]
    assert len(lang._cache) <= 10


# --- the whoosh analyzer -----------------------------------------------------------------


def test_news_analyzer_pickles() -> None:
    analyzer = NewsAnalyzer("english")
    copy = pickle.loads(pickle.dumps(analyzer))
    assert copy == analyzer
    assert hash(copy) == hash(analyzer)
    assert (copy.language, copy.format_version) == ("english", analyzer.format_version)
    text = "The plans were planned: Café cooperation in Nagorno-Karabakh, 2019."
    assert [t.text for t in copy(text)] == [t.text for t in analyzer(text)]
    assert [t.text for t in copy(text)] == [
        "the", "plan", "were", "plan", "cafe", "cooper", "in", "nagorno", "karabakh", "2019",
    ]  # fmt: skip


def test_news_analyzer_equality_records_language_and_version() -> None:
    assert NewsAnalyzer("english") == NewsAnalyzer("english")
    assert NewsAnalyzer("english") != NewsAnalyzer("german")
    assert NewsAnalyzer("english", format_version=1) != NewsAnalyzer("english", format_version=2)
    german = pickle.loads(pickle.dumps(NewsAnalyzer("german")))
    assert german == NewsAnalyzer("german")
    assert [t.text for t in german("Häuser")] == ["haus"]


def test_news_analyzer_positions_and_chars() -> None:
    text = "Plans: Café, Nagorno-Karabakh"
    tokens = [
        (t.text, t.pos, t.startchar, t.endchar)
        for t in NewsAnalyzer("english")(text, positions=True, chars=True, start_pos=10)
    ]
    assert tokens == [
        ("plan", 10, 0, 5),
        ("cafe", 11, 7, 11),
        ("nagorno", 12, 13, 20),
        ("karabakh", 13, 21, 29),
    ]
