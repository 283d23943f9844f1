"""Raw records cut from byte streams, bounded in size: lines, JSON array elements, whole files."""

from __future__ import annotations

import io
import json

from hypothesis import given
from hypothesis import strategies as st

from newssearch.records import RawRecord, array_elements, lines, too_deep, whole


class Trickle(io.RawIOBase):
    """A stream that hands out at most `step` bytes a read: every boundary gets crossed."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.pos = data, step, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        piece = self.data[self.pos : self.pos + min(self.step, len(buffer))]
        buffer[: len(piece)] = piece
        self.pos += len(piece)
        return len(piece)

    def read(self, size: int = -1) -> bytes:
        return super().read(min(size, self.step) if size >= 0 else self.step) or b""


def test_lines_are_numbered_blank_ones_skipped() -> None:
    found = list(lines(io.BytesIO(b'{"a": 1}\n\n  \n{"b": 2}\r\n{"c": 3}')))
    assert found == [
        RawRecord(1, b'{"a": 1}\n'),
        RawRecord(4, b'{"b": 2}\r\n'),
        RawRecord(5, b'{"c": 3}'),
    ]


def test_a_long_line_is_skipped_to_its_newline_with_its_size() -> None:
    data = b"a" * 10 + b"\n" + b"b" * 11 + b"\n" + b"c" * 25 + b"\n" + b"d" * 11
    assert list(lines(io.BytesIO(data), limit=10)) == [
        RawRecord(1, b"a" * 10 + b"\n"),
        RawRecord(2, problem="record too large: 11 bytes (the limit is 10 bytes)"),
        RawRecord(3, problem="record too large: 25 bytes (the limit is 10 bytes)"),
        RawRecord(4, problem="record too large: 11 bytes (the limit is 10 bytes)"),
    ]


def test_whole_is_one_record_or_its_size() -> None:
    assert whole(io.BytesIO(b"x" * 10), limit=10) == RawRecord(1, b"x" * 10)
    assert whole(io.BytesIO(b"x" * 200_000), limit=10) == RawRecord(
        1, problem="record too large: 200,000 bytes (the limit is 10 bytes)"
    )


def test_too_deep_counts_brackets_outside_strings_only() -> None:
    assert not too_deep(b'{"a": "' + b"[" * 500 + b'"}', limit=3)
    assert not too_deep(b"[[[]]]", limit=3)
    assert too_deep(b"[[[[]]]]", limit=3)
    assert not too_deep(b'[[["\\"[[[["]]]', limit=3)
    assert too_deep(b'[{"a": [{"b": 1}]}]', limit=3)


def test_array_elements_with_their_lines_and_columns() -> None:
    data = b'\xef\xbb\xbf[\n  {"id": "a", "t": [1, {"x": "],\\"{"}]},\n  2 , "s,]"\n]\n'
    assert list(array_elements(io.BytesIO(data))) == [
        RawRecord(2, b'{"id": "a", "t": [1, {"x": "],\\"{"}]}', 3),
        RawRecord(3, b"2 ", 3),
        RawRecord(3, b'"s,]"\n', 7),
    ]


def test_array_problems() -> None:
    def problems(data: bytes) -> list[tuple[int, str]]:
        return [(r.line, r.problem) for r in array_elements(io.BytesIO(data)) if r.problem]

    assert problems(b"") == []
    assert problems(b"  []  ") == []
    assert problems(b'{"id": "a"}') == [
        (1, "expected a JSON array of records ('[') here, found '{'")
    ]
    assert problems(b'[{"id": "a"}]\n{') == [(2, "expected the end here, found '{'")]
    assert problems(b'[{"id": "a"},\n{"id": "b"') == [
        (2, "the file ends inside the array (no closing ']'; truncated?)")
    ]
    assert problems(b'[{"id": "a"},\n') == [
        (2, "the file ends inside the array (no closing ']'; truncated?)")
    ]
    assert list(array_elements(io.BytesIO(b'[1, "' + b"x" * 100 + b'", 3]'), limit=50)) == [
        RawRecord(1, b"1", 2),
        RawRecord(1, column=5, problem="record too large: 102 bytes (the limit is 50 bytes)"),
        RawRecord(1, b"3", 109),
    ]


records_strategy = st.lists(
    st.dictionaries(
        st.text(max_size=5),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=3), inner, max_size=3)
            ),
            max_leaves=6,
        ),
        max_size=4,
    ),
    max_size=6,
)


@given(records_strategy, st.sampled_from([None, 0, 2]), st.integers(1, 9), st.booleans())
def test_array_elements_parse_back_to_the_records(
    found: list[dict[str, object]], indent: int | None, step: int, ascii_only: bool
) -> None:
    text = json.dumps(found, indent=indent, ensure_ascii=ascii_only).encode()
    elements = list(array_elements(Trickle(text, step)))
    assert [json.loads(e.data) for e in elements] == found
    assert all(not e.problem for e in elements)
    for element in elements:  # each starts where its line and column say
        line = text.split(b"\n")[element.line - 1]
        assert line[element.column - 1 :].startswith(element.data.split(b"\n")[0])


@given(
    st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=8),
    st.integers(1, 9),
    st.integers(1, 40),
)
def test_lines_under_any_chunking(found: list[bytes], step: int, limit: int) -> None:
    data = b"".join(line + b"\n" for line in found)
    result = list(lines(io.BufferedReader(Trickle(data, step), 4), limit))
    expected = [
        RawRecord(n, line + b"\n")
        if len(line) <= limit
        else RawRecord(
            n, problem=f"record too large: {len(line):,} bytes (the limit is {limit:,} bytes)"
        )
        for n, line in enumerate(found, start=1)
        if line.strip()
    ]
    assert result == expected
