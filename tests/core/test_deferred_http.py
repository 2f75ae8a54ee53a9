"""The runtime's HTTP client is made with its first use (core/deferred_http.py, issue 17).

Opening the runtime (manager started, servers loaded) must not load httpx or what it
stands on (http.client, urllib.request, the email package); the first request through
the runtime's client loads it and then behaves as the shared client does (the same
plain-http rule, the same settings), against a real loopback server.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest

from mcp_auth_desktop.core.deferred_http import DeferredClient
from mcp_auth_desktop.core.errors import InsecureUrlError
from mcp_auth_desktop.core.http import USER_AGENT, make_http_client
from mcp_auth_desktop.runtime import make_http

_OPEN_RUNTIME = """
import asyncio, json, sys
from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.runtime import open_runtime
HEAVY = ("httpx", "httpcore", "http.client", "urllib.request", "email", "uuid")

async def main():
    runtime = await open_runtime(ephemeral=True, background=True)
    await runtime.manager.add_server("http://127.0.0.1:9/mcp", name="A", discover=False,
                                     options=ServerOptions(allow_insecure_loopback=True))
    at_start = [m for m in HEAVY if m in sys.modules]
    response = await runtime.http.get(sys.argv[1])
    after = [m for m in HEAVY if m in sys.modules]
    await runtime.aclose()
    print(json.dumps({"at_start": at_start, "status": response.status_code,
                      "after": after, "closed": runtime.http.is_closed}))

asyncio.run(main())
"""


@pytest.fixture
async def loopback() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A plain-http server on 127.0.0.1 that answers 204 and keeps the request heads."""
    heads: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/x", heads
    server.close()
    await server.wait_closed()


async def test_opening_the_runtime_loads_no_http_stack_until_the_first_request(
    loopback: tuple[str, list[bytes]],
) -> None:
    url, heads = loopback
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _OPEN_RUNTIME, url, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    seen = json.loads(out)
    assert seen["at_start"] == []  # a started manager with a server, and no HTTP stack
    assert seen["status"] == 204 and len(heads) == 1
    assert {"httpx", "httpcore"} <= set(seen["after"])
    assert seen["closed"] is True
    assert f"user-agent: {USER_AGENT}".encode() in heads[0].lower()


async def test_the_deferred_client_is_the_shared_client_once_used(
    loopback: tuple[str, list[bytes]],
) -> None:
    url, heads = loopback
    http = make_http()
    assert isinstance(http, DeferredClient) and not http.made and not http.is_closed
    reference = make_http_client()
    # Its settings are make_http_client's (read through to the real client, made now).
    assert http.timeout == reference.timeout and http.follow_redirects is False
    assert http.trust_env is True and http.made
    await reference.aclose()
    response = await http.get(url)
    assert response.status_code == 204 and len(heads) == 1
    # The plain-http rule travels with it: another machine over http is refused unsent.
    with pytest.raises(InsecureUrlError, match="only over https"):
        await http.get("http://192.0.2.10/x")
    await http.aclose()
    assert http.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        await http.get(url)
    assert len(heads) == 1


async def test_a_deferred_client_closed_unused_stays_closed_and_never_made() -> None:
    made: list[httpx.AsyncClient] = []

    def make() -> httpx.AsyncClient:
        made.append(make_http_client())
        return made[-1]

    http = DeferredClient(make)
    await http.aclose()
    assert http.is_closed and not http.made
    with pytest.raises(RuntimeError, match="has been closed"):
        http.build_request("GET", "http://127.0.0.1:9/")
    assert made == []
    async with DeferredClient(make) as used:
        assert used.made and not used.is_closed
    assert used.is_closed and made[0].is_closed
