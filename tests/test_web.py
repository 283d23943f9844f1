"""`newssearch serve` over HTTP: the JSON API's exact fields and errors, the page's escaping,
the query-narrowing links, and the server's promises (loopback, read-only, new commits seen).

The server is the installed entry point, run as a subprocess on a free loopback port over an
index built from seeds/ and tests/fixtures (see `serving` in conftest.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import NEWSSEARCH, ROOT, SEEDS, build_index, serving, write_jsonl

pytest.importorskip("starlette", reason="the web tests need the web extra: pip install -e '.[web]'")

from newssearch.web.forms import Syntax, narrow

COOPERATION_PLAN = [
    "ministry-of-defense",
    "cooperate-planning",
    "j-army",
    "coop-plan",
    "000_ddf5f41fb1d21a55",
]


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    """Returns status, headers and body of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def api(base: str, **params: Any) -> tuple[int, Any]:
    status, headers, body = get(f"{base}api/search?{urlencode(params)}")
    assert headers["content-type"] == "application/json"
    return status, json.loads(body)


def cli_json(index_dir: Path, *args: str) -> Any:
    done = subprocess.run(
        [NEWSSEARCH, "query", *args, "--index", str(index_dir), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_api_search_has_the_fields_of_query_json(served_index: tuple[str, Path]) -> None:
    url, index_dir = served_index
    status, found = api(url, q='"cooperation plan"')
    assert status == 200
    assert list(found) == ["query", "total", "took_ms", "hits"]
    assert [list(hit) for hit in found["hits"]] == [
        [
            *("id", "title", "date", "score", "url", "source", "tags", "snippet_text"),
            *("snippet", "snippet_highlights", "title_generated", "title_highlights"),
        ]
    ] * len(COOPERATION_PLAN)
    assert [hit["id"] for hit in found["hits"]] == COOPERATION_PLAN
    assert (found["query"], found["total"]) == ('"cooperation plan"', 5)
    assert found["hits"][0]["snippet"] == (
        "Ministry of Defense officials said the <mark>cooperation plan</mark> is on schedule."
    )
    expected = cli_json(index_dir, '"cooperation plan"')
    assert {**found, "took_ms": 0} == {**expected, "took_ms": 0}


def test_api_search_takes_the_query_options(served_index: tuple[str, Path]) -> None:
    url, index_dir = served_index
    options = {"limit": 3, "offset": 2, "sort": "-date", "match": "any", "from": "2019-06"}
    status, found = api(url, q="plan cooperation", **options)
    assert status == 200
    cli_args = [f"--{k}={v}" for k, v in options.items()]
    expected = cli_json(index_dir, "plan cooperation", *cli_args)
    assert {**found, "took_ms": 0} == {**expected, "took_ms": 0}
    assert [(hit["id"], hit["date"]) for hit in found["hits"]] == [
        ("treaty-2020", "2020-01-01"),
        ("defense-budget", "2019-12"),
        ("plans-plans", "2019-11-30"),
    ]
    assert found["total"] == 19


def test_api_search_counts_facets_as_query_json_does(served_index: tuple[str, Path]) -> None:
    url, index_dir = served_index
    status, found = api(url, q="plan", facets="tag,date", limit=1)
    assert status == 200
    assert found["facets"] == {
        "tag": [
            ["defense", 4],
            ["army", 2],
            ["grain", 2],
            ["belarus", 1],
            ["plan", 1],
            ["wheat", 1],
        ],
        "date": [["2018", 2], ["2019", 15], ["2021", 1]],
    }
    expected = cli_json(index_dir, "plan", "--facets=tag,date", "--limit=1")
    assert {**found, "took_ms": 0} == {**expected, "took_ms": 0}
    assert api(url, q="soybean", facets="place")[1]["facets"] == {
        "place": [["usa", 1], ["ussr", 1]]
    }


def test_api_search_takes_relative_dates(served_index: tuple[str, Path]) -> None:
    url, _ = served_index
    assert api(url, q="plan", **{"from": "-30d"})[1]["total"] == 0
    assert api(url, q="plan", **{"to": "now"})[1]["total"] == 18


def test_api_search_takes_recency_as_query_does(served_index: tuple[str, Path]) -> None:
    url, index_dir = served_index
    status, found = api(url, q="plan", recency="30d", limit=5)
    assert status == 200
    expected = cli_json(index_dir, "plan", "--recency=30d", "--limit=5")
    # Not the scores: they decay with the clock, which moved between the two runs.
    assert [hit["id"] for hit in found["hits"]] == [hit["id"] for hit in expected["hits"]]
    assert (found["total"], found["hits"][0]["id"]) == (expected["total"], "grain-plan-2021")
    assert api(url, q="plan", recency="soon") == (
        400,
        {
            "error": {
                "type": "NewssearchError",
                "message": "recency must be a half-life of 1 to 999999 days, weeks, months or "
                "years (30d, 2w, 6m, 1y), not 'soon'",
            }
        },
    )


def test_api_search_expands_as_query_expand_does(served_index: tuple[str, Path]) -> None:
    url, index_dir = served_index
    status, found = api(url, q="grain", expand=1, limit=3)
    assert status == 200
    assert list(found) == ["query", "total", "took_ms", "hits", "expansion"]
    expected = cli_json(index_dir, "grain", "--expand", "--limit=3")
    assert {**found, "took_ms": 0} == {**expected, "took_ms": 0}
    assert api(url, q="grain", expand=1, sort="date")[1] == {
        "error": {
            "type": "InvalidArgumentError",
            "message": "expand re-ranks by relevance: it cannot go with sort='date'",
        }
    }


@pytest.mark.parametrize(
    ("params", "error"),
    [
        (
            {"q": "plan", "facets": "tags"},
            {
                "type": "NewssearchError",
                "message": "unknown facet 'tags' "
                "(known: tag, source, place, date, date:year, date:month, date:day)",
            },
        ),
        (
            {"q": "plan", "expand": "yes"},
            {
                "type": "InvalidArgumentError",
                "message": "expand must be 1 (on) or 0 (off), not 'yes'",
            },
        ),
        (
            {"q": '"unbalanced'},
            {
                "type": "QuerySyntaxError",
                "message": 'unbalanced quote: this " is never closed',
                "position": 0,
            },
        ),
        (
            {"q": "plan AND"},
            {
                "type": "QuerySyntaxError",
                "message": "'AND' needs something after it",
                "position": 5,
            },
        ),
        ({"q": ""}, {"type": "QuerySyntaxError", "message": "empty query", "position": 0}),
        ({}, {"type": "InvalidArgumentError", "message": "the parameter q (the query) is missing"}),
        (
            {"q": "plan", "limit": 0},
            {
                "type": "InvalidArgumentError",
                "message": "limit must be a whole number from 1 to 100, not '0'",
            },
        ),
        (
            {"q": "plan", "offset": "x"},
            {
                "type": "InvalidArgumentError",
                "message": "offset must be a whole number at least 0, not 'x'",
            },
        ),
        (
            {"q": "plan", "sort": "newest"},
            {
                "type": "InvalidArgumentError",
                "message": "sort must be one of relevance, date, -date, not 'newest'",
            },
        ),
        (
            {"q": "plan", "to": "2019-13"},
            {"type": "DateError", "message": "to: impossible date: '2019-13' (month 13)"},
        ),
    ],
)
def test_api_errors_are_json_400(
    served_index: tuple[str, Path], params: dict[str, Any], error: dict[str, Any]
) -> None:
    url, _ = served_index
    assert api(url, **params) == (400, {"error": error})


def test_a_loopback_server_answers_only_to_its_own_names(served_index: tuple[str, Path]) -> None:
    url, _ = served_index
    port = url.rsplit(":", 1)[1].strip("/")
    for host, status in [
        (f"127.0.0.1:{port}", 200),
        (f"localhost:{port}", 200),
        (f"archive.example:{port}", 400),  # a DNS-rebinding page's own name
    ]:
        request = urllib.request.Request(f"{url}api/search?q=plan", headers={"Host": host})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                assert (host, response.status) == (host, status)
        except urllib.error.HTTPError as e:
            assert (host, e.code, e.read()) == (host, status, b"Invalid host header")


def cli(*args: str) -> Any:
    done = subprocess.run([NEWSSEARCH, *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_api_article_has_the_fields_of_show_json(served_index: tuple[str, Path]) -> None:
    url, index_dir = served_index
    status, _, body = get(f"{url}api/article/j-army?{urlencode({'q': 'cooperation plan'})}")
    assert (status, json.loads(body)) == (
        200,
        {
            "id": "j-army",
            "title": "Army <mark>plan</mark> of <mark>cooperation</mark>",
            "date": "2019",
            "source": "",
            "tags": ["defense", "Army"],
            "url": "",
            "body": "The army <mark>cooperation</mark> <mark>plan</mark> was signed.",
        },
    )
    shown = cli(
        "show", "j-army", "--query", "cooperation plan", "--index", str(index_dir), "--json"
    )
    assert json.loads(body) == shown


def test_api_similar_has_the_fields_of_similar_json(served_index: tuple[str, Path]) -> None:
    url, index_dir = served_index
    status, _, body = get(f"{url}api/similar/j-army?limit=3")
    found = json.loads(body)
    assert status == 200
    assert [hit["id"] for hit in found["hits"]] == [
        "m-year-2018",
        "army-treaty",
        "plan-of-cooperation",
    ]
    expected = cli("similar", "j-army", "--limit", "3", "--index", str(index_dir), "--json")
    assert {**found, "took_ms": 0} == {**expected, "took_ms": 0}


@pytest.mark.parametrize("endpoint", ["article", "similar"])
def test_api_unknown_article_is_json_404(served_index: tuple[str, Path], endpoint: str) -> None:
    url, _ = served_index
    status, _, body = get(f"{url}api/{endpoint}/no-such-id")
    assert (status, json.loads(body)) == (
        404,
        {
            "error": {
                "type": "DocumentNotFoundError",
                "message": "no document with id 'no-such-id' in the index",
            }
        },
    )


def test_unknown_api_path_is_json_404(served_index: tuple[str, Path]) -> None:
    url, _ = served_index
    status, headers, body = get(f"{url}api/nothing")
    assert (status, headers["content-type"]) == (404, "application/json")
    assert json.loads(body) == {
        "error": {
            "type": "NotFound",
            "message": "no such API endpoint: /api/nothing "
            "(see /api/search, /api/article/ID, /api/similar/ID)",
        }
    }


def test_page_escapes_everything_from_documents(served_index: tuple[str, Path]) -> None:
    url, _ = served_index
    status, headers, body = get(f"{url}?q=id:w-script")
    page = body.decode()
    assert status == 200
    assert "<script" not in page and "<img" not in page and "<i>" not in page
    assert (
        '<h2 class="title"><a href="/article/w-script?q=id%3Aw-script">'
        "&lt;script&gt;alert(1)&lt;/script&gt;</a></h2>" in page
    )
    assert ">&lt;i&gt;markup&lt;/i&gt;</a>" in page
    assert ">Evil &amp; &lt;Co&gt;</a>" in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;img src=x onerror=alert(2)&gt;" in page
    assert headers["content-security-policy"].startswith("default-src 'none';")
    status, _, body = get(f"{url}article/w-script")
    page = body.decode()
    assert status == 200
    assert "<script" not in page and "<img" not in page and "<i>" not in page
    assert '<h1 class="title">&lt;script&gt;alert(1)&lt;/script&gt;</h1>' in page


def test_page_shows_the_syntax_error_where_it_is(served_index: tuple[str, Path]) -> None:
    url, _ = served_index
    status, _, body = get(f"{url}?{urlencode({'q': 'plan (treaty'})}")
    page = body.decode()
    assert status == 400
    assert (
        "unbalanced parenthesis: this &#39;(&#39; is never closed (at position 5)</p>\n"
        '    <pre class="where">plan (treaty\n     ^</pre>'
    ) in page
    assert 'class="hits"' not in page


def test_links_narrow_the_query_as_typed(served_index: tuple[str, Path]) -> None:
    url, _ = served_index
    _, _, body = get(f"{url}?{urlencode({'q': 'wheat OR corn', 'offset': 0})}")
    page = body.decode()
    assert 'href="/?q=%28wheat+OR+corn%29+AND+tag%3Agrain"' in page
    assert 'href="/?q=%28wheat+OR+corn%29+AND+source%3AReuters"' in page


@pytest.mark.parametrize(
    ("text", "match", "narrowed"),
    [
        ("grain", "all", "grain tag:wheat"),
        ("grain -corn", "all", "grain -corn tag:wheat"),
        ("grain OR corn", "all", "(grain OR corn) AND tag:wheat"),
        ("grain tag:wheat", "all", "grain tag:wheat"),
        ("grain", "any", "grain AND tag:wheat"),
        ("grain corn", "any", "(grain corn) AND tag:wheat"),
    ],
)
def test_narrow(text: str, match: str, narrowed: str) -> None:
    assert narrow(text, "tag:wheat", match, Syntax("english")) == narrowed


def test_narrow_knows_the_index_keyword_fields() -> None:
    syntax = Syntax("english", ("place",))
    assert narrow("place:usa OR grain", "place:ussr", "all", syntax) == (
        "(place:usa OR grain) AND place:ussr"
    )


def test_serve_is_read_only_and_sees_new_commits(tmp_path: Path) -> None:
    index_dir = build_index(tmp_path)

    def files() -> dict[str, tuple[int, int]]:
        return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in index_dir.iterdir()}

    before = files()
    with serving(index_dir) as url:
        assert url.startswith("http://127.0.0.1:")
        assert api(url, q="plan")[1]["total"] == 21
        get(f"{url}?q=plan")
        assert files() == before
        extra = write_jsonl(
            tmp_path / "extra.jsonl",
            [{"id": "w-new", "title": "A new plan", "date": "2022-01", "body": "Planned."}],
        )
        subprocess.run(
            [NEWSSEARCH, "index", str(extra), "--index", str(index_dir)], check=True, timeout=60
        )
        status, found = api(url, q="plan", limit=1, sort="-date")
        assert (status, found["total"], found["hits"][0]["id"]) == (200, 22, "w-new")


def run_serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NEWSSEARCH, "serve", *args], capture_output=True, text=True, timeout=30, cwd=ROOT
    )


def test_serve_without_an_index_fails_in_one_line(tmp_path: Path) -> None:
    done = run_serve("--index", str(tmp_path / "none"))
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"newssearch: no index at {tmp_path / 'none'}; build one with "
        f"`newssearch index --index {tmp_path / 'none'}`\n"
    )


def test_serve_on_a_taken_port_fails_in_one_line(served_index: tuple[str, Path]) -> None:
    url, index_dir = served_index
    port = url.rsplit(":", 1)[1].strip("/")
    done = run_serve("--index", str(index_dir), "--port", port)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"newssearch: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_serve_help_names_its_defaults() -> None:
    done = run_serve("--help")
    text = " ".join(done.stdout.split())
    assert done.returncode == 0
    assert (
        "--host TEXT Address to listen on (127.0.0.1: this machine only). [default: 127.0.0.1]"
        in text
    )
    assert (
        "--port INTEGER RANGE Port to listen on; 0 picks a free one. [default: 8000; 0<=x<=65535]"
        in text
    )
    assert "Serve a search page and a JSON API over the index, read-only, until Ctrl-C." in text


def test_readme_api_example(tmp_path: Path) -> None:
    section = (ROOT / "README.md").read_text().split("## Web page", 1)[1].split("\n## ", 1)[0]
    command, output = section.split("```sh\n$ curl -s '", 1)[1].split("```", 1)[0].split("\n", 1)
    index_dir = tmp_path / "index"
    subprocess.run([NEWSSEARCH, "index", str(SEEDS), "--index", str(index_dir)], check=True)
    with serving(index_dir) as url:
        address = command.split("'", 1)[0].replace("http://127.0.0.1:8000/", url)
        found = json.loads(get(address)[2])
    assert found | {"took_ms": 0} == json.loads(output) | {"took_ms": 0}


def test_serve_without_the_web_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from newssearch.cli import main

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if it were not installed
    result = CliRunner().invoke(main, ["serve", "--index", str(tmp_path)])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "newssearch: serve needs the web extra (uvicorn is missing): "
        "pip install 'newssearch[web]'\n"
    )
