"""Hostile-document probe: each case puts one hostile record, file or folder between two good
records and runs `newssearch index` on it, then counts what was committed.

    python benchmarks/probe_documents.py [--src CHECKOUT/src] [--only NAME...]

Every case runs in a temporary folder of its own, through `python -m newssearch` with `--src`
first on PYTHONPATH, so the same command probes older code (`git archive COMMIT src`). One line
per case: the command, its exit status, whether a traceback was printed, the last line of
stderr (cut) and the documents committed; then a summary. Cases marked "as nobody" run the
command as the user nobody (`setpriv`), and are skipped unless the probe runs as root.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from _probes import Newssearch, arguments, report

TIMEOUT = 60  # seconds one `index` run may take
GOOD1 = b'{"id": "good1", "body": "first good record"}\n'
GOOD2 = b'{"id": "good2", "body": "last good record"}\n'

Case = Callable[[Path], list[str]]  # makes its inputs in a folder; returns the paths to index
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(make: Case) -> Case:
        CASES[name] = make
        return make

    return register


def record(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def between_good(line: bytes) -> bytes:
    return GOOD1 + line + b"\n" + GOOD2


def write(folder: Path, name: str, content: bytes) -> list[str]:
    (folder / name).write_bytes(content)
    return [name]


def one_line(line: bytes) -> Case:
    """Returns the case of one JSON Lines file: the line between the two good records."""
    return lambda folder: write(folder, "a.jsonl", between_good(line))


def one_record(fields: object) -> Case:
    return one_line(json.dumps(fields).encode())


# ---- encoding ---------------------------------------------------------------------------------
CASES["invalid-utf8-mid-jsonl"] = one_line(b'{"id": "bad", "body": "caf\xe9 \xff\xfe"}')
CASES["nul-byte-raw-in-line"] = one_line(b'{"id": "bad", "body": "a\x00b"}')
CASES["nul-escape-in-body"] = one_line(b'{"id": "nulbody", "body": "a\\u0000b"}')
CASES["nul-escape-in-id"] = one_line(b'{"id": "nul\\u0000id", "body": "x"}')
CASES["nul-escape-in-tag"] = one_line(b'{"id": "nultag", "body": "x", "tags": ["a\\u0000b"]}')


@case("invalid-utf8-seed-txt")
def _bad_seed(folder: Path) -> list[str]:
    (folder / "s.txt").write_bytes(b"date 2019\nok \xc3\x28 bad")
    return [*write(folder, "a.jsonl", GOOD1 + GOOD2), "s.txt"]


@case("nul-in-seed-txt")
def _nul_seed(folder: Path) -> list[str]:
    (folder / "s.txt").write_bytes(b"date 2019\nok \x00 nul")
    return [*write(folder, "a.jsonl", GOOD1 + GOOD2), "s.txt"]


# ---- surrogates -------------------------------------------------------------------------------
for _field in ("body", "title", "id", "source", "url", "date"):
    CASES[f"surrogate-in-{_field}"] = one_line(
        b'{"id": "s", "body": "x", "%s": "a\\ud800b"}' % _field.encode()
    )
CASES["surrogate-in-tag"] = one_line(b'{"id": "s", "body": "x", "tags": ["\\udfff"]}')
CASES["surrogate-pair-ok"] = one_line(b'{"id": "pair", "body": "emoji \\ud83d\\ude00"}')
CASES["surrogate-in-ignored-field"] = one_line(b'{"id": "s", "body": "x", "extra": "\\ud800"}')

# ---- nesting and numbers ----------------------------------------------------------------------
CASES["deep-nesting-body-100k"] = one_line(b'{"id": "deep", "body": ' + b"[" * 100_000 + b"}")
CASES["deep-nesting-extra-closed-5k"] = one_line(
    b'{"id": "deep", "body": "x", "extra": ' + b"[" * 5000 + b"]" * 5000 + b"}"
)
CASES["nesting-depth-900"] = one_line(
    b'{"id": "deep", "body": "x", "extra": ' + b"[" * 900 + b"]" * 900 + b"}"
)
CASES["huge-int-id-5000-digits"] = one_line(b'{"id": 1' + b"0" * 5000 + b', "body": "x"}')
CASES["float-inf-date"] = one_line(b'{"id": "f", "body": "x", "date": 1e999}')
CASES["NaN-id"] = one_line(b'{"id": NaN, "body": "x"}')

# ---- wrong JSON types -------------------------------------------------------------------------
for _label, _fields in {
    "date-int": {"id": "t", "body": "x", "date": 2019},
    "tags-string": {"id": "t", "body": "x", "tags": "a"},
    "id-null": {"id": None, "body": "x"},
    "id-object": {"id": {"a": 1}, "body": "x"},
    "body-object": {"id": "t", "body": {"text": "x"}},
    "title-list": {"id": "t", "body": "x", "title": ["a"]},
    "tags-nested-list": {"id": "t", "body": "x", "tags": [["a"]]},
    "tags-object": {"id": "t", "body": "x", "tags": {"a": 1}},
    "url-int": {"id": "t", "body": "x", "url": 5},
    "date-bool": {"id": "t", "body": "x", "date": True},
}.items():
    CASES[f"type-{_label}"] = one_record(_fields)
CASES["top-level-array"] = one_line(b'[{"id": "arr", "body": "x"}]')
CASES["top-level-string"] = one_line(b'"just a string"')
CASES["duplicate-ids-one-input"] = one_line(record(id="good1", body="again"))
CASES["duplicate-keys-one-object"] = one_line(b'{"id": "k1", "id": "k2", "body": "x"}')
CASES["huge-repr-in-reason"] = one_record({"id": list(range(100_000)), "body": "x"})
CASES["huge-bad-date-in-reason"] = one_record({"id": "h", "body": "x", "date": "2019" * 100_000})

# ---- dates ------------------------------------------------------------------------------------
for _date in (
    "2019-02-30", "0000", "99999", "2019-10-15T10:00:00+24:00", "2019-10-15T10:00:00+2400",
    "2019-10-15T10:00:00+0530", "2019-10-15T10:00:00-00:00", "2019-10-15T24:00:00",
    "2019-10-15t10:00:00Z", "2019-10-15T10:00:00 +02:00", "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59", "2019-10-15T10:00:00.123456789Z", "2019-10-15T10:00:60Z",
    "\u0662\u0660\u0661\u0669", "2019-W41", "1987-03-02 10:11:12", "2019-1-5", "10/15/2019",
):  # fmt: skip
    CASES[f"date {_date!r}"] = one_record({"id": "dt", "body": "x", "date": _date})


# ---- files and folders ------------------------------------------------------------------------
@case("gzip-truncated")
def _gzip_truncated(folder: Path) -> list[str]:
    lines = b"".join(record(id=f"z{i}", body="x" * 50) + b"\n" for i in range(200))
    blob = gzip.compress(GOOD1 + lines + GOOD2)
    (folder / "cut.jsonl.gz").write_bytes(blob[: len(blob) // 2])
    return [*write(folder, "b.jsonl", b'{"id": "after", "body": "y"}\n'), "cut.jsonl.gz"]


@case("gzip-corrupt-middle")
def _gzip_corrupt(folder: Path) -> list[str]:
    lines = b"".join(record(id=f"z{i}", body=f"word{i} " * 20) + b"\n" for i in range(2000))
    blob = bytearray(gzip.compress(lines))
    for offset in range(len(blob) // 2, len(blob) // 2 + 64):
        blob[offset] ^= 0xFF
    (folder / "bad.jsonl.gz").write_bytes(bytes(blob))
    return ["bad.jsonl.gz", *write(folder, "b.jsonl", GOOD1 + GOOD2)]


@case("gzip-bad-crc-trailer")
def _gzip_crc(folder: Path) -> list[str]:
    blob = bytearray(gzip.compress(GOOD1 + GOOD2))
    blob[-8] ^= 0xFF
    return write(folder, "crc.jsonl.gz", bytes(blob))


def _corpus(folder: Path) -> Path:
    corpus = folder / "corpus"
    corpus.mkdir()
    (corpus / "a.jsonl").write_bytes(GOOD1 + GOOD2)
    return corpus


@case("symlink-loop-in-folder")
def _symlink_loop(folder: Path) -> list[str]:
    corpus = _corpus(folder)
    os.symlink(corpus, corpus / "loop")
    os.symlink("self.jsonl", corpus / "self.jsonl")
    return ["corpus"]


@case("fifo-in-folder")
def _fifo_in_folder(folder: Path) -> list[str]:
    os.mkfifo(_corpus(folder) / "pipe.jsonl")
    return ["corpus"]


@case("fifo-given-directly")
def _fifo(folder: Path) -> list[str]:
    os.mkfifo(folder / "pipe.jsonl")
    return ["pipe.jsonl", *write(folder, "b.jsonl", GOOD1 + GOOD2)]


@case("unreadable-file (as nobody)")
def _unreadable_file(folder: Path) -> list[str]:
    (folder / "secret.jsonl").write_bytes(GOOD1)
    (folder / "secret.jsonl").chmod(0)
    return ["secret.jsonl", *write(folder, "b.jsonl", GOOD2)]


@case("unreadable-subfolder (as nobody)")
def _unreadable_folder(folder: Path) -> list[str]:
    locked = _corpus(folder) / "locked"
    locked.mkdir()
    (locked / "x.jsonl").write_bytes(record(id="x", body="x"))
    locked.chmod(0)
    return ["corpus"]


@case("dev-zero-as-jsonl")
def _dev_zero(folder: Path) -> list[str]:
    os.symlink("/dev/zero", folder / "zero.jsonl")
    return ["zero.jsonl", *write(folder, "b.jsonl", GOOD1 + GOOD2)]


CASES["only-CR-line-endings"] = lambda folder: write(
    folder, "a.jsonl", GOOD1.rstrip() + b"\r" + GOOD2.rstrip() + b"\r"
)


@case("huge-seed-txt-30MB")
def _huge_seed(folder: Path) -> list[str]:
    (folder / "big.txt").write_bytes(b"date 2019\n" + b"word " * 6_000_000)
    return ["big.txt", *write(folder, "b.jsonl", GOOD1 + GOOD2)]


CASES["long-line-30MB"] = one_line(b'{"id": "long", "body": "' + b"word " * 6_000_000 + b'"}')
CASES["long-id-1MB"] = one_record({"id": "i" * 1_000_000, "body": "x"})
CASES["long-tag-100KB"] = one_record({"id": "lt", "body": "x", "tags": ["t" * 100_000]})
CASES["tag-with-comma"] = one_record({"id": "tc", "body": "x", "tags": ["a,b"]})
CASES["missing-input-path"] = lambda folder: ["nope.jsonl"]


def main() -> None:
    options = arguments(__doc__.split("\n\n")[0]).parse_args()
    newssearch = Newssearch(options.src)
    root = os.geteuid() == 0
    print(f"# newssearch from {newssearch.where()}; {TIMEOUT} s per index run", flush=True)
    counts = {"cases": 0, "skipped": 0, "tracebacks": 0, "nothing committed": 0, "timeouts": 0}
    documents = 0
    base = Path(tempfile.mkdtemp(prefix="probe-documents-"))
    base.chmod(0o755)  # the "as nobody" cases read and write in it
    try:
        for name, make in CASES.items():
            if options.only and not any(part in name for part in options.only):
                continue
            nobody = "as nobody" in name
            if nobody and not root:
                print(f"{name:34} skipped: needs root to run as nobody", flush=True)
                counts["skipped"] += 1
                continue
            folder = base / f"case{len(os.listdir(base))}"
            folder.mkdir(mode=0o777 if nobody else 0o755)
            folder.chmod(0o777 if nobody else 0o755)
            paths = make(folder)
            command = ["index", *paths, "--index", "ix"]
            run = newssearch(*command, cwd=folder, timeout=TIMEOUT, user="nobody" if nobody else "")
            committed = newssearch.committed("ix", folder)
            print(report(name, " ".join(command), run, committed), flush=True)
            counts["cases"] += 1
            counts["tracebacks"] += run.traceback
            counts["timeouts"] += str(run.status).startswith("timeout")
            counts["nothing committed"] += not isinstance(committed, int) or committed == 0
            documents += committed if isinstance(committed, int) else 0
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    summary = ", ".join(f"{key} {value}" for key, value in counts.items())
    print(f"# summary: {summary}, documents committed {documents}")


if __name__ == "__main__":
    main()
