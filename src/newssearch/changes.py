"""What a change to an index does: the tally that sorts incoming documents into new, changed,
unchanged and rejected against the last commit's fingerprints, and the reports of `add` and
`optimize`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from newssearch.documents import Document, Rejected
from newssearch.errors import DocumentError


@dataclass(frozen=True)
class IndexReport:
    """What one `Index.add` did: counts, the rejected records with reasons, seconds taken."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: tuple[Rejected, ...] = ()
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()  # `file:line: message` of documents indexed with a warning

    def summary(self) -> str:
        """Returns one line: `added 3,012, updated 0, unchanged 1, rejected 0 in 0.2 s`."""
        warned = f", {len(self.warnings):,} with warnings" if self.warnings else ""
        return (
            f"added {self.added:,}, updated {self.updated:,}, unchanged {self.unchanged:,}, "
            f"rejected {len(self.rejected):,}{warned} in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class MergeReport:
    """What `Index.optimize` did: segments before and after, live documents, seconds taken."""

    segments_before: int
    segments_after: int
    documents: int
    seconds: float

    def summary(self) -> str:
        """Returns one line: `merged 12 segments into 1 (21,578 documents) in 9.1 s`, or
        `1 segment already, nothing to merge (21,578 documents)`."""
        documents = f"{self.documents:,} document{'' if self.documents == 1 else 's'}"
        if self.segments_before == self.segments_after <= 1:
            return f"{self.segments_after} segment already, nothing to merge ({documents})"
        return (
            f"merged {self.segments_before} segments into {self.segments_after} "
            f"({documents}) in {self.seconds:.1f} s"
        )


class Tally:
    """Sorts incoming items into added, updated, unchanged and rejected, counting as it goes."""

    def __init__(self) -> None:
        self.added = self.updated = self.unchanged = 0
        self.rejected: list[Rejected] = []
        self.warnings: list[str] = []

    def changed(
        self,
        items: Iterable[Document | Rejected],
        known: dict[str, bytes],
        writer: Any,
        strict: bool,
        progress: Callable[[int], None] | None,
    ) -> Iterator[Document]:
        """Yields the documents to write: new ids, and changed ones (their old version deleted)."""
        seen: dict[str, str] = {}
        for count, item in enumerate(items, start=1):
            if isinstance(item, Document) and item.id in seen:
                item = Rejected(
                    item.origin or item.id, f"duplicate id {item.id!r} (first at {seen[item.id]})"
                )
            if isinstance(item, Rejected):
                if strict:
                    raise DocumentError(str(item))
                self.rejected.append(item)
                continue
            seen[item.id] = item.origin or item.id
            if item.warning:
                self.warnings.append(f"{item.origin or item.id}: {item.warning}")
            previous = known.get(item.id)
            if previous is not None and previous == item.fingerprint().encode():
                self.unchanged += 1
            else:
                if previous is None:
                    self.added += 1
                else:
                    writer.delete_by_term("id", item.id)
                    self.updated += 1
                yield item
            if progress is not None and count % 1000 == 0:
                progress(count)


def fingerprints(ix: Any) -> dict[str, bytes]:
    """Returns id -> fingerprint for every live document of the last commit."""
    found: dict[str, bytes] = {}
    with ix.reader() as reader:
        if not reader.doc_count_all():
            return found
        for segment_reader, _ in _leaves(reader):
            ids = segment_reader.column_reader("id")
            prints = segment_reader.column_reader("fingerprint")
            for docnum in segment_reader.all_doc_ids():
                found[ids[docnum]] = prints[docnum]
    return found


def _leaves(reader: Any) -> list[tuple[Any, int]]:
    return reader.leaf_readers() if not reader.is_atomic() else [(reader, 0)]
