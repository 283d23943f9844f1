"""The command line through click's CliRunner, and once through the installed entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import ROOT, SEED_ID, SEEDS

from newssearch.cli import main
from newssearch.cli.app import COMMANDS

SEED_TITLE = (
    "The Minister of Defense of the Republic of Azerbaijan, Colonel General Zakir Hasanov has met"
    " with…"
)
SEED_SNIPPET = (
    "…and the Republic of Belarus signed the Bilateral Cooperation Plan for 2020. The plan provides"
    " for the organization of mutual visits of expert groups, the conduct of joint combat training…"
)


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory like a fresh checkout: ./seeds and no ./index yet."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSSEARCH_INDEX", raising=False)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_first_query_builds_the_default_index_from_seeds(checkout: Path) -> None:
    code, out, err = run("query", "cooperation plan")
    assert code == 0
    assert err.startswith("newssearch: no index at index yet; building it from seeds/\n")
    assert err.splitlines()[1].startswith(
        "newssearch: added 1, updated 0, unchanged 0, rejected 0 in "
    )
    lines = out.splitlines()
    assert lines[0].startswith("1-1 of 1 hits (") and lines[0].endswith(" ms)")
    assert lines[1:] == ["", f"1. 2019-10  {SEED_ID}  {SEED_TITLE}", f"   {SEED_SNIPPET}"]
    assert (checkout / "index").is_dir()
    code, _, err = run("query", "cooperation plan")
    assert (code, err) == (0, "")


def test_query_json(checkout: Path) -> None:
    run("index")
    code, out, _ = run("query", '"cooperation plan" AND date:2019', "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"query", "total", "took_ms", "hits"}
    assert (data["query"], data["total"]) == ('"cooperation plan" AND date:2019', 1)
    (hit,) = data["hits"]
    assert list(hit) == [
        *("id", "title", "date", "score", "url", "source", "tags", "snippet_text", "snippet"),
        *("snippet_highlights", "title_generated", "title_highlights"),
    ]
    assert (hit["id"], hit["title"], hit["date"]) == (SEED_ID, SEED_TITLE, "2019-10")
    assert hit["snippet"].count("<mark>Cooperation Plan</mark>") == 1
    assert "<mark>" not in hit["snippet"].replace("<mark>Cooperation Plan</mark>", "")
    ((start, end),) = hit["snippet_highlights"]
    assert hit["snippet_text"][start:end] == "Cooperation Plan"
    assert hit["snippet"] == (
        hit["snippet_text"][:start] + "<mark>Cooperation Plan</mark>" + hit["snippet_text"][end:]
    )
    assert (hit["title_generated"], hit["title_highlights"]) == (True, [])
    assert (hit["tags"], hit["source"], hit["url"]) == ([], "", "")


def test_query_options(checkout: Path) -> None:
    run("index")
    assert run("query", "cooperation", "--from", "2019-10-20", "--no-snippets")[1].splitlines()[
        2:
    ] == [f"1. 2019-10  {SEED_ID}  {SEED_TITLE}"]
    assert run("query", "cooperation", "--to", "2019-09")[1].startswith("0 hits (")
    assert run("query", "army belarus", "--match", "any", "--json")[1].count(SEED_ID) == 1
    assert run("query", "belarus", "--offset", "1")[1].startswith("1 hits (")
    code, _, err = run("query", "belarus", "--sort", "newest")
    assert code == 2 and "Invalid value for '--sort'" in err
    code, _, err = run("query", "belarus", "--from", "2019-13")
    assert code == 2
    assert err.splitlines()[-1] == (
        "Error: Invalid value for '--from': impossible date: '2019-13' (month 13)"
    )


def test_malformed_query_is_one_line_and_exit_2(checkout: Path) -> None:
    run("index")
    code, out, err = run("query", "(belarus OR armenia")
    assert (code, out) == (2, "")
    assert err == (
        "newssearch: query error: "
        "unbalanced parenthesis: this '(' is never closed (at position 0)\n"
    )


def test_index_reports_rejections_and_exits_1(checkout: Path) -> None:
    (checkout / "more.jsonl").write_text(
        '{"id": "ok", "body": "fine text"}\n{"id": "bad", "date": "2019-13", "body": "x"}\n',
        encoding="utf-8",
    )
    code, out, err = run("index", "seeds", "more.jsonl")
    assert code == 1
    assert err == "rejected more.jsonl:2: impossible date: '2019-13' (month 13)\n"
    assert out.startswith("added 2, updated 0, unchanged 0, rejected 1 in ")
    code, out, _ = run("index", "seeds", "more.jsonl")
    assert code == 1 and out.startswith("added 0, updated 0, unchanged 2, rejected 1 in ")
    code, out, err = run("index", "--strict", "more.jsonl")
    assert (code, out) == (1, "")
    assert err == "newssearch: more.jsonl:2: impossible date: '2019-13' (month 13)\n"


def test_rebuild_and_language(checkout: Path) -> None:
    run("index")
    code, _, err = run("index", "--language", "german")
    assert code == 1
    assert err == (
        "newssearch: the index at index stems in english; use --rebuild to rebuild it in german\n"
    )
    code, out, _ = run("index", "--rebuild", "--language", "german")
    assert code == 0 and out.startswith("added 1, updated 0, unchanged 0, rejected 0")
    assert json.loads(run("stats", "--json")[1])["language"] == "german"
    code, _, err = run("index", "--language", "klingon")
    assert code == 2 and "'klingon'; choose one of: arabic, armenian," in err


def test_stats_and_delete(checkout: Path) -> None:
    run("index")
    stats = json.loads(run("stats", "--json")[1])
    assert stats["documents"] == 1
    assert (stats["date_min"], stats["date_max"], stats["language"]) == (
        "2019-10",
        "2019-10",
        "english",
    )
    assert stats["size_bytes"] == sum(f.stat().st_size for f in (checkout / "index").iterdir())
    assert run("stats")[1].splitlines()[:4] == [
        "index:      index",
        "documents:  1",
        "dates:      2019-10 .. 2019-10",
        f"size:       {stats['size_bytes'] / 1e6:.1f} MB ({stats['size_bytes']} bytes)",
    ]
    assert run("delete", SEED_ID, "nope") == (
        1,
        "deleted 1 of 2\n",
        "newssearch: not in the index: nope\n",
    )
    assert run("query", "belarus")[1].startswith("0 hits (")


def test_missing_index_is_one_line(checkout: Path) -> None:
    assert run("stats", "--index", "elsewhere") == (
        1,
        "",
        "newssearch: no index at elsewhere; build one with `newssearch index --index elsewhere`\n",
    )


def test_index_env_variable(checkout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSSEARCH_INDEX", str(checkout / "custom"))
    assert run("index")[0] == 0
    assert (checkout / "custom").is_dir() and not (checkout / "index").exists()


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ctx = click.Context(main)
    assert main.list_commands(ctx) == sorted(COMMANDS)
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        assert command is not None and command.help, name
        assert f"newssearch {name} " in readme, name
        for option in command.params:
            for flag in option.opts:
                if flag.startswith("--"):
                    assert flag in readme, f"{name} {flag}"


def test_installed_entry_point(checkout: Path) -> None:
    script = Path(sys.executable).parent / "newssearch"
    env = {k: v for k, v in os.environ.items() if k != "NEWSSEARCH_INDEX"}
    done = subprocess.run(
        [str(script), "query", "cooperation plan"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[2] == f"1. 2019-10  {SEED_ID}  {SEED_TITLE}"
    module = subprocess.run(
        [sys.executable, "-m", "newssearch", "query", "belarus)"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert module.returncode == 2
    assert module.stderr == (
        "newssearch: query error: unbalanced parenthesis: this ')' has no '(' (at position 7)\n"
    )


# --- inputs of `newssearch index` (issues 8 and 13) ------------------------------------------


def test_a_missing_input_path_is_a_usage_error_and_writes_nothing(checkout: Path) -> None:
    (checkout / "good.jsonl").write_text('{"id": "ok", "body": "fine"}\n', encoding="utf-8")
    code, out, err = run("index", "good.jsonl", "nope.jsonl")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        "Error: Invalid value for '[PATHS]...': Path 'nope.jsonl' does not exist."
    )
    assert not (checkout / "index").exists()


def test_index_without_paths_and_without_seeds_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What following the hint "build one with `newssearch index --index DIR`" does in a folder
    # without ./seeds: an empty index left behind would answer every query with 0 hits.
    monkeypatch.chdir(tmp_path)
    code, out, err = run("index", "--index", "elsewhere")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        "Error: no PATH given, and no ./seeds folder here to index by default; name the files or"
        " folders to index (- for standard input)"
    )
    assert list(tmp_path.iterdir()) == []


def test_hostile_records_are_rejected_one_by_one_and_the_rest_committed(checkout: Path) -> None:
    (checkout / "hostile.jsonl").write_bytes(
        b'{"id": "ok1", "body": "grain prices"}\n'
        b'{"id": "s1", "body": "\\ud800"}\n'
        b'{"id": "deep", "body": ' + b"[" * 100_000 + b"}\n"
        b'{"id": "bad\\u0000id", "body": "x"}\n'
        b'{"id": "ok2", "title": "Grain \\u0000 nul", "body": "wheat"}\n'
        b'{"id": "u", "body": "caf\xe9"}\n'
    )
    code, out, err = run("index", "hostile.jsonl")
    assert code == 1
    assert err.splitlines() == [
        "rejected hostile.jsonl:2: body holds a lone surrogate '\\ud800' at character 1 (not"
        " Unicode text: UTF-8 cannot encode it)",
        "rejected hostile.jsonl:3: nested too deeply (more than 100 arrays and objects)",
        "rejected hostile.jsonl:4: id 'bad\\x00id' holds the control character '\\x00' at"
        " character 4",
        "rejected hostile.jsonl:6: not UTF-8 (byte 0xe9 at column 25)",
    ]
    assert out.startswith("added 2, updated 0, unchanged 0, rejected 4 in ")
    code, out, _ = run("query", "grain", "--json")
    assert [h["id"] for h in json.loads(out)["hits"]] == ["ok2", "ok1"]
    assert json.loads(out)["hits"][0]["title"] == "Grain \x00 nul"


def test_lenient_dates_index_undated_with_a_warning(checkout: Path) -> None:
    (checkout / "dates.jsonl").write_text(
        '{"id": "a", "date": "2019-02-30", "body": "grain"}\n'
        '{"id": "b", "date": "2019-10", "body": "grain"}\n',
        encoding="utf-8",
    )
    code, out, err = run("index", "dates.jsonl")
    assert code == 1 and out.startswith("added 1, updated 0, unchanged 0, rejected 1 in ")
    assert err == "rejected dates.jsonl:1: impossible date: '2019-02-30' (no day 30 in 2019-02)\n"
    code, out, err = run("index", "--lenient-dates", "dates.jsonl")
    assert code == 0
    assert err == (
        "warning dates.jsonl:1: impossible date: '2019-02-30' (no day 30 in 2019-02); indexed"
        " undated (--lenient-dates)\n"
    )
    assert out.startswith("added 1, updated 0, unchanged 1, rejected 0, 1 with warnings in ")
    hits = json.loads(run("query", "grain", "--json")[1])["hits"]
    assert [(h["id"], h["date"]) for h in hits] == [("b", "2019-10"), ("a", None)]


def test_a_json_array_file(checkout: Path) -> None:
    (checkout / "array.json").write_text(
        '[\n  {"id": "a", "body": "grain"},\n  {"id": "b", "body": 5},\n'
        '  {"id": "c", "title": "Grain"}\n]\n',
        encoding="utf-8",
    )
    code, out, err = run("index", "array.json")
    assert code == 1
    assert err == "rejected array.json:3: body must be a string, not int\n"
    assert out.startswith("added 2, updated 0, unchanged 0, rejected 1 in ")


def test_standard_input_through_the_installed_entry_point(checkout: Path) -> None:
    script = Path(sys.executable).parent / "newssearch"
    lines = b'{"id": "in1", "body": "wheat from a pipe"}\nnot json\n{"id": "in2", "body": "x"}\n'
    done = subprocess.run(
        [str(script), "index", "--index", "piped", "-"],
        input=lines,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == b"rejected <stdin>:2: not JSON: Expecting value at column 1\n"
    assert done.stdout.startswith(b"added 2, updated 0, unchanged 0, rejected 1 in ")
    found = subprocess.run(
        [str(script), "query", "--index", "piped", "wheat", "--json"],
        capture_output=True,
        check=True,
    )
    assert [h["id"] for h in json.loads(found.stdout)["hits"]] == ["in1"]


def test_keyword_field_option(checkout: Path) -> None:
    (checkout / "places.jsonl").write_text(
        '{"id": "a", "title": "Wheat", "body": "wheat", "places": ["usa"]}\n'
        '{"id": "b", "title": "Corn", "body": "wheat", "places": ["uk"]}\n',
        encoding="utf-8",
    )
    code, out, _ = run("index", "--index", "ix", "--keyword-field", "places", "places.jsonl")
    assert code == 0 and out.startswith("added 2, updated 0, unchanged 0, rejected 0 in ")
    assert run("query", "--index", "ix", "place:usa", "--no-snippets")[1].splitlines()[1:] == [
        "",
        "1. undated  a  Wheat",
    ]
    # Recorded in the index: a later run reads `places` without the option, --rebuild keeps it.
    assert run("index", "--index", "ix", "places.jsonl")[0] == 0
    assert run("index", "--index", "ix", "--rebuild", "places.jsonl")[0] == 0
    assert run("query", "--index", "ix", "place:uk", "--json")[1].count('"id": "b"') == 1
    assert run("index", "--index", "ix", "--keyword-field", "place=places", "places.jsonl")[0] == 0
    assert run("index", "--index", "ix", "--keyword-field", "orgs", "places.jsonl") == (
        1,
        "",
        "newssearch: the index at ix has the keyword fields place=places; use --rebuild to"
        " change them\n",
    )
    code, _, err = run("index", "--index", "other", "--keyword-field", "tags", "places.jsonl")
    assert code == 2
    assert err.splitlines()[-1] == (
        "Error: Invalid value for '--keyword-field': keyword field 'tags': 'tag' is a field of"
        " its own already"
    )
    assert not (checkout / "other").exists()
    code, out, _ = run("show", "a", "--index", "ix", "--query", "place:usa AND wheat", "--json")
    assert code == 0 and json.loads(out)["title"] == "<mark>Wheat</mark>"
    code, _, err = run("query", "place:usa")
    assert code == 2 and "unknown field 'place:'" in err


def test_start_up_imports_only_what_is_used() -> None:
    """A command's start-up loads no engine, and a writer process (which imports the fast
    writer and the command's script again) no query side: what a process imports, it pays
    for at every start."""

    def loaded(code: str) -> set[str]:
        done = subprocess.run(
            [sys.executable, "-c", f"{code}; import sys; print(' '.join(sys.modules))"],
            capture_output=True,
            text=True,
            check=True,
        )
        return set(done.stdout.split())

    cli = loaded("import newssearch.cli")
    assert not {"whoosh", "numpy", "newssearch.index", "newssearch.search"} & cli
    writer = loaded("import newssearch.cli, newssearch.engine.segments")
    assert "whoosh" in writer and "newssearch.engine.segments" in writer
    assert not {"rapidfuzz", "newssearch.search", "newssearch.query", "newssearch.index"} & writer
    assert not {"newssearch.engine.execute", "newssearch.cli.querying"} & writer
    import newssearch

    for name in newssearch.__all__:
        assert getattr(newssearch, name).__name__ == name
