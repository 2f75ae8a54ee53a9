"""``revoke``, ``remove`` and ``forget-everything``: tokens given back, servers forgotten."""

from __future__ import annotations

import argparse
import asyncio
import sys

from mcp_auth_desktop.cli.exit_codes import EXIT_OK, EXIT_TRANSIENT, EXIT_USAGE, UsageError
from mcp_auth_desktop.cli.render import dumps, report_to_dict
from mcp_auth_desktop.cli.table import Command, ManagerHandler, Session
from mcp_auth_desktop.core.state import RevocationReport

__all__ = ["FORGET_EVERYTHING", "REMOVE", "REVOKE"]


def _build_server(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", metavar="NAME|URL")


def _report_text(report: RevocationReport, what: str) -> str:
    text = f"{what}: {report.summary()}"
    if report.errors and report.supported and not report.client_unknown:
        text += (
            "\nThe tokens were deleted here; revocation at the server will be retried "
            "(by the desktop app, or the next `mcp-auth revoke`)."
        )
    return text


def _revocation(remove: bool) -> ManagerHandler:
    """``revoke`` or ``remove``: one run, the same report; exit 5 when a retry is pending."""

    async def handler(session: Session, args: argparse.Namespace) -> int:
        manager = session.manager
        name = manager.get(args.server).name
        # Earlier revocations that failed get another chance first.
        await manager.retry_pending_revocations()
        report = await (manager.remove if remove else manager.revoke)(args.server)
        if args.json:
            print(dumps({"server": name, **report_to_dict(report)}))
        else:
            print(_report_text(report, ("Removed " if remove else "Revoked ") + name))
        retried = report.errors and report.supported and not report.client_unknown
        return EXIT_TRANSIENT if retried else EXIT_OK

    return handler


def _build_forget(p: argparse.ArgumentParser) -> None:
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--no-revoke", action="store_true", help="delete locally only; revoke nothing at the servers"
    )


async def forget_everything(session: Session, args: argparse.Namespace) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("forget-everything deletes every sign-in: confirm with --yes")
        answer = await asyncio.to_thread(
            input, "Delete every server, token and the vault itself? Type 'forget': "
        )
        if answer.strip() != "forget":
            print("Nothing was deleted.", file=sys.stderr)
            return EXIT_USAGE
    outcome = await session.manager.forget_everything(revoke=not args.no_revoke)
    if args.json:
        print(dumps({"servers": [{"server": n, "outcome": o} for n, o in outcome],
                     "vault_deleted": True}))
    else:
        for name, text in outcome:
            print(f"{name}: {text}")
        print("Everything is forgotten: the vault and its key are deleted.")
    return EXIT_OK


REVOKE = Command(name="revoke",
                 help="revoke the tokens at the server (RFC 7009), then delete them here",
                 build=_build_server, run=_revocation(remove=False))
REMOVE = Command(name="remove",
                 help="revoke, delete the client registration where possible, forget the server",
                 build=_build_server, run=_revocation(remove=True))
FORGET_EVERYTHING = Command(
    name="forget-everything",
    help="remove every server (revoking at each), delete the vault and its keyring item",
    build=_build_forget,
    run=forget_everything,
)
