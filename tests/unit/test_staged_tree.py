"""plugins/modules/staged_tree.py: the candidate tree is written, compared and tested in one module run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "staged_tree", ROOT / "plugins" / "modules" / "staged_tree.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


st = _load()


def _tree(tmp_path: Path) -> tuple[Path, Path, list[dict[str, str]]]:
    live = tmp_path / "live"
    (live / "sub").mkdir(parents=True)
    (live / "a.conf").write_text("alpha\n")
    src = tmp_path / "mime.types"
    src.write_text("types {}\n")
    files = [
        {"path": "a.conf", "content": "alpha\n"},
        {"path": "sub/b.conf", "content": "beta\n", "mode": "0640"},
        {"path": "mime.types", "src": str(src)},
    ]
    return tmp_path / "staging", live, files


def test_first_run_writes_every_file_and_reports_what_differs(tmp_path: Path) -> None:
    root, live, files = _tree(tmp_path)
    result = st.stage(str(root), files, live_root=str(live))
    assert result.changed
    assert result.written == ["a.conf", "sub/b.conf", "mime.types"]
    assert result.existing == ["a.conf"]
    assert result.differs == ["sub/b.conf", "mime.types"]
    assert (root / "sub" / "b.conf").read_text() == "beta\n"
    assert (root / "mime.types").read_text() == "types {}\n"
    assert (root / "sub" / "b.conf").stat().st_mode & 0o7777 == 0o640
    assert root.stat().st_mode & 0o7777 == 0o700
    assert (root / "sub").stat().st_mode & 0o7777 == 0o700


def test_second_run_with_the_same_input_changes_nothing(tmp_path: Path) -> None:
    root, live, files = _tree(tmp_path)
    st.stage(str(root), files, live_root=str(live))
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    again = st.stage(str(root), files, live_root=str(live))
    assert not again.changed
    assert again.written == []
    assert again.differs == ["sub/b.conf", "mime.types"]
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before


def test_a_changed_content_or_mode_rewrites_only_that_file(tmp_path: Path) -> None:
    root, live, files = _tree(tmp_path)
    st.stage(str(root), files, live_root=str(live))
    files[0] = {"path": "a.conf", "content": "alpha 2\n"}
    files[1] = {**files[1], "mode": "0600"}
    result = st.stage(str(root), files, live_root=str(live))
    assert result.written == ["a.conf", "sub/b.conf"]
    assert result.differs == ["a.conf", "sub/b.conf", "mime.types"]
    assert (root / "sub" / "b.conf").stat().st_mode & 0o7777 == 0o600
    assert not list(root.rglob(".staged-*")), "no temporary file is left behind"


def test_a_file_can_be_compared_with_a_live_path_outside_the_live_root(tmp_path: Path) -> None:
    root, _live, _ = _tree(tmp_path)
    dropin = tmp_path / "nginx.service.d" / "x.conf"
    dropin.parent.mkdir()
    dropin.write_text("[Service]\n")
    same = st.stage(str(root), [{"path": "unit/x.conf", "content": "[Service]\n", "live": str(dropin)}])
    assert same.existing == ["unit/x.conf"]
    assert same.differs == []
    other = st.stage(str(root), [{"path": "unit/x.conf", "content": "[Service]\nX=1\n", "live": str(dropin)}])
    assert other.differs == ["unit/x.conf"]
    assert dropin.read_text() == "[Service]\n", "the live file is never written"


def test_check_mode_writes_nothing(tmp_path: Path) -> None:
    root, live, files = _tree(tmp_path)
    result = st.stage(
        str(root),
        files,
        live_root=str(live),
        directories=[{"path": str(tmp_path / "bk"), "mode": "0700"}],
        check=True,
    )
    assert result.changed
    assert result.written == ["a.conf", "sub/b.conf", "mime.types"]
    assert not root.exists()
    assert not (tmp_path / "bk").exists()


def test_extra_directories_get_their_mode(tmp_path: Path) -> None:
    root, live, files = _tree(tmp_path)
    backup = tmp_path / "previous"
    backup.mkdir(mode=0o755)
    result = st.stage(
        str(root), files, live_root=str(live), directories=[{"path": str(backup), "mode": "0700"}]
    )
    assert result.changed
    assert backup.stat().st_mode & 0o7777 == 0o700


def test_bad_input_lists_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "staging"
    bad = [
        {"path": "/etc/passwd", "content": "x"},
        {"path": "../escape.conf", "content": "x"},
        {"path": "both.conf", "content": "x", "src": "/etc/hostname"},
        {"path": "missing.conf", "src": str(tmp_path / "nope")},
        {"path": "mode.conf", "content": "x", "mode": "rw-r--r--"},
        {"path": "ok.conf", "content": "x"},
        {"path": "ok.conf", "content": "y"},
    ]
    with pytest.raises(st.TreeError) as err:
        st.stage(str(root), bad, live_root=str(tmp_path), directories=[{"path": "relative", "mode": "0700"}])
    problems = err.value.problems
    assert len(problems) == 7, problems
    text = "; ".join(problems)
    for needle in (
        "/etc/passwd",
        "../escape.conf",
        "exactly one of content or src",
        "does not exist",
        "not an octal number",
        "listed twice",
        "'relative'",
    ):
        assert needle in text
    assert not root.exists()


def test_validate_reports_the_exit_status_and_output(tmp_path: Path) -> None:
    root, live, files = _tree(tmp_path)
    st.stage(str(root), files, live_root=str(live))
    assert st._validate("test -f %s/a.conf", str(root)) == (0, "")
    rc, out = st._validate("ls %s/no-such-file", str(root))
    assert rc != 0
    assert "no-such-file" in out


def test_owner_is_applied(tmp_path: Path) -> None:
    root, live, files = _tree(tmp_path)
    st.stage(str(root), files, live_root=str(live), uid=65534, gid=65534)
    assert (root / "a.conf").stat().st_uid == 65534
    result = st.stage(str(root), files, live_root=str(live), uid=0, gid=0)
    assert result.written == ["a.conf", "sub/b.conf", "mime.types"]
    assert (root / "a.conf").stat().st_uid == 0


def test_diff_shows_the_live_to_staged_change_of_rendered_files_only(tmp_path: Path) -> None:
    root, live, files = _tree(tmp_path)
    files[0] = {"path": "a.conf", "content": "alpha 2\n"}
    result = st.stage(str(root), files, live_root=str(live), diff=True)
    by_header = {d["before_header"]: d for d in result.diff}
    assert set(by_header) == {str(live / "a.conf"), str(live / "sub" / "b.conf")}
    change = by_header[str(live / "a.conf")]
    assert (change["before"], change["after"]) == ("alpha\n", "alpha 2\n")
    assert change["after_header"] == str(root / "a.conf")
    assert by_header[str(live / "sub" / "b.conf")]["before"] == ""
    assert "diff" in result.as_dict()
    assert "diff" not in st.stage(str(root), files, live_root=str(live)).as_dict()
