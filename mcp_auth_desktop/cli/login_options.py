"""`mcp-auth login` with options on a server that already exists (issue 16).

Those options used to be ignored without a word. Now each one that differs from
the stored setting stops the login with a message naming the option and the
command that changes it (`mcp-auth edit`, `rename`, or remove and add again for
the client identity). ``--scope`` is applied: it is the step-up request.
"""

from __future__ import annotations

import argparse
import shlex

from mcp_auth_desktop.core.models import ServerConfig

__all__ = ["conflicting_options"]


def conflicting_options(config: ServerConfig, args: argparse.Namespace) -> list[str]:
    """One sentence per option given to ``login`` that the stored server does not have."""
    name = shlex.quote(config.name)
    opts = config.options
    out: list[str] = []
    if args.name and args.name != config.name:
        out.append(f"--name {args.name!r}: this server is named {config.name!r}; "
                   f"rename it with `mcp-auth rename {name} {shlex.quote(args.name)}`")
    for flag, given, stored in (
        ("--client-id", args.client_id, config.client_id),
        ("--client-auth-method", args.client_auth_method, config.client_auth_method),
    ):
        if given and given != stored:
            out.append(f"{flag}: the client is chosen when a server is added; to change it, "
                       f"`mcp-auth remove {name}` and add it again with {flag}")
    if args.client_secret_stdin:
        out.append(f"--client-secret-stdin: a client secret is given when a server is added; "
                   f"`mcp-auth remove {name}` and add it again with --client-id and the secret")
    edits: list[tuple[str, bool]] = [
        (f"--resource {shlex.quote(args.resource)}" if args.resource else "",
         bool(args.resource) and args.resource != opts.resource_override),
        ("--omit-resource", bool(args.omit_resource) and not opts.omit_resource),
        (f"--callback-port {args.callback_port}",
         args.callback_port is not None and args.callback_port != opts.callback_port),
        ("--allow-insecure-loopback", bool(args.allow_insecure_loopback) and not opts.allow_insecure_loopback),
    ]
    params = []
    for item in args.auth_param:
        key, _, value = item.partition("=")
        params.append((key, value))
    if params and tuple(params) != opts.extra_authorize_params:
        edits.append((" ".join(f"--auth-param {shlex.quote(k + '=' + v)}" for k, v in params), True))
    for flag, differs in edits:
        if differs:
            out.append(f"{flag.split(' ')[0]}: differs from this server's setting; change it with "
                       f"`mcp-auth edit {name} {flag}`, then sign in")
    return out
