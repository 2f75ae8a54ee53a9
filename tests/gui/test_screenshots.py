"""Saves the README screenshots: main window, Add server dialog, tray menu.

They are rendered from a realistic fake session so they are reproducible;
the test also checks that each image is non-trivial (not blank).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint
from PySide6.QtGui import QImage

from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.bridge import Tool
from tests.gui.conftest import Gui, run, settle
from tests.gui.fakes import FakeManager

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _session(make_gui: Any) -> Gui:
    manager = FakeManager()
    ids = manager.seed(5)
    names = [("GitHub Copilot MCP", "https://api.githubcopilot.com/mcp/", "https://github.com/login/oauth"),
             ("Linear", "https://mcp.linear.app/mcp", "https://mcp.linear.app"),
             ("Notion", "https://mcp.notion.com/mcp", "https://mcp.notion.com"),
             ("Sentry", "https://mcp.sentry.dev/mcp", "https://sentry.io"),
             ("Local dev server", "http://127.0.0.1:8000/mcp", "http://127.0.0.1:8000")]
    now = time.time()
    for sid, (name, url, issuer) in zip(ids, names, strict=True):
        manager.set_state(sid, ServerState.SIGNED_IN, name=name, url=url, issuer=issuer,
                          resource=url, last_refresh_at=now - 240, last_refresh_result="ok",
                          discovery_trail=(f"POST {url} → 401 with resource_metadata",
                                           f"GET {url.split('/mcp')[0]}/.well-known/oauth-protected-resource → 200",
                                           f"GET {issuer}/.well-known/oauth-authorization-server → 200",
                                           "PKCE S256 supported; registration endpoint present (DCR)"))
    manager.set_state(ids[0], ServerState.SIGNED_IN, expires_at=now + 3120)
    manager.set_state(ids[1], ServerState.SIGNED_IN, expires_at=now + 842, granted_scopes=("read", "write"),
                      requested_scopes=("read", "write", "admin"))
    manager.set_state(ids[2], ServerState.SIGN_IN_NEEDED, expires_at=None, has_refresh_token=False,
                      last_error="The authorization server answered invalid_grant: refresh token expired")
    manager.set_state(ids[3], ServerState.REFRESHING, expires_at=now + 35)
    manager.set_state(ids[4], ServerState.NEEDS_SIGN_IN, expires_at=None, granted_scopes=(),
                      registration_method=None, client_id=None)
    gui = make_gui(manager)
    gui.window.details.set_tools(ids[0], [Tool("search_code", "Search code across repositories"),
                                          Tool("create_issue", "Open an issue"),
                                          Tool("get_pull_request", "Read a pull request")])
    for sid, (name, *_rest) in zip(ids[:2], names, strict=False):
        gui.bridge.logLine.emit(now - 300, "info", f"{name}: tokens refreshed, refresh token rotated")
    gui.bridge.logLine.emit(now - 120, "warning", "Notion: sign-in needed: refresh token expired")
    gui.bridge.logLine.emit(now - 30, "info", "GitHub Copilot MCP: access token copied")
    gui.bridge.serversChanged.emit(ids)
    return gui


def _save(image: QImage, name: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    assert image.save(str(path), "PNG"), path
    # Not blank: many distinct colours.
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 20, (name, len(colours))
    return path


# A fixed "now" so the committed images only change when the UI does.
FIXED_NOW = 1_790_000_000.0  # 2026-09-21


def test_screenshots(make_gui: Any, qtbot: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(time, "time", lambda: FIXED_NOW)
    monkeypatch.setattr(time, "localtime", lambda t=None: time.gmtime(FIXED_NOW if t is None else t))
    gui = _session(make_gui)
    window = gui.window
    window.resize(1240, 760)
    window.show()
    qtbot.waitExposed(window)
    window.select_server(window.model.view_at(0).id)

    async def shots() -> None:
        await settle(200)
        window.statusBar().showMessage("Access token for GitHub Copilot MCP copied; it is cleared in 30 s.")
        await settle(100)
        _save(window.grab().toImage(), "main-window.png")

        dialog = window.open_add_dialog()
        dialog.url.setText("https://mcp.example.com/mcp")
        dialog.name.setText("Example")
        dialog.advanced.setChecked(True)
        dialog.client_id.setText("my-registered-client")
        dialog.extra_params.setPlainText("prompt=consent")
        await settle(200)
        _save(dialog.grab().toImage(), "add-server-dialog.png")
        dialog.url.setText("http://mcp.example.com/mcp")
        await settle(100)
        _save(dialog.grab().toImage(), "add-server-dialog-invalid.png")
        dialog.reject()

        gui.tray.show()
        menu = gui.tray.menu
        menu.popup(QPoint(400, 200))
        await settle(200)
        sub_action = next(a for a in menu.actions() if a.text() == "GitHub Copilot MCP")
        menu.setActiveAction(sub_action)
        sub = sub_action.menu()
        sub.popup(QPoint(400 + menu.width(), 200))
        await settle(200)
        # The menu and its open submenu side by side, as the user sees them.
        from PySide6.QtGui import QColor, QPainter

        left, right = menu.grab().toImage(), sub.grab().toImage()
        canvas = QImage(left.width() + right.width(), max(left.height(), right.height()),
                        QImage.Format.Format_ARGB32)
        canvas.fill(QColor(0, 0, 0, 0))
        painter = QPainter(canvas)
        painter.drawImage(0, 0, left)
        painter.drawImage(left.width(), 0, right)
        painter.end()
        _save(canvas, "tray-menu.png")
        sub.hide()
        menu.hide()

    run(gui.loop, shots())
    assert {p.name for p in OUT.glob("*.png")} >= {"main-window.png", "add-server-dialog.png", "tray-menu.png"}
