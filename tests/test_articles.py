"""Index.get and `newssearch show`: the stored article, whole, with a query's words marked."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_jsonl

import newssearch
from newssearch import Document, DocumentNotFoundError, Index, PartialDate, load_documents
from newssearch.articles import highlight
from newssearch.cli import main

ARTICLES = [
    {
        "id": "r1",
        "title": "Defense cooperation plan",
        "date": "2019-10",
        "body": "The ministry of defense signed the plan.\n\n"
        "No army plan; cooperating on training.",
        "tags": ["defense", "Belarus"],
        "source": "Report.az",
        "url": "https://example.org/r1",
    },
    {"id": "r2", "title": "", "date": None, "body": "Plans of the army."},
]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("articles")
    index = Index.create(folder / "index")
    index.add(load_documents(write_jsonl(folder / "a.jsonl", ARTICLES)))
    index.close()
    return folder / "index"


def show(index_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["show", *args, "--index", str(index_dir)])
    return result.exit_code, result.stdout, result.stderr


def test_get_returns_the_stored_document(index_dir: Path) -> None:
    with Index.open(index_dir) as index:
        assert index.get("r1") == Document(
            id="r1",
            title="Defense cooperation plan",
            date=PartialDate.parse("2019-10"),
            body=ARTICLES[0]["body"],  # type: ignore[arg-type]
            tags=("defense", "Belarus"),
            source="Report.az",
            url="https://example.org/r1",
        )
        assert index.get("r1").date.text == "2019-10"  # type: ignore[union-attr]
        assert index.get("r2") == Document(id="r2", body="Plans of the army.")
        with pytest.raises(DocumentNotFoundError, match="no document with id 'R1' in the index"):
            index.get("R1")  # ids are exact


def test_a_deleted_document_is_not_found(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "index")
    index.add(load_documents(write_jsonl(tmp_path / "a.jsonl", ARTICLES)))
    assert index.delete(["r1"]) == ["r1"]
    with pytest.raises(DocumentNotFoundError):
        index.get("r1")
    assert index.get("r2").body == "Plans of the army."


def test_show_prints_the_whole_article(index_dir: Path) -> None:
    assert show(index_dir, "r1") == (
        0,
        "id:      r1\n"
        "title:   Defense cooperation plan\n"
        "date:    2019-10\n"
        "source:  Report.az\n"
        "tags:    defense, Belarus\n"
        "url:     https://example.org/r1\n"
        "\n"
        "The ministry of defense signed the plan.\n"
        "\n"
        "No army plan; cooperating on training.\n",
        "",
    )
    assert show(index_dir, "r2")[1] == (
        "id:      r2\ntitle:   -\ndate:    undated\nsource:  -\ntags:    -\nurl:     -\n\n"
        "Plans of the army.\n"
    )


def test_show_json_marks_the_query_as_snippets_do(index_dir: Path) -> None:
    code, out, _ = show(index_dir, "r1", "--query", '"army plan" OR cooperate -training', "--json")
    assert code == 0
    assert json.loads(out) == {
        "id": "r1",
        "title": "Defense <mark>cooperation</mark> plan",
        "date": "2019-10",
        "source": "Report.az",
        "tags": ["defense", "Belarus"],
        "url": "https://example.org/r1",
        # The phrase is one span where it is a phrase, and only there; stems match; a word
        # only under NOT is never marked.
        "body": "The ministry of defense signed the plan.\n\nNo <mark>army plan</mark>; "
        "<mark>cooperating</mark> on training.",
    }


def test_show_marks_title_words_only_for_the_title(index_dir: Path) -> None:
    code, out, _ = show(index_dir, "r1", "--query", "title:plan", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["title"] == "Defense cooperation <mark>plan</mark>"
    assert "<mark>" not in data["body"]


def test_show_errors(index_dir: Path) -> None:
    assert show(index_dir, "nope") == (
        1,
        "",
        "newssearch: no document with id 'nope' in the index\n",
    )
    code, out, err = show(index_dir, "r1", "--query", '"unclosed')
    assert (code, out) == (2, "")
    assert (
        err == 'newssearch: query error: unbalanced quote: this " is never closed (at position 0)\n'
    )
    assert show(index_dir)[0] == 2  # no ID


def test_show_help() -> None:
    result = CliRunner().invoke(main, ["show", "--help"])
    assert result.exit_code == 0
    assert "Print the article ID in full" in result.stdout
    assert "--query Q" in result.stdout


def test_highlight_renders_ansi_for_a_terminal(index_dir: Path) -> None:
    with Index.open(index_dir) as index:
        marked = highlight(index.get("r2"), "plan", index.language)
    assert marked.body.render("ansi") == "\x1b[31m\x1b[1mPlans\x1b[0m of the army."
    assert marked.body.render("plain") == "Plans of the army."
    assert highlight(index.get("r2"), None, "english").body.spans == ()


def test_show_on_a_terminal_marks_in_bold(index_dir: Path) -> None:
    """The installed command, its stdout a pseudo-terminal: ANSI bold red marks."""
    script = Path(sys.executable).parent / "newssearch"
    controller, terminal = pty.openpty()
    done = subprocess.run(
        [str(script), "show", "r2", "--query", "plan", "--index", str(index_dir)],
        stdout=terminal,
        stderr=subprocess.PIPE,
        timeout=60,
        check=False,
    )
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal's other end is closed: everything has been read
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    assert done.returncode == 0, done.stderr
    assert output.decode().splitlines()[-1] == "\x1b[31m\x1b[1mPlans\x1b[0m of the army."


def test_document_not_found_is_public_and_a_newssearch_error() -> None:
    assert "DocumentNotFoundError" in newssearch.__all__
    assert issubclass(DocumentNotFoundError, newssearch.NewssearchError)
    assert DocumentNotFoundError("x").doc_id == "x"
