"""Issue 15 #2: the RFC 7592 client configuration URL is not trusted blindly.

The real mock process, as a hostile authorization server, names another URL as
``registration_client_uri`` in its registration response (a knob). Signing in and
then removing the server must not send the registration access token there: a
real listener at that URL receives nothing, and the removal report says why the
registration was not deleted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from mcp_auth_desktop.core.http import make_http_client
from mcp_auth_desktop.core.manager import TokenManager
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.storage.memory import MemorySettings, MemoryVault
from tests.mock.helpers import MockProcess, running_mock
from tests.security.test_transport_guard import Listener, non_loopback_address
from tests.start_page import HeadlessApprover


@pytest.fixture
def mock() -> Iterator[MockProcess]:
    with running_mock("--auto-approve") as proc:
        yield proc


async def _sign_in_and_remove(mock: MockProcess) -> tuple[list[str], bool | None, int]:
    http = make_http_client()
    m = TokenManager(http=http, vault=MemoryVault(), settings=MemorySettings(), browser=HeadlessApprover())
    await m.start(background=False)
    try:
        await m.add_server(mock.mcp_url, name="mock", options=ServerOptions(allow_insecure_loopback=True))
        await m.sign_in("mock")
        report = await m.remove("mock")
    finally:
        await m.aclose()
        await http.aclose()
    return list(report.errors), report.registration_deleted, int(mock.control()["stats"].get("clients_deleted", 0))


@pytest.mark.parametrize("where", ["loopback other port", "non-loopback host", "other path, foreign origin"])
async def test_remove_never_sends_the_registration_token_to_a_foreign_client_uri(
    mock: MockProcess, where: str
) -> None:
    listener = Listener()
    host = "127.0.0.1" if where != "non-loopback host" else non_loopback_address()
    port = await listener.start(host, 0)
    target = {
        "loopback other port": f"http://127.0.0.1:{port}/admin/delete-everything",
        "non-loopback host": f"http://{host}:{port}/register/x",
        "other path, foreign origin": f"http://localhost:{port}/register/x",
    }[where]
    mock.control(knobs={"registration_client_uri": target})
    try:
        problems, deleted, _ = await _sign_in_and_remove(mock)
        await asyncio.sleep(0.2)
    finally:
        await listener.stop()
    assert listener.heads == [], f"the registration token was sent to {target}"
    assert deleted is False
    assert any("was not deleted there" in p and "not on the authorization server's origin" in p for p in problems), problems


async def test_own_client_uri_is_still_used(mock: MockProcess) -> None:
    """The control: with the server's own URL the registration is deleted as before."""
    problems, deleted, _ = await _sign_in_and_remove(mock)
    assert deleted is True and problems == []
