"""Write a run's results: ``bench/results/<timestamp>.json`` and ``.md`` (+ ``latest.md``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.common import Row


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows: list[Row]) -> str:
    lines = [
        "| # | benchmark | bar | measured | result |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        verdict = {"pass": "pass", "MISS": "**MISS**", "info": "report"}[row.verdict]
        lines.append(
            f"| {row.item} | {_cell(row.name)} | {_cell(row.bar)} | {_cell(row.measured)} | {verdict} |"
        )
    return "\n".join(lines)


def markdown(meta: dict[str, Any], rows: list[Row]) -> str:
    out = [
        f"# tlsward benchmarks, {meta['timestamp']}",
        "",
        f"Items run: {', '.join(meta['items'])}. Machine: {meta['machine']}. "
        f"Load average before / after: {meta['loadavg_before']} / {meta['loadavg_after']}. "
        f"Commit {meta['commit']}. Duration {meta['duration_seconds']:.0f} s.",
        "",
        table(rows),
        "",
    ]
    notes = [(r.item, r.name, r.note) for r in rows if r.note]
    if notes:
        out += ["## Notes", ""]
        out += [f"- **{item}, {name}**: {note}" for item, name, note in notes]
        out.append("")
    errors = meta.get("errors") or {}
    if errors:
        out += ["## Items that could not run", ""]
        out += [f"- item {item}: {err}" for item, err in errors.items()]
        out.append("")
    return "\n".join(out)


def write(
    results_dir: Path, meta: dict[str, Any], rows: list[Row], data: dict[str, Any], latest: bool
) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = meta["timestamp"].replace(":", "").replace("-", "")
    doc = {"meta": meta, "rows": [r.__dict__ | {"verdict": r.verdict} for r in rows], "data": data}
    json_path = results_dir / f"{stem}.json"
    json_path.write_text(json.dumps(doc, indent=2, sort_keys=False, default=str) + "\n")
    text = markdown(meta, rows)
    (results_dir / f"{stem}.md").write_text(text)
    if latest:
        (results_dir / "latest.md").write_text(text)
    return json_path
