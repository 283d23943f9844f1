"""What an index may make Python build: an allow-list unpickler for every pickle read from one.

whoosh keeps Python pickles in an index: the table of contents (the schema, the segment list),
posting blocks, block headers, column headers, stored fields. Unpickling calls whatever callable
a pickle names, so an index from elsewhere could run code as soon as it is opened. Every pickle
newssearch or whoosh reads from an index goes through `_Unpickler`, whose `find_class` admits
only the names below (`pickle.Unpickler.find_class` is the one way a pickle reaches a callable:
GLOBAL, STACK_GLOBAL and EXT all go through it, and persistent ids are refused by default).
Anything else is refused with `RefusedPickle`, which the index boundary reports as
IndexCorruptError naming the path.

Each admitted name is harmless to call with any arguments: whoosh's field, format, column,
analyzer and segment classes only store what they are given, `re._compile` compiles a pattern,
`_codecs.encode` is admitted for latin-1 only (how protocol 2 pickles bytes). `install()`
routes whoosh's own reading code through here; newssearch's readers call `loads`/`loads_all`.
"""

from __future__ import annotations

import _codecs
import collections
import io
import pickle
import re
from collections.abc import Sequence
from typing import IO, Any

from whoosh import columns, fields, formats
from whoosh.analysis import analyzers, filters, tokenizers
from whoosh.codec import whoosh3


class RefusedPickle(pickle.UnpicklingError):
    """A pickle in an index names a callable that an index of ours never contains."""


def _latin1(text: str, encoding: str = "latin1") -> bytes:
    """Returns `text` encoded as latin-1: how a protocol 2 pickle stores bytes."""
    if encoding != "latin1":
        raise RefusedPickle(f"a pickle asks for the {encoding!r} codec (only latin1 is admitted)")
    return bytes(_codecs.encode(text, "latin1"))


def _admit(*objects: Any) -> dict[tuple[str, str], Any]:
    return {(o.__module__, o.__qualname__): o for o in objects}


# The schema, the segment list and segment data of every index newssearch writes (whoosh's
# own writer included, as its merges run). newssearch.engine.schema.NewsAnalyzer is added by
# `admit_analyzer`, to avoid importing the schema module here.
ADMITTED: dict[tuple[str, str], Any] = {
    ("_codecs", "encode"): _latin1,
    ("builtins", "int"): int,
    ("collections", "defaultdict"): collections.defaultdict,
    ("re", "_compile"): re.compile,
    **_admit(
        fields.Schema,
        fields.ID,
        fields.TEXT,
        fields.KEYWORD,
        fields.STORED,
        fields.COLUMN,
        formats.Existence,
        formats.Frequency,
        formats.Positions,
        columns.NumericColumn,
        columns.VarBytesColumn,
        analyzers.CompositeAnalyzer,
        filters.StripFilter,
        tokenizers.IDTokenizer,
        tokenizers.RegexTokenizer,
        whoosh3.W3Codec,
        whoosh3.W3Segment,
    ),
}


def admit_analyzer(analyzer_class: type) -> None:
    """Adds newssearch's analyzer class to the admitted names."""
    ADMITTED.update(_admit(analyzer_class))


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        found = ADMITTED.get((module, name))
        if found is None:
            raise RefusedPickle(f"a pickle names {module}.{name}, which an index never contains")
        return found


def unpickler(file: IO[bytes]) -> pickle.Unpickler:
    """Returns an unpickler of admitted names only, reading `file` from its position at each
    `load`."""
    return _Unpickler(file)


def load(file: IO[bytes]) -> Any:
    """Returns the object pickled at the file's position, built from admitted names only."""
    return _Unpickler(file).load()


def loads(data: bytes) -> Any:
    """Returns the object pickled in `data`, built from admitted names only."""
    return _Unpickler(_buffered(data)).load()


def loads_all(pickles: Sequence[bytes]) -> list[Any]:
    """Returns the objects pickled in each of `pickles`, read as one stream (as fast as
    `pickle.loads` on each: one unpickler for all of them)."""
    unpickler = _Unpickler(_buffered(b"".join(pickles)))
    return [unpickler.load() for _ in pickles]


def _buffered(data: bytes) -> IO[bytes]:
    """Returns `data` as a file with `peek`: the C unpickler then reads it in large pieces,
    not one `read` call per opcode (which made a protocol 2 pickle 20x slower to load)."""
    return io.BufferedReader(io.BytesIO(data), 1 << 16)


def _load_from(file: IO[bytes], **_: Any) -> Any:
    return load(file)


def _loads_from(data: bytes, **_: Any) -> Any:
    return loads(data)


def install() -> None:
    """Routes the pickles whoosh's reading code loads through the allow-list.

    whoosh binds `loads`/`load` at module level where it reads an index, so these names are
    replaced (the one place newssearch changes whoosh): `structfile.load_pickle` (block and
    column headers, compound directories, hash table extras, the segment list of a table of
    contents read by whoosh), `whoosh3.loads` (posting blocks, inlined postings), `columns.loads`
    (stored fields) and `formats.loads` (position lists). The schema of a newssearch index is
    read by `newssearch.engine.storage`, never by whoosh's `TOC.read`. Writing is untouched.
    """
    from whoosh.filedb import structfile

    structfile.load_pickle = _load_from
    whoosh3.loads = _loads_from
    columns.loads = _loads_from
    formats.loads = _loads_from
