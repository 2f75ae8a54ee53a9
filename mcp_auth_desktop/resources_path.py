"""Where the bundled resources (icons, templates) live at run time.

The same code runs from the source tree or an installed wheel (``resources/``
inside the package, shipped as package data) and from a PyInstaller bundle, where the spec copies ``resources/`` to
``sys._MEIPASS/resources`` (on macOS ``_MEIPASS`` is ``Contents/Frameworks``,
which PyInstaller links to ``Contents/Resources``). ``MCP_AUTH_DESKTOP_RESOURCES``
overrides both, so a distribution package can install the files elsewhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path, PurePosixPath

__all__ = ["RESOURCES_ENV", "resource_path", "resources_dir"]

RESOURCES_ENV = "MCP_AUTH_DESKTOP_RESOURCES"


def resources_dir() -> Path:
    """The folder that holds ``icons/`` and ``templates/``."""
    override = os.environ.get(RESOURCES_ENV)
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and isinstance(bundle, str):
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent / "resources"


def resource_path(*parts: str) -> Path:
    """The path of a resource, e.g. ``resource_path("icons", "app.svg")``.

    Parts are relative names; an absolute part or ``..`` is refused so a caller
    that builds a name from data can never read outside the resources folder.
    The file is not required to exist: callers decide how to handle a missing one.
    """
    for part in parts:
        pure = PurePosixPath(part.replace("\\", "/"))
        if not part or pure.is_absolute() or ".." in pure.parts or ":" in part:
            raise ValueError(f"resource name {part!r} must be a relative name inside resources/")
    return resources_dir().joinpath(*parts)
