"""``mcp-auth login --device``, and how ``login`` signs in where no browser can be shown (issue 16).

With ``--device`` the sign-in uses the OAuth device authorization grant (RFC 8628,
``core/device_signin.py``): this prints the verification address and the code to enter
there, on any device, then waits while the sign-in polls. Without a display (Linux with
neither DISPLAY nor WAYLAND_DISPLAY nor a BROWSER command, or an SSH session without X
forwarding) ``login`` chooses the device grant itself when the authorization server offers
it, and says so; when it does not, it suggests ``--paste`` (``cli/paste_back.py``).
What the server sent (the code, the addresses) is validated by the core and escaped here.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable
from typing import Any

from mcp_auth_desktop.cli.exit_codes import UsageError
from mcp_auth_desktop.core import errors
from mcp_auth_desktop.core.device_grant import DeviceAuthorization
from mcp_auth_desktop.core.device_signin import DeviceSignIn
from mcp_auth_desktop.core.safetext import terminal_safe
from mcp_auth_desktop.core.state import ServerView
from mcp_auth_desktop.core.urls import host_of

__all__ = [
    "check_before_adding",
    "choose_sign_in",
    "for_call",
    "is_code",
    "refused_for_call",
    "headless_reason",
    "login",
    "show_code",
    "without_browser",
]

OnUrl = Callable[[str], None]


def headless_reason() -> str | None:
    """Why no browser can be shown to the user here, or None when one can."""
    from mcp_auth_desktop.cli import paste_back

    if paste_back.no_display():
        return "no display was found (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    graphical = any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"))
    if (os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY")) and not graphical:
        return "this is an SSH session (a browser would open on the remote machine's screen)"
    return None


def without_browser(args: Any) -> bool:
    """True when this login will not open a browser here: --device, or no display."""
    return bool(getattr(args, "device", False)) or headless_reason() is not None


def show_code(name: str) -> Callable[[DeviceAuthorization], None]:
    """Print where to go and what to type (stderr: stdout is for the result)."""

    def show(auth: DeviceAuthorization) -> None:
        lines = [
            f"To sign in to {terminal_safe(name)}, open this address in a browser on any device:",
            "",
            f"    {terminal_safe(auth.verification_uri)}",
            "",
            "and enter the code:",
            "",
            f"    {terminal_safe(auth.user_code)}",
            "",
        ]
        if auth.verification_uri_complete:
            lines.append(f"Or open this address, which carries the code: {terminal_safe(auth.verification_uri_complete)}")
        lines.append(f"The code expires in {auth.lifetime}. Waiting for the approval (Ctrl-C stops)…")
        print("\n".join(lines), file=sys.stderr, flush=True)

    return show


def _unavailable(view: ServerView) -> errors.DeviceGrantUnavailableError:
    host = host_of(view.issuer or view.url) or view.url
    return errors.DeviceGrantUnavailableError(
        f"The authorization server of {view.name} ({host}) does not offer sign-in with a code "
        "(no device_authorization_endpoint, RFC 8628). " + _paste_advice(view.name)
    )


def _paste_advice(name: str) -> str:
    return (
        f"Sign in with a browser elsewhere instead: `mcp-auth login {shlex.quote(name)} --paste` "
        "(approve on any machine, then paste the final address from its address bar here)."
    )


def check_before_adding(manager: Any, args: Any) -> None:
    """``login URL`` for a server never added, without a display and without a terminal to
    paste into: refuse before contacting anything (nothing is half-added), saying every way on.

    With a terminal, the server is added and :func:`choose_sign_in` picks the way once its
    authorization server is known.
    """
    if any(getattr(args, flag, False) for flag in ("device", "paste", "no_browser")):
        return
    reason = headless_reason()
    if reason is None or sys.stdin.isatty():
        return
    try:
        manager.get(args.server)
        return
    except errors.ServerNotFoundError:
        pass
    name = shlex.quote(args.server)
    raise UsageError(
        f"{reason}, so no browser can be opened here. Sign in with a code, where its authorization "
        f"server offers it: `mcp-auth login {name} --device`; or with a browser elsewhere: "
        f"`mcp-auth login {name} --paste` (approve on any machine, then paste the final address "
        f"from its address bar here); or `mcp-auth login {name} --no-browser` when that browser "
        "runs on this machine."
    )


async def choose_sign_in(manager: Any, ref: str, args: Any, on_url: OnUrl | None) -> OnUrl | None:
    """The sign-in's ``on_authorization_url``: a code (--device, or chosen without a display),
    the paste-back, the printed URL, or None for the system browser."""
    if getattr(args, "device", False):
        view: ServerView = manager.get(ref)
        if view.device_grant_supported is False:
            raise _unavailable(view)
        return DeviceSignIn(show_code(view.name))
    if on_url is not None or getattr(args, "paste", False):
        return on_url
    reason = headless_reason()
    if reason is None:
        return None
    view = manager.get(ref)
    if view.device_grant_supported is None:
        view = await manager.rediscover(ref)  # the sign-in needs it anyway
    if view.device_grant_supported:
        print(
            f"mcp-auth: {reason}, so no browser can be opened here: signing in with a code "
            "instead (OAuth device authorization, RFC 8628).",
            file=sys.stderr,
            flush=True,
        )
        return DeviceSignIn(show_code(view.name))
    from mcp_auth_desktop.cli.paste_back import PasteBack

    hint = (
        f"{reason}, so no browser can be opened here, and the authorization server of "
        f"{view.name} offers no sign-in with a code. {_paste_advice(view.name)} Or "
        f"`mcp-auth login {shlex.quote(view.name)} --no-browser` when that browser runs on this machine"
    )
    if not sys.stdin.isatty():
        raise UsageError(hint)
    print(f"mcp-auth: {hint}. Continuing with --paste.", file=sys.stderr, flush=True)
    return PasteBack()


def for_call(manager: Any, args: Any, on_url: OnUrl | None) -> OnUrl | None:
    """``call --sign-in``'s way to sign in when one is needed: a code without a display.

    Chosen before it is known whether a sign-in will be needed at all (a valid token needs
    none), so nothing is asked of the server here: a code sign-in whose authorization
    server offers none ends at once with ``DeviceGrantUnavailableError``, before anything
    is registered or shown, and :func:`refused_for_call` words how to go on.
    """
    if on_url is not None:
        return on_url
    reason = headless_reason()
    if reason is None:
        return None

    def show(auth: DeviceAuthorization) -> None:
        name = manager.get(args.server).name
        print(f"mcp-auth: {reason}, so no browser can be opened here: signing in with a code "
              "instead (OAuth device authorization, RFC 8628).", file=sys.stderr, flush=True)
        show_code(name)(auth)

    return DeviceSignIn(show)


def is_code(on_url: object) -> bool:
    """Is this sign-in one with a code (no browser here, no redirect)?"""
    return isinstance(on_url, DeviceSignIn)


def refused_for_call(manager: Any, args: Any, exc: errors.DeviceGrantUnavailableError) -> UsageError:
    """No browser here and no code at the server: say how to sign in first (--paste)."""
    name = manager.get(args.server).name
    return UsageError(
        f"{exc.message} No browser can be opened here ({headless_reason() or 'no display'}). "
        f"{_paste_advice(name)} Then run this command again."
    )


async def login(
    manager: Any, ref: str, args: Any, on_url: OnUrl | None, *, scopes: tuple[str, ...], re_register: bool
) -> ServerView:
    """Sign in the way :func:`choose_sign_in` picks; a refused code sign-in suggests --paste."""
    how = await choose_sign_in(manager, ref, args, on_url)
    try:
        view: ServerView = await manager.sign_in(
            ref, on_authorization_url=how, scopes=scopes, re_register=re_register
        )
    except errors.DeviceGrantUnavailableError as exc:
        if "--paste" in exc.message:
            raise
        raise errors.DeviceGrantUnavailableError(f"{exc.message} {_paste_advice(manager.get(ref).name)}") from None
    return view
