"""SVG icons, rendered at whatever size and device pixel ratio Qt asks for.

The tray icon is drawn before the rest of the app loads (``gui/app.py``): this
module imports nothing of the app but the resource path.

Action icons are drawn with ``currentColor`` and recoloured from the palette,
so they stay readable in both the light and the dark system theme. The app
and tray state icons carry their own colours.
"""

from __future__ import annotations

import logging
from enum import Enum
from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QPoint, QRect, QRectF, QSize
from PySide6.QtGui import QColor, QIcon, QIconEngine, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from mcp_auth_desktop.resources_path import resource_path

__all__ = ["OverallState", "icon", "app_icon", "state_icon", "status_icon", "icons_dir", "svg_text"]

log = logging.getLogger(__name__)


class OverallState(Enum):
    """What the tray icon says about all servers together."""

    OK = "ok"
    ATTENTION = "attention"
    ERROR = "error"


def icons_dir() -> Path:
    """Where the SVG files live (source tree, bundle, or MCP_AUTH_DESKTOP_RESOURCES)."""
    return resource_path("icons")


@cache
def svg_text(name: str) -> str:
    path = icons_dir() / f"{name}.svg"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        log.warning("icon %s is missing at %s", name, path)
        return ""


@cache
def _svg_renderer(name: str, colour: str | None) -> QSvgRenderer:
    """One parsed document per icon and colour: every paint of a row, a toolbar button or
    the window icon's sizes renders from it instead of parsing the SVG again."""
    text = svg_text(name)
    if colour is not None:
        text = text.replace("currentColor", colour)
    return QSvgRenderer(QByteArray(text.encode("utf-8")))


class _SvgEngine(QIconEngine):
    """Renders an SVG document at the exact requested size (HiDPI-sharp)."""

    def __init__(self, name: str, tint: bool) -> None:
        super().__init__()
        self._name = name
        self._tint = tint

    def _renderer(self, mode: QIcon.Mode) -> QSvgRenderer:
        if not self._tint:
            return _svg_renderer(self._name, None)
        app = QApplication.instance()
        palette = app.palette() if isinstance(app, QApplication) else QPalette()
        group = (
            QPalette.ColorGroup.Disabled
            if mode == QIcon.Mode.Disabled
            else QPalette.ColorGroup.Active
        )
        role = (
            QPalette.ColorRole.HighlightedText
            if mode == QIcon.Mode.Selected
            else QPalette.ColorRole.ButtonText
        )
        return _svg_renderer(self._name, palette.color(group, role).name())

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        self._renderer(mode).render(painter, QRectF(rect))

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(  # noqa: N802 - Qt override
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float
    ) -> QPixmap:
        pm = QPixmap(size * scale)
        pm.setDevicePixelRatio(scale)
        # Transparent as a colour, not Qt.GlobalColor: the tray icon is painted before
        # anything has made PySide6's Qt namespace, which costs ~20 ms (gui/tray.py).
        pm.fill(QColor(0, 0, 0, 0))
        painter = QPainter(pm)
        try:
            self._renderer(mode).render(painter, QRectF(QPoint(0, 0), size.toSizeF()))
        finally:
            painter.end()
        return pm

    def clone(self) -> QIconEngine:
        return _SvgEngine(self._name, self._tint)

    def key(self) -> str:
        return "mcp-auth-svg"

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:  # noqa: N802
        return size


@cache
def icon(name: str) -> QIcon:
    """An action icon (``action-<name>.svg``), tinted with the palette's text colour."""
    return QIcon(_SvgEngine(f"action-{name}", tint=True))


def app_icon() -> QIcon:
    return QIcon(_SvgEngine("app", tint=False))


def state_icon(state: OverallState) -> QIcon:
    """The app icon with a state badge (tray)."""
    return QIcon(_SvgEngine(f"state-{state.value}", tint=False))


def status_icon(name: str) -> QIcon:
    """A small status dot for table rows and menus: ok, attention, error or busy."""
    return QIcon(_SvgEngine(f"status-{name}", tint=False))
