"""A bug below the manager must never wedge a server in a busy state (audit F-7).

The background loop and the GUI's buttons key off the state; a server left in
REFRESHING or SIGNING_IN after an unexpected exception would never be
refreshed again in this process.
"""

from __future__ import annotations

from typing import Any

import pytest

from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.state import ServerState

pytestmark = pytest.mark.allow_warning_logs


async def test_unexpected_refresh_error_is_a_failed_refresh_that_is_retried(signed_in: Any) -> None:
    h, m, sid = signed_in
    h.oauth.fail_refresh.append(ValueError("bug"))
    with pytest.raises(errors.McpAuthError) as info:
        await m.refresh("alpha")
    assert "ValueError" in info.value.user_message
    view = m.get(sid)
    assert view.state is not ServerState.REFRESHING
    assert view.last_error and "unexpectedly" in view.last_error
    # The loop tries again later and, the bug gone, the server is healthy.
    calls = h.oauth.refresh_calls
    h.clock.advance(4000)
    await m.run_due()
    assert h.oauth.refresh_calls == calls + 1
    assert m.get(sid).state is ServerState.SIGNED_IN


async def test_unexpected_sign_in_error_restores_the_previous_state(signed_in: Any) -> None:
    h, m, sid = signed_in

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    h.oauth.sign_in = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await m.sign_in("alpha")
    view = m.get(sid)
    assert view.state is ServerState.SIGNED_IN
    assert view.last_error and "RuntimeError" in view.last_error
