"""The lean path of ``mcp-auth token``: a cached, valid token, printed fast.

MCP clients run ``mcp-auth token`` on every connection (Claude Code's
``headersHelper`` does, with no caching of its own), so the common case
must cost little more than starting Python. This module handles exactly
that case with the standard library, ``cryptography`` and (on Linux)
``jeepney``: read the settings, find the server by id or name, read the
vault key (one keyring read), decrypt the vault, and print the token when
it is valid for longer than ``--min-ttl``.

Everything else is handed to the full command (:mod:`.main`) by returning
None before anything was printed or written: a token that needs a refresh
(the full path takes the cross-process lock and refreshes), a server named
by URL or not found, a passphrase that must be asked for, a locked or
unusual keyring, files that fail a safety check, an unreadable or damaged
vault. The full path re-reads everything and reports errors as it always
did, so no check is skipped and the output, exit codes and audit log are
the same; a refusal here is never turned into a token.

Reading without the vault lock is safe: writers replace the file
atomically, and the AEAD tag plus the key check reject anything torn.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # typing itself costs a measurable share of this path's budget
    from collections.abc import Sequence
    from typing import Any

__all__ = ["FORMATS", "format_token", "run"]

FORMATS = ("plain", "header", "json")

# The same values as storage.paths / storage.KEYRING_ENV / PASSPHRASE_ENV (tests compare them);
# importing those modules would import dataclasses and more, which is what this path avoids.
_HOME_ENV = "MCP_AUTH_DESKTOP_HOME"
_KEYRING_ENV = "MCP_AUTH_DESKTOP_KEYRING"
_PASSPHRASE_ENV = "MCP_AUTH_DESKTOP_PASSPHRASE"
_APP_NAME = "mcp-auth-desktop"
_SETTINGS_SCHEMA = 1
_KEYRING_SERVICE = "mcp-auth-desktop"


class _Full(Exception):
    """This run needs the full command; the reason is for tests and ``-v`` debugging only."""


def format_token(access_token: str, fmt: str) -> str:
    """What ``mcp-auth token --format FMT`` prints (with its final newline).

    ``json`` is the object header-helper settings expect (Claude Code's
    ``headersHelper``): ``{"Authorization": "Bearer …"}``.
    """
    if fmt == "header":
        return f"Authorization: Bearer {access_token}\n"
    if fmt == "json":
        return json.dumps({"Authorization": f"Bearer {access_token}"}) + "\n"
    return access_token + "\n"


def full_json(token: dict[str, Any]) -> str:
    """``mcp-auth token --json``: the token set without its refresh token."""
    scope = token.get("scope") or ()
    out = {
        "access_token": token["access_token"],
        "token_type": token.get("token_type", "Bearer"),
        "expires_at": token.get("expires_at"),
        "scope": list(scope),
        "resource": token.get("resource"),
    }
    return json.dumps(out, indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False) + "\n"


def _parse(argv: Sequence[str]) -> tuple[str, float, str, bool]:
    """(server, min_ttl, format, json) for the plain forms of the command, else _Full."""
    server: str | None = None
    min_ttl, fmt, as_json, seen_format = 60.0, "plain", False, False
    items = list(argv)
    while items:
        arg = items.pop(0)
        name, eq, value = arg.partition("=")
        if name in ("--min-ttl", "--format"):
            if not eq:
                if not items:
                    raise _Full("option without a value")
                value = items.pop(0)
            if name == "--min-ttl":
                try:
                    min_ttl = float(value)
                except ValueError:
                    raise _Full("bad --min-ttl") from None
            elif value in FORMATS:
                fmt, seen_format = value, True
            else:
                raise _Full("unknown format")
        elif arg == "--json" and not eq:
            as_json = True
        elif arg.startswith("-") or server is not None:
            raise _Full("an option or argument argparse should judge")
        else:
            server = arg
    if server is None or (as_json and seen_format):
        raise _Full("usage error")
    return server, min_ttl, fmt, as_json


def _check_dir(path: str) -> None:
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise _Full("folder needs the full checks")
    parent = os.stat(os.path.dirname(path))
    if parent.st_mode & stat.S_IWOTH and not parent.st_mode & stat.S_ISVTX:
        raise _Full("world-writable parent")


def _read_private(path: str) -> bytes:
    """A file that the full path would read without complaint or repair, else _Full."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
            raise _Full("file needs the full checks")
        return f.read()


def _folders() -> tuple[str, str]:
    home = os.environ.get(_HOME_ENV)
    if home:
        home = os.path.abspath(os.path.expanduser(home))
        return home, home
    from platformdirs import user_config_path, user_data_path

    return (
        str(user_config_path(_APP_NAME, appauthor=False, roaming=True)),
        str(user_data_path(_APP_NAME, appauthor=False, roaming=False)),
    )


def _entry_name(settings: dict[str, Any], ref: str) -> str:
    """The vault entry of the server ``ref`` names (by id, else by name), as the manager finds it."""
    from mcp_auth_desktop.core.entry_names import token_entry_name

    servers = settings.get("servers")
    if not isinstance(servers, list) or not all(isinstance(s, dict) for s in servers):
        raise _Full("unusual servers section")
    ids = [s.get("id") for s in servers]
    if len(set(ids)) != len(ids) or not all(
        isinstance(s.get(k), str) for s in servers for k in ("id", "name", "url")
    ):
        raise _Full("unusual server entries")
    text = ref.strip()
    found = next((s for s in servers if s["id"] == text), None)
    if found is None:
        found = next((s for s in servers if s["name"].lower() == text.lower()), None)
    if found is None:
        raise _Full("not found by id or name (a URL, or no such server)")
    discovery: Any = (settings.get("discovery") or {}).get(found["id"])
    registration: Any = (settings.get("registrations_public") or {}).get(found["id"])
    try:
        issuer = discovery["auth_server"]["issuer"]
        resource = discovery["resource"]
        client_id = registration["client_id"]
    except (TypeError, KeyError):
        raise _Full("not discovered or not registered") from None
    if not all(isinstance(v, str) for v in (issuer, resource, client_id)):
        raise _Full("unusual discovery")
    return token_entry_name(issuer, client_id, resource)


def _vault_key(header: dict[str, Any]) -> bytes:
    """The vault key: one read from the Secret Service, or a passphrase from the environment."""

    source = header.get("key_source")
    if source == "passphrase":
        from mcp_auth_desktop.core.childenv import secret_env

        passphrase = secret_env(_PASSPHRASE_ENV)
        if not passphrase:
            raise _Full("the passphrase must be asked for")
        from mcp_auth_desktop.storage.keys import PassphraseKeyProvider

        return PassphraseKeyProvider(passphrase).load_key(header)
    key_id = header.get("key_id")
    if source != "keyring" or not isinstance(key_id, str):
        raise _Full("key source")
    from mcp_auth_desktop.storage import secret_service

    if not secret_service.usable_here():
        raise _Full("keyring backend chosen by keyring itself")
    try:
        key = secret_service.read_key(_KEYRING_SERVICE, f"vault-key-{key_id}")
    except secret_service.SecretServiceMiss:
        raise _Full("secret service did not answer plainly") from None
    if key is None:
        raise _Full("key not in the secret service, or a damaged item")
    return key


def _tokens(data_dir: str, entry: str) -> dict[str, Any]:
    from mcp_auth_desktop.storage.vault_format import (
        _NONCE_BYTES,
        _b64,
        _Corrupt,
        _split,
        decrypt_entries,
        key_opens,
    )

    raw = _read_private(os.path.join(data_dir, "vault.bin"))
    try:
        header, aad, ciphertext = _split(raw)
        nonce = _b64(header.get("nonce"), _NONCE_BYTES, "nonce")
        key = _vault_key(header)
        if len(key) != 32 or not key_opens(key, header):
            raise _Full("the key does not open this vault")
        entries = decrypt_entries(key, nonce, aad, ciphertext)
    except _Corrupt:
        raise _Full("damaged vault") from None
    tokens = entries.get(entry)
    if tokens is None:
        raise _Full("no tokens")
    return tokens


def _still_valid(tokens: dict[str, Any], min_ttl: float, now: float) -> bool:
    """Whether the manager's ``get_token`` would return this token without refreshing."""
    expires_at = tokens.get("expires_at")
    issued_at = tokens.get("issued_at", 0.0)
    if expires_at is None:
        return True
    if not all(type(v) in (int, float) for v in (expires_at, issued_at)):
        raise _Full("unusual token fields")
    lifetime = max(0.0, expires_at - issued_at)
    if lifetime:
        # As TokenManager.get_token: never ask for more than half a lifetime.
        min_ttl = min(min_ttl, lifetime / 2.0)
    return bool(expires_at - now >= min_ttl)


def lean_token(argv: Sequence[str]) -> str:
    """The text ``mcp-auth token ARGV`` prints on the lean path, or _Full."""
    if os.name != "posix":
        raise _Full("folder ACLs are re-applied by the full path on Windows")
    if os.environ.get(_KEYRING_ENV, "").strip().lower() == "memory":
        raise _Full("memory vault")
    server, min_ttl, fmt, as_json = _parse(argv)
    config_dir, data_dir = _folders()
    for d in dict.fromkeys((config_dir, data_dir, os.path.join(data_dir, "locks"))):
        _check_dir(d)
    settings = json.loads(_read_private(os.path.join(config_dir, "settings.json")))
    if not isinstance(settings, dict) or settings.get("schema_version") != _SETTINGS_SCHEMA:
        raise _Full("settings need migrating or are not ours")
    tokens = _tokens(data_dir, _entry_name(settings, server))
    access_token = tokens.get("access_token")
    if not isinstance(access_token, str) or not _still_valid(tokens, min_ttl, time.time()):
        raise _Full("needs a refresh")
    return full_json(tokens) if as_json else format_token(access_token, fmt)


def run(argv: Sequence[str]) -> int | None:
    """Print the token and return 0, or return None (nothing printed) for the full command."""
    try:
        text = lean_token(argv)
    except Exception:  # _Full, or anything odd: the full command redoes every step and reports
        return None
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0
