"""The README's Performance table is rewritten from latest.json by every full-size bench run."""

from __future__ import annotations

import pytest

from bench import report

LATEST = {
    "items": {
        "2": {
            "timestamp": "2026-11-24T21:57:28Z",
            "rows": [{"item": "2", "name": "resumed vs full", "bar": "report", "measured": "1.1x"}],
        },
        "1": {
            "timestamp": "2026-11-24T22:14:26Z",
            "rows": [{"item": "1", "name": "handshakes", "bar": ">= 1.8x", "measured": "2.0x", "ratio": 2.0}],
        },
    }
}
README = f"# x\n\n## Performance\n\n{report.README_START}\nold table\n{report.README_END}\n\n## Next\n"


def test_table_between_markers_is_replaced_in_item_order():
    out = report.with_latest_table(README, LATEST, ["1", "2", "3"])
    block = out[out.index(report.README_START) : out.index(report.README_END)]
    assert "old table" not in out
    assert block.index("| 1 | handshakes") < block.index("| 2 | resumed vs full")
    assert "1: 2026-11-24T22:14:26Z, 2: 2026-11-24T21:57:28Z" in block
    assert out.startswith("# x\n")
    assert out.endswith(f"{report.README_END}\n\n## Next\n")


def test_replacing_twice_gives_the_same_text():
    once = report.with_latest_table(README, LATEST, ["1", "2"])
    assert report.with_latest_table(once, LATEST, ["1", "2"]) == once


def test_readme_without_markers_is_an_error():
    with pytest.raises(ValueError, match="bench:latest:start"):
        report.with_latest_table("# no markers\n", LATEST, ["1"])
