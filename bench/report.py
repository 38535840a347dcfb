"""Write a run's results: ``bench/results/<timestamp>.json`` and ``.md``, and fold the items of
a full-size (not ``--quick``) run into ``latest.json`` / ``latest.md``, which hold the newest
result of every item (items can run separately: ``bench/run.sh 5``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from bench.common import Row

VERDICTS = {"pass": "pass", "MISS": "**MISS**", "info": "report"}
# The README's Performance section carries the latest table between these markers.
README_START = "<!-- bench:latest:start -->"
README_END = "<!-- bench:latest:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows: list[Row]) -> str:
    lines = ["| # | benchmark | bar | measured | result |", "|---|---|---|---|---|"]
    lines += [
        f"| {r.item} | {_cell(r.name)} | {_cell(r.bar)} | {_cell(r.measured)} | {VERDICTS[r.verdict]} |"
        for r in rows
    ]
    return "\n".join(lines)


def _notes(rows: list[Row]) -> list[str]:
    notes = [f"- **{r.item}, {r.name}**: {r.note}" for r in rows if r.note]
    return ["## Notes", "", *notes, ""] if notes else []


def markdown(meta: dict[str, Any], rows: list[Row]) -> str:
    out = [
        f"# tlsward benchmarks, {meta['timestamp']}",
        "",
        f"Items run: {', '.join(meta['items'])}{' (quick: not a result)' if meta['quick'] else ''}. "
        f"Machine: {meta['machine']}. Load average before / after: {meta['loadavg_before']} / "
        f"{meta['loadavg_after']}. Commit {meta['commit']}. Duration {meta['duration_seconds']:.0f} s.",
        "",
        table(rows),
        "",
        *_notes(rows),
    ]
    errors = meta.get("errors") or {}
    if errors:
        out += ["## Items that could not run", ""]
        out += [f"- item {item}: {err}" for item, err in errors.items()]
        out.append("")
    return "\n".join(out)


def _row(data: dict[str, Any]) -> Row:
    fields = {f.name for f in dataclasses.fields(Row)}
    return Row(**{k: v for k, v in data.items() if k in fields})


def latest_markdown(latest: dict[str, Any], order: list[str]) -> str:
    items = [i for i in order if i in latest["items"]]
    rows = [_row(r) for i in items for r in latest["items"][i]["rows"]]
    runs = [
        f"| {i} | {latest['items'][i]['timestamp']} | {latest['items'][i]['commit']} | "
        f"{latest['items'][i]['loadavg_before']} | {latest['items'][i]['duration_seconds']:.0f} s |"
        for i in items
    ]
    return "\n".join(
        [
            "# tlsward benchmarks: latest result of every item",
            "",
            table(rows),
            "",
            "Each item's newest full-size run (`bench/results/<timestamp>.json` has every figure):",
            "",
            "| # | run (UTC) | commit | load average before | item duration |",
            "|---|---|---|---|---|",
            *runs,
            "",
            *_notes(rows),
        ]
    )


def write(
    results_dir: Path,
    meta: dict[str, Any],
    rows: list[Row],
    data: dict[str, Any],
    order: list[str],
) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = meta["timestamp"].replace(":", "").replace("-", "")
    doc = {"meta": meta, "rows": [r.__dict__ | {"verdict": r.verdict} for r in rows], "data": data}
    json_path = results_dir / f"{stem}.json"
    json_path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    (results_dir / f"{stem}.md").write_text(markdown(meta, rows))
    if meta["quick"]:
        return json_path
    latest_path = results_dir / "latest.json"
    latest = json.loads(latest_path.read_text()) if latest_path.exists() else {"items": {}}
    durations = data.get("durations", {})
    for item in meta["items"]:
        latest["items"][item] = {
            "timestamp": meta["timestamp"],
            "commit": meta["commit"],
            "loadavg_before": meta["loadavg_before"],
            "duration_seconds": durations.get(item, 0.0),
            "result_file": json_path.name,
            "rows": [r.__dict__ for r in rows if r.item == item],
        }
    latest_path.write_text(json.dumps(latest, indent=2, default=str) + "\n")
    (results_dir / "latest.md").write_text(latest_markdown(latest, order))
    readme = results_dir.parent.parent / "README.md"
    if readme.exists():
        readme.write_text(with_latest_table(readme.read_text(), latest, order))
    return json_path


def with_latest_table(text: str, latest: dict[str, Any], order: list[str]) -> str:
    """``text`` (the README) with the table between the markers replaced by the latest one."""
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"README has no {README_START} ... {README_END} block for the latest table")
    items = [i for i in order if i in latest["items"]]
    rows = [_row(r) for i in items for r in latest["items"][i]["rows"]]
    when = ", ".join(f"{i}: {latest['items'][i]['timestamp']}" for i in items)
    block = f"{README_START}\n{table(rows)}\n\nRuns (UTC) per item: {when}.\n"
    return text[:start] + block + text[end:]
