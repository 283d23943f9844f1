"""Running a query tree over an index's segments, vectorized: a match mask and a score per document.

whoosh stores the postings; evaluation is numpy over whole posting lists, so a word found in
nearly every article costs a few array operations instead of a Python step per article. Scores
are BM25F over title and body (a title word counts three times; Lucene's idf; whoosh's quantized
field lengths), summed over the query's words, plus, in an OR of plain words, a small bonus for
each two consecutive ones found as a phrase; a `Boost` multiplies its part's scores; filters
(tags, sources, ids, dates, NOT) only select.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from itertools import islice, pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.util.numeric import byte_to_length

from newssearch.analysis import stemmer
from newssearch.engine import columns, malloc, schema
from newssearch.engine.phrases import exact_phrases, sloppy_phrases
from newssearch.engine.postings_cache import Ids, Postings, PostingsCache, read_postings
from newssearch.errors import QueryLimitError
from newssearch.query import (
    MAX_WORDS,
    And,
    Boost,
    Dates,
    Fuzzy,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
    leaves,
)

K1 = 1.2
B = 0.5
TITLE_WEIGHT = 3.0  # a title word counts as three body words
# In an OR of plain words (match="any"), two consecutive words found as a phrase add this share
# of the phrase's score: a small ordered-window bonus, as in sequential dependence models.
PROXIMITY_BONUS = 0.2
PROXIMITY_PAIRS = 32  # only the first this many pairs of a longer OR get the bonus
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_CACHE_PREFIXES = 10_000  # prefixes whose expansions an executor keeps

Mask = npt.NDArray[np.bool_]
Scores = npt.NDArray[np.float64]


class Segment:
    """One whoosh segment's columns, each read when a query first needs it, and a cache of its
    decoded posting lists."""

    def __init__(self, reader: Any, offset: int, cache: PostingsCache) -> None:
        self.reader = reader
        self.offset = offset
        self.size = reader.doc_count_all()
        self.segment_id = reader.segment().segment_id()
        self._cache = cache
        self._keywords: dict[str, tuple[list[bytes], Ids, Ids]] = {}
        self.live = np.ones(self.size, dtype=np.bool_)
        if reader.has_deletions():
            self.live[list(reader._perdoc.deleted_docs())] = False

    @cached_property
    def ids(self) -> columns.Ids:
        return columns.Ids(self.reader)

    @cached_property
    def stored(self) -> columns.Stored:
        return columns.Stored(self.reader)

    @cached_property
    def starts(self) -> Ids:
        return self._dates("date_start")

    @cached_property
    def ends(self) -> Ids:
        return self._dates("date_end")

    @cached_property
    def lengths(self) -> dict[str, Scores]:
        """Returns each text field's length of every document (whoosh's quantized ones)."""
        return {
            name: _LENGTHS[columns.numeric(self.reader, _lenfield(name), self.size, LENGTHS_COLUMN)]
            for name in schema.TEXT_FIELDS
        }

    def _dates(self, name: str) -> Ids:
        return columns.numeric(self.reader, name, self.size, self.reader.schema[name].column_type)

    def postings(self, field: str, text: bytes, positions: bool = False) -> Postings | None:
        """Returns the postings of `field:text` (with positions if asked for), or None if the
        segment lacks the term."""
        key = (self.segment_id, field, text)  # segment files never change once written
        found = self._cache.get(key)
        if found is None or (positions and found.occurrences is None):
            found = read_postings(self.reader, field, text, positions)
            self._cache.put(key, found)
        return found if found.docs.size else None

    def terms(self, field: str, prefix: bytes, limit: int | None = None) -> list[bytes]:
        """Returns the (first `limit`) terms of `field` that start with `prefix`."""
        return list(islice(self.reader.expand_prefix(field, prefix), limit))

    def keywords(self, field: str) -> tuple[list[bytes], Ids, Ids]:
        """Returns the values of a keyword field, and every (document, value) pair as two arrays
        (docnums, value numbers); read from the posting lists once per segment."""
        found = self._keywords.get(field)
        if found is None:
            values: list[bytes] = []
            docs: list[Ids] = []
            numbers: list[Ids] = []
            for text in self.terms(field, b""):
                postings = self.postings(field, text)
                if postings is not None:
                    docs.append(postings.docs)
                    numbers.append(np.full(postings.docs.size, len(values), dtype=np.int64))
                    values.append(text)
            empty = [np.zeros(0, np.int64)]
            found = (values, np.concatenate(docs or empty), np.concatenate(numbers or empty))
            self._keywords[field] = found
        return found


class Executor:
    """Evaluates query trees against one searcher (one commit) of an index."""

    def __init__(self, searcher: Any, cache: PostingsCache) -> None:
        malloc.serve_queries()
        self.searcher = searcher
        analyzer = schema.analyzer_of(searcher.schema)
        assert analyzer is not None
        self.language: str = analyzer.language
        self.keyword_fields = tuple(name for name, _ in analyzer.keyword_fields)
        self.stem = stemmer(self.language).stem
        self.total_docs = searcher.doc_count_all()
        self.segments = [
            Segment(sub.reader(), offset, cache)
            for sub, offset in searcher.leaf_searchers()
            if sub.reader().doc_count_all()
        ]
        self._avg_length = {
            name: (searcher.field_length(name) / (self.total_docs or 1)) or 1.0
            for name in schema.TEXT_FIELDS
        }
        self._idf: dict[tuple[str | None, bytes], float] = {}
        self._length_norms: dict[tuple[str, str | None], Scores] = {}
        self._expansions: dict[tuple[str | None, str], list[bytes]] = {}
        self._lexicons: dict[str, list[str]] = {}

    def doc_id(self, docnum: int) -> str:
        """Returns the id of a document, by its index-wide number."""
        segment = self._segment_of(docnum)
        return segment.ids[docnum - segment.offset]

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        """Returns the stored fields of a document, by its index-wide number."""
        segment = self._segment_of(docnum)
        return segment.stored[docnum - segment.offset]

    def _segment_of(self, docnum: int) -> Segment:
        for segment in reversed(self.segments):
            if docnum >= segment.offset:
                return segment
        raise KeyError(docnum)

    def check(self, tree: Node, text: str) -> None:
        """Raises QueryLimitError if `tree`, its prefixes expanded, reaches over MAX_WORDS words."""
        count = 0
        for leaf in leaves(tree):
            if isinstance(leaf, (Prefix, Fuzzy)):
                found = len(self.expansions(leaf))
                count += found
                if count > MAX_WORDS:
                    fewer = (
                        "make the prefix longer"
                        if isinstance(leaf, Prefix)
                        else "allow fewer edits"
                    )
                    reason = (
                        f"'{leaf}' matches more than {MAX_WORDS:,} words: {fewer}"
                        if found > MAX_WORDS
                        else f"too many words: with '{leaf}' expanded, the query has over "
                        f"{MAX_WORDS:,}"
                    )
                    raise QueryLimitError(text, leaf.at, reason)
            else:
                count += len(leaf.words) if isinstance(leaf, Phrase) else 1

    def expansions(self, node: Prefix | Fuzzy) -> list[bytes]:
        """Returns the terms a prefix or fuzzy term stands for (a text prefix's own stem too),
        at most MAX_WORDS + 1 of them."""
        key = (node.field, str(node))
        found = self._expansions.get(key)
        if found is None:
            found = self._fuzzy(node) if isinstance(node, Fuzzy) else self._prefixed(node)
            if len(self._expansions) >= _CACHE_PREFIXES:
                self._expansions.clear()
            self._expansions[key] = found
        return found

    def _fuzzy(self, node: Fuzzy) -> list[bytes]:
        # Imported here, as in `snippets`: some 25 ms that a query without a fuzzy term spares.
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        stem = self.stem(node.word)
        terms: set[str] = set()
        for name, _ in _weights(node.field):
            near = process.extract(
                stem,
                self._lexicon(name),
                scorer=OSA.distance,
                score_cutoff=node.distance,
                limit=None,
            )
            terms.update(term for term, _, _ in near)
        return [t.encode() for t in sorted(terms)[: MAX_WORDS + 1]]

    def _lexicon(self, field: str) -> list[str]:
        """Returns every term of a text field in this commit, once."""
        found = self._lexicons.get(field)
        if found is None:
            found = sorted({t.decode() for seg in self.segments for t in seg.reader.lexicon(field)})
            self._lexicons[field] = found
        return found

    def _prefixed(self, node: Prefix) -> list[bytes]:
        prefix = node.prefix.encode()
        if node.field is not None and node.field not in schema.TEXT_FIELDS:
            names, terms = [node.field], set()
        else:
            names, terms = (
                [name for name, _ in _weights(node.field)],
                {self.stem(node.prefix).encode()},
            )
        for segment in self.segments:
            for name in names:
                terms.update(segment.terms(name, prefix, MAX_WORDS + 1))
        return sorted(terms)[: MAX_WORDS + 1]

    def run(self, tree: Node, scored: bool) -> list[tuple[Segment, Mask, Scores | None]]:
        """Returns, per segment, the mask of live matching documents and their scores."""
        out = []
        for segment in self.segments:
            mask, scores = self._eval(tree, segment, scored)
            out.append((segment, mask & segment.live, scores))
        return out

    # ---- nodes ---------------------------------------------------------------------------

    def _eval(self, node: Node, seg: Segment, scored: bool) -> tuple[Mask, Scores | None]:
        if isinstance(node, (And, Or)):
            combine: Callable[[Mask, Mask], Mask] = (
                np.logical_and if isinstance(node, And) else np.logical_or
            )
            mask, scores = self._eval(node.children[0], seg, scored)
            for child in node.children[1:]:
                child_mask, child_scores = self._eval(child, seg, scored)
                mask = combine(mask, child_mask)
                scores = _add(scores, child_scores)
            if scored and isinstance(node, Or):
                scores = _add(scores, self._proximity(seg, node))
            return mask, scores
        if isinstance(node, Boost):
            mask, scores = self._eval(node.child, seg, scored)
            return mask, None if scores is None else node.factor * scores
        if isinstance(node, Not):
            child_mask, _ = self._eval(node.child, seg, False)
            return seg.live & ~child_mask, None
        if isinstance(node, Dates):
            low = schema.UNDATED + 1 if node.range.low is None else node.range.low
            mask = (seg.starts != schema.UNDATED) & (seg.ends >= low)
            if node.range.high is not None:
                mask &= seg.starts <= node.range.high
            return mask, None
        if isinstance(node, Term):
            if node.field not in (None, *schema.TEXT_FIELDS):  # tag, source, id, extra ones
                return self._keywords(seg, node.field, [node.word.encode()]), None
            return self._words(seg, node.field, [self.stem(node.word).encode()], scored)
        if isinstance(node, Prefix):
            if node.field is not None and node.field not in schema.TEXT_FIELDS:
                return self._keywords(seg, node.field, self.expansions(node)), None
            return self._words(seg, node.field, self.expansions(node), scored)
        if isinstance(node, Fuzzy):
            return self._words(seg, node.field, self.expansions(node), scored)
        return self._phrase(seg, node, scored)

    def _keywords(self, seg: Segment, field: str, terms: list[bytes]) -> Mask:
        mask = np.zeros(seg.size, dtype=np.bool_)
        for text in terms:
            found = seg.postings(field, text)
            if found is not None:
                mask[found.docs] = True
        return mask

    def _words(
        self, seg: Segment, field: str | None, terms: list[bytes], scored: bool
    ) -> tuple[Mask, Scores | None]:
        """Matches any of `terms` in `field`, or in title and body when `field` is None."""
        mask = np.zeros(seg.size, dtype=np.bool_)
        scores = np.zeros(seg.size) if scored else None
        for text in terms:
            lists = [(w, p) for name, w in _weights(field) if (p := seg.postings(name, text))]
            if not lists:  # a prefix's or fuzzy term's word that only other segments have
                continue
            for _, found in lists:
                mask[found.docs] = True
            if scores is not None:
                docs, freqs = _combined(lists, seg.size)
                scores[docs] += self._bm25f(seg, field, docs, freqs, self.idf(field, text))
        return mask, scores

    def _phrase(self, seg: Segment, node: Phrase, scored: bool) -> tuple[Mask, Scores | None]:
        stems = [self.stem(w).encode() for w in node.words]
        mask = np.zeros(seg.size, dtype=np.bool_)
        freqs = np.zeros(seg.size)
        for name, weight in _weights(node.field):
            lists = [seg.postings(name, text, positions=True) for text in stems]
            found = [p for p in lists if p is not None]
            if len(found) < len(lists):
                continue
            docs, counts = (
                exact_phrases(found) if node.slop == 0 else sloppy_phrases(found, node.slop)
            )
            mask[docs] = True
            freqs[docs] += weight * counts
        if not scored:
            return mask, None
        # As Lucene scores a phrase: its frequency, weighted by the idf of its words.
        docs = np.flatnonzero(freqs)
        scores = np.zeros(seg.size)
        idf = sum(self.idf(node.field, text) for text in stems)
        scores[docs] = self._bm25f(seg, node.field, docs, freqs[docs], idf)
        return mask, scores

    def _proximity(self, seg: Segment, node: Or) -> Scores | None:
        """Returns the bonus of an OR of plain words: each two consecutive ones as a phrase."""
        if not PROXIMITY_BONUS or not all(
            isinstance(c, Term) and c.field is None for c in node.children
        ):
            return None
        words = [c.word for c in node.children if isinstance(c, Term)]
        bonus = None
        for a, b in islice(pairwise(words), PROXIMITY_PAIRS):
            if self.stem(a) != self.stem(b):
                bonus = _add(bonus, self._phrase(seg, Phrase((a, b)), True)[1])
        return None if bonus is None else PROXIMITY_BONUS * bonus

    # ---- statistics ----------------------------------------------------------------------

    def idf(self, field: str | None, text: bytes) -> float:
        """Returns Lucene's idf of a term over the whole index (deleted documents included);
        with field None, of the documents that have it in their title or body."""
        key = (field, text)
        found = self._idf.get(key)
        if found is None:
            if field is not None:
                n = self.searcher.doc_frequency(field, text)
            else:
                n = sum(_either(seg, text) for seg in self.segments)
            found = float(np.log(1 + (self.total_docs - n + 0.5) / (n + 0.5)))
            self._idf[key] = found
        return found

    def _bm25f(
        self,
        seg: Segment,
        field: str | None,
        docs: Ids,
        freqs: npt.NDArray[np.float64],
        idf: float,
    ) -> Scores:
        """BM25F: the weighted frequencies of the fields, saturated once, over the weighted
        length of the fields (Robertson and Zaragoza); plain BM25 for one field."""
        result: Scores = idf * freqs * (K1 + 1) / (freqs + self._norms(seg, field)[docs])
        return result

    def _norms(self, seg: Segment, field: str | None) -> Scores:
        """Returns BM25's length normalization of every document of a segment, for `field`
        (None: title and body, weighted), computed once per commit."""
        key = (seg.segment_id, field)
        found = self._length_norms.get(key)
        if found is None:
            lengths = sum(weight * seg.lengths[name] for name, weight in _weights(field))
            average = sum(weight * self._avg_length[name] for name, weight in _weights(field))
            found = np.asarray(K1 * (1 - B + B * lengths / average), dtype=np.float64)
            self._length_norms[key] = found
        return found


def _weights(field: str | None) -> tuple[tuple[str, float], ...]:
    return (("title", TITLE_WEIGHT), ("body", 1.0)) if field is None else ((field, 1.0),)


def _combined(lists: list[tuple[float, Postings]], size: int) -> tuple[Ids, Scores]:
    """Returns the documents of a term's posting lists in some fields (of a segment of `size`
    documents) and, per document, the sum of its frequencies times their fields' weights:
    merged sparsely where they are few, through an array of the segment's size where many."""
    if len(lists) == 1:
        weight, found = lists[0]
        return found.docs, weight * found.freqs
    if sum(found.docs.size for _, found in lists) * 8 < size:
        docs = np.concatenate([found.docs for _, found in lists])
        weighted = np.concatenate([weight * found.freqs for weight, found in lists])
        order = np.argsort(docs, kind="stable")  # each doc's fields in their order
        docs = docs[order]
        first = np.ones(docs.size, dtype=np.bool_)
        first[1:] = docs[1:] != docs[:-1]
        return docs[first], np.add.reduceat(weighted[order], np.flatnonzero(first))
    freqs = np.zeros(size)
    for weight, found in lists:
        freqs[found.docs] += weight * found.freqs
    docs = np.flatnonzero(freqs)
    return docs, freqs[docs]


def _either(seg: Segment, text: bytes) -> int:
    """Returns how many documents of a segment have the term in title or body."""
    lists = [p for p in (seg.postings(name, text) for name in schema.TEXT_FIELDS) if p is not None]
    if len(lists) < 2:
        return sum(p.docs.size for p in lists)
    mask = np.zeros(seg.size, dtype=np.bool_)
    for found in lists:
        mask[found.docs] = True
    return int(np.count_nonzero(mask))


def _add(a: Scores | None, b: Scores | None) -> Scores | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b
