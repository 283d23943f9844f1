"""Shared fixtures: the seed folder, and a hand-made corpus where every answer is obvious."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newssearch import Index, load_documents

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_ID = "000_ddf5f41fb1d21a55"
# The corpora (Reuters-21578, CACM), read where they are, never copied: $NEWSSEARCH_CORPORA,
# else ../shared/corpora beside the repository. Tests that need one skip, saying where they looked.
CORPORA_VARIABLE = "NEWSSEARCH_CORPORA"
CORPORA = Path(os.environ.get(CORPORA_VARIABLE) or ROOT.parent / "shared" / "corpora")
REUTERS = CORPORA / "reuters21578" / "reuters21578.jsonl.gz"


def need_corpus(path: Path) -> Path:
    """Returns `path`, or skips the test saying which variable and path to fix."""
    if not path.exists():
        pytest.skip(
            f"corpus not found: {path} (set ${CORPORA_VARIABLE} to the folder of the corpora; "
            f"it is {os.environ.get(CORPORA_VARIABLE) or 'unset, so ../shared/corpora'})"
        )
    return path


# Eight articles: a stem collision (plan/plans/planned), a phrase that also occurs out of
# order, dates either side of a month boundary at several precisions, an article with no
# body, an undated one, tags and a source.
ARTICLES = [
    {
        "id": "a1",
        "title": "Cooperation plan signed",
        "date": "2019-10-31",
        "body": "The ministers signed a cooperation plan for 2020. The plan covers training.",
        "tags": ["defense"],
    },
    {
        "id": "a2",
        "title": "Plans for the harbour",
        "date": "2019-11-01",
        "body": "The city planned a new harbour; the plan of cooperation was delayed.",
        "tags": ["ports", "Economy"],
    },
    {
        "id": "a3",
        "title": "",
        "date": "2019-10",
        "body": "Ministry of Defense officials met. Defense of the ministry was absent.",
        "source": "Report.az",
    },
    {
        "id": "a4",
        "title": "Grain exports rise",
        "date": "2019",
        "body": "Wheat and corn exports rose sharply in the autumn.",
        "tags": ["grain", "wheat"],
    },
    {
        "id": "a5",
        "title": "Briefly: army parade",
        "date": "2019-10-31T23:30:00-02:00",
        "body": "",
        "tags": ["defense"],
    },
    {
        "id": "a6",
        "title": "Café culture",
        "date": "2020-01-15",
        "body": "A cafe in Nagorno-Karabakh reopened; Azerbaijan's officials attended.",
        "source": "Report.az",
    },
    {
        "id": "a7",
        "title": "Undated note",
        "date": None,
        "body": "Defense cooperation between the two armies was discussed.",
    },
    {
        "id": "a8",
        "title": "Defence spending",
        "date": "2018-12-31T10:00:00",
        "body": "Defense budgets and defensive planning were debated by the ministry for defense.",
    },
]


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def corpus_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "articles.jsonl", ARTICLES)


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    """A read-only index of ARTICLES, built once per test module."""
    folder = tmp_path_factory.mktemp("corpus")
    source = write_jsonl(folder / "articles.jsonl", ARTICLES)
    index = Index.create(folder / "index")
    report = index.add(load_documents(source))
    assert (report.added, report.rejected) == (len(ARTICLES), ())
    return index


@pytest.fixture(scope="module")
def corpus_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory of an index of ARTICLES, for the command line, built once per module."""
    folder = tmp_path_factory.mktemp("corpus-dir")
    source = write_jsonl(folder / "articles.jsonl", ARTICLES)
    index = Index.create(folder / "index")
    assert index.add(load_documents(source)).added == len(ARTICLES)
    index.close()
    return folder / "index"


ORACLE_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "oracle"


@pytest.fixture(scope="module")
def oracle_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the oracle's fixture corpus (tests/fixtures/oracle), built once per module."""
    folder = tmp_path_factory.mktemp("oracle") / "index"
    index = Index.create(folder)
    assert not index.add(load_documents(ORACLE_FIXTURES)).rejected
    index.close()
    return folder


@pytest.fixture(scope="module")
def oracle_index(oracle_index_dir: Path) -> Index:
    """The index of the oracle's fixture corpus, opened."""
    return Index.open(oracle_index_dir)


# ---- the web server (`newssearch serve`), for tests/test_web*.py -----------------------------

WEB_FIXTURES = ROOT / "tests" / "fixtures"
NEWSSEARCH = Path(sys.executable).parent / "newssearch"  # the installed entry point


def build_index(folder: Path) -> Path:
    """Returns an index built in `folder` by the installed CLI from seeds/ and tests/fixtures,
    with the extra keyword field `place:`."""
    index_dir = folder / "index"
    sources = [SEEDS, WEB_FIXTURES / "oracle", WEB_FIXTURES / "web"]
    done = subprocess.run(
        [
            NEWSSEARCH,
            "index",
            *map(str, sources),
            "--index",
            str(index_dir),
            "--keyword-field",
            "places",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return index_dir


@contextlib.contextmanager
def serving(index_dir: Path, *options: str) -> Iterator[str]:
    """Runs `newssearch serve` on a free loopback port; yields its address, then stops it."""
    log = index_dir.parent / "serve.log"
    with log.open("w") as err:
        process = subprocess.Popen(
            [NEWSSEARCH, "serve", "--index", str(index_dir), "--port", "0", *options],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"at (http://\S+/) ", log.read_text())):
            assert process.poll() is None, f"serve exited early: {log.read_text()}"
            assert time.monotonic() < deadline, f"serve did not start: {log.read_text()}"
            time.sleep(0.05)
        yield found.group(1)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def served_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(address, index directory) of one server over seeds/ and tests/fixtures, per session."""
    pytest.importorskip(
        "starlette", reason="the web tests need the web extra: pip install -e '.[web]'"
    )
    index_dir = build_index(tmp_path_factory.mktemp("served"))
    with serving(index_dir) as url:
        yield url, index_dir


def segments_of(patch: pytest.MonkeyPatch, documents: int, batch: int | None = None) -> None:
    """Has the writer finish a segment at `documents` documents, sent in batches of `batch`
    (default: a segment's), and write input of at most `documents` in the calling process."""
    from newssearch.engine import segments

    patch.setattr(segments, "SEGMENT_DOCUMENTS", documents)
    patch.setattr(segments, "LOCAL_DOCUMENTS", documents)
    patch.setattr(segments, "BATCH_DOCUMENTS", batch or documents)
