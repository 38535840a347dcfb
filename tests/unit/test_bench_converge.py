"""Item 5's verdict: the bar row judges the re-runs made with the same CPU budget for every host;
the re-runs without a budget are reported beside it, never judged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import converge
from bench.common import Context


def _run(seconds: float, changed: int = 0, controller: float = 10.0, targets: float = 5.0) -> dict[str, Any]:
    return {
        "seconds": seconds,
        "controller_cpu": controller,
        "targets_cpu": targets,
        "recap": {},
        "changed": changed,
        "changed_tasks": ["a task"] if changed else [],
    }


def _report(
    tmp_path: Path, one: list[float], three: list[float], shared: tuple[float, float] | None = (100, 250)
) -> dict[str, Any]:
    ctx = Context(tmp_path)
    runs = converge.Runs(
        first={"1-host": _run(150, 70), "3-host": _run(400, 190)},
        reruns={"1-host": [_run(s) for s in one], "3-host": [_run(s) for s in three]},
        shared={"1-host": _run(shared[0]), "3-host": _run(shared[1])} if shared else {},
        budgets={"1-host": [0.333], "3-host": [0.333] * 3},
    )
    converge._report(ctx, runs, None, "")
    return {"rows": {row.name: row for row in ctx.rows}, "data": ctx.data["5"]}


def test_every_host_gets_the_largest_fleets_share_of_the_core():
    assert converge.HOST_CPUS == "0.333"


@pytest.mark.parametrize(("three", "passed"), [([290, 310], True), ([301, 302], False)])
def test_bar_row_judges_the_median_of_the_budgeted_reruns(tmp_path, three, passed):
    out = _report(tmp_path, [200, 200], three)
    row = out["rows"]["idempotent re-run, 3 hosts vs 1 host (wall seconds)"]
    assert row.passed is passed
    assert row.ratio == pytest.approx(sum(three) / 2 / 200)
    assert "0.333 of the server core" in row.note


def test_reruns_sharing_the_core_are_reported_not_judged(tmp_path):
    out = _report(tmp_path, [200, 200], [220, 220], shared=(100, 250))
    name = "idempotent re-run, 3 hosts vs 1 host, all hosts sharing the whole server core (wall seconds)"
    row = out["rows"][name]
    assert row.passed is None
    assert row.ratio == pytest.approx(2.5)
    assert out["data"]["reruns_sharing_the_core"]["3-host"]["seconds"] == 250
    assert out["data"]["host_cpu_budget"] == "0.333"


def test_without_the_shared_reruns_there_is_no_shared_row(tmp_path):
    out = _report(tmp_path, [200], [220], shared=None)
    assert not [name for name in out["rows"] if "sharing" in name]


def test_a_rerun_that_changes_something_fails_its_row(tmp_path):
    ctx = Context(tmp_path)
    runs = converge.Runs(
        first={}, reruns={"1-host": [_run(100, changed=1)], "3-host": [_run(120)]}, shared={}, budgets={}
    )
    converge._report(ctx, runs, None, "")
    rows = {row.name: row for row in ctx.rows}
    assert rows["idempotent re-run, 1-host fleet"].passed is False
    assert "a task" in rows["idempotent re-run, 1-host fleet"].note
    assert rows["idempotent re-run, 3-host fleet"].passed is True


def test_bar_row_shows_every_rounds_ratio(tmp_path):
    out = _report(tmp_path, [100, 200, 150], [160, 220, 300])
    measured = out["rows"]["idempotent re-run, 3 hosts vs 1 host (wall seconds)"].measured
    assert "220.0 s vs 150.0 s = 1.47x" in measured
    assert "round by round 1.60x, 1.10x, 2.00x" in measured
