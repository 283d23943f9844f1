"""The fast segment writer against whoosh's own writer: same hits, same scores, same stored fields.

Both indexes hold the same articles with the same schema and analyzer; one is written by
newssearch (several segments, worker processes), the other by whoosh's SegmentWriter. The
articles are Reuters', and synthetic ones that reach the encoder's rare cases.
"""

from __future__ import annotations

import itertools
import random
import tracemalloc
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import whoosh.searching  # noqa: F401  (imported before memory is traced)
from conftest import REUTERS, need_corpus, segments_of
from whoosh import columns as whoosh_columns
from whoosh import fields as whoosh_fields
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import SegmentReader

from newssearch import Document, Index, PartialDate, load_documents
from newssearch.engine import columns as ns_columns
from newssearch.engine import merging, postings, segments
from newssearch.engine import schema as ns_schema

COUNT = 2_000

QUERIES = [
    "oil",
    "said",
    "the",
    "cocoa",
    "zinc",  # terms of every frequency, a stop word
    "oil prices",
    "oil AND NOT opec",
    "wheat OR corn OR barley",
    "NOT said",
    '"oil prices"',
    '"interest rates"',
    '"the company said"',
    '"bank rate"~3',
    "expor*",
    "title:oil",
    "body:(trade AND deficit)",
    "tag:grain",
    "id:reuters-17",
    "date:1987-03",
    "date:[1987-02-26 TO 1987-03-02]",
    "oil date:>=1987-03-01",
    "(crude OR oil) AND date:<1987-03",
    "mln dlrs -loss",
    "place:usa",  # an extra keyword field (--keyword-field places)
    "place:u* AND tag:grain",
]


def _reuters() -> list[Document]:
    read = load_documents(need_corpus(REUTERS), keyword_fields={"place": "places"})
    docs = (d for d in read if isinstance(d, Document))
    return list(itertools.islice(docs, COUNT))


def _synthetic() -> list[Document]:
    """Reuters-like articles, among them the encoder's rare cases: a 70,000-word body (positions
    past 65,535; words hundreds of times in one field), words in nearly every article (many
    blocks, mixed frequencies), a tag given twice, undated articles."""
    rng = random.Random(4)
    common = "oil prices said the company bank rate crude opec trade deficit mln dlrs loss"
    vocabulary = common.split() * 20 + [f"w{n}" for n in range(400)]
    docs = []
    for n in range(COUNT):
        body = " ".join(rng.choices(vocabulary, k=rng.randint(0, 120)))
        if n == 1500:
            body = " ".join(rng.choices(vocabulary, k=70_000)) + " zinc cocoa"
        tags = tuple(rng.sample(["grain", "crude", "trade", "Grain"], rng.randint(0, 2)))
        day = rng.randint(0, 40)
        date = None if day == 0 else f"1987-{2 + day // 29:02d}-{1 + day % 28:02d}"
        docs.append(
            Document(
                f"reuters-{n}",
                title=" ".join(rng.choices(vocabulary, k=rng.randint(1, 9))),
                body=body,
                date=PartialDate.parse(date) if date else None,
                tags=tags + (("grain",) if n % 7 == 0 else ()),
                keywords={"place": rng.sample(["usa", "USA", "uk", "japan"], rng.randint(0, 2))},
            )
        )
    return docs


def _whoosh_built(
    directory: Path,
    docs: list[Document],
    changed: list[Document],
    gone: list[str],
    merged: bool,
) -> Index:
    """Builds the reference with whoosh's own writer, then updates and deletes the same way;
    `merged`: instead, writes the live documents at the end, in their order, in one commit
    (what a merged index must equal: whoosh's own merge keeps document lengths quantized).

    The writer is whoosh's SegmentWriter, writing through newssearch's storage (which
    checksums and fsyncs each commit, as for every index newssearch opens)."""
    ix = Index.create(directory, keyword_fields=["places"])._ix
    if merged:
        replaced = {d.id for d in changed} | set(gone)
        docs = [d for d in docs if d.id not in replaced] + [d for d in changed if d.id not in gone]
        changed, gone = [], []
    writer = ix.writer()
    for doc in docs:
        writer.add_document(**ns_schema.document_fields(doc, ["place"]))
    writer.commit()
    writer = ix.writer()
    for doc in changed:
        writer.delete_by_term("id", doc.id)
        writer.add_document(**ns_schema.document_fields(doc, ["place"]))
    for doc_id in gone:
        writer.delete_by_term("id", doc_id)
    writer.commit()
    return Index.open(directory)


@pytest.fixture(
    scope="module",
    params=[
        "reuters",
        "synthetic",
        "reuters-merged",
        "synthetic-merged",
        "reuters-joined",
        "synthetic-joined",
    ],
)
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Index, Index]:
    """The fast index and whoosh's. Unmerged: six segments and the updates' one, deletions in
    place. Merged: built as segments of 450, merged four by four as they came (the merge
    policy, with a floor of 450: joined, having no deletions), then updated, then `optimize`d
    into one segment (rewritten, having deletions), beside whoosh's writer given the live
    documents (neither counts deleted documents). Joined: the same without the updates, so
    that `optimize` joins the segments (and must not rewrite them)."""
    corpus, _, mode = request.param.partition("-")
    docs = _reuters() if corpus == "reuters" else _synthetic()
    changed = [replace(d, body=d.body + " Revised: oil output unchanged.") for d in docs[::97]]
    gone = [d.id for d in docs[5::113]]
    if mode == "joined":
        changed, gone = [], []
    folder = tmp_path_factory.mktemp("diff")
    with pytest.MonkeyPatch.context() as patch:
        segments_of(patch, 450, 150)  # six segments, from two processes
        patch.setattr(merging, "FLOOR_DOCUMENTS", 450)
        patch.setattr(merging, "LEVEL_SEGMENTS", 4)
        if not mode:
            patch.setattr(merging, "MERGE_FACTOR", COUNT)  # the policy merges nothing
        fast = Index.create(folder / "fast", keyword_fields=["places"])
        assert fast.add(docs).added == COUNT
        # 4 x 450, 150 and 50 from two processes; merged, the first four are one.
        assert len(fast._ix._segments()) == (3 if mode else 6)
        if changed:
            assert fast.add(changed).updated == len(changed)
            assert fast.delete(gone) == gone
        if mode == "joined":
            patch.setattr(merging, "rewrite", None)  # would fail if called
        if mode:
            report = fast.optimize()
            before = 4 if changed else 3  # with the updates' segment
            assert (report.segments_before, report.segments_after) == (before, 1)
            assert report.documents == COUNT - len(gone)
    return fast, _whoosh_built(folder / "whoosh", docs, changed, gone, bool(mode))


@pytest.mark.parametrize("query", QUERIES)
def test_same_hits_and_scores(pair: tuple[Index, Index], query: str) -> None:
    fast, reference = (ix.search(query, limit=50, snippets=False) for ix in pair)
    assert fast.total == reference.total
    assert [h.id for h in fast.hits] == [h.id for h in reference.hits]
    assert [h.score for h in fast.hits] == pytest.approx(
        [h.score for h in reference.hits], abs=1e-6
    )


def test_same_stored_fields_and_terms(pair: tuple[Index, Index]) -> None:
    fast, reference = (ix._current_searcher() for ix in pair)
    stored = [
        sorted((f["id"], sorted(f.items())) for f in s.all_stored_fields())
        for s in (fast, reference)
    ]
    assert stored[0] == stored[1]
    for field in ("title", "body", "tag", "source", "id"):
        assert list(fast.lexicon(field)) == list(reference.lexicon(field)), field
    for term in (b"oil", b"said", b"cocoa"):
        assert fast.doc_frequency("body", term) == reference.doc_frequency("body", term)


def test_stock_whoosh_reads_it(pair: tuple[Index, Index]) -> None:
    fast, reference = (whoosh_index.open_dir(str(ix.path)) for ix in pair)
    assert len(fast._segments()) > 1 or fast.doc_count() == fast.doc_count_all()  # merged
    phrase = wq.Phrase("body", ["oil", "price"])
    with fast.searcher() as left, reference.searcher() as right:
        found = [
            {s.stored_fields(d)["id"] for d in s.docs_for_query(phrase)} for s in (left, right)
        ]
        assert found[0] == found[1] and len(found[0]) > 10
        assert left.doc_count() == right.doc_count()
        assert left.doc_count() in (COUNT, COUNT - len(range(5, COUNT, 113)))


def _postings_by_id(
    searcher: Any, ids: dict[int, str], field: str, term: bytes
) -> list[tuple[str, float, Any]]:
    """Returns (id, weight, (positions, count) or value) of every live posting, read by whoosh."""
    positions = searcher.schema[field].format.supports("positions")
    found = []
    matcher = searcher.postings(field, term)
    while matcher.is_active():
        if matcher.id() in ids:
            value = (
                (matcher.value_as("positions"), matcher.value_as("frequency"))
                if positions
                else matcher.value()
            )
            found.append((ids[matcher.id()], matcher.weight(), value))
        matcher.next()
    return sorted(found)


def test_stock_whoosh_reads_every_posting(pair: tuple[Index, Index]) -> None:
    fast, reference = (whoosh_index.open_dir(str(ix.path)) for ix in pair)
    with fast.searcher() as left, reference.searcher() as right:
        live = [
            {d: s.stored_fields(d)["id"] for d in s.reader().all_doc_ids()} for s in (left, right)
        ]
        for field in ("title", "body", "tag", "source", "id"):
            terms = list(right.lexicon(field))
            assert terms == list(left.lexicon(field)), field
            assert terms or field == "source", field  # Reuters names no source
            for term in terms:
                assert _postings_by_id(left, live[0], field, term) == _postings_by_id(
                    right, live[1], field, term
                ), (field, term)
                ours, theirs = (s.term_info(field, term) for s in (left, right))
                if ours.doc_frequency() == theirs.doc_frequency():  # no deletions in between
                    assert (ours.weight(), ours.max_weight()) == (
                        theirs.weight(),
                        theirs.max_weight(),
                    ), (field, term)
                    assert (ours.min_length(), ours.max_length()) == (
                        theirs.min_length(),
                        theirs.max_length(),
                    ), (field, term)


def test_columns_are_read_as_whoosh_reads_them(pair: tuple[Index, Index]) -> None:
    """newssearch's own readers of the id and stored columns (offsets by numpy) give what
    whoosh's readers give, for every document of every segment, whoever wrote it."""
    for index in pair:
        executor = index._current_executor()
        for segment in executor.segments:
            ids = segment.reader.column_reader("id")
            for docnum in range(segment.size):
                assert segment.ids[docnum] == ids[docnum]
                assert segment.stored[docnum] == segment.reader.stored_fields(docnum)


def test_columns_with_stored_offsets_are_read_as_whoosh_reads_them(tmp_path: Path) -> None:
    """whoosh writes the offsets of a variable-length column too when it has more than
    2**15 values (a segment `optimize` made of more documents): read here from a real whoosh
    index whose id column stores them from three values on."""
    folder = tmp_path / "ix"
    folder.mkdir()
    stored_offsets = whoosh_columns.VarBytesColumn(write_offsets_cutoff=2)
    fields_ = whoosh_fields.Schema(
        id=whoosh_fields.ID(stored=True, sortable=stored_offsets), body=whoosh_fields.STORED()
    )
    ix = whoosh_index.create_in(str(folder), fields_)
    with ix.writer() as writer:
        for n, body in enumerate(["one", "", "three", "a longer body, four"]):
            writer.add_document(id=f"doc{n}", body=body)
    with ix.reader() as reader:
        assert reader.column_reader("id", translate=False).had_stored_offsets  # the case here
        ids, stored = ns_columns.Ids(reader), ns_columns.Stored(reader)
        assert [ids[d] for d in range(4)] == ["doc0", "doc1", "doc2", "doc3"]
        assert [stored[d] for d in range(4)] == [reader.stored_fields(d) for d in range(4)]


def test_the_first_query_does_not_copy_the_index_into_memory(
    pair: tuple[Index, Index],
) -> None:
    """A segment's compound file is mapped and read a piece at a time (whoosh's own reader
    copied every sub-file into a BytesIO when it opened the segment)."""
    fast = pair[0]
    index = Index.open(fast.path)
    size = sum(f.stat().st_size for f in fast.path.glob("MAIN_*.seg"))
    tracemalloc.start()
    try:
        assert index.search("oil").total > 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        index.close()
    assert peak < size / 4, (peak, size)


@pytest.mark.parametrize("count", [0, 3, 5, 12, 15])
def test_batches_are_bounded(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    monkeypatch.setattr(segments, "BATCH_DOCUMENTS", 5)
    docs = [Document(f"d{n}", body="word") for n in range(count)]
    found = list(segments.batches(docs))
    assert [len(batch) for batch in found] == [5] * (count // 5) + (
        [count % 5] if count % 5 else []
    )
    assert [doc for batch in found for doc in batch] == docs


def test_batches_are_bounded_by_text_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segments, "BATCH_BYTES", 10)
    docs = [Document(f"d{n}", title="abc", body="defg") for n in range(5)]  # 7 characters each
    assert [len(batch) for batch in segments.batches(docs)] == [2, 2, 1]


def test_each_process_fills_a_segment_with_every_other_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batch n goes to process n % 2, which finishes its segment at the limit (10 documents
    here) and at the end: the segments and their documents are the same on every run."""
    segments_of(monkeypatch, 10, 5)
    ix = Index.create(tmp_path / "ix")
    docs = [Document(f"d{n:02}", body=f"word{n}") for n in range(47)]
    new = segments.write_segments(str(ix.path), "MAIN", ix._ix.schema, docs)
    storage = FileStorage(str(ix.path))
    found = []
    for segment in new:
        reader = SegmentReader(storage, ix._ix.schema, segment)
        found.append([reader.stored_fields(d)["id"] for d in range(segment.doc_count_all())])
        reader.close()

    def ids(*batches: int) -> list[str]:
        return [f"d{n:02}" for b in batches for n in range(5 * b, min(5 * b + 5, 47))]

    assert found == [ids(0, 2), ids(1, 3), ids(4, 6), ids(5, 7), ids(8), ids(9)]


def test_a_small_input_is_one_segment_written_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    segments_of(monkeypatch, 10, 5)
    ix = Index.create(tmp_path / "ix")
    docs = [Document(f"d{n}", body="word") for n in range(10)]
    new = segments.write_segments(str(ix.path), "MAIN", ix._ix.schema, docs)
    assert [segment.doc_count_all() for segment in new] == [10]


def test_chunks_are_whole_terms_of_bounded_positions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postings, "CHUNK_POSITIONS", 3)
    term = np.array([0, 0, 0, 1, 2, 2, 3, 4], dtype=np.int32)
    counts = np.array([1, 1, 1, 5, 1, 1, 1, 2], dtype=np.int32)
    # term 0 fills a chunk; term 1 has more than a chunk: alone; then 2 and 3; then 4.
    assert postings._chunks(term, counts) == [(0, 3), (3, 4), (4, 7), (7, 8)]
    assert postings._chunks(term[:0], counts[:0]) == []


def _segment_files(directory: Path, segment: Any) -> dict[str, bytes]:
    """Returns the bytes of each file of a segment, by its name less the segment's id."""
    storage = segment.open_compound_file(FileStorage(str(directory)))
    own = segment.segment_id()
    try:
        return {name.replace(own, ""): storage.open_file(name).read() for name in storage.list()}
    finally:
        storage.close()


@pytest.mark.parametrize(
    ("module", "setting", "small"),
    [(postings, "CHUNK_POSITIONS", 7), (segments, "PASS_TOKENS", 50)],
)
def test_encoding_in_chunks_writes_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: Any, setting: str, small: int
) -> None:
    """A segment encoded a few positions at a time, or inverted a few terms at a time, is byte
    for byte the one written at once (posting lists, term table, lengths: every file), with
    terms longer than a chunk."""
    docs = _synthetic()[1400:1600]  # with the 70,000-word body
    found = []
    for size in (1 << 30, small):
        monkeypatch.setattr(module, setting, size)
        ix = Index.create(tmp_path / f"{setting}-{size}", keyword_fields=["places"])
        segment = segments.write_segment(str(ix.path), "MAIN", ix._ix.schema, docs)
        found.append(_segment_files(ix.path, segment))
    assert found[0] == found[1] and len(found[0][".pst"]) > 100_000
