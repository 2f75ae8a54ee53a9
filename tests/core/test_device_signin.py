"""OAuthClient.sign_in through the device grant (core/device_signin.py) against the mock AS.

The mock runs in-process (ASGI) on a manual clock; the sign-in's sleeps move both clocks,
and a "second device" (an httpx client with its own cookie jar) approves or denies on the
mock's verification page when the sign-in shows the code.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.device_grant import DeviceAuthorization
from mcp_auth_desktop.core.device_signin import DeviceSignIn
from mcp_auth_desktop.core.flow import OAuthClient
from mcp_auth_desktop.core.models import ServerConfig, ServerOptions
from mock_server import ManualClock, MockConfig, MockState, create_app

from ._helpers import FakeClock

BASE = "http://127.0.0.1:8000"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Rig:
    def __init__(self, **config: Any) -> None:
        self.mock_clock = ManualClock()
        self.app = create_app(MockConfig(base_url=BASE, clock=self.mock_clock, **config))
        self.mock: MockState = self.app.state.mock
        self.clock = FakeClock()
        self.shown: list[DeviceAuthorization] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.sleeps: list[float] = []

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.mono += seconds
        self.clock.now += seconds
        self.mock_clock.advance(seconds)
        for _ in range(20):  # let the second device act
            await asyncio.sleep(0)
        while self.tasks:
            await asyncio.gather(*self.tasks)

    def prompt(self, decision: str | None) -> DeviceSignIn:
        def show(auth: DeviceAuthorization) -> None:
            self.shown.append(auth)
            if decision is not None:
                task = asyncio.get_running_loop().create_task(self.decide(auth, decision))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

        return DeviceSignIn(show, sleep=self.sleep)

    async def decide(self, auth: DeviceAuthorization, decision: str) -> None:
        assert auth.verification_uri_complete is not None
        async with self.http() as device:
            page = await device.get(auth.verification_uri_complete)
            token = CSRF.search(page.text)
            assert token is not None
            consent = await device.post("/device", data={"csrf_token": token.group(1), "user_code": auth.user_code})
            token = CSRF.search(consent.text)
            assert token is not None
            code = auth.user_code.replace("-", "")
            done = await device.post(
                "/device/decision", data={"csrf_token": token.group(1), "user_code": code, "decision": decision}
            )
            assert done.status_code == 200


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    r = Rig(device_interval=5, device_code_ttl=120)
    yield r
    r.mock.close()


SERVER = ServerConfig(id="m", name="Mock", url=BASE + "/mcp", options=ServerOptions(allow_insecure_loopback=True))


async def sign_in(rig: Rig, decision: str | None, registration: Any = None, **kw: Any) -> Any:
    async with rig.http() as http:
        client = OAuthClient(http, clock=rig.clock)
        discovery = await client.discover(SERVER)
        scopes = client.select_scopes(SERVER, discovery)
        reg, tokens = await client.sign_in(
            SERVER, discovery, registration, scopes=scopes, on_authorization_url=rig.prompt(decision), **kw
        )
        return client, discovery, reg, tokens


async def test_approved_sign_in_gives_working_tokens(rig: Rig) -> None:
    client, discovery, reg, tokens = await sign_in(rig, "approve")
    assert reg.method == "dcr" and reg.issuer == BASE
    [auth] = rig.shown
    assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", auth.user_code)
    assert auth.verification_uri == BASE + "/device"
    check = rig.mock.check_access_token(tokens.access_token)
    assert check.ok and check.claims["aud"] == BASE + "/mcp"
    assert tokens.resource == BASE + "/mcp" and tokens.refresh_token
    assert rig.sleeps == [5]  # approved before the first poll: one wait of `interval`
    async with rig.http() as http:
        again = OAuthClient(http, clock=rig.clock)
        new = await again.refresh(discovery, reg, tokens, resource=BASE + "/mcp")
    assert rig.mock.check_access_token(new.access_token).ok
    # A second device sign-in reuses the registration.
    registered = rig.mock.stats["clients_registered"]
    _, _, reg2, _ = await sign_in(rig, "approve", registration=reg)
    assert reg2.client_id == reg.client_id and rig.mock.stats["clients_registered"] == registered


async def test_denied_names_the_host(rig: Rig) -> None:
    with pytest.raises(errors.AuthorizationDenied, match="denied at 127.0.0.1"):
        await sign_in(rig, "deny")


async def test_nobody_approves_until_expiry(rig: Rig) -> None:
    with pytest.raises(errors.DeviceCodeExpiredError, match="expired after 2 minutes"):
        await sign_in(rig, None)
    assert sum(rig.sleeps) == pytest.approx(120)
    assert rig.mock.stats["device_poll:authorization_pending"] == 23  # every 5 s, none after expiry


async def test_forgotten_registration_is_replaced_before_the_code_is_shown(rig: Rig) -> None:
    _, _, reg, _ = await sign_in(rig, "approve")
    rig.mock.store.delete_client(reg.client_id, rig.mock.now())
    rig.shown.clear()
    _, _, reg2, tokens = await sign_in(rig, "approve", registration=reg)
    assert reg2.client_id != reg.client_id and len(rig.shown) == 1
    assert rig.mock.check_access_token(tokens.access_token).ok


async def test_server_without_the_grant_is_refused_by_name() -> None:
    rig = Rig(device_grant=False)
    try:
        with pytest.raises(errors.DeviceGrantUnavailableError, match=r"Mock \(127\.0\.0\.1\).*device_authorization_endpoint"):
            await sign_in(rig, "approve")
        assert rig.mock.stats["clients_registered"] == 0 and not rig.shown
    finally:
        rig.mock.close()
