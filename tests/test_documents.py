"""Documents, and the readers that stream them from seed text and JSON Lines (DESIGN section 2)."""

from __future__ import annotations

import dataclasses
import gzip
import inspect
import itertools
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newssearch import Document, load_documents, readers
from newssearch.dates import PartialDate
from newssearch.documents import Rejected, headline
from newssearch.errors import DocumentError

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
UNSUPPORTED = "unsupported file type (expected .txt, .jsonl, .jsonl.gz, .json)"


def jsonl(path: Path, *lines: object, gz: bool = False) -> Path:
    """Writes each line (a dict is dumped as JSON, bytes and str are written as they are)."""
    out = b""
    for line in lines:
        if isinstance(line, bytes):
            out += line + b"\n"
        elif isinstance(line, str):
            out += line.encode() + b"\n"
        else:
            out += json.dumps(line).encode() + b"\n"
    path.write_bytes(gzip.compress(out) if gz else out)
    return path


def summary(items: list[Document | Rejected]) -> list[tuple[str, str]]:
    """(id, origin) for a document, ('REJECTED', 'origin: reason') for a rejection."""
    return [
        (item.id, item.origin) if isinstance(item, Document) else ("REJECTED", str(item))
        for item in items
    ]


# --- seed text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "date", ["2019", "2019-10", "2019-10-15", "2019-10-15T10:20:30Z", "2019-10-15T10:20:30+02:00"]
)
def test_seed_file_at_each_date_precision(tmp_path: Path, date: str) -> None:
    path = tmp_path / "article-1.txt"
    path.write_text(f"date {date}\nThe minister met. They talked.\n", encoding="utf-8")
    [doc] = load_documents(path)
    assert doc == Document(
        id="article-1", body="The minister met. They talked.", date=PartialDate.parse(date)
    )
    assert doc.origin == f"{path}:1"
    assert doc.title == ""
    assert doc.date is not None and doc.date.text == date


def test_seed_file_with_leading_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("\n \t \n  date 2019-10 The Minister met.\n\nSecond paragraph.\n  ")
    [doc] = load_documents(path)
    assert isinstance(doc, Document)
    assert (doc.id, doc.date, doc.body) == (
        "x",
        PartialDate.parse("2019-10"),
        "The Minister met.\n\nSecond paragraph.",
    )


def test_seed_id_is_the_file_name_without_extension(tmp_path: Path) -> None:
    path = tmp_path / "reuters.2019.17.txt"
    path.write_text("date 2019\nBody.")
    [doc] = load_documents(path)
    assert isinstance(doc, Document)
    assert doc.id == "reuters.2019.17"


def test_the_bundled_seed() -> None:
    [doc] = load_documents(SEEDS)
    assert isinstance(doc, Document)
    assert doc.id == "000_ddf5f41fb1d21a55"
    assert doc.origin == f"{SEEDS / '000_ddf5f41fb1d21a55.txt'}:1"
    assert doc.date == PartialDate.parse("2019-10")
    assert doc.title == ""
    assert doc.body.startswith("The Minister of Defense of the Republic of Azerbaijan,")
    assert doc.body.endswith("the exchange of best practices and other important issues.")
    assert doc.headline == (
        "The Minister of Defense of the Republic of Azerbaijan, Colonel General Zakir Hasanov"
        " has met with…"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"date 2019\ncaf\xe9 au lait", "not UTF-8 text (byte 0xe9 at offset 13)"),
        (b"\xff\xfed\x00a\x00", "not UTF-8 text (byte 0xff at offset 0)"),
        (b"The minister met.", "expected the text to start with 'date <DATE>'"),
        (b"dated 2019 The minister met.", "expected the text to start with 'date <DATE>'"),
        (b"Body first\ndate 2019", "expected the text to start with 'date <DATE>'"),
        (b"", "expected the text to start with 'date <DATE>'"),
        (b"date 2019-13\nThe minister met.", "impossible date: '2019-13' (month 13)"),
        (
            b"date 2019-02-29 The minister met.",
            "impossible date: '2019-02-29' (no day 29 in 2019-02)",
        ),
        (
            b"date yesterday The minister met.",
            "not a date: 'yesterday' (expected YYYY, YYYY-MM, YYYY-MM-DD or an ISO timestamp)",
        ),
        (b"date 2019\n  \n", "document 'bad' has no text (neither title nor body)"),
    ],
)
def test_bad_seed_file_is_rejected_and_the_rest_still_read(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    (tmp_path / "a.txt").write_text("date 2019\nFirst.")
    (tmp_path / "bad.txt").write_bytes(content)
    (tmp_path / "c.txt").write_text("date 2020\nLast.")
    assert summary(list(load_documents(tmp_path))) == [
        ("a", f"{tmp_path / 'a.txt'}:1"),
        ("REJECTED", f"{tmp_path / 'bad.txt'}:1: {reason}"),
        ("c", f"{tmp_path / 'c.txt'}:1"),
    ]


def test_seed_file_with_a_utf8_byte_order_mark(tmp_path: Path) -> None:
    # Editors on Windows save UTF-8 with a BOM; it is still UTF-8 text starting with `date`.
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffdate 2019-10\nThe minister met.".encode())
    [doc] = load_documents(path)
    assert isinstance(doc, Document), doc
    assert (doc.id, doc.body, doc.date) == (
        "bom",
        "The minister met.",
        PartialDate.parse("2019-10"),
    )


# --- JSON Lines ----------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["jsonl", "jsonl.gz"])
def test_jsonl_records(tmp_path: Path, gz: bool) -> None:
    path = jsonl(
        tmp_path / ("news.jsonl.gz" if gz else "news.jsonl"),
        {
            "id": "r1",
            "title": "Grain exports",
            "date": "2019-10-15",
            "body": "Wheat rose.",
            "url": "https://example.com/r1",
            "source": "Reuters",
            "tags": ["grain", "wheat"],
        },
        {"id": "r2", "text": "Text alias."},
        {"id": "r3", "content": "Content alias.", "topics": ["corn"]},
        {"id": "r4", "title": "Title only", "date": None, "body": None, "tags": None},
        {"id": 42, "body": "An integer id.", "date": ""},
        {"id": 0, "body": "Zero is an id too."},
        {"id": "r7", "body": "Body wins.", "text": "not this", "content": "nor this"},
        {"id": "r8", "text": "Text before content.", "content": "not this"},
        {"id": "r9", "body": "x", "tags": ["a"], "topics": ["b"], "extra": {"ignored": True}},
        gz=gz,
    )
    docs = list(load_documents(path))
    assert [d.origin for d in docs] == [f"{path}:{n}" for n in range(1, 10)]
    assert docs == [
        Document(
            id="r1",
            title="Grain exports",
            date=PartialDate.parse("2019-10-15"),
            body="Wheat rose.",
            url="https://example.com/r1",
            source="Reuters",
            tags=("grain", "wheat"),
        ),
        Document(id="r2", body="Text alias."),
        Document(id="r3", body="Content alias.", tags=("corn",)),
        Document(id="r4", title="Title only"),
        Document(id="42", body="An integer id."),
        Document(id="0", body="Zero is an id too."),
        Document(id="r7", body="Body wins."),
        Document(id="r8", body="Text before content."),
        Document(id="r9", body="x", tags=("a",)),
    ]


def test_jsonl_blank_lines_are_skipped_and_line_numbers_kept(tmp_path: Path) -> None:
    path = tmp_path / "gaps.jsonl"
    path.write_bytes(
        b'\n{"id": "a", "body": "x"}\n   \n\t\n{"id": "b", "body": "y"}\r\n\n'
        b'{"id": "c", "body": "z"}'  # no newline at the end
    )
    assert summary(list(load_documents(path))) == [
        ("a", f"{path}:2"),
        ("b", f"{path}:5"),
        ("c", f"{path}:7"),
    ]


def test_bad_jsonl_lines_are_rejected_and_the_rest_still_read(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "mixed.jsonl",
        {"id": "ok1", "body": "First."},
        "this is not json",
        "[1, 2, 3]",
        '"a string"',
        "null",
        {"title": "No id", "body": "x"},
        {"id": None, "body": "x"},
        {"id": "", "body": "x"},
        {"id": True, "body": "x"},
        {"id": 1.5, "body": "x"},
        {"id": ["a"], "body": "x"},
        {"id": "notext"},
        {"id": "blank", "title": "  ", "body": " \n "},
        {"id": "baddate", "date": "2019-13", "body": "x"},
        {"id": "intdate", "date": 2019, "body": "x"},
        {"id": "badtitle", "title": 5, "body": "x"},
        {"id": "badbody", "body": ["x"]},
        {"id": "badtags", "body": "x", "tags": "grain"},
        {"id": "badtags2", "body": "x", "topics": ["grain", 1]},
        b'{"id": "latin1", "body": "caf\xe9"}',
        '{"id": "a"} {"id": "b"}',
        "",
        {"id": "ok2", "body": "Last."},
    )
    at = f"{path}:"
    assert summary(list(load_documents(path))) == [
        ("ok1", f"{at}1"),
        ("REJECTED", f"{at}2: not JSON: Expecting value at column 1"),
        ("REJECTED", f"{at}3: not a JSON object"),
        ("REJECTED", f"{at}4: not a JSON object"),
        ("REJECTED", f"{at}5: not a JSON object"),
        ("REJECTED", f"{at}6: missing id"),
        ("REJECTED", f"{at}7: missing id"),
        ("REJECTED", f"{at}8: missing id"),
        ("REJECTED", f"{at}9: id must be a string, not True"),
        ("REJECTED", f"{at}10: id must be a string, not 1.5"),
        ("REJECTED", f"{at}11: id must be a string, not ['a']"),
        ("REJECTED", f"{at}12: document 'notext' has no text (neither title nor body)"),
        ("REJECTED", f"{at}13: document 'blank' has no text (neither title nor body)"),
        ("REJECTED", f"{at}14: impossible date: '2019-13' (month 13)"),
        ("REJECTED", f"{at}15: date must be a string, not int"),
        ("REJECTED", f"{at}16: title must be a string, not int"),
        ("REJECTED", f"{at}17: body must be a string, not list"),
        ("REJECTED", f"{at}18: tags must be a list of strings"),
        ("REJECTED", f"{at}19: tags must be a list of strings"),
        ("REJECTED", f"{at}20: not UTF-8 (byte 0xe9 at column 30)"),
        ("REJECTED", f"{at}21: not JSON: Extra data at column 13"),
        ("ok2", f"{at}23"),
    ]


def test_rejected_reads_as_file_line_reason() -> None:
    rejected = Rejected("news.jsonl:7", "missing id")
    assert str(rejected) == "news.jsonl:7: missing id"


def test_jsonl_error_column_at_the_end_of_a_line(tmp_path: Path) -> None:
    # The JSON ends early: the column is that of the end of the line (24), not
    # "column 1" of the newline that follows it.
    path = jsonl(tmp_path / "cut.jsonl", '{"id": "a", "body": "x"', '{"id": ')
    assert summary(list(load_documents(path))) == [
        ("REJECTED", f"{path}:1: not JSON: Expecting ',' delimiter at column 24"),
        ("REJECTED", f"{path}:2: not JSON: Expecting value at column 8"),
    ]


def test_a_blank_id_is_reported_as_missing_not_as_a_wrong_type(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "blank.jsonl", {"id": "   ", "body": "x"})
    [rejected] = load_documents(path)
    assert isinstance(rejected, Rejected)
    assert rejected.origin == f"{path}:1"
    assert "id" in rejected.reason
    # The id *is* a string: "id must be a string, not '   '" sends the user the wrong way.
    assert "must be a string" not in rejected.reason


def test_an_empty_body_does_not_hide_the_text_alias(tmp_path: Path) -> None:
    # The record has text; rejecting it as "no text (neither title nor body)" loses it.
    path = jsonl(tmp_path / "alias.jsonl", {"id": "a", "body": "", "text": "The minister met."})
    [doc] = load_documents(path)
    assert isinstance(doc, Document), doc
    assert doc.body == "The minister met."


def test_jsonl_with_a_utf8_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes('\ufeff{"id": "a", "body": "x"}\n{"id": "b", "body": "y"}\n'.encode())
    assert summary(list(load_documents(path))) == [("a", f"{path}:1"), ("b", f"{path}:2")]


def test_gzip_rejections_keep_line_numbers(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "n.jsonl.gz",
        {"id": "a", "body": "x"},
        "{oops",
        "",
        {"id": "b", "body": "y"},
        gz=True,
    )
    assert summary(list(load_documents(path))) == [
        ("a", f"{path}:1"),
        ("REJECTED", f"{path}:2: not JSON: Expecting property name enclosed in double quotes"
         " at column 2"),
        ("b", f"{path}:4"),
    ]  # fmt: skip


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    whole = jsonl(
        tmp_path / "whole.jsonl.gz", *({"id": f"g{i}", "body": "x"} for i in range(3)), gz=True
    )
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole.read_bytes()[:-4])  # the last bytes of the trailer are missing
    other = jsonl(tmp_path / "other.jsonl", {"id": "after", "body": "y"})
    assert summary(list(load_documents(path, other))) == [
        ("g0", f"{path}:1"),
        ("g1", f"{path}:2"),
        ("g2", f"{path}:3"),
        (
            "REJECTED",
            f"{path}: cannot read: Compressed file ended before the end-of-stream marker was"
            " reached",
        ),
        ("after", f"{other}:1"),
    ]


def test_a_plain_file_named_gz_is_rejected(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "plain.jsonl.gz", {"id": "a", "body": "x"})
    assert summary(list(load_documents(path))) == [
        ("REJECTED", f"{path}: cannot read: Not a gzipped file (b'{{\"')"),
    ]


# --- paths and folders ---------------------------------------------------------------------


def test_folder_is_read_recursively_in_sorted_order(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "b_sub" / "deeper").mkdir(parents=True)
    (root / "c_sub").mkdir()
    (root / "a2.txt").write_text("date 2019\nA two.")
    (root / "a1.jsonl").write_text('{"id": "j1", "body": "x"}\n{"id": "j2", "body": "y"}\n')
    (root / "README.md").write_text("ignored")
    (root / "notes.txt.bak").write_text("ignored")
    (root / "data.json").write_text('[{"id": "j3", "body": "x"}]')
    (root / "x.JSONL").write_text('{"id": "ignored", "body": "x"}')
    (root / "b_sub" / "b.txt").write_text("date 2019-10\nB.")
    (root / "b_sub" / "deeper" / "d.jsonl.gz").write_bytes(
        gzip.compress(b'{"id": "d", "body": "x"}')
    )
    (root / "b_sub" / "deeper" / "image.png").write_bytes(b"\x89PNG")
    (root / "c_sub" / "c.txt").write_text("date 2019-10-15\nC.")
    assert summary(list(load_documents(root))) == [
        ("j1", f"{root / 'a1.jsonl'}:1"),
        ("j2", f"{root / 'a1.jsonl'}:2"),
        ("a2", f"{root / 'a2.txt'}:1"),
        ("b", f"{root / 'b_sub' / 'b.txt'}:1"),
        ("d", f"{root / 'b_sub' / 'deeper' / 'd.jsonl.gz'}:1"),
        ("c", f"{root / 'c_sub' / 'c.txt'}:1"),
        ("j3", f"{root / 'data.json'}:1"),
    ]


def test_paths_are_read_in_the_order_given(tmp_path: Path) -> None:
    first = jsonl(tmp_path / "z.jsonl", {"id": "z", "body": "x"})
    second = jsonl(tmp_path / "a.jsonl", {"id": "a", "body": "x"})
    assert summary(list(load_documents(first, second))) == [
        ("z", f"{first}:1"),
        ("a", f"{second}:1"),
    ]
    assert summary(list(load_documents(str(second), str(first)))) == [
        ("a", f"{second}:1"),
        ("z", f"{first}:1"),
    ]


def test_missing_and_unsupported_paths_are_rejected(tmp_path: Path) -> None:
    good = jsonl(tmp_path / "good.jsonl", {"id": "a", "body": "x"})
    missing = tmp_path / "nowhere.jsonl"
    notes = tmp_path / "notes.md"
    notes.write_text("# notes")
    gzipped_json = tmp_path / "data.json.gz"
    gzipped_json.write_bytes(gzip.compress(b"{}"))
    assert summary(list(load_documents(missing, good, notes, tmp_path / "gone", gzipped_json))) == [
        ("REJECTED", f"{missing}: no such file or directory"),
        ("a", f"{good}:1"),
        ("REJECTED", f"{notes}: {UNSUPPORTED}"),
        ("REJECTED", f"{tmp_path / 'gone'}: no such file or directory"),
        ("REJECTED", f"{gzipped_json}: {UNSUPPORTED}"),
    ]


def test_an_empty_folder_yields_nothing(tmp_path: Path) -> None:
    assert list(load_documents(tmp_path)) == []
    assert list(load_documents()) == []


# --- streaming -----------------------------------------------------------------------------


def test_reading_is_lazy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    count = 20_000
    path = tmp_path / "big.jsonl.gz"
    path.write_bytes(
        gzip.compress(
            "".join(f'{{"id": "d{i}", "body": "word {i}"}}\n' for i in range(count)).encode()
        )
    )
    parsed = 0
    parse = readers._parse_record

    def counting(*args: Any) -> Document | Rejected:
        nonlocal parsed
        parsed += 1
        return parse(*args)

    monkeypatch.setattr(readers, "_parse_record", counting)
    stream = load_documents(path)
    assert inspect.isgenerator(stream)
    assert parsed == 0
    first = list(itertools.islice(stream, 3))
    assert [d.id for d in first if isinstance(d, Document)] == ["d0", "d1", "d2"]
    assert parsed == 3
    rest = list(stream)
    assert parsed == count
    assert len(rest) == count - 3
    last = rest[-1]
    assert isinstance(last, Document)
    assert (last.id, last.body, last.origin) == (
        f"d{count - 1}",
        f"word {count - 1}",
        f"{path}:{count}",
    )


def test_a_missing_path_is_only_noticed_when_read(tmp_path: Path) -> None:
    stream = load_documents(tmp_path / "nope")
    assert inspect.isgenerator(stream)
    assert next(stream) == Rejected(str(tmp_path / "nope"), "no such file or directory")


# --- Document ------------------------------------------------------------------------------


def test_document_requires_an_id_and_some_text() -> None:
    with pytest.raises(DocumentError, match=r"^missing id$"):
        Document(id="", body="x")
    with pytest.raises(DocumentError, match=r"^missing id$"):
        Document(id="  ", body="x")
    with pytest.raises(
        DocumentError, match=r"^document 'a' has no text \(neither title nor body\)$"
    ):
        Document(id="a")
    with pytest.raises(DocumentError, match="no text"):
        Document(id="a", title=" ", body="\n")
    assert Document(id="a", title="Title only").body == ""


def test_document_defaults_and_equality() -> None:
    doc = Document(id="a", body="x", tags=["b", "c"])  # type: ignore[arg-type]
    assert doc.tags == ("b", "c")
    assert (doc.title, doc.date, doc.url, doc.source, doc.origin) == ("", None, "", "", "")
    assert doc == Document(id="a", body="x", tags=("b", "c"), origin="elsewhere:3")
    assert doc != Document(id="a", body="y", tags=("b", "c"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.id = "b"  # type: ignore[misc]


def test_headline_is_the_title_when_there_is_one() -> None:
    doc = Document(id="a", title="  Grain exports rise ", body="Wheat rose. Corn fell.")
    assert doc.headline == "Grain exports rise"
    assert Document(id="b", title="   ", body="Wheat rose. Corn fell.").headline == "Wheat rose."


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Wheat rose. Corn fell.", "Wheat rose."),
        ("Did wheat rise? Yes.", "Did wheat rise?"),
        ("Wheat rose! Corn fell.", "Wheat rose!"),
        ("  \n Wheat\n rose   sharply.\tCorn fell.", "Wheat rose sharply."),
        ("No full stop at all", "No full stop at all"),
        ("Ends at the end.", "Ends at the end."),
        (
            "The deal was worth 1.5 billion dollars. More.",
            "The deal was worth 1.5 billion dollars.",
        ),
        ("A heading\n\nThe first paragraph. More.", "A heading"),
        ("A line\nthat wraps. More.", "A line that wraps."),
    ],
)
def test_headline_is_the_first_sentence(body: str, expected: str) -> None:
    assert headline(body) == expected
    assert Document(id="a", body=body).headline == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "U.S. officials said on Tuesday that the talks would continue. Others disagreed.",
            "U.S. officials said on Tuesday that the talks would continue.",
        ),
        (
            "Mr. Smith went to Washington on Monday. He left on Tuesday.",
            "Mr. Smith went to Washington on Monday.",
        ),
        (
            "Colonel General Z. Hasanov met the minister. They talked.",
            "Colonel General Z. Hasanov met the minister.",
        ),
    ],
)
def test_headline_does_not_end_at_an_abbreviation(body: str, expected: str) -> None:
    # News text is full of "U.S." and "Mr.": a headline of "U.S." says nothing.
    assert headline(body) == expected


def test_long_first_sentence_is_shortened_at_a_word_boundary() -> None:
    words = [f"word{i:02d}" for i in range(40)]  # 6 characters each, then a space
    body = " ".join(words) + ". Second sentence."
    shortened = headline(body)
    # 14 words and their spaces are 97 characters; the 15th would pass 100.
    assert shortened == " ".join(words[:14]) + "…"
    assert len(shortened) <= 101


def test_exactly_100_characters_is_not_shortened() -> None:
    sentence = "x" * 49 + " " + "y" * 49 + "."
    assert len(sentence) == 100
    assert headline(sentence + " Next.") == sentence
    assert headline("z" + sentence + " Next.") == "z" + "x" * 49 + "…"


def test_shortening_drops_a_dangling_comma() -> None:
    body = "a" * 90 + ", " + "b" * 20 + " and more."
    assert headline(body) == "a" * 90 + "…"


def test_a_single_long_word_is_cut_at_100_characters() -> None:
    assert headline("z" * 300) == "z" * 100 + "…"


# --- fingerprint ---------------------------------------------------------------------------

BASE = Document(
    id="r1",
    title="Grain exports",
    body="Wheat rose.",
    date=PartialDate.parse("2019-10"),
    url="https://example.com/r1",
    source="Reuters",
    tags=("grain", "wheat"),
    origin="a.jsonl:1",
)


def test_fingerprint_is_stable_for_the_same_content() -> None:
    fingerprint = BASE.fingerprint()
    assert len(fingerprint) == 32
    assert int(fingerprint, 16) >= 0
    assert dataclasses.replace(BASE).fingerprint() == fingerprint
    assert dataclasses.replace(BASE, origin="elsewhere.jsonl:99").fingerprint() == fingerprint
    same = Document(
        id="r1",
        title="Grain exports",
        body="Wheat rose.",
        date=PartialDate.parse(" 2019-10 "),
        url="https://example.com/r1",
        source="Reuters",
        tags=["grain", "wheat"],  # type: ignore[arg-type]
    )
    assert same.fingerprint() == fingerprint


@pytest.mark.parametrize(
    "changes",
    [
        {"title": "Grain exports rise"},
        {"title": ""},
        {"body": "Wheat rose!"},
        {"body": "Wheat rose. "},
        {"date": None},
        {"date": PartialDate.parse("2019-11")},
        {"date": PartialDate.parse("2019-10-01")},
        {"date": PartialDate.parse("2019")},
        {"url": ""},
        {"url": "https://example.com/r2"},
        {"source": "AP"},
        {"tags": ()},
        {"tags": ("grain",)},
        {"tags": ("grain", "wheat", "corn")},
        {"tags": ("wheat", "grain")},
        {"tags": ("grainwheat",)},
        {"title": "Grain exports Wheat rose.", "body": ""},
        {"title": "Grain", "body": "exports Wheat rose."},
    ],
)
def test_fingerprint_changes_with_every_indexed_field(changes: dict[str, object]) -> None:
    changed = dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]
    assert changed.fingerprint() != BASE.fingerprint()


def test_fingerprint_of_the_same_instant_written_in_another_zone_changes() -> None:
    # The date is shown as written, so a different text is a change even at the same instant.
    utc = dataclasses.replace(BASE, date=PartialDate.parse("2019-10-15T08:00:00Z"))
    local = dataclasses.replace(BASE, date=PartialDate.parse("2019-10-15T10:00:00+02:00"))
    assert utc.date is not None and local.date is not None
    assert utc.date.start == local.date.start
    assert utc.fingerprint() != local.fingerprint()


# --- hostile input (issue 8) ---------------------------------------------------------------

GOOD1 = {"id": "good1", "body": "First."}
GOOD2 = {"id": "good2", "body": "Last."}


def between_good(tmp_path: Path, line: bytes | str) -> tuple[Path, list[tuple[str, str]]]:
    """Writes the line between two good records; returns the path and its summary."""
    path = jsonl(tmp_path / "hostile.jsonl", GOOD1, line, GOOD2)
    return path, summary(list(load_documents(path)))


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"id": "s", "body": "a\\ud800b"}',
         "body holds a lone surrogate '\\ud800' at character 2"),
        (b'{"id": "s", "body": "x", "title": "\\udc00"}',
         "title holds a lone surrogate '\\udc00' at character 1"),
        (b'{"id": "a\\udfffb", "body": "x"}', "id holds a lone surrogate '\\udfff' at character 2"),
        (b'{"id": "s", "body": "x", "tags": ["ok", "\\ud800"]}',
         "tags holds a lone surrogate '\\ud800' at character 1"),
        (b'{"id": "s", "body": "x", "source": "\\ud800"}',
         "source holds a lone surrogate '\\ud800' at character 1"),
        (b'{"id": "s", "body": "x", "url": "http://x/\\ud800"}',
         "url holds a lone surrogate '\\ud800' at character 10"),
    ],
)  # fmt: skip
def test_a_lone_surrogate_rejects_one_record(tmp_path: Path, line: bytes, reason: str) -> None:
    # Valid JSON and valid UTF-8 on disk, but not text: UTF-8 cannot encode it, so it used
    # to abort the whole run in the fingerprint with a UnicodeEncodeError.
    path, found = between_good(tmp_path, line)
    assert found == [
        ("good1", f"{path}:1"),
        ("REJECTED", f"{path}:2: {reason} (not Unicode text: UTF-8 cannot encode it)"),
        ("good2", f"{path}:3"),
    ]


def test_a_surrogate_pair_and_a_surrogate_in_an_unread_field_are_fine(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "ok.jsonl",
        b'{"id": "pair", "body": "emoji \\ud83d\\ude00"}',
        b'{"id": "extra", "body": "x", "ignored": "\\ud800"}',
    )
    docs = list(load_documents(path))
    assert [d.id for d in docs if isinstance(d, Document)] == ["pair", "extra"]
    assert isinstance(docs[0], Document) and docs[0].body == "emoji \U0001f600"


@pytest.mark.parametrize(
    "line",
    [
        b'{"id": "deep", "body": ' + b"[" * 100_000 + b"}",
        b'{"id": "deep", "body": "x", "extra": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"id": "deep", "body": "x", "extra": ' + b"[" * 100 + b"{}" + b"]" * 100 + b"}",
    ],
    ids=["100k-unclosed", "5k-closed", "101-levels"],
)
def test_deep_nesting_rejects_one_record(tmp_path: Path, line: bytes) -> None:
    path, found = between_good(tmp_path, line)
    assert found == [
        ("good1", f"{path}:1"),
        ("REJECTED", f"{path}:2: nested too deeply (more than 100 arrays and objects)"),
        ("good2", f"{path}:3"),
    ]


def test_nesting_at_the_limit_and_brackets_in_strings_are_fine(tmp_path: Path) -> None:
    at_limit = b'{"id": "a", "body": "x", "extra": ' + b"[" * 99 + b"]" * 99 + b"}"
    in_strings = json.dumps({"id": "b", "body": "[" * 500 + '\\"{' * 200}).encode()
    path = jsonl(tmp_path / "ok.jsonl", at_limit, in_strings)
    assert [item.id for item in load_documents(path) if isinstance(item, Document)] == ["a", "b"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"id": 1' + b"0" * 5000 + b', "body": "x"}', "not JSON: a number with too many digits"),
        (b'{"id": "a\\u0000b", "body": "x"}',
         "id 'a\\x00b' holds the control character '\\x00' at character 2"),
        (b'{"id": "two\\nlines", "body": "x"}',
         "id 'two\\nlines' holds the control character '\\n' at character 4"),
        (b'{"id": "a", "body": "a\x00b"}', "not JSON: Invalid control character at column 23"),
        (json.dumps({"id": list(range(10_000)), "body": "x"}).encode(),
         "id must be a string, not [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, …"),
        (json.dumps({"id": "a", "body": "x", "date": "2019" * 1000}).encode(),
         ("not a date: '" + "2019" * 1000)[:199] + "…"),
        (json.dumps({"id": "a", "body": "x", "date": 2019}).encode(),
         "date must be a string, not int"),
        (json.dumps({"id": "a", "body": "x", "tags": "a"}).encode(),
         "tags must be a list of strings"),
        (json.dumps({"id": None, "body": "x"}).encode(), "missing id"),
        (json.dumps({"id": "a", "body": {"text": "x"}}).encode(),
         "body must be a string, not dict"),
        (json.dumps({"id": "a", "body": "x", "tags": [["a"]]}).encode(),
         "tags must be a list of strings"),
        (json.dumps([{"id": "a", "body": "x"}]).encode(), "not a JSON object"),
        (b'{"id": "a", "body": "x", "date": 1e999}', "date must be a string, not float"),
        (b'{"id": NaN, "body": "x"}', "id must be a string, not nan"),
    ],
)  # fmt: skip
def test_hostile_values_reject_one_record(tmp_path: Path, line: bytes, reason: str) -> None:
    path, found = between_good(tmp_path, line)
    assert found == [
        ("good1", f"{path}:1"),
        ("REJECTED", f"{path}:2: {reason}"),
        ("good2", f"{path}:3"),
    ]


@pytest.mark.parametrize(
    ("date", "reason"),
    [
        ("2019-02-30", "impossible date: '2019-02-30' (no day 30 in 2019-02)"),
        ("0000", "impossible date: '0000' (year 0)"),
        ("99999", "not a date: '99999' (expected YYYY, YYYY-MM, YYYY-MM-DD or an ISO timestamp)"),
        ("2019-10-15T10:00:00+24:00", "impossible time zone: '2019-10-15T10:00:00+24:00'"),
        ("2019-10-15T24:00:00", "impossible time: '2019-10-15T24:00:00'"),
        ("2019-10-15T10:00:60Z", "impossible time: '2019-10-15T10:00:60Z'"),
        (
            "2019-10-15T10:00:00 +02:00",
            "not a date: '2019-10-15T10:00:00 +02:00' (expected YYYY, YYYY-MM, YYYY-MM-DD or an"
            " ISO timestamp)",
        ),
    ],
)
def test_impossible_dates_and_odd_zones_reject_one_record(
    tmp_path: Path, date: str, reason: str
) -> None:
    path, found = between_good(tmp_path, json.dumps({"id": "d", "body": "x", "date": date}))
    assert found[1] == ("REJECTED", f"{path}:2: {reason}")
    assert len(found) == 3


@pytest.mark.parametrize(
    ("date", "text"),
    [
        ("2019-10-15T10:00:00+0530", "2019-10-15T10:00:00+05:30"),
        ("2019-10-15T10:00:00-00:00", "2019-10-15T10:00:00-00:00"),
        ("9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59-23:59"),
        ("0001-01-01T00:00:00+23:59", "0001-01-01T00:00:00+23:59"),
    ],
)
def test_extreme_but_valid_zones_are_read(tmp_path: Path, date: str, text: str) -> None:
    [doc] = load_documents(jsonl(tmp_path / "z.jsonl", {"id": "z", "body": "x", "date": date}))
    assert isinstance(doc, Document) and doc.date is not None and doc.date.text == text


def test_a_line_past_the_size_limit_is_rejected_with_its_size(tmp_path: Path) -> None:
    long = json.dumps({"id": "long", "body": "word " * 2000}).encode()
    path = jsonl(tmp_path / "big.jsonl", GOOD1, long, GOOD2, b"x" * 1024)
    found = summary(list(load_documents(path, max_record_bytes=1024)))
    assert found == [
        ("good1", f"{path}:1"),
        ("REJECTED", f"{path}:2: record too large: {len(long):,} bytes (the limit is 1,024 bytes)"),
        ("good2", f"{path}:3"),
        ("REJECTED", f"{path}:4: not JSON: Expecting value at column 1"),  # 1,024: not too large
    ]


def test_a_seed_file_past_the_size_limit_is_rejected_with_its_size(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_bytes(b"date 2019\n" + b"word " * 400)
    (tmp_path / "small.txt").write_bytes(b"date 2019\nfine")
    assert summary(list(load_documents(tmp_path, max_record_bytes=1000))) == [
        ("REJECTED", f"{tmp_path / 'big.txt'}:1: record too large: 2,010 bytes (the limit is"
         " 1,000 bytes)"),
        ("small", f"{tmp_path / 'small.txt'}:1"),
    ]  # fmt: skip


def test_the_default_record_limit_is_8_mib() -> None:
    assert readers.records.MAX_RECORD_BYTES == 8 * 1024 * 1024
    parameter = inspect.signature(load_documents).parameters["max_record_bytes"]
    assert parameter.default == 8 * 1024 * 1024


def test_corrupt_gzip_data_rejects_the_rest_of_its_file(tmp_path: Path) -> None:
    blob = bytearray(gzip.compress(b"".join(
        json.dumps({"id": f"z{i}", "body": f"word{i} " * 20}).encode() + b"\n" for i in range(50)
    )))  # fmt: skip
    blob[20] ^= 0xFF  # inside the first deflate block: zlib.error, not an OSError
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(bytes(blob))
    other = jsonl(tmp_path / "other.jsonl", GOOD1)
    assert summary(list(load_documents(path, other))) == [
        ("REJECTED", f"{path}: cannot read: Error -3 while decompressing data: invalid bit length"
         " repeat"),
        ("good1", f"{other}:1"),
    ]  # fmt: skip


def test_symlink_loops_and_fifos_are_reported_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    jsonl(root / "a.jsonl", GOOD1)
    (root / "loop").symlink_to(root)  # a link to a folder is not followed: no endless walk
    (root / "self.jsonl").symlink_to("self.jsonl")
    (root / "gone.jsonl").symlink_to("nowhere.jsonl")
    os.mkfifo(root / "pipe.jsonl")  # opening it would wait forever for a writer
    assert summary(list(load_documents(root, root / "pipe.jsonl"))) == [
        ("good1", f"{root / 'a.jsonl'}:1"),
        ("REJECTED", f"{root / 'gone.jsonl'}: no such file or directory (a broken symlink)"),
        ("REJECTED", f"{root / 'pipe.jsonl'}: not a regular file (a FIFO, socket or device);"
         " not read"),
        ("REJECTED", f"{root / 'self.jsonl'}: cannot read: Too many levels of symbolic links"),
        ("REJECTED", f"{root / 'pipe.jsonl'}: not a regular file (a FIFO, socket or device);"
         " not read"),
    ]  # fmt: skip


def test_unreadable_files_and_folders_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "corpus"
    (root / "locked").mkdir(parents=True)
    jsonl(root / "a.jsonl", GOOD1)
    jsonl(root / "locked" / "b.jsonl", GOOD2)
    secret = jsonl(root / "secret.jsonl", GOOD2)
    real_open, real_scandir = open, os.scandir

    def refusing_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == str(secret):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    def refusing_scandir(path: Any = ".") -> Any:
        if str(path) == str(root / "locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    # Injected, as chmod 000 does not stop root (these tests run as root in CI).
    monkeypatch.setattr("builtins.open", refusing_open)
    monkeypatch.setattr(os, "scandir", refusing_scandir)
    assert summary(list(load_documents(root))) == [
        ("good1", f"{root / 'a.jsonl'}:1"),
        ("REJECTED", f"{root / 'locked'}: cannot read: Permission denied"),
        ("REJECTED", f"{root / 'secret.jsonl'}: cannot read: Permission denied"),
    ]


def test_nul_characters_in_text_are_kept(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "nul.jsonl", {"id": "n", "title": "a\x00b", "body": "c\x00d",
                                          "tags": ["e\x00f"]})  # fmt: skip
    (tmp_path / "seed.txt").write_bytes(b"date 2019\nnul \x00 inside")
    docs = list(load_documents(path, tmp_path / "seed.txt"))
    assert [(d.title, d.body, d.tags) for d in docs if isinstance(d, Document)] == [
        ("a\x00b", "c\x00d", ("e\x00f",)),
        ("", "nul \x00 inside", ()),
    ]


def test_document_refuses_what_the_index_could_not_store() -> None:
    # Documents made in Python pass the same checks as those read from files.
    with pytest.raises(DocumentError, match=r"^title holds a lone surrogate '\\ud800' at"):
        Document(id="a", title="\ud800", body="x")
    with pytest.raises(DocumentError, match=r"^place holds a lone surrogate"):
        Document(id="a", body="x", keywords={"place": ("\udc80",)})
    with pytest.raises(DocumentError, match=r"holds the control character '\\x00'"):
        Document(id="a\x00", body="x")


# --- JSON arrays, lenient dates ----------------------------------------------------------


def test_json_array_elements_are_documents_each_rejected_on_its_own(tmp_path: Path) -> None:
    path = tmp_path / "array.json"
    path.write_bytes(
        b'[\n  {"id": "a", "body": "x"},\n'
        b'  {"id": "b",\n   "body": "x" "oops"},\n'  # a syntax error on the element's 2nd line
        b'  {"id": "c", "body": "caf\xe9"},\n'
        b'  {"id": "d", "title": "T", "body": "' + b"w " * 600 + b'"},\n'
        b"  [1, 2],\n"
        b'  {"id": "e", "tags": ["t"], "body": "y"}\n]\n'
    )
    assert summary(list(load_documents(path, max_record_bytes=1000))) == [
        ("a", f"{path}:2"),
        ("REJECTED", f"{path}:4: not JSON: Expecting ',' delimiter at column 16"),
        ("REJECTED", f"{path}:5: not UTF-8 (byte 0xe9 at column 27)"),
        ("REJECTED", f"{path}:6: record too large: 1,237 bytes (the limit is 1,000 bytes)"),
        ("REJECTED", f"{path}:7: not a JSON object"),
        ("e", f"{path}:8"),
    ]


def test_a_truncated_json_array_keeps_its_complete_elements(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text('[{"id": "a", "body": "x"},\n {"id": "b", "bo', encoding="utf-8")
    wrong = tmp_path / "object.json"
    wrong.write_text('{"id": "a", "body": "x"}', encoding="utf-8")
    assert summary(list(load_documents(path, wrong))) == [
        ("a", f"{path}:1"),
        ("REJECTED", f"{path}:2: the file ends inside the array (no closing ']'; truncated?)"),
        ("REJECTED", f"{wrong}:1: expected a JSON array of records ('[') here, found '{{'"),
    ]


def test_lenient_dates_keep_the_record_undated_with_a_warning(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "d.jsonl", {"id": "a", "date": "2019-13", "body": "x"},
                 {"id": "b", "date": 2019, "body": "x"})  # fmt: skip
    (tmp_path / "s.txt").write_text("date 1987-02-30\nBody.")
    strict = summary(list(load_documents(path, tmp_path / "s.txt")))
    assert strict == [
        ("REJECTED", f"{path}:1: impossible date: '2019-13' (month 13)"),
        ("REJECTED", f"{path}:2: date must be a string, not int"),  # a wrong type stays wrong
        ("REJECTED", f"{tmp_path / 's.txt'}:1: impossible date: '1987-02-30' (no day 30 in"
         " 1987-02)"),
    ]  # fmt: skip
    lenient = list(load_documents(path, tmp_path / "s.txt", lenient_dates=True))
    assert [(d.id, d.date, d.warning) for d in lenient if isinstance(d, Document)] == [
        ("a", None, "impossible date: '2019-13' (month 13); indexed undated (--lenient-dates)"),
        ("s", None, "impossible date: '1987-02-30' (no day 30 in 1987-02); indexed undated"
         " (--lenient-dates)"),
    ]  # fmt: skip
    assert isinstance(lenient[1], Rejected)


_PIECES = [b"[", b"]", b"{", b"}", b",", b":", b'"', b"\\", b"\\u", b"d800", b"\n", b" ",
           b"1", b"-", b"e999", b"null", b'"id"', b'"body"', b'"x"', b"\xff", b"\x00",
           b"\xef\xbb\xbf", b'{"id": "a", "body": "b"}']  # fmt: skip
json_ish = st.lists(st.sampled_from(_PIECES)).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(json_ish, st.sampled_from(["f.jsonl", "f.json", "f.txt"]))
def test_any_bytes_give_documents_and_rejections_only(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        for item in load_documents(path, max_record_bytes=64):
            assert isinstance(item, (Document, Rejected))
            if isinstance(item, Rejected):
                assert item.origin.startswith(str(path)) and "\n" not in str(item)
