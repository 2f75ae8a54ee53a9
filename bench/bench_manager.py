"""Token manager benchmarks, each against a baseline measured in the same run.

1. A full headless sign-in (discovery, registration, authorization, token,
   then one authenticated MCP request) against the mock server over
   loopback: ours (TokenManager + OAuthClient) against the official MCP
   Python SDK's ``OAuthClientProvider`` on the same server. HTTP round trips
   to the server and wall time, as ratios (ours / SDK).
2. 500 servers whose tokens come due together: time to refresh them all
   against ``one refresh x 500 / concurrency``, the peak number of
   concurrent requests, and the largest event-loop lag during the storm.

The mock server runs as a real process (``python -m mock_server --port 0``)
with its rate limits raised so the storm measures us, not its limiter.
In both benchmarks the "browser" is a headless stand-in that fetches the
authorization URL (the mock auto-approves) and delivers the redirect.
"""

from __future__ import annotations

import asyncio
import os
import random
import selectors
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from bench.common import Result
from mcp_auth_desktop.core.loopback import is_start_page

ROOT = Path(__file__).resolve().parents[1]
TOPIC = "manager"
SIGN_IN_RUNS = 5
STORM_SERVERS = 500
STORM_CONCURRENCY = 8


# --------------------------------------------------------------- mock server


class MockServer:
    def __init__(self, *args: str) -> None:
        cmd = [sys.executable, "-m", "mock_server", "--port", "0", *args]
        self.proc = subprocess.Popen(  # noqa: S603
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=20):
            self.stop()
            raise RuntimeError("the mock server did not start within 20 s")
        self.mcp_url = self.proc.stdout.readline().strip()
        if not self.mcp_url.startswith("http"):
            self.stop()
            raise RuntimeError("the mock server did not print its URL")
        self.origin = self.mcp_url.rsplit("/", 1)[0]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Counter:
    """Counts requests to one origin, and how many are in flight at once."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.count = 0
        self.in_flight = 0
        self.peak = 0

    def hooks(self) -> dict[str, list[Callable[[Any], Awaitable[None]]]]:
        async def on_request(request: Any) -> None:
            if str(request.url).startswith(self.origin):
                self.count += 1
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)

        async def on_response(response: Any) -> None:
            if str(response.request.url).startswith(self.origin):
                self.in_flight -= 1

        return {"request": [on_request], "response": [on_response]}


async def _approve(url: str, counter: Counter, deliver: bool) -> httpx.URL:
    """The headless "browser": GET the authorization URL, which the mock auto-approves."""
    if is_start_page(url):
        # The app's single-use loopback start page (not counted: it is our own hop).
        async with httpx.AsyncClient(timeout=10, trust_env=False) as start:
            url = (await start.get(url)).headers["location"]
    async with httpx.AsyncClient(event_hooks=counter.hooks(), timeout=10) as browser:  # type: ignore[arg-type]
        response = await browser.get(url)
        location = response.headers.get("location")
        if response.status_code not in (302, 303) or not location:
            raise RuntimeError(f"authorization did not redirect (HTTP {response.status_code})")
        if deliver:
            await browser.get(location)  # to our loopback listener
        return httpx.URL(location)


# ----------------------------------------------------------- ours vs the SDK

_INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "0"},
    },
}


async def _ours_sign_in(server: MockServer) -> tuple[int, float]:
    from mcp_auth_desktop.core.http import make_http_client
    from mcp_auth_desktop.core.manager import TokenManager
    from mcp_auth_desktop.core.models import ServerOptions
    from mcp_auth_desktop.storage.memory import MemorySettings, MemoryVault

    counter = Counter(server.origin)

    class Browser:
        async def open(self, url: str) -> None:
            asyncio.get_running_loop().create_task(_approve(url, counter, deliver=True))

    http = make_http_client()
    for name, hooks in counter.hooks().items():
        http.event_hooks[name] = hooks  # type: ignore[assignment]
    manager = TokenManager(
        http=http, vault=MemoryVault(), settings=MemorySettings(), browser=Browser()
    )
    t0 = time.perf_counter()
    try:
        await manager.start(background=False)
        view = await manager.add_server(
            server.mcp_url, options=ServerOptions(allow_insecure_loopback=True)
        )
        await manager.sign_in(view.id)
        # The same authenticated request the SDK ends with (its retried initialize).
        token = await manager.get_token(view.id)
        response = await http.post(
            server.mcp_url,
            json=_INITIALIZE,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json, text/event-stream",
            },
        )
        elapsed = time.perf_counter() - t0
        if response.status_code != 200:
            raise RuntimeError(f"our sign-in ended with HTTP {response.status_code}")
    finally:
        await manager.aclose()
        await http.aclose()
    return counter.count, elapsed


async def _sdk_sign_in(server: MockServer) -> tuple[int, float]:
    import httpx2
    from mcp.client.auth import OAuthClientProvider
    from mcp.shared.auth import (
        AuthorizationCodeResult,
        OAuthClientInformationFull,
        OAuthClientMetadata,
        OAuthToken,
    )

    counter = Counter(server.origin)

    class Storage:
        def __init__(self) -> None:
            self.tokens: OAuthToken | None = None
            self.client: OAuthClientInformationFull | None = None

        async def get_tokens(self) -> OAuthToken | None:
            return self.tokens

        async def set_tokens(self, tokens: OAuthToken) -> None:
            self.tokens = tokens

        async def get_client_info(self) -> OAuthClientInformationFull | None:
            return self.client

        async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
            self.client = client_info

    redirected: dict[str, httpx.URL] = {}

    async def redirect_handler(url: str) -> None:
        redirected["location"] = await _approve(url, counter, deliver=False)

    async def callback_handler() -> AuthorizationCodeResult:
        q = parse_qs(urlsplit(str(redirected["location"])).query)
        return AuthorizationCodeResult(
            code=q["code"][0], state=q.get("state", [None])[0], iss=q.get("iss", [None])[0]
        )

    provider = OAuthClientProvider(
        server_url=server.mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="bench SDK client",
            redirect_uris=["http://127.0.0.1:53682/callback"],  # type: ignore[list-item]
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=Storage(),
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    hooks = counter.hooks()
    t0 = time.perf_counter()
    async with httpx2.AsyncClient(auth=provider, event_hooks=hooks, timeout=10) as client:  # type: ignore[arg-type]
        response = await client.post(
            server.mcp_url,
            json=_INITIALIZE,
            headers={"Accept": "application/json, text/event-stream"},
        )
        elapsed = time.perf_counter() - t0
        if response.status_code != 200:
            raise RuntimeError(f"the SDK sign-in ended with HTTP {response.status_code}")
    return counter.count, elapsed


async def _compare_sign_in() -> list[Result]:
    server = MockServer(
        "--auto-approve", "--rate-limit-per-ip", "100000", "--rate-limit-per-client", "100000"
    )
    try:
        ours_rt, sdk_rt, ours_t, sdk_t = [], [], [], []
        for _ in range(SIGN_IN_RUNS):  # alternate so drift hits both alike
            n, t = await _ours_sign_in(server)
            ours_rt.append(n)
            ours_t.append(t)
            n, t = await _sdk_sign_in(server)
            sdk_rt.append(n)
            sdk_t.append(t)
    finally:
        server.stop()
    return [
        Result(
            TOPIC,
            "headless sign-in: HTTP round trips to the server",
            statistics.median(ours_rt),
            "req",
            baseline=statistics.median(sdk_rt),
            baseline_name="MCP Python SDK OAuthClientProvider",
            note="discovery + registration + authorize + token + one authenticated MCP request",
        ),
        Result(
            TOPIC,
            "headless sign-in: wall time (median of 5)",
            statistics.median(ours_t) * 1000,
            "ms",
            baseline=statistics.median(sdk_t) * 1000,
            baseline_name="MCP Python SDK OAuthClientProvider",
        ),
    ]


# ------------------------------------------------------------------- storm


async def _storm() -> list[Result]:
    from mcp_auth_desktop.core.http import make_http_client
    from mcp_auth_desktop.core.manager import TokenManager
    from mcp_auth_desktop.core.models import CredentialKey, ServerOptions, TokenSet
    from mcp_auth_desktop.storage.memory import MemorySettings, MemoryVault

    server = MockServer(
        "--auto-approve",
        "--access-token-ttl",
        "3600",
        "--rate-limit-per-ip",
        "1000000",
        "--rate-limit-per-client",
        "1000000",
    )
    counter = Counter(server.origin)
    vault, settings = MemoryVault(), MemorySettings()

    class Browser:
        async def open(self, url: str) -> None:
            asyncio.get_running_loop().create_task(_approve(url, counter, deliver=True))

    http = make_http_client(timeout=30)
    for name, hooks in counter.hooks().items():
        http.event_hooks[name] = hooks  # type: ignore[assignment]
    try:
        # One real sign-in, then 499 more entries cloned from it with their own
        # registration and grant, so every server has its own rotating refresh token.
        seed = TokenManager(http=http, vault=vault, settings=settings, browser=Browser())
        await seed.start(background=False)
        first = await seed.add_server(
            server.mcp_url, name="s0", options=ServerOptions(allow_insecure_loopback=True)
        )
        await seed.sign_in(first.id)
        # Baseline: one refresh on its own (median of 5 forced refreshes).
        singles = []
        for _ in range(5):
            t0 = time.perf_counter()
            await seed.refresh(first.id, force=True)
            singles.append(time.perf_counter() - t0)
        one = statistics.median(singles)
        await seed.aclose()

        sem = asyncio.Semaphore(16)

        async def clone(i: int) -> dict[str, Any]:
            # Its own settings (so the same URL is no duplicate), the shared vault.
            async with sem:
                own = MemorySettings()
                m = TokenManager(http=http, vault=vault, settings=own, browser=Browser())
                await m.start(background=False)
                v = await m.add_server(
                    server.mcp_url,
                    name=f"s{i}",
                    options=ServerOptions(allow_insecure_loopback=True),
                )
                await m.sign_in(v.id)
                await m.aclose()
                return await own.load()

        docs = [await settings.load()] + list(
            await asyncio.gather(*(clone(i) for i in range(1, STORM_SERVERS)))
        )

        def merge(d: dict[str, Any]) -> None:
            d["servers"] = [s for doc in docs for s in doc["servers"]]
            for section in ("discovery", "registrations_public"):
                d[section] = {k: v for doc in docs for k, v in doc[section].items()}

        merged = await settings.update(merge)
        now = time.time()
        issuer = merged["discovery"][first.id]["auth_server"]["issuer"]
        resource = merged["discovery"][first.id]["resource"]
        # Make every token come due at the same moment: issued an hour ago, expiring in 10 s.
        for sid, reg in merged["registrations_public"].items():
            key = CredentialKey(issuer, reg["client_id"], resource)
            raw = await vault.get(key.storage_name())
            assert raw is not None, sid
            tokens = TokenSet.from_dict(raw)
            raw["issued_at"] = now - 3590
            raw["expires_at"] = now + 10
            assert tokens.refresh_token
            await vault.put(key.storage_name(), raw)

        manager = TokenManager(
            http=http,
            vault=vault,
            settings=settings,
            refresh_concurrency=STORM_CONCURRENCY,
            rng=random.Random(1),
        )
        await manager.start(background=False)
        counter.peak = counter.in_flight = 0
        lag = 0.0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal lag
            while not stop.is_set():
                t = time.perf_counter()
                await asyncio.sleep(0.005)
                lag = max(lag, time.perf_counter() - t - 0.005)

        tick = asyncio.create_task(ticker())
        t0 = time.perf_counter()
        await manager.run_due()
        storm = time.perf_counter() - t0
        stop.set()
        await tick
        refreshed = manager.wire_refreshes
        states = {v.state.value for v in manager.servers()}
        await manager.aclose()
    finally:
        await http.aclose()
        server.stop()
    if refreshed != STORM_SERVERS or states != {"signed in"}:
        raise RuntimeError(f"storm refreshed {refreshed} of {STORM_SERVERS}; states {states}")
    baseline = one * STORM_SERVERS / STORM_CONCURRENCY
    return [
        Result(
            TOPIC,
            f"refresh storm: {STORM_SERVERS} servers due at once",
            storm * 1000,
            "ms",
            baseline=baseline * 1000,
            baseline_name=f"one refresh x {STORM_SERVERS} / {STORM_CONCURRENCY}",
            target_ratio=1.5,
            note=f"one refresh alone: {one * 1000:.1f} ms; memory vault",
        ),
        Result(
            TOPIC,
            "refresh storm: peak concurrent requests",
            float(counter.peak),
            "req",
            baseline=float(STORM_CONCURRENCY),
            baseline_name="refresh_concurrency",
            target_ratio=1.0,
        ),
        Result(
            TOPIC,
            "refresh storm: largest event-loop lag",
            lag * 1000,
            "ms",
            baseline=one * 1000,
            baseline_name="one refresh",
            note="a 5 ms ticker task ran through the storm",
        ),
    ]


def run() -> list[Result]:
    os.environ.setdefault("MCP_AUTH_DESKTOP_KEYRING", "memory")
    return asyncio.run(_compare_sign_in()) + asyncio.run(_storm())


if __name__ == "__main__":
    for r in run():
        print(r)
