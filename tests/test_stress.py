"""Readers and a writer at once: one writer process commits adds, updates and deletes while
two reader processes query in a loop; every answer is one whole commit's state."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from newssearch import Index

COMMITS = 24  # writer rounds, each an add (with an update) and a delete: two commits
READER_QUERIES = 2_000  # per reader, at most (the writer finishing ends them sooner)
READER_SECONDS = 20.0

# The writer's plan, shared by writer, readers and test: the ids after each commit.
PLAN = textwrap.dedent(
    """
    def states(rounds):
        ids, found = set(), [frozenset()]
        for k in range(1, rounds + 1):
            ids |= {f"n{3 * k + i}" for i in range(3)}  # added (n{3(k-1)} is updated)
            found.append(frozenset(ids))
            if k >= 2:
                ids.discard(f"n{3 * (k - 1) + 1}")
                found.append(frozenset(ids))
        return found
    """
)

WRITER = PLAN + textwrap.dedent(
    """
    import sys
    from newssearch import Document, Index

    index = Index.open(sys.argv[1], lock_timeout=30)
    for k in range(1, int(sys.argv[2]) + 1):
        docs = [Document(id=f"n{3 * k + i}", body=f"stress doc v{k}") for i in range(3)]
        if k >= 2:
            docs.append(Document(id=f"n{3 * (k - 1)}", body=f"stress doc v{k} updated"))
        index.add(docs)
        if k >= 2:
            assert index.delete([f"n{3 * (k - 1) + 1}"]) == [f"n{3 * (k - 1) + 1}"]
    print("done", flush=True)
    """
)

READER = PLAN + textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from newssearch import Index

    path, rounds, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    seconds = float(sys.argv[4])
    valid = set(states(rounds))
    done = Path(sys.argv[5])
    kept = Index.open(path)
    seen, count, bad, errors = set(), 0, [], []
    print("ready", flush=True)
    started = time.monotonic()
    while count < limit and time.monotonic() - started < seconds and not done.exists():
        index = kept if count % 2 else Index.open(path)  # a long-lived reader, and fresh ones
        try:
            results = index.search("stress", limit=1000, snippets=False)
        except Exception as e:
            errors.append(f"{type(e).__name__}: {e}")
            count += 1
            continue
        ids = [h.id for h in results.hits]
        state = frozenset(ids)
        if results.total != len(ids) or len(set(ids)) != len(ids) or state not in valid:
            bad.append(sorted(ids))
        seen.add(state)
        count += 1
        if index is not kept:
            index.close()
    print(json.dumps({"queries": count, "states": len(seen), "bad": bad[:3], "errors": errors[:3]}))
    """
)


def test_readers_always_see_one_whole_commit(tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    Index.create(ix).close()
    done = tmp_path / "writer-done"
    args = [str(ix), str(COMMITS)]
    readers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                READER,
                *args,
                str(READER_QUERIES),
                str(READER_SECONDS),
                str(done),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for reader in readers:  # both querying before the writer starts, however loaded the machine
        assert reader.stdout is not None and reader.stdout.readline() == "ready\n"
    started = time.monotonic()
    writer = subprocess.run(
        [sys.executable, "-c", WRITER, *args], capture_output=True, text=True, timeout=120
    )
    writing = time.monotonic() - started
    done.touch()
    outputs = [reader.communicate(timeout=60) for reader in readers]
    assert (writer.returncode, writer.stdout, writer.stderr) == (0, "done\n", "")
    reports = []
    for (out, err), reader in zip(outputs, readers, strict=True):
        assert (reader.returncode, err) == (0, "")
        reports.append(json.loads(out))
    for report in reports:
        assert report["errors"] == [] and report["bad"] == []
        assert report["queries"] >= 20 and report["states"] >= 2
    namespace: dict[str, object] = {}
    exec(PLAN, namespace)
    final = namespace["states"](COMMITS)[-1]  # type: ignore[operator]
    index = Index.open(ix)
    hits = index.search("stress", limit=1000, snippets=False).hits
    assert sorted(h.id for h in hits) == sorted(final)  # nothing lost, nothing extra
    last = f"n{3 * (COMMITS - 1)}"  # updated in the last round: one document, the new text
    assert [h.id for h in index.search(f'"v{COMMITS} updated"', snippets=False).hits] == [last]
    assert [h.id for h in index.search(f"id:{last}", snippets=False).hits] == [last]
    assert index.check().documents == len(final)
    print(
        f"\nstress: {2 * COMMITS - 1} commits in {writing:.1f} s; readers "
        + ", ".join(f"{r['queries']} queries seeing {r['states']} states" for r in reports)
    )
