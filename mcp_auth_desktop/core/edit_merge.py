"""An edit that names only the fields the user changed, applied to the settings as they are now.

The edit dialog stays open while ``mcp-auth edit`` (or another window) may change the same
server. Saving every field as the dialog showed it would undo that change silently, so the
dialog sends a :class:`~mcp_auth_desktop.core.server_edit.ServerEdit` with ``only`` (the
fields the user changed, named as :func:`~mcp_auth_desktop.core.server_edit.changes` names
them) and ``seen`` (the settings the dialog opened with). :func:`rebase` takes the user's
value for those fields and the stored value for every other one; when a field the user
changed was also changed elsewhere to something else, it raises
:class:`~mcp_auth_desktop.core.errors.EditConflictError` naming both values, and nothing is
saved: the user chooses. An edit without ``only`` (the CLI's) is whole, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from mcp_auth_desktop.core.errors import EditConflictError
from mcp_auth_desktop.core.models import ServerConfig
from mcp_auth_desktop.core.text import sanitize_server_text

__all__ = ["FIELDS", "FieldConflict", "conflicts", "field_text", "rebase", "take_field"]


@dataclass(frozen=True)
class FieldConflict:
    """One field changed both in an open edit and elsewhere since it opened, in words."""

    field: str
    #: The value when the edit began, the value stored now, and the user's.
    seen: str
    current: str
    mine: str


Get = Callable[[ServerConfig], Any]
Put = Callable[[ServerConfig, Any], ServerConfig]


def _opt(name: str) -> tuple[Get, Put]:
    return (lambda c: getattr(c.options, name),
            lambda c, v: replace(c, options=replace(c.options, **{name: v})))


def _resource_put(c: ServerConfig, v: Any) -> ServerConfig:
    override, omit = v
    return replace(c, options=replace(c.options, resource_override=override, omit_resource=omit))


#: Each editable field by the name ``server_edit.changes`` gives it: how to read it from the
#: settings and how to set it. ("client secret" is not here: it lives in the vault, and an
#: edit replaces or forgets it explicitly.)
FIELDS: dict[str, tuple[Get, Put]] = {
    "scopes": (lambda c: c.scopes, lambda c, v: replace(c, scopes=v)),
    "client id": (lambda c: c.client_id, lambda c, v: replace(c, client_id=v)),
    "client authentication": (lambda c: c.client_auth_method,
                              lambda c, v: replace(c, client_auth_method=v)),
    "client metadata URL": _opt("client_metadata_url"),
    "resource": (lambda c: (c.options.resource_override, c.options.omit_resource), _resource_put),
    "callback port": _opt("callback_port"),
    "authorization parameters": _opt("extra_authorize_params"),
    "plain http to loopback": _opt("allow_insecure_loopback"),
    "private network addresses": _opt("allow_private_network"),
}


def field_text(name: str, config: ServerConfig) -> str:
    """A field's value in words, as a person reads it ("none", "on", "mcp:read mcp:write")."""
    value = FIELDS[name][0](config)
    if name == "resource":
        override, omit = value
        return "not sent" if omit else (override or "the server's URL")
    if name == "authorization parameters":
        value = " ".join(f"{k}={v}" for k, v in value)
    elif name == "scopes":
        value = " ".join(value) or "the server's suggestion"
    elif isinstance(value, bool):
        value = "on" if value else "off"
    return sanitize_server_text(str(value), 200) if value not in (None, "") else "none"


def take_field(name: str, into: ServerConfig, source: ServerConfig) -> ServerConfig:
    """``into`` with ``name`` set as in ``source``."""
    get, put = FIELDS[name]
    return put(into, get(source))


def conflicts(seen: ServerConfig, current: ServerConfig, mine: ServerConfig,
              only: frozenset[str]) -> tuple[FieldConflict, ...]:
    """The fields in ``only`` changed from ``seen`` to ``current`` and to ``mine`` differently."""
    found = []
    for name, (get, _put) in FIELDS.items():
        if name in only and get(current) != get(seen) and get(current) != get(mine):
            found.append(FieldConflict(name, field_text(name, seen), field_text(name, current),
                                       field_text(name, mine)))
    return tuple(found)


def rebase(current: ServerConfig, edit: Any, *, has_secret: bool) -> Any:
    """The whole edit to apply to ``current``: the user's fields from ``edit``, the rest as stored.

    ``edit`` is a ``ServerEdit`` (typed loosely: server_edit imports this module). Raises
    :class:`EditConflictError` when a field in ``edit.only`` changed since ``edit.seen`` to a
    value other than the user's.
    """
    from mcp_auth_desktop.core.server_edit import ServerEdit, edited_config

    if edit.only is None:
        return edit
    seen: ServerConfig = edit.seen if edit.seen is not None else current
    mine = edited_config(seen, edit, has_secret=has_secret)
    found = conflicts(seen, current, mine, edit.only)
    if found:
        raise EditConflictError(current.name, found, current)
    merged = current
    for name in FIELDS:
        if name in edit.only:
            merged = take_field(name, merged, mine)
    whole: ServerEdit = replace(ServerEdit.of(merged), new_client_secret=edit.new_client_secret,
                                forget_client_secret=edit.forget_client_secret)
    return whole
