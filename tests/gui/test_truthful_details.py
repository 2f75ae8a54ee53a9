"""Details and log tell the current truth (issue 16): the countdown moves, no doubled names."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from mcp_auth_desktop.gui.bridge import log_text
from tests.gui.conftest import run
from tests.gui.fakes import FakeManager


def test_the_details_countdown_keeps_moving(make_gui: Any) -> None:
    manager = FakeManager()
    [sid] = manager.seed(1, ttl=3600)
    gui = make_gui(manager)
    gui.window.select_server(sid)
    field = gui.window.details.fields["expires"]

    async def wait() -> list[str]:
        seen = [field.text()]
        for _ in range(3):
            await asyncio.sleep(1.05)
            seen.append(field.text())
        return seen

    seen = run(gui.loop, wait())
    assert all("(in 59m" in text or "(in 1h" in text for text in seen), seen
    # Nothing about the server changed, yet the text follows the clock (3 s: at least 2 changes).
    assert len(set(seen)) >= 3, seen
    assert gui.window.details.fields["expires"].text() == seen[-1]


def test_log_lines_name_the_server_once_and_never_by_id() -> None:
    assert log_text("Notes", "Signed in to Notes.") == "Signed in to Notes."
    assert log_text("Notes", "The refresh token was refused.") == "Notes: The refresh token was refused."
    # A server already removed (only its id is known) or the app itself: no id in front.
    assert log_text(None, "Revocation at Old completed.") == "Revocation at Old completed."


def test_the_keyboard_shortcuts_the_readme_lists(make_gui: Any) -> None:
    window = make_gui(FakeManager()).window
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    shortcuts = {
        window.act_sign_in: "Ctrl+I", window.act_refresh: "F5", window.act_copy: "Ctrl+Shift+C",
        window.act_test: "Ctrl+T", window.act_revoke: "Ctrl+Shift+R", window.act_remove: "Del",
        window.act_rename: "F2", window.act_add: "Ctrl+N", window.act_settings: "Ctrl+,",
        window.act_quit: "Ctrl+Q", window.act_about: "F1",
    }
    for action, keys in shortcuts.items():
        assert action.shortcut().toString() == keys, (action.text(), action.shortcut().toString())
        assert f"**{keys}**" in readme, keys
