"""Command-line input checked where it is typed, each error naming its flag (issue 16).

Options that are stored and only used at the next sign-in (a callback port, a
scope, a resource) used to be accepted whatever they were and fail much later,
far from the flag that caused it. Here each is checked at once, and the message
names the flag and says what would be accepted. "Did you mean" suggestions for
commands, options and server names live here too.
"""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from mcp_auth_desktop.core.oauth.authorization import RESERVED_AUTHORIZE_PARAMS

__all__ = ["OptionError", "check_server_options", "did_you_mean", "suggest_for_parser_error"]

_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 §3.3


class OptionError(ValueError):
    """A flag's value cannot be used; the message names the flag."""


def check_server_options(args: argparse.Namespace) -> None:
    """Raise :class:`OptionError` for the first unusable server option in ``args``."""
    port = getattr(args, "callback_port", None)
    if port is not None and not 1 <= port <= 65535:
        raise OptionError(f"--callback-port must be a port number from 1 to 65535, not {port}")
    for item in getattr(args, "scope", None) or ():
        for scope in item.split():
            if not _SCOPE_TOKEN.match(scope):
                raise OptionError(
                    f"--scope: {scope!r} is not a scope (printable ASCII without spaces, "
                    "quotes or backslashes)"
                )
    resource = getattr(args, "resource", None)
    if resource is not None:
        parts = urlsplit(resource)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc or parts.fragment:
            raise OptionError(
                f"--resource must be an absolute http(s) URL without a fragment (RFC 8707), "
                f"not {resource!r}"
            )
    for item in getattr(args, "auth_param", None) or ():
        key = item.partition("=")[0]
        if key in RESERVED_AUTHORIZE_PARAMS:
            raise OptionError(
                f"--auth-param cannot set {key!r}: the app sets that parameter itself "
                "(use --scope or --resource for those)"
            )
    method = getattr(args, "client_auth_method", None)
    client_id = getattr(args, "client_id", None)
    if method and not client_id:
        raise OptionError("--client-auth-method applies to a pre-registered client: give --client-id too")
    if getattr(args, "client_secret_stdin", False) and not client_id:
        raise OptionError("--client-secret-stdin applies to a pre-registered client: give --client-id too")
    if method in ("client_secret_basic", "client_secret_post") and not getattr(
        args, "client_secret_stdin", False
    ):
        raise OptionError(f"--client-auth-method {method} needs the secret: add --client-secret-stdin")


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to ``word`` (case-insensitive), if one is close enough.

    Never ``word`` itself: when what was typed exists and was still refused, repeating it
    back as the suggestion says nothing (the refusal must say why instead).
    """
    pool = {c.lower(): c for c in candidates if c != word}
    match = difflib.get_close_matches(word.lower(), list(pool), n=1, cutoff=0.6)
    return pool[match[0]] if match else None


_INVALID_CHOICE = re.compile(r"argument (?P<arg>\S+): invalid choice: '(?P<word>[^']*)' \(choose from (?P<choices>.*)\)")
_UNRECOGNIZED = re.compile(r"unrecognized arguments: (?P<words>.*)")


def suggest_for_parser_error(
    message: str,
    options: Iterable[str],
    *,
    command: str | None = None,
    elsewhere: Mapping[str, Sequence[str]] | None = None,
    before_command: Iterable[str] = (),
) -> str | None:
    """A hint for an argparse error message, or None.

    ``options`` are those that could have been meant. For a command's parser,
    ``command`` names it, ``elsewhere`` maps the options of the other commands to
    them, and ``before_command`` are options of ``mcp-auth`` itself that go before the
    command: an existing option typed in the wrong place is told where it belongs
    rather than "corrected" to itself.
    """
    found = _INVALID_CHOICE.search(message)
    if found:
        choices = re.findall(r"'([^']*)'", found.group("choices"))
        guess = did_you_mean(found.group("word"), choices)
        return f"did you mean {guess!r}?" if guess else None
    found = _UNRECOGNIZED.search(message)
    if not found:
        return None
    for word in found.group("words").split():
        if not word.startswith("-"):
            continue
        name = word.partition("=")[0]
        if command is not None and name in before_command:
            return f"{name} is an option of mcp-auth itself: it goes before the command (mcp-auth {name})"
        others = (elsewhere or {}).get(name)
        if command is not None and others:
            listed = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            return (f"{name} is not an option of {command} (it is one of {listed}); "
                    f"`mcp-auth {command} --help` lists the options of {command}")
        if word.startswith("--"):
            guess = did_you_mean(name, options)
            if guess:
                return f"{word}: did you mean {guess}?"
    return None
