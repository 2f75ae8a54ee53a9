"""``mcp-auth bridge NAME|URL``: the command-line side of :mod:`mcp_auth_desktop.bridge`."""

from __future__ import annotations

import argparse
import asyncio

from mcp_auth_desktop.cli.table import Command

__all__ = ["BRIDGE", "run"]

HELP = "serve a remote MCP server on stdin/stdout for clients that only start commands"


def _build(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", metavar="NAME|URL")
    p.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="answer a request with an error after this long without a word from the server "
        "(default 120)",
    )
    p.add_argument("--log-file", metavar="PATH", help="append logs here instead of stderr")
    p.add_argument(
        "--upstream-era",
        choices=("auto", "legacy", "modern"),
        default="auto",
        help="the protocol era to speak to the server: auto (the client's, switching when the "
        "server speaks only the other), legacy (initialize, sessions) or modern (2026-07-28)",
    )
    p.add_argument(
        "--no-browser",
        action="store_true",
        help="never open a browser to sign in (the app is still asked when it runs)",
    )


def run(args: argparse.Namespace) -> int:
    from mcp_auth_desktop.bridge.run import configure_bridge_logging, run_bridge

    if args.timeout <= 0:
        raise SystemExit("mcp-auth bridge: --timeout must be positive")
    configure_bridge_logging(args.verbose, args.log_file)
    try:
        return asyncio.run(run_bridge(
                args.server,
                silence_limit=args.timeout,
                browser=not args.no_browser,
                upstream_era=args.upstream_era,
            ))
    except KeyboardInterrupt:
        return 0


BRIDGE = Command(name="bridge", help=HELP, build=_build, json_flag=False, run_protocol=run)
