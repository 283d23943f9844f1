"""Raw records cut from byte streams, bounded in size: the lines of JSON Lines, the elements of
a JSON array, a whole seed file; each with the line (and column) it starts at.

No record is held in memory past `MAX_RECORD_BYTES`: a longer one is read on to its end in
small pieces, counting its bytes but keeping none, and comes back as its size and a reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

MAX_RECORD_BYTES = 8 * 1024 * 1024  # one line, array element or seed file; documented in README
MAX_NESTING = 100  # arrays and objects inside one record, documented in README
_PIECE = 1 << 16  # bytes read at a time past the limit, and by the array scanner

_BOM = b"\xef\xbb\xbf"
_SPACE = re.compile(rb"[ \t\r\n]*")
# Outside a string: what changes depth, ends an element or a line. Inside: its end, an escape.
_OUTSIDE = re.compile(rb'["\[\]{},\n]')
_INSIDE = re.compile(rb'["\\\n]')
_STRING = rb'"[^"\\]*(?:\\.[^"\\]*)*"'
_STRING_OR_BRACKET = re.compile(_STRING + rb"|[\[\]{}]", re.S)
_NESTED = re.compile(rb'(?:[^"\[\]{}]+|' + _STRING + rb")*", re.S)  # always matches


class Stream(Protocol):
    """A binary file, a gzip file or standard input: what the readers read from."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class RawRecord:
    """One record's bytes and where they start, or (`problem`) why there are none to parse."""

    line: int
    data: bytes = b""
    column: int = 1
    problem: str = ""


def too_large(size: int, limit: int) -> str:
    """Returns the reason a record of `size` bytes is refused."""
    return f"record too large: {size:,} bytes (the limit is {limit:,} bytes)"


def lines(stream: Stream, limit: int = MAX_RECORD_BYTES) -> Iterator[RawRecord]:
    """Yields the non-blank lines of `stream`, numbered from 1; a line over `limit` bytes
    (its newline not counted) as a problem, skipped without being kept."""
    number = 0
    while data := stream.readline(limit + 1):
        number += 1
        if len(data) > limit and not data.endswith(b"\n"):
            size = len(data)
            while data and not data.endswith(b"\n"):
                data = stream.readline(_PIECE)
                size += len(data)
            yield RawRecord(number, problem=too_large(size - data.endswith(b"\n"), limit))
        elif data.strip():
            yield RawRecord(number, data)


def whole(stream: Stream, limit: int = MAX_RECORD_BYTES) -> RawRecord:
    """Returns all of `stream` as one record (line 1), or a problem if it passes `limit`."""
    data = stream.read(limit + 1)
    if len(data) <= limit:
        return RawRecord(1, data)
    size = len(data)
    while piece := stream.read(_PIECE):
        size += len(piece)
    return RawRecord(1, problem=too_large(size, limit))


def too_deep(data: bytes, limit: int = MAX_NESTING) -> bool:
    """Returns whether the JSON text `data` nests arrays and objects deeper than `limit`."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(data):
        char = match.group()[:1]
        if char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False


def array_elements(stream: Stream, limit: int = MAX_RECORD_BYTES) -> Iterator[RawRecord]:
    """Yields the elements of the JSON array that `stream` holds, one at a time, as raw bytes.

    The elements are cut by a scan of strings and brackets, so one malformed element is one
    problem and the scan goes on at the next comma of the array. A file that does not start
    with `[`, text after the closing `]`, or an end of file inside the array are problems too.
    """
    scanner = _ArrayScanner(limit)
    first = True
    while chunk := stream.read(_PIECE):
        if first and chunk.startswith(_BOM):
            chunk = chunk[len(_BOM) :]
        first = False
        yield from scanner.feed(chunk)
        if scanner.state == "failed":
            return
    yield from scanner.end()


class _ArrayScanner:
    """The state of an array scan between chunks: where it is, and the element so far."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.state = "before"  # before | between | element | after | failed
        self.line = 1
        self.line_start = 0  # stream offset of the current line's first byte
        self.offset = 0  # stream offset of the current chunk's first byte
        self.depth = 0  # inside the current element
        self.in_string = False
        self.skip = 0  # bytes of an escape left over from the last chunk
        self.element = bytearray()
        self.size = 0
        self.start = (1, 1)

    def feed(self, chunk: bytes) -> Iterator[RawRecord]:
        i, n = self.skip, len(chunk)
        self.skip = 0
        mark = 0  # where the current element's bytes start in this chunk
        while i < n:
            if self.state == "element":
                if self.depth and not self.in_string:
                    # Inside the element only brackets count: the rest, whole strings
                    # included, is passed over in one match (a string cut by the end of
                    # the chunk stops it, and is scanned on below).
                    nested = _NESTED.match(chunk, i)
                    assert nested is not None
                    self._count_lines(chunk, i, nested.end())
                    i = nested.end()
                found = (_INSIDE if self.in_string else _OUTSIDE).search(chunk, i)
                if found is None:
                    break
                j = found.start()
                char = chunk[j : j + 1]
                i = j + 1
                if char == b"\n":
                    self.line, self.line_start = self.line + 1, self.offset + i
                elif char == b"\\":
                    i = j + 2
                elif char == b'"':
                    self.in_string = not self.in_string
                elif char in b"[{":
                    self.depth += 1
                elif self.depth:
                    self.depth -= char in b"]}"
                elif char in b",]":
                    self._keep(chunk[mark:j])
                    yield self._record()
                    self.state = "between" if char == b"," else "after"
                continue
            space = _SPACE.match(chunk, i)
            assert space is not None
            self._count_lines(chunk, i, space.end())
            i = space.end()
            if i == n:
                break
            char = chunk[i : i + 1]
            if self.state == "before" and char == b"[":
                self.state, i = "between", i + 1
            elif self.state == "between" and char == b"]":
                self.state, i = "after", i + 1
            elif self.state == "between":
                self.state, mark, self.depth, self.in_string = "element", i, 0, False
                self.element.clear()
                self.size = 0
                self.start = (self.line, self.offset + i - self.line_start + 1)
            else:
                wanted = "a JSON array of records ('[')" if self.state == "before" else "the end"
                self.state = "failed"
                got = chr(char[0])
                yield RawRecord(self.line, problem=f"expected {wanted} here, found {got!r}")
                return
        if self.state == "element":
            self._keep(chunk[mark:n])
        self.skip = max(0, i - n)
        self.offset += n

    def end(self) -> Iterator[RawRecord]:
        if self.state in ("between", "element"):
            yield RawRecord(
                self.start[0] if self.state == "element" else self.line,
                problem="the file ends inside the array (no closing ']'; truncated?)",
            )

    def _count_lines(self, chunk: bytes, start: int, end: int) -> None:
        newlines = chunk.count(b"\n", start, end)
        if newlines:
            self.line += newlines
            self.line_start = self.offset + chunk.rindex(b"\n", start, end) + 1

    def _keep(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size <= self.limit:
            self.element += piece
        else:
            self.element.clear()

    def _record(self) -> RawRecord:
        line, column = self.start
        if self.size > self.limit:
            return RawRecord(line, column=column, problem=too_large(self.size, self.limit))
        return RawRecord(line, bytes(self.element), column)
