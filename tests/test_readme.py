"""The README's examples run as written, so the README cannot rot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CORPORA, ROOT, SEED_ID, SEEDS, need_corpus

from newssearch import Document, load_documents
from newssearch.cli import main
from newssearch.query import parse

README = (ROOT / "README.md").read_text(encoding="utf-8")
FIXTURES = ROOT / "tests" / "fixtures" / "oracle"


def section(title: str) -> str:
    """Returns the README's section `## title`, up to the next one."""
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_library_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", section("Library"), re.S)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("1 ")
    assert out[1].startswith(f"{SEED_ID} The Minister of Defense")


def test_every_query_in_the_syntax_table_parses() -> None:
    table = README.split("## Query syntax", 1)[1].strip().split("\n\n", 1)[0]
    examples = [
        q for row in table.splitlines()[2:] for q in re.findall(r"`([^`]+)`", row.split("|")[1])
    ]
    assert len(examples) >= 20
    for example in examples:
        parse(example)


def test_cli_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["index"]).exit_code == 0
    section = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", section, re.S)
    commands = re.findall(r"^newssearch (query|stats) (.*)$", block, re.M)
    assert len(commands) == 4
    for command, rest in commands:
        args = [command, *re.findall(r"'[^']*'|\S+", rest)]
        result = CliRunner().invoke(main, [a.strip("'") for a in args])
        assert result.exit_code == 0, (args, result.output)


def test_exploring_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["index"]).exit_code == 0
    section = README.split("## Exploring", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", section, re.S)
    commands = re.findall(r"^newssearch (query|show|similar) (.*)$", block, re.M)
    assert [c for c, _ in commands] == ["query", "show", "similar"]
    outputs = []
    for command, rest in commands:
        args = [command, *(a.strip("'") for a in re.findall(r"'[^']*'|\S+", rest))]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
        outputs.append(result)
    assert outputs[0].stderr == 'did you mean: "Nagorno-Karabakh"\n'
    assert outputs[1].stdout.startswith(f"id:      {SEED_ID}\n")
    assert outputs[2].stdout.startswith(f"like {SEED_ID}: (no distinctive words)\n0 hits (")

    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    capsys.readouterr()
    exec(compile(code, "README.md", "exec"), {})
    (seed,) = load_documents(SEEDS)
    assert isinstance(seed, Document)
    assert capsys.readouterr().out.splitlines() == [
        "ministry of defense",
        f"2019-10 {len(seed.body)}",
        "0",
        "no document with id 'no-such-id' in the index",
    ]


def test_input_examples_run(tmp_path: Path) -> None:
    section = README.split("## Input formats and limits", 1)[1].split("\n### ", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", section, re.S)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    first, second = (
        subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True)
        for line in block.splitlines()
    )
    assert (first.returncode, first.stderr) == (
        1,
        "rejected <stdin>:2: not JSON: Expecting value at column 1\n",
    )
    assert second.returncode == 0
    assert second.stdout.splitlines()[2:] == ["1. undated  p1  wheat from a pipe"]


def test_keyword_field_examples_run(tmp_path: Path) -> None:
    need_corpus(CORPORA / "reuters21578")
    section = README.split("### Extra keyword fields", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", section, re.S)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    first, second = (
        subprocess.run(
            ["bash", "-c", line.replace("../shared/corpora", str(CORPORA))],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        for line in block.splitlines()
    )
    # One Reuters article has no text at all: it is rejected, so the exit status is 1.
    assert first.returncode == 1, first.stderr
    assert first.stdout.startswith("added 21,577, updated 0, unchanged 0, rejected 1 in ")
    assert second.returncode == 0 and second.stdout.startswith("1-3 of "), second.stderr


def test_facets_recency_and_export_examples_print_what_the_readme_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = section("Facets, recency and export")
    (commands, shown, code, printed) = re.findall(r"```(?:sh|python)?\n(.*?)```", text, re.S)
    shutil.copytree(FIXTURES, tmp_path / "tests" / "fixtures" / "oracle")
    monkeypatch.chdir(tmp_path)
    indexing, *queries = commands.splitlines()
    assert indexing.startswith("newssearch index ")
    assert CliRunner().invoke(main, indexing.split()[1:]).exit_code == 0
    out = ""
    for line in queries:
        args = [a.strip("'") for a in re.findall(r"'[^']*'|\S+", line)[1:]]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
        out += result.stdout
    took = re.compile(r"\(\d+\.\d ms\)")
    assert took.sub("(ms)", out) == took.sub("(ms)", shown)
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out == printed


def test_script_and_terminal_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSSEARCH_INDEX", raising=False)
    assert CliRunner().invoke(main, ["index"]).exit_code == 0
    text = section("In scripts, on a terminal, in a notebook")
    (block,) = re.findall(r"```sh\n(.*?)```", text, re.S)
    commands = [line.split("#")[0].split()[1:] for line in block.splitlines()]
    assert [c[0] for c in commands] == ["query", "query", "query", "query", "syntax"]
    outputs = []
    for args in commands:
        result = CliRunner().invoke(main, _split(" ".join(args)))
        assert result.exit_code == 0, (args, result.output)
        outputs.append(result.stdout)
    assert outputs[0] == "0\n"  # the seed article is about defense, not grain
    assert outputs[1].startswith("1-1 of 1 hits (")
    assert "\x1b[" in outputs[2] and outputs[3].startswith("1-1 of 1 hits (")
    assert outputs[4].startswith("## Query syntax\n")


def _split(command: str) -> list[str]:
    return [a.strip("'") for a in re.findall(r"'[^']*'|\S+", command)]


def test_shell_completion_as_documented(tmp_path: Path) -> None:
    assert "_NEWSSEARCH_COMPLETE=bash_source newssearch" in README
    script = Path(sys.executable).parent / "newssearch"
    env = {**os.environ, "_NEWSSEARCH_COMPLETE": "bash_source"}
    done = subprocess.run([str(script)], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.startswith("_newssearch_completion() {\n")
    env = {
        **os.environ,
        "_NEWSSEARCH_COMPLETE": "bash_complete",
        "COMP_WORDS": "newssearch query --color ",
        "COMP_CWORD": "3",
    }
    done = subprocess.run([str(script)], capture_output=True, text=True, env=env, check=True)
    assert done.stdout == "plain,auto\nplain,always\nplain,never\n"


def test_merging_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["index"]).exit_code == 0
    section = README.split("## Segments and merging", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert block.splitlines() == ["newssearch optimize"]
    result = CliRunner().invoke(main, ["optimize"])
    assert (result.exit_code, result.output) == (
        0,
        "index: 1 segment already, nothing to merge (1 document)\n",
    )
