"""resource_path: the same names resolve from source, in a frozen bundle, and
under an override; names cannot escape the resources folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mcp_auth_desktop import resources_path
from mcp_auth_desktop.resources_path import RESOURCES_ENV, resource_path, resources_dir

from ._support import ROOT


@pytest.fixture(autouse=True)
def _no_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RESOURCES_ENV, raising=False)


def test_from_source_points_at_the_repository_resources() -> None:
    assert resources_dir() == ROOT / "mcp_auth_desktop" / "resources"
    assert resource_path("icons", "app.svg").is_file()


def test_frozen_points_inside_the_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path("templates", "x.html") == tmp_path / "resources" / "templates" / "x.html"


def test_meipass_without_frozen_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A stray _MEIPASS (e.g. a test harness) must not redirect a source run.
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert resources_dir() == ROOT / "mcp_auth_desktop" / "resources"


def test_environment_override_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", "/nonexistent", raising=False)
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path))
    assert resource_path("icons", "app.svg") == tmp_path / "icons" / "app.svg"


@pytest.mark.parametrize(
    "parts",
    [("..", "secret"), ("icons", "../../etc/passwd"), ("/etc/passwd",), ("",),
     ("icons", "..\\..\\x"), ("C:\\Windows",), ("c:x",)],
)
def test_names_that_leave_the_folder_are_refused(parts: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="relative name"):
        resource_path(*parts)


def test_module_has_no_qt_dependency() -> None:
    # The CLI bundle has no PySide6; resources_path must stay importable there.
    source = Path(resources_path.__file__).read_text(encoding="utf-8")
    assert "PySide6" not in source
