"""Verifying an index end to end, as Lucene's CheckIndex does: checksums, then every segment.

Every file of the last commit is read against its checksum; then every segment is opened and
read whole: document counts agree between the segment list, the columns and the reader, every
stored field and column value decodes, live ids are unique, and every posting list of every
term decodes, in document order, within the segment, with its stated document frequency and,
for the text fields, one position per occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from newssearch.engine import checksums, execute, postings_cache, schema, storage, trust


@dataclass(frozen=True)
class IndexCheck:
    """What `Index.check` verified: live documents, segments, files and their bytes, terms and
    postings read."""

    documents: int
    segments: int
    files: int
    bytes: int
    terms: int
    postings: int

    def summary(self) -> str:
        """Returns one line: `ok: 8 documents, 1 segment, 1 file (40,120 bytes) checksummed,
        120 terms and 300 postings decoded`."""
        return (
            f"ok: {_count(self.documents, 'document')}, {_count(self.segments, 'segment')}, "
            f"{_count(self.files, 'file')} ({self.bytes:,} bytes) checksummed, "
            f"{_count(self.terms, 'term')} and {_count(self.postings, 'posting')} decoded"
        )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def check(ix: Any) -> IndexCheck:
    """Returns what was verified of `ix` (a NewsIndex); raises IndexCorruptError naming the
    path and the first thing found wrong."""
    path = ix.storage.path
    toc, table = ix.storage.read_toc()
    storage.refuse_foreign(path, toc.schema)
    try:
        size = checksums.check_contents(path, table)
    except checksums.Damage as e:
        raise storage.damaged(path, str(e)) from None
    terms = postings = live = 0
    seen: set[str] = set()
    reader = ix.reader()
    try:
        leaves = reader.leaf_readers() if not reader.is_atomic() else [(reader, 0)]
        for segment, (sub, _) in zip(toc.segments, leaves, strict=False):
            problem = _check_segment(segment, sub, seen)
            if problem:
                raise storage.damaged(path, f"segment {segment.segment_id()}: {problem}")
            live += sub.doc_count()
            for field in [name for name, f in toc.schema.items() if f.indexed]:
                for term in sub.lexicon(field):
                    found = _check_postings(sub, field, term)
                    if isinstance(found, str):
                        raise storage.damaged(
                            path, f"segment {segment.segment_id()}, {field}:{term!r}: {found}"
                        )
                    terms += 1
                    postings += found
        if live != reader.doc_count():
            raise storage.damaged(
                path, f"{live} live documents, the reader counts {reader.doc_count()}"
            )
    finally:
        reader.close()
    return IndexCheck(live, len(toc.segments), len(table), size, terms, postings)


def _check_segment(segment: Any, reader: Any, seen: set[str]) -> str | None:
    """Returns what is wrong with one segment's documents, or None."""
    count = reader.doc_count_all()
    if count != segment.doc_count_all():
        return f"{count} documents, its commit says {segment.doc_count_all()}"
    deleted = set(reader._perdoc.deleted_docs()) if reader.has_deletions() else set()
    if any(not 0 <= d < count for d in deleted):
        return "a deleted document number beyond its documents"
    ids = reader.column_reader("id")
    prints = reader.column_reader("fingerprint")
    starts, ends = reader.column_reader("date_start"), reader.column_reader("date_end")
    arrays = execute.Segment(reader, 0, postings_cache.PostingsCache(0))  # the query path's columns
    for docnum in range(count):
        try:
            stored = reader.stored_fields(docnum)
        except trust.RefusedPickle:
            raise
        except Exception as e:  # zlib.error, UnpicklingError, struct.error ...
            return f"document {docnum}: its stored fields do not decode ({type(e).__name__})"
        if stored.get("id") != ids[docnum] or not isinstance(ids[docnum], str):
            return f"document {docnum}: its stored id and its id column differ"
        if not isinstance(prints[docnum], bytes) or starts[docnum] > ends[docnum]:
            return f"document {docnum}: a bad fingerprint or date column value"
        if docnum not in deleted:
            if ids[docnum] in seen:
                return f"document {docnum}: id {ids[docnum]!r} occurs twice"
            seen.add(ids[docnum])
    if any(v.size != count for v in (arrays.starts, arrays.ends, *arrays.lengths.values())):
        return "a column of another size than the segment"
    return None


def _check_postings(reader: Any, field: str, term: bytes) -> int | str:
    """Returns how many postings `field:term` has, or what is wrong with them."""
    found = postings_cache.read_postings(reader, field, term, positions=True)
    count = reader.doc_count_all()
    docs = found.docs
    if docs.size == 0 or docs[0] < 0 or docs[-1] >= count or np.any(np.diff(docs) <= 0):
        return "document numbers out of order or beyond the segment"
    if docs.size != reader.doc_frequency(field, term):
        return f"{docs.size} postings, its term table says {reader.doc_frequency(field, term)}"
    if np.any(found.freqs <= 0):
        return "a frequency that is not positive"
    if field in schema.TEXT_FIELDS:
        occurrences, _ = found.flat
        if occurrences.size != int(found.freqs.sum()):
            return "positions that do not match the frequencies"
    return int(docs.size)
