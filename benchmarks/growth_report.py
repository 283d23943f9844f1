"""The growth report: its Markdown tables and its plot (docs/s, index MB, peak RSS, query p95)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _common import fmt, load_average, machine, table, write
from _queries import TYPES

# What the growth tables and plot show per scale: key, title, decimals in the table.
METRICS = (
    ("docs_per_s", "indexing, docs/s", 0),
    ("index_mb", "index size, MB", 1),
    ("rss_mb", "peak RSS while indexing, MB (all processes)", 0),
    ("query_p95", "query p95, ms (all types, top 10 with snippets, warm)", 2),
)


def _engines(report: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(p["engine"] for p in report["points"]))


def pivot(report: dict[str, Any], key: str, digits: int) -> str:
    """Returns a table of one figure: a row per scale, a column per engine."""
    points = report["points"]
    engines = _engines(report)
    labels = {p["engine"]: p["label"] for p in points}
    found = {(p["engine"], p["scale"]): p.get(key) for p in points}
    docs = {p["scale"]: p["docs"] for p in points}

    def cell(engine: str, scale: float) -> str:
        value = found.get((engine, scale))
        return "–" if value is None else fmt(value, digits)

    rows = [
        [
            f"{scale:g}×",
            f"{docs.get(scale, round(report['articles'] * scale)):,}",
            *(cell(e, scale) for e in engines),
        ]
        for scale in report["scales"]
    ]
    return table(["scale", "docs", *(labels[e] for e in engines)], rows, left=1)


def types_table(report: dict[str, Any]) -> str:
    """Returns the warm p95 per query type: a row per (engine, scale), a column per type."""
    rows = [
        [
            point["label"],
            f"{point['scale']:g}×",
            *(fmt(point["type_p95"].get(kind, float("nan")), 2) for kind in TYPES),
            fmt(point.get("query_p95_plain", float("nan")), 2),
        ]
        for engine in _engines(report)
        for point in sorted(
            (p for p in report["points"] if p["engine"] == engine), key=lambda p: p["scale"]
        )
    ]
    return table(["engine", "scale", *TYPES, "all, no snippets"], rows, left=2)


def cold_table(report: dict[str, Any]) -> str:
    """Returns the cold medians, `open / first query` ms: a row per scale, a column per engine."""
    points = report["points"]
    engines = _engines(report)
    labels = {p["engine"]: p["label"] for p in points}
    found = {(p["engine"], p["scale"]): p for p in points}

    def cell(engine: str, scale: float) -> str:
        point = found.get((engine, scale))
        if point is None or point.get("cold_first") is None:
            return "–"
        return (
            f"{fmt(point['cold_open'], 1)} / {fmt(point['cold_first'], 1)} "
            f"(p95 {fmt(point['cold_first_p95'], 1)})"
        )

    rows = [[f"{scale:g}×", *(cell(e, scale) for e in engines)] for scale in report["scales"]]
    return table(["scale", *(labels[e] for e in engines)], rows, left=1)


def markdown(report: dict[str, Any]) -> str:
    policy = (
        "the engines named by --growth-engines at every scale"
        if report["explicit_engines"]
        else "every engine, but plain whoosh (one process) only up to 1× and whoosh procs=2 "
        "up to 4× (below: why)"
    )
    reused = any(p.get("reused") for p in report["points"])
    lines = [
        "## Growth",
        "",
        f"{report['corpus']} at {', '.join(f'{s:g}×' for s in report['scales'])} "
        f"({report['articles']:,} articles at 1×; copies get new ids, "
        + (
            f"read from {report['scale_file']}"
            if report.get("scale_file")
            else "made while each engine reads them, so in its build time"
        )
        + "): one build per point, "
        f"then the query list warm ({report['reps']} passes, top 10 with snippets) and cold "
        f"({report.get('cold_reps', 0)} processes per query type). Engines: {policy}."
        + (
            " The 1× points are index_speed's medians and query_speed's latencies."
            if reused
            else ""
        ),
        *(
            line
            for key, title, digits in METRICS
            for line in ("", f"### {title[0].upper()}{title[1:]}", "", pivot(report, key, digits))
        ),
        "",
        "### Query p95 per type, ms (top 10 with snippets, warm; last column without snippets)",
        "",
        types_table(report),
        "",
        "### Cold: `open` / first query, ms (medians over every query type's processes)",
        "",
        cold_table(report),
        "",
        *memory_lines(report["memory"]),
        *(f"- {engine}: {reason}" for engine, reason in report["skipped"].items()),
    ]
    return "\n".join(lines)


def memory_lines(memory: dict[str, Any]) -> list[str]:
    """Returns the memory check (newssearch's verdict) and every engine's ratio beside it."""
    mine = memory.get("newssearch")
    if mine is None:
        head = "Memory check: not run (needs newssearch at 1× and at a larger scale)."
    else:
        verdict = "ok" if mine["ok"] else "ABOVE THE LIMIT"
        head = (
            f"Memory check: newssearch peak RSS (all processes) {mine['rss_mb']:.0f} MB at "
            f"{mine['scale']:g}× vs {mine['rss_1x_mb']:.0f} MB at 1× = {mine['ratio']:.2f}× "
            f"(limit {mine['limit']:g}×): {verdict}. Main process alone: "
            f"{mine['main_ratio']:.2f}×."
        )
    others = [
        f"{engine} {check['ratio']:.2f}× at {check['scale']:g}×"
        for engine, check in memory.items()
        if check is not None and engine != "newssearch"
    ]
    return [head, *([f"Peak RSS over 1×, the others: {', '.join(others)}."] if others else [])]


def plot(report: dict[str, Any], path: Path) -> None:
    """Draws docs/s, index MB, peak RSS and query p95 against the scale into a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    figure, grid = plt.subplots(2, 2, figsize=(12, 8.5))
    points = report["points"]
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    # Minor ticks (2, 3, ... 9 x a power of ten) labelled at 2 and 5 only, to stay legible.
    sparse = FuncFormatter(lambda value, _: f"{value:g}" if f"{value:.0e}"[0] in "25" else "")
    for axis, (key, title, _) in zip(grid.flat, METRICS, strict=True):
        for engine in _engines(report):
            mine = sorted((p for p in points if p["engine"] == engine), key=lambda p: p["scale"])
            label = mine[0]["label"]
            axis.plot([p["scale"] for p in mine], [p[key] for p in mine], marker="o", label=label)
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xticks(report["scales"], [f"{s:g}×" for s in report["scales"]])
        axis.yaxis.set_major_formatter(plain)
        axis.yaxis.set_minor_formatter(sparse)
        axis.set_title(title, fontsize="medium")
        axis.set_xlabel(f"corpus size (1× = {report['articles']:,} articles)")
        axis.grid(True, which="both", alpha=0.3)
    handles, labels = grid.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    figure.suptitle(f"Growth on {report['corpus']} (log scales)", fontsize="medium")
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def save(report: dict[str, Any], out: Path) -> str:
    """Writes growth.md/.json/.png under `out`; returns the Markdown."""
    text = markdown(report)
    write(out, "growth", text + f"\n\nMachine: {machine()}. Load: {load_average()}.", report)
    if report["points"]:
        plot(report, out / "growth.png")
        text += f"\n\nPlot: {out / 'growth.png'}"
    return text
