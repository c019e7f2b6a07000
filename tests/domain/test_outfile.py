"""Output flags never destroy what they name: `-` is stdout, links and devices are written
through, regular files are replaced whole or not at all."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from infra.domain.outfile import OutputError, write_text


def test_dash_is_standard_output_and_no_file_named_dash(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    stream = io.StringIO()
    assert write_text("-", "hello\n", stdout=stream) == "standard output"
    assert stream.getvalue() == "hello\n" and list(tmp_path.iterdir()) == []


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    target = tmp_path / "shared" / "real.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"


def test_a_device_is_written_through_not_replaced() -> None:
    before = os.stat("/dev/null")
    write_text("/dev/null", "discarded")
    after = os.stat("/dev/null")
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_a_regular_file_is_replaced_whole_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    path.write_text("old")
    path.chmod(0o640)
    write_text(path, "new")
    assert path.read_text() == "new" and (path.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_a_new_file_and_its_folder_are_made(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "out.md"
    assert write_text(path, "x") == str(path) and path.read_text() == "x"


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="it is a folder"):
        write_text(tmp_path, "x")


def test_check_target_asks_for_write_and_search_on_the_nearest_existing_folder(tmp_path: Path, monkeypatch) -> None:
    from infra.domain.outfile import check_target

    asked = []
    monkeypatch.setattr(os, "access", lambda path, mode: asked.append((Path(path), mode)) or not mode & os.W_OK)
    with pytest.raises(OutputError, match=f"cannot write {tmp_path / 'new' / 'r.json'}: {tmp_path} is not writable"):
        check_target(tmp_path / "new" / "r.json")
    assert asked == [(tmp_path, os.W_OK | os.X_OK)]


def test_check_target_lets_dash_through_even_where_nothing_may_be_written(tmp_path: Path, monkeypatch) -> None:
    from infra.domain.outfile import check_target

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    check_target("-")  # standard output: no folder is involved
    with pytest.raises(OutputError, match="is not writable"):
        check_target("r.json")
