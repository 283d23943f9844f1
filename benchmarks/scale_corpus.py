"""Writes a scale corpus: COPIES copies of a JSON Lines corpus, streamed, as one `.jsonl.gz`.

    python benchmarks/scale_corpus.py OUT.jsonl.gz [--copies 16] [--corpus FILE]
                                      [--swap 0.02] [--seed 9]

Copy 0 is the corpus as it is; copy k >= 1 of each record has the id `{id}~{k}`, its date
k years later and `--swap` of the words of its title and body replaced by invented words whose
ranks follow Zipf's law (`_corpora.copy_text`), so the lexicon keeps growing as an archive's
does. Every other field (topics, places) is copied as it is. The same arguments give the same
bytes of JSON; the output is written one record at a time, never held in memory.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import DEFAULT_CORPUS, log
from _corpora import SCALE_SEED, SWAP_SHARE, copy_fields

DEFAULT_FILE = DEFAULT_CORPUS / "reuters21578.jsonl.gz"
BODY_KEYS = ("body", "text", "content")  # the first one a record has is its body


def scale_records(corpus: Path, copies: int, swap: float, seed: int) -> Iterator[dict[str, Any]]:
    """Yields the records of `copies` copies of the JSON Lines file `corpus`, copy by copy."""
    opener: Any = gzip.open if corpus.name.endswith(".gz") else open
    for copy in range(copies):
        with opener(corpus, "rt", encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                record = json.loads(line)
                if copy and isinstance(record, dict) and record.get("id") not in (None, ""):
                    record = copy_record(record, copy, swap, seed)
                yield record


def copy_record(record: dict[str, Any], copy: int, swap: float, seed: int) -> dict[str, Any]:
    """Returns copy `copy` >= 1 of one record (`_corpora.copy_fields`; other fields kept)."""
    body_key = next((key for key in BODY_KEYS if record.get(key)), "body")
    fields = {
        "title": record.get("title"),
        "body": record.get(body_key),
        "date": record.get("date"),
    }
    new = copy_fields(str(record["id"]), fields, copy, swap, seed)
    copied = dict(record, id=f"{record['id']}~{copy}", title=new["title"])
    copied[body_key] = new["body"]
    if "date" in record:
        copied["date"] = new["date"]
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the .jsonl.gz file to write")
    parser.add_argument("--copies", type=int, default=16, help="copies (default: 16)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_FILE, help="a JSON Lines file")
    parser.add_argument("--swap", type=float, default=SWAP_SHARE, help="share of words swapped")
    parser.add_argument("--seed", type=int, default=SCALE_SEED, help="random seed")
    args = parser.parse_args(argv)
    if not args.corpus.is_file():
        raise SystemExit(f"scale_corpus.py: no such file {args.corpus}")
    if args.copies < 1 or not 0 <= args.swap <= 1:
        raise SystemExit("scale_corpus.py: --copies wants 1 or more, --swap a share in [0, 1]")
    started = time.perf_counter()
    count = 0
    # mtime=0: the same input gives the same bytes, whenever it is written.
    with gzip.GzipFile(args.out, "wb", compresslevel=1, mtime=0) as raw:
        for record in scale_records(args.corpus, args.copies, args.swap, args.seed):
            raw.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
            count += 1
    log(f"{count:,} records in {time.perf_counter() - started:.0f} s: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
