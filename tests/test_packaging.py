"""The built wheel: typed, licensed, classified, its extras split, the query syntax inside."""

from __future__ import annotations

import email.message
import email.parser
import re
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT

from newssearch.cli.syntax import syntax_text


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot build the wheel here (pip wheel: {done.stderr.strip()[-200:]})")
    (built,) = out.glob("newssearch-*.whl")
    return zipfile.ZipFile(built)


def metadata(wheel: zipfile.ZipFile) -> email.message.Message:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return email.parser.Parser().parsestr(wheel.read(name).decode())


def test_wheel_is_typed_and_licensed(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    assert "newssearch/py.typed" in names
    (license_file,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert wheel.read(license_file) == (ROOT / "LICENSE").read_bytes()
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "seeds/"))]


def test_wheel_metadata(wheel: zipfile.ZipFile) -> None:
    meta = metadata(wheel)
    assert meta["License-Expression"] == "MIT"
    classifiers = meta.get_all("Classifier")
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.10" in classifiers
    extras = {
        extra: sorted(
            re.split(r"[\s;<>=!~\[]", r, maxsplit=1)[0]
            for r in meta.get_all("Requires-Dist")
            if r.endswith(f'extra == "{extra}"')
        )
        for extra in meta.get_all("Provides-Extra")
    }
    assert extras["test"] == ["hypothesis", "newssearch", "pytest", "selenium"]
    assert extras["dev"] == ["mypy", "newssearch", "ruff", "types-regex"]
    assert extras["web"] == ["jinja2", "starlette", "uvicorn"]


def test_installed_package_carries_the_query_syntax(wheel: zipfile.ZipFile) -> None:
    description = metadata(wheel).get_payload()
    assert isinstance(description, str)
    assert syntax_text(description) == syntax_text()
    assert syntax_text().startswith("## Query syntax\n")


def test_wheel_carries_the_web_page(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    for name in ("base.html", "search.html", "article.html"):
        assert f"newssearch/web/templates/{name}" in names
    assert "newssearch/web/static/style.css" in names
