"""Hostile queries and arguments: whatever the text, a search answers or refuses it with
QuerySyntaxError (a position, a one-line reason), and each limit of the README is refused
exactly as documented. The soak run of 10**5 of these is benchmarks/soak_queries.py.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import ARTICLES, write_jsonl
from hostile import queries
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newssearch import Document, Index, QuerySyntaxError, load_documents
from newssearch.cli import main
from newssearch.errors import InvalidArgumentError, QueryLimitError
from newssearch.query import parse
from newssearch.query.lexer import MAX_LENGTH, MAX_SLOP
from newssearch.query.parser import MAX_DEPTH, MAX_FUZZY, MAX_WORDS

ORACLE = Path(__file__).resolve().parent / "fixtures" / "oracle"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    """The oracle fixtures and the conftest articles, in two commits (two segments)."""
    folder = tmp_path_factory.mktemp("hostile")
    built = Index.create(folder / "ix")
    built.add(load_documents(ORACLE))
    built.add(load_documents(write_jsonl(folder / "a.jsonl", ARTICLES)))
    return built


def refusal(index: Index, text: str, **options: Any) -> QuerySyntaxError:
    with pytest.raises(QuerySyntaxError) as caught:
        index.search(text, **options)
    return caught.value


# ---- any text at all -----------------------------------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=queries, match=st.sampled_from(("all", "any")))
def test_every_query_answers_or_is_refused_with_a_position(
    index: Index, text: str, match: str
) -> None:
    try:
        results = index.search(text, limit=5, match=match)
    except QuerySyntaxError as e:
        assert 0 <= e.position <= len(text), (text, e)
        assert e.reason and "\n" not in e.reason and "\r" not in e.reason, (text, e)
        assert str(e) == f"{e.reason} (at position {e.position})"
        return
    assert len(results.hits) <= 5 and results.total >= len(results.hits)
    for hit in results.hits:
        assert hit.snippet is not None
        hit.snippet.render("html")
    tree = parse(text, match)
    try:
        assert parse(str(tree)) == tree, text
    except QueryLimitError as e:
        # Printed, a tree spells out its groups: `a OR NOT NOT b c` is `(a OR (NOT NOT b AND
        # c))`, two levels deeper, so a query within the nesting limit can print past it.
        assert e.reason.startswith("nested too deep"), (text, e)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=queries)
def test_the_cli_answers_any_query_or_prints_one_line(index: Index, text: str) -> None:
    result = CliRunner().invoke(main, ["query", "--index", str(index.path), "--", text])
    assert result.exception is None or isinstance(result.exception, SystemExit), text
    assert result.exit_code in (0, 2), (text, result.output)
    if result.exit_code == 2:
        assert result.stderr.startswith("newssearch: query error: ")
        assert result.stderr.count("\n") == 1 and result.stderr.endswith(")\n")


# ---- the limits, one by one ----------------------------------------------------------------


def test_a_query_longer_than_the_limit_is_refused(index: Index) -> None:
    assert index.search("a" * MAX_LENGTH).total == 0
    error = refusal(index, "a" * (MAX_LENGTH + 1))
    assert isinstance(error, QueryLimitError)
    assert str(error) == "the query is longer than 10,000 characters (at position 10000)"


def test_nesting_deeper_than_the_limit_is_refused_before_recursing(index: Index) -> None:
    depth = MAX_DEPTH
    assert index.search("(" * depth + "plan" + ")" * depth).total == 23
    assert index.search("NOT " * (depth - 1) + "plan").total == 49 - 23
    reason = "nested too deep: at most 32 parentheses and NOT, -, + inside one another"
    for text, position in (
        ("(" * (depth + 1) + "plan" + ")" * (depth + 1), 32),
        ("NOT " * (depth + 1) + "plan", 128),
        ("-" * (depth + 1) + "plan", 32),
        ("(NOT " * 17 + "plan" + ")" * 17, 80),  # parentheses and NOTs count together
        ("(" * MAX_LENGTH, 32),
        ("NOT " * 2500, 128),
    ):
        error = refusal(index, text)
        assert isinstance(error, QueryLimitError)
        assert (error.reason, error.position) == (reason, position), text


def test_a_slop_past_the_limit_is_refused_not_clamped(index: Index) -> None:
    assert index.search(f'"cooperation plan"~{MAX_SLOP}').total == 8
    for slop in ("1001", "99999999999999999999", "9" * 5000):
        error = refusal(index, f'"cooperation plan"~{slop}')
        assert isinstance(error, QueryLimitError)
        assert error.reason == f"a proximity's slop can be at most 1,000, not {slop}"
        assert error.position == 18
    assert index.search('"cooperation plan"~0001000').total == 8  # leading zeros


def test_more_words_than_the_limit_are_refused(index: Index) -> None:
    words = [f"w{i}" for i in range(MAX_WORDS + 1)]
    assert index.search(" OR ".join(words[:-1])).total == 0
    error = refusal(index, " OR ".join(words))
    assert isinstance(error, QueryLimitError)
    assert str(error) == "too many words: a query may have 256 (at position 0)"
    # the words of a phrase count, and so do date filters
    phrase = '"' + " ".join(words[:200]) + '" ' + " ".join(words[200:])
    assert refusal(index, phrase).reason == "too many words: a query may have 256"
    dates = " OR ".join(["date:2019"] * (MAX_WORDS + 1))
    assert refusal(index, dates).reason == "too many words: a query may have 256"


def test_more_fuzzy_terms_than_the_limit_are_refused(index: Index) -> None:
    assert index.search(" OR ".join(["plan~1"] * MAX_FUZZY)).total == 23
    text = " OR ".join(["plan~1"] * (MAX_FUZZY + 1))
    error = refusal(index, text)
    assert isinstance(error, QueryLimitError)
    assert str(error) == f"too many fuzzy terms: a query may have 32 (at position {len(text) - 6})"


@pytest.fixture(scope="module")
def prefixed(tmp_path_factory: pytest.TempPathFactory) -> Index:
    """300 documents, each with its own word starting `zz`: zz000 ... zz299."""
    built = Index.create(tmp_path_factory.mktemp("prefixed") / "ix")
    built.add(
        Document(id=f"d{i}", title="", body=f"zz{i:03d} {'zy' if i < 200 else 'zx'}{i:03d}")
        for i in range(300)
    )
    return built


def test_a_prefix_that_expands_past_the_limit_is_refused(prefixed: Index) -> None:
    assert prefixed.search("zz1*").total == 100
    assert prefixed.search("zy*").total == 200
    error = refusal(prefixed, "zy0* OR zz*")
    assert isinstance(error, QueryLimitError)
    assert str(error) == (
        "'zz*' matches more than 256 words: make the prefix longer (at position 8)"
    )
    error = refusal(prefixed, "zy* OR zx*")
    assert str(error) == (
        "too many words: with 'zx*' expanded, the query has over 256 (at position 7)"
    )
    error = refusal(prefixed, "title:zz* OR body:zz*")  # no title has a word: title:zz* is 1
    assert (error.position, error.reason[:10]) == (18, "'body:zz*'")
    assert prefixed.search("id:d1*").total == 111


# ---- dates, numbers and text the parser never meant ---------------------------------------


def test_a_keyword_value_that_folding_pads_is_read_as_the_index_holds_it(index: Index) -> None:
    # NFKD turns the macron into a space and a mark: `0\u00af` folds to `0 `, which printed as
    # tag:"0 " read back as tag:0 (found by the hypothesis test above).
    tree = parse("(0)(0)(tag:0\u00af)")
    assert str(tree) == "(0 AND 0 AND tag:0)"
    assert parse(str(tree)) == tree == parse('0 0 tag:"0\u00af"')


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        (
            "wheat* AND NOT NOT ((date:(1987-13 OR 1987-02-29) AND NOT U.S.))",
            26,
            "'date:' takes one date or [range], not a group: write date:2019-10 OR date:2019-12",
        ),
        (
            "date:99999",
            5,
            "not a date: '99999' (expected YYYY, YYYY-MM, YYYY-MM-DD, an ISO timestamp, or now, "
            "now-30d, now-2w, now-6m or now-1y)",
        ),
        ("date:0000", 5, "impossible date: '0000' (year 0)"),
        ("date:[0000 TO 1987]", 5, "impossible date: '0000' (year 0)"),
        (
            "date:>=99999",
            5,
            "not a date: '99999' (expected YYYY, YYYY-MM, YYYY-MM-DD, an ISO timestamp, or now, "
            "now-30d, now-2w, now-6m or now-1y)",
        ),
        ("plan \ud800", 5, "not text: a lone surrogate (a byte that is not UTF-8?)"),
        ("tag:\udcff", 4, "not text: a lone surrogate (a byte that is not UTF-8?)"),
        ("source:\u00af", 7, "'\u00af' folds to an empty value"),
    ],
)
def test_impossible_values_are_refused_at_their_position(
    index: Index, text: str, position: int, reason: str
) -> None:
    error = refusal(index, text)
    assert (error.position, error.reason) == (position, reason)


@pytest.mark.parametrize(
    ("text", "total"),
    [
        ("date:0001-01-01T00:00:00+01:00", 0),
        ("date:9999-12-31T23:59:59-23:59", 0),
        ("date:>9999", 0),
        ("date:<0001", 0),
        ("date:[0001 TO 9999]", 44),
        ("plan\x00", 23),
        ("\x1bplan\x07", 23),
        ("\u200bplan\ufeff", 23),
    ],
)
def test_extreme_values_that_are_valid_answer(index: Index, text: str, total: int) -> None:
    assert index.search(text).total == total


# ---- the other arguments of Index.search ---------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"match": "bogus"}, "match must be 'all' or 'any', not 'bogus'"),
        ({"sort": "bogus"}, "sort must be one of relevance, date, -date, not 'bogus'"),
        ({"limit": -5}, "limit must be at least 0, not -5"),
        ({"limit": "5"}, "limit must be an int, not str"),
        ({"limit": 2.5}, "limit must be an int, not float"),
        ({"limit": True}, "limit must be an int, not bool"),
        ({"offset": -1}, "offset must be at least 0, not -1"),
        ({"offset": None}, "offset must be an int, not NoneType"),
        ({"date_from": 2019}, "date_from must be a date string or None, not 2019"),
        (
            {"date_from": "99999"},
            "bad --from/--to date: not a date: '99999' (expected YYYY, YYYY-MM, YYYY-MM-DD, an ISO "
            "timestamp, or now, now-30d, now-2w, now-6m or now-1y)",
        ),
        (
            {"date_to": "2019-02-30"},
            "bad --from/--to date: impossible date: '2019-02-30' (no day 30 in 2019-02)",
        ),
        ({"snippets": "yes"}, "snippets must be True or False, not 'yes'"),
    ],
)
def test_every_bad_argument_raises_invalid_argument_error(
    index: Index, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        index.search("plan", **options)
    assert str(caught.value) == message


def test_a_query_that_is_not_text_is_an_invalid_argument(index: Index) -> None:
    with pytest.raises(InvalidArgumentError, match=r"^a query is a str, not bytes$"):
        index.search(b"plan")  # type: ignore[arg-type]


def test_huge_limits_and_offsets_page_normally(index: Index) -> None:
    assert len(index.search("plan", limit=10**30).hits) == 23
    far = index.search("plan", offset=10**30)
    assert (far.total, far.hits) == (23, ())


# ---- the command line ----------------------------------------------------------------------


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "code", "line"),
    [
        (
            ["date:(1987-13 OR 1987-02-29)"],
            2,
            "newssearch: query error: 'date:' takes one date or [range], not a group: write "
            "date:2019-10 OR date:2019-12 (at position 5)",
        ),
        (
            ["(" * 200 + "plan" + ")" * 200],
            2,
            "newssearch: query error: nested too deep: at most 32 parentheses and NOT, -, + "
            "inside one another (at position 32)",
        ),
        (
            ['"oil prices"~1000000000000'],
            2,
            "newssearch: query error: a proximity's slop can be at most 1,000, not 1000000000000 "
            "(at position 12)",
        ),
        (
            ["plan", "--limit", "-5"],
            2,
            "Error: Invalid value for '--limit': -5 is not in the range x>=0.",
        ),
        (
            ["plan", "--offset", "-1"],
            2,
            "Error: Invalid value for '--offset': -1 is not in the range x>=0.",
        ),
        (
            ["plan", "--limit", "1e3"],
            2,
            "Error: Invalid value for '--limit': '1e3' is not a valid integer range.",
        ),
        (
            ["plan", "--from", "99999"],
            2,
            "Error: Invalid value for '--from': not a date: '99999' (expected YYYY, YYYY-MM, "
            "YYYY-MM-DD, an ISO timestamp, or now, now-30d, now-2w, now-6m or now-1y)",
        ),
        (
            ["plan", "--to", "0000"],
            2,
            "Error: Invalid value for '--to': impossible date: '0000' (year 0)",
        ),
        (
            ["plan", "--match", "bogus"],
            2,
            "Error: Invalid value for '--match': 'bogus' is not one of 'all', 'any'.",
        ),
    ],
)
def test_bad_arguments_get_one_line_and_a_usage_exit_status(
    index: Index, args: list[str], code: int, line: str
) -> None:
    found, out, err = cli("query", "--index", str(index.path), *args)
    assert (found, out) == (code, "")
    assert err.splitlines()[-1] == line
    assert "Traceback" not in err


def test_an_offset_past_every_hit_prints_the_total(index: Index) -> None:
    code, out, err = cli("query", "--index", str(index.path), "plan", "--offset", str(10**30))
    assert (code, err) == (0, "")
    assert re.fullmatch(r"23 hits \(\d+\.\d ms\)\n", out)
    code, out, _ = cli("query", "--index", str(index.path), "plan", "--limit", str(10**30))
    assert code == 0 and out.startswith("1-23 of 23 hits (")


def test_an_index_path_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    for command in (["query", "plan"], ["stats"], ["index"], ["delete", "x"]):
        code, out, err = cli(*command, "--index", str(tmp_path / "file"))
        assert (code, out) == (2, "")
        assert err.splitlines()[-1] == (
            f"Error: Invalid value for '--index': Directory '{tmp_path / 'file'}' is a file."
        )


NOBODY = 65534


@pytest.fixture
def shared_index(index: Index) -> Iterator[Path]:
    """A copy of the index where user nobody can reach it (pytest's tmp_path is root's only)."""
    folder = Path(tempfile.mkdtemp(prefix="newssearch-perm-"))
    folder.chmod(0o755)
    shutil.copytree(index.path, folder / "ix")
    try:
        yield folder / "ix"
    finally:
        for path in (folder, *folder.rglob("*")):
            path.chmod(stat.S_IRWXU)
        shutil.rmtree(folder)


def as_nobody(*args: str) -> subprocess.CompletedProcess[str]:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run the command as another user")
    command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return subprocess.run(
        [*command, sys.executable, "-m", "newssearch", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NEWSSEARCH_INDEX": ""},
        check=False,
    )


def test_an_index_without_permission_gets_one_line(shared_index: Path) -> None:
    done = as_nobody("query", "plan", "--index", str(shared_index), "--no-snippets")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr  # readable: it answers
    toc = next(shared_index.glob("*.toc"))
    toc.chmod(0)
    done = as_nobody("query", "plan", "--index", str(shared_index))
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"newssearch: cannot use the index at {shared_index}: Permission denied\n"
    toc.chmod(0o644)
    shared_index.chmod(0o555)  # readable, not writable: searching works, writing does not
    done = as_nobody("delete", "j-nk", "--index", str(shared_index))
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"newssearch: cannot use {shared_index / 'MAIN_WRITELOCK'} as the index's write lock "
        "(Permission denied); it must be a file newssearch can create and write: remove what is "
        "there\n"
    )
    shared_index.chmod(0)
    done = as_nobody("query", "plan", "--index", str(shared_index))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines()[-1] == (
        f"Error: Invalid value for '--index': Directory '{shared_index}' is not readable."
    )
    shared_index.chmod(0o755)


def test_a_new_index_where_nothing_may_be_written_gets_one_line(shared_index: Path) -> None:
    shared_index.parent.chmod(0o555)
    source = next(shared_index.glob("*.toc"))  # any readable file: nothing gets that far
    done = as_nobody("index", str(source), "--index", str(shared_index.parent / "new"))
    assert (done.returncode, done.stdout) == (1, "")
    new = shared_index.parent / "new"
    assert done.stderr == f"newssearch: cannot use the index at {new}: Permission denied\n"
