"""Start a bridge: storage, the server, the registration file, then the session loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path

from mcp_auth_desktop.bridge.presence import BridgePresence, bridges_dir
from mcp_auth_desktop.bridge.session import BridgeSession
from mcp_auth_desktop.bridge.signin import SignInRequester
from mcp_auth_desktop.bridge.stdio import StdinReader, StdoutWriter, claim_stdout
from mcp_auth_desktop.bridge.tokens import BridgeTokens
from mcp_auth_desktop.bridge.translate import EraTranslator
from mcp_auth_desktop.bridge.upstream import Upstream, make_upstream_http
from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.safetext import SafeFormatter
from mcp_auth_desktop.runtime import make_http, open_storage

__all__ = ["run_bridge", "configure_bridge_logging"]

log = logging.getLogger("mcp_auth_desktop.bridge")


def configure_bridge_logging(verbose: bool, log_file: str | None) -> None:
    """Logs go to stderr, or to ``log_file`` (0600, appended); never to stdout."""
    if log_file:
        path = Path(log_file).expanduser()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        handler: logging.Handler = logging.StreamHandler(os.fdopen(fd, "a", encoding="utf-8"))
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        SafeFormatter(f"%(asctime)s mcp-auth bridge[{os.getpid()}] %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO if log_file else logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)


async def run_bridge(
    ref: str, *, silence_limit: float = 120.0, browser: bool = True, upstream_era: str = "auto"
) -> int:
    writer = StdoutWriter(claim_stdout())
    reader = StdinReader()
    http = make_upstream_http()
    oauth_http = make_http()
    tokens: BridgeTokens | None = None
    presence: BridgePresence | None = None
    unavailable: errors.McpAuthError | None = None
    url = "http://invalid.invalid/"
    try:
        # No passphrase is asked for (stdin is the MCP client's): the environment's, if any.
        vault, settings = await open_storage()
    except errors.McpAuthError as exc:
        log.error("cannot open the token store: %s", exc.user_message)
        unavailable = errors.StorageError(
            f"The bridge cannot open MCP Auth Desktop's token store: {exc.user_message}"
        )
        vault = None
    if vault is not None:
        opener = None
        if browser:
            from mcp_auth_desktop.core.browser import SystemBrowser

            opener = SystemBrowser()
        tokens = BridgeTokens(
            ref,
            http=oauth_http,
            vault=vault,
            settings=settings,
            browser=opener,
            requester_factory=lambda server_id, t: SignInRequester(
                server_id,
                lock_dir=bridges_dir(),
                sign_in_here=t.sign_in_here if browser else None,
            ),
        )
        try:
            view = await tokens.open()
            url = view.url
            log.info("bridging stdio to %s (%s)", view.name, view.url)
        except errors.ServerNotFoundError:
            unavailable = errors.ServerNotFoundError(
                f"No server {errors.sanitize_server_text(ref, 120)!r} in MCP Auth Desktop. Add it "
                "and sign in first: mcp-auth login URL --name NAME (then use that NAME here)."
            )
        except errors.McpAuthError as exc:
            unavailable = exc
    if unavailable is not None:
        log.error("%s", unavailable.user_message)
    if tokens is not None and tokens.view is not None:
        presence = BridgePresence(tokens.view.id)
        try:
            presence.register()
        except (OSError, errors.McpAuthError) as exc:
            log.warning("the app will not count this bridge: %s", exc)
            presence = None
    era = EraTranslator(upstream_era)
    upstream = Upstream(http, url, tokens if tokens is not None else _NoTokens(), header_hook=era.headers)
    session = BridgeSession(
        upstream,
        writer,
        timeout=silence_limit,
        step_up=tokens.step_up if tokens is not None else None,
        on_client_name=presence.set_client if presence is not None else None,
        unavailable=unavailable,
        era=era,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    reader.start()
    try:
        await session.run(reader, stop)
    finally:
        if presence is not None:
            presence.unregister()
        if tokens is not None:
            await tokens.aclose()
        await http.aclose()
        await oauth_http.aclose()
        if vault is not None:
            await vault.aclose()
        log.info("bridge stopped")
    return 0


class _NoTokens:
    async def token(self) -> str:
        raise errors.SignInRequiredError("The bridge has no token store.")

    async def after_rejection(self, rejected: str) -> str:
        return await self.token()
