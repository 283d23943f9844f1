"""`newssearch query` on a terminal and in scripts: counting, exit codes, colour, wrapping,
help with the syntax, and queries that start with `-`."""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ARTICLES, ROOT, write_jsonl

from newssearch import Document
from newssearch.cli import main
from newssearch.cli.syntax import syntax_table, syntax_text
from newssearch.readers import input_size, load_documents

README = (ROOT / "README.md").read_text(encoding="utf-8")
GREEN, MAGENTA, MATCH, RESET = "\x1b[32m", "\x1b[35m", "\x1b[31m\x1b[1m", "\x1b[0m"


@pytest.fixture
def indexed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory whose ./index holds ARTICLES; no colour or width settings."""
    monkeypatch.chdir(tmp_path)
    for name in ("NEWSSEARCH_INDEX", "NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    write_jsonl(tmp_path / "articles.jsonl", ARTICLES)
    assert CliRunner().invoke(main, ["index", "articles.jsonl"]).exit_code == 0
    return tmp_path


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def without_timing(out: str) -> str:
    first, _, rest = out.partition("\n")
    return first.split(" (", 1)[0] + "\n" + rest


# ---- counting and exit codes ----------------------------------------------------------------


def test_count_and_limit_zero_print_only_the_total(indexed: Path) -> None:
    assert run("query", "plan", "--count") == (0, "3\n", "")
    assert run("query", "plan", "--limit", "0") == (0, "3\n", "")
    assert run("query", "zzz", "--count") == (0, "0\n", "")
    code, out, _ = run("query", "plan", "--count", "--json")
    data = json.loads(out)
    assert (code, data["total"], data["hits"], list(data)) == (
        *(0, 3, []),
        ["query", "total", "took_ms", "hits"],
    )


def test_count_with_facets_and_not_with_an_export(indexed: Path) -> None:
    assert run("query", "plan", "--count", "--facets", "tag") == (
        0,
        "3\n\ntag:\n  defense  1\n  economy  1\n  ports    1\n",
        "",
    )
    code, out, _ = run("query", "plan", "--limit", "0", "--json", "--facets", "tag")
    data = json.loads(out)
    assert (data["total"], data["hits"]) == (3, [])
    assert data["facets"] == {"tag": [["defense", 1], ["economy", 1], ["ports", 1]]}
    code, out, err = run("query", "plan", "--count", "--format", "csv")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == "Error: --count prints a total, not an export (--format csv)"


def test_exit_code_is_opt_in_and_grep_like(indexed: Path) -> None:
    assert run("query", "zzz")[0] == 0
    code, out, err = run("query", "zzz", "--exit-code")
    assert (code, out.split(" (")[0], err) == (1, "0 hits", "")
    assert run("query", "plan", "--exit-code", "--count") == (0, "3\n", "")
    assert run("query", "zzz", "--exit-code", "--count") == (1, "0\n", "")
    # Errors: 2 under --exit-code (as grep), whatever they are; 1 or 2 without it.
    missing = "newssearch: no index at nowhere; build one with `newssearch index --index nowhere`\n"
    assert run("query", "plan", "--index", "nowhere") == (1, "", missing)
    assert run("query", "plan", "--index", "nowhere", "--exit-code") == (2, "", missing)
    assert run("query", "(plan", "--exit-code")[0] == 2


# ---- colour and wrapping --------------------------------------------------------------------


def test_color_always_colours_date_id_and_matches(indexed: Path) -> None:
    code, out, _ = run("query", "defense ministry", "--color", "always")
    assert code == 0
    assert without_timing(out) == (
        "1-2 of 2 hits\n"
        "\n"
        f"1. {GREEN}2019-10{RESET}  {MAGENTA}a3{RESET}  "
        f"{MATCH}Ministry{RESET} of {MATCH}Defense{RESET} officials met.\n"
        f"   {MATCH}Ministry{RESET} of {MATCH}Defense{RESET} officials met. "
        f"{MATCH}Defense{RESET} of the {MATCH}ministry{RESET} was absent.\n"
        "\n"
        f"2. {GREEN}2018-12-31T10:00:00{RESET}  {MAGENTA}a8{RESET}  Defence spending\n"
        f"   {MATCH}Defense{RESET} budgets and {MATCH}defensive{RESET} planning were debated by "
        f"the {MATCH}ministry{RESET} for {MATCH}defense{RESET}.\n"
    )
    assert "\x1b" not in run("query", "defense", "--color", "never")[1]
    assert "\x1b" not in run("query", "defense")[1]  # auto, and not a terminal
    # always wins over NO_COLOR; auto honours it (see the terminal test below).
    assert GREEN in run("query", "defense", "--color", "always", env={"NO_COLOR": "1"})[1]


def test_title_only_article_shows_its_title_as_snippet(indexed: Path) -> None:
    code, out, _ = run("query", "parade", "--color", "always")
    assert code == 0
    assert without_timing(out) == (
        "1-1 of 1 hits\n\n"
        f"1. {GREEN}2019-10-31T23:30:00-02:00{RESET}  {MAGENTA}a5{RESET}  "
        f"Briefly: army {MATCH}parade{RESET}\n"
        f"   Briefly: army {MATCH}parade{RESET}\n"
    )


def test_snippets_wrap_to_columns(indexed: Path) -> None:
    _, out, _ = run("query", "defense", "--limit", "1", env={"COLUMNS": "40"})
    assert without_timing(out) == (
        "1-1 of 3 hits\n\n"
        "1. 2018-12-31T10:00:00  a8  Defence spending\n"
        "   Defense budgets and defensive\n"
        "   planning were debated by the ministry\n"
        "   for defense.\n"
    )
    # Piped (no $COLUMNS, not a terminal): one line per snippet, for grep and cut.
    assert run("query", "defense", "--limit", "1")[1].splitlines()[3] == (
        "   Defense budgets and defensive planning were debated by the ministry for defense."
    )


def on_terminal(
    args: list[str], env: dict[str, str], columns: int = 44, stdin: Path | None = None
) -> str:
    """Returns what the installed `newssearch` prints on a real pseudo-terminal (its standard
    input too, unless `stdin` names a file to read instead)."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    script = Path(sys.executable).parent / "newssearch"
    source = stdin.open("rb") if stdin else None
    with subprocess.Popen(
        [str(script), *args], stdin=source or follower, stdout=follower, stderr=follower, env=env
    ) as process:
        os.close(follower)
        if source:
            source.close()
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait()
    os.close(leader)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_on_a_terminal_colour_and_width_are_automatic(indexed: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    out = on_terminal(["query", "defense", "--limit", "1"], env)
    assert without_timing(out) == (
        "1-1 of 3 hits\n\n"
        f"1. {GREEN}2018-12-31T10:00:00{RESET}  {MAGENTA}a8{RESET}  Defence spending\n"
        f"   {MATCH}Defense{RESET} budgets and {MATCH}defensive{RESET} planning\n"
        f"   were debated by the ministry for {MATCH}defense{RESET}.\n"
    )
    plain = on_terminal(["query", "defense", "--limit", "1"], {**env, "NO_COLOR": "1"})
    assert without_timing(plain) == without_timing(out).replace(GREEN, "").replace(
        MAGENTA, ""
    ).replace(MATCH, "").replace(RESET, "")


def test_show_and_similar_follow_the_same_colour_rules(indexed: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    shown = on_terminal(["show", "a1", "--query", "plan"], env)
    assert shown.splitlines()[-1] == (
        f"The ministers signed a cooperation {MATCH}plan{RESET} for 2020. "
        f"The {MATCH}plan{RESET} covers training."
    )
    plain = on_terminal(["show", "a1", "--query", "plan"], {**env, "NO_COLOR": "1"})
    assert plain.splitlines()[-1] == (
        "The ministers signed a cooperation plan for 2020. The plan covers training."
    )
    similar = on_terminal(["similar", "a2"], env)
    assert f"  {MAGENTA}a1{RESET}  " in similar


# ---- help, syntax, and queries that start with `-` ------------------------------------------


def test_syntax_is_the_readme_section() -> None:
    code, out, _ = run("syntax")
    section = README.split("## Query syntax", 1)[1].split("\n## ", 1)[0]
    assert (code, out) == (0, "## Query syntax" + section.rstrip() + "\n")
    assert out == syntax_text()


def test_query_help_shows_the_syntax_table() -> None:
    code, out, _ = run("query", "--help")
    assert code == 0
    rows = syntax_table()
    assert len(rows) >= 10
    assert rows[0] == ("cooperation plan", "both words (stemmed: plans, planned match plan)")
    after = out.split("\nQuery syntax:\n", 1)[1]
    for query, _ in rows:
        assert f"\n  {query} " in after or f"\n  {query}\n" in after, query
    assert " ".join(out.split()).endswith(
        "The whole language: `newssearch syntax`. A query that starts with '-' goes "
        "after '--': newssearch query -- -corn wheat"
    )


def test_a_query_starting_with_minus_goes_after_double_dash(indexed: Path) -> None:
    assert run("query", "--count", "--", "-army", "defense") == (0, "2\n", "")
    assert run("query", "--count", "--", "-army defense") == (0, "2\n", "")
    assert run("query", "--count", "cooperation", "plan") == (0, "2\n", "")  # words joined
    code, out, err = run("query", "-army", "defense")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        "Error: No such option: -a (in '-army'). A query that starts with '-' goes after '--': "
        "newssearch query [OPTIONS] -- -army ..."
    )


# ---- progress -------------------------------------------------------------------------------

FRAME = re.compile(
    r"\rindexing  \[([#-]{24})\]\s+(\d+)%(?:  \d\d:\d\d:\d\d)?"
    r"(?:  ([\d,]+) documents(?:, [\d,]+/s)?)?"
)


def test_indexing_shows_a_bar_on_a_terminal_and_nothing_when_piped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    records = [{"id": f"d{n}", "body": f"word{n} " * 40} for n in range(1_250)]
    write_jsonl(tmp_path / "many.jsonl", records)
    env = {k: v for k, v in os.environ.items() if k != "NEWSSEARCH_INDEX"}
    out = on_terminal(["index", "--index", "ix", "many.jsonl"], env, columns=100)
    frames = FRAME.findall(out.replace("\x1b[?25l", "").replace("\x1b[?25h", ""))
    percents = [int(p) for _, p, _ in frames]
    assert percents == sorted(percents) and percents[-1] == 100 and len(frames) >= 7
    counts = [c for _, _, c in frames if c]
    assert counts == [f"{n:,}" for n in range(200, 1_201, 200)] + ["1,250"]
    assert frames[-1][0] == "#" * 24
    lines = out.split("\x1b[?25h", 1)[1].strip("\n").splitlines()
    assert lines[0] == "indexing… 1,250 documents read; writing the last batches and committing"
    assert re.fullmatch(r"added 1,250, updated 0, unchanged 0, rejected 0 in \d+\.\d s", lines[1])
    # Piped: no bar, no label, only the summary.
    code, out, err = run("index", "--index", "ix2", "many.jsonl")
    assert (code, err) == (0, "")
    assert out.startswith("added 1,250, updated 0, unchanged 0, rejected 0 in ")


def test_indexing_standard_input_on_a_terminal_counts_without_a_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "many.jsonl", [{"id": f"d{n}", "body": "text"} for n in range(600)])
    env = {k: v for k, v in os.environ.items() if k != "NEWSSEARCH_INDEX"}
    out = on_terminal(["index", "--index", "ix", "-"], env, stdin=tmp_path / "many.jsonl")
    assert re.fullmatch(
        r"\rindexing… 500 documents read\rindexing… 600 documents read, committing\n"
        r"added 600, updated 0, unchanged 0, rejected 0 in \d+\.\d s\n",
        out,
    ), out


def test_readers_tell_the_bytes_read(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", ARTICLES[:3])
    with gzip.open(tmp_path / "b.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write("".join(json.dumps(r) + "\n" for r in ARTICLES[3:] * 200))
    (tmp_path / "c.txt").write_text("date 2019-10\nA seed.", encoding="utf-8")
    (tmp_path / "skip.csv").write_text("x", encoding="utf-8")
    sizes = [(tmp_path / n).stat().st_size for n in ("a.jsonl", "b.jsonl.gz", "c.txt")]
    assert input_size(tmp_path, tmp_path / "missing") == sum(sizes)
    seen: list[int] = []
    items = list(load_documents(tmp_path, progress=seen.append))
    assert len(items) == 3 + 5 * 200 + 1
    assert seen == sorted(seen) and seen[-1] == sum(sizes)
    # After each record of a.jsonl, its own offset; at its end, its size; the .gz counts
    # compressed bytes, in steps of the reader's buffer.
    lines = (tmp_path / "a.jsonl").read_bytes().splitlines(keepends=True)
    assert seen[:4] == [len(lines[0]), len(lines[0]) + len(lines[1]), sizes[0], sizes[0]]
    assert sizes[0] < seen[4] <= sizes[0] + sizes[1]


def test_a_file_that_vanishes_while_reading_is_rejected_not_a_crash(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.txt").write_text("date 2019-10\nA seed.", encoding="utf-8")
    seen: list[int] = []
    items = load_documents(tmp_path, progress=seen.append)
    first = next(items)
    (tmp_path / "b.txt").unlink()
    rest = list(items)
    assert isinstance(first, Document) and first.id == "a"
    assert [str(r) for r in rest] == [f"{tmp_path}/b.txt:1: cannot read: No such file or directory"]
    assert seen == [(tmp_path / "a.txt").stat().st_size] * 2
