"""An edit naming only the changed fields, saved by a manager whose view of the settings is
stale (``core/edit_merge.py``): another process's change to other fields survives, and one
to the same field is refused with both values, nothing saved.

Two managers share one settings store and one vault, as the window and ``mcp-auth edit``
share the files; neither watches the settings, so the first never hears of the second's
edit except by reading the store when it saves.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from mcp_auth_desktop.core.errors import EditConflictError
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.server_edit import ServerEdit
from tests.manager.conftest import URL, Harness


async def _two(h: Harness) -> tuple[TokenManager, TokenManager, str]:
    window, other = h.manager(), h.manager()
    await window.start(background=False)
    sid = (await window.add_server(URL, name="alpha", discover=False)).id
    await other.start(background=False)
    return window, other, sid


async def test_only_the_changed_fields_are_written(h: Harness) -> None:
    window, other, sid = await _two(h)
    seen = window.server_config(sid)
    # The other process changes the callback port and the scopes.
    base = ServerEdit.of(other.server_config(sid))
    await other.edit_server(sid, replace(base, scopes=("b",), options=replace(
        base.options, callback_port=48200)))
    assert window.server_config(sid).options.callback_port is None
    # The window saves a change to the authorization parameters only.
    mine = replace(ServerEdit.of(seen), options=replace(seen.options, extra_authorize_params=(
        ("prompt", "consent"),)), only=frozenset({"authorization parameters"}), seen=seen)
    outcome = await window.edit_server(sid, mine)
    assert outcome.changed == ("authorization parameters",)
    stored = [s for s in (await h.settings.load())["servers"] if s["id"] == sid][0]
    assert stored["scopes"] == ["b"] and stored["options"]["callback_port"] == 48200
    assert stored["options"]["extra_authorize_params"] == [["prompt", "consent"]]


async def test_the_same_field_changed_elsewhere_is_refused_with_both_values(h: Harness) -> None:
    window, other, sid = await _two(h)
    seen = window.server_config(sid)
    await other.edit_server(sid, replace(ServerEdit.of(seen), scopes=("theirs",)))
    mine = replace(ServerEdit.of(seen), scopes=("mine",), only=frozenset({"scopes"}), seen=seen)
    with pytest.raises(EditConflictError) as raised:
        await window.edit_server(sid, mine)
    (conflict,) = raised.value.conflicts
    assert (conflict.field, conflict.seen, conflict.current, conflict.mine) == (
        "scopes", "the server's suggestion", "theirs", "mine")
    assert "alpha was changed elsewhere since you began editing: the scopes are now 'theirs' " \
        "(you entered 'mine'). Nothing was saved" in raised.value.user_message
    assert raised.value.current.scopes == ("theirs",)
    stored = [s for s in (await h.settings.load())["servers"] if s["id"] == sid][0]
    assert stored["scopes"] == ["theirs"]
    # Keeping one's own value: the same edit against what is stored now.
    kept = replace(mine, seen=raised.value.current)
    assert (await window.edit_server(sid, kept)).changed == ("scopes",)
    stored = [s for s in (await h.settings.load())["servers"] if s["id"] == sid][0]
    assert stored["scopes"] == ["mine"]
