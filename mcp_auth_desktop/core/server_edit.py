"""Editing a server's settings after adding it: what may change, the checks, what it means.

One set of rules for the GUI's edit dialog and ``mcp-auth edit`` (issue 16): the
scopes, the pre-registered client (its id, its secret, how it authenticates) and
the advanced options. The URL is not editable (a new URL is a new server), nor is
the name here (that is a rename). A stored client secret is never read back out:
the edit either keeps it, replaces it, or forgets it.

:func:`check_edit` refuses unusable input with a sentence naming the field;
:func:`outcome` says what saving means for the current sign-in, because some
changes (the scopes, the client, the resource the tokens are bound to) leave the
current tokens granted under the old settings: those need a new sign-in to apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from mcp_auth_desktop.core.errors import ConfigurationError
from mcp_auth_desktop.core.models import ServerConfig, ServerOptions
from mcp_auth_desktop.core.state import ServerState, ServerView

__all__ = ["AUTH_METHODS", "EditOutcome", "ServerEdit", "changes", "check_edit", "edited_config",
           "holds_tokens", "outcome"]

#: Client authentication methods a pre-registered client may use (None: chosen from the
#: secret, as ``add`` does).
AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")



@dataclass(frozen=True)
class ServerEdit:
    """A server's editable settings, whole (what the dialog shows, changed or not)."""

    scopes: tuple[str, ...] = ()
    client_id: str | None = None
    client_auth_method: str | None = None
    options: ServerOptions = field(default_factory=ServerOptions)
    #: A new client secret; None keeps the stored one (which is never shown).
    new_client_secret: str | None = field(default=None, repr=False)
    #: Forget the stored client secret (a public client from now on).
    forget_client_secret: bool = False
    #: The fields this edit sets (named as :func:`changes` names them); the others keep
    #: their stored values (``core/edit_merge.py``). None: every field, as given.
    only: frozenset[str] | None = None
    #: The settings the edit began from: a field in ``only`` changed elsewhere since then
    #: is not overwritten silently (``EditConflictError``).
    seen: ServerConfig | None = None

    @classmethod
    def of(cls, config: ServerConfig) -> ServerEdit:
        """The edit that changes nothing: the server's settings as stored."""
        return cls(scopes=config.scopes, client_id=config.client_id,
                   client_auth_method=config.client_auth_method, options=config.options)


@dataclass(frozen=True)
class EditOutcome:
    """What saving an edit did, in words for the window and the terminal."""

    view: ServerView
    #: Names of what changed, e.g. ("scopes", "callback port"); empty: nothing changed.
    changed: tuple[str, ...]
    #: The current tokens were granted under settings that changed: sign in again to apply.
    sign_in_again: bool
    message: str


def check_edit(config: ServerConfig, edit: ServerEdit, *, has_secret: bool) -> None:
    """Raise :class:`ConfigurationError` naming the first field that cannot be used."""
    # Here, not at the top: core.metadata loads the URL rules and urllib.request, which the
    # GUI's first frame (importing this module for its types) does not need.
    from mcp_auth_desktop.core.metadata import SCOPE_TOKEN_RE

    for scope in edit.scopes:
        if not SCOPE_TOKEN_RE.match(scope):
            raise ConfigurationError(
                f"Scopes: {scope!r} is not a scope (printable characters without spaces, "
                "quotes or backslashes).")
    client_id = (edit.client_id or "").strip()
    if edit.new_client_secret is not None and not edit.new_client_secret:
        raise ConfigurationError("Client secret: leave it empty to keep the stored one, "
                                 "or choose to forget it.")
    if edit.new_client_secret and edit.forget_client_secret:
        raise ConfigurationError("Client secret: either enter a new one or forget it, not both.")
    if edit.new_client_secret and not client_id:
        raise ConfigurationError("Client secret: a client secret needs a client id.")
    method = edit.client_auth_method
    if method is not None and method not in AUTH_METHODS:
        raise ConfigurationError(f"Client authentication: {method!r} is not one of "
                                 f"{', '.join(AUTH_METHODS)}.")
    if method is not None and not client_id:
        raise ConfigurationError("Client authentication applies to a pre-registered client: "
                                 "enter its client id too.")
    keeps_secret = has_secret and not edit.forget_client_secret and client_id == config.client_id
    if method in ("client_secret_basic", "client_secret_post") and not (
        edit.new_client_secret or keeps_secret
    ):
        raise ConfigurationError(f"Client authentication {method} needs the client's secret: "
                                 "enter it.")
    opts = edit.options
    if opts.omit_resource and opts.resource_override:
        raise ConfigurationError("Resource: choose either “do not send the resource” or a "
                                 "resource override, not both.")
    if opts.resource_override is not None:
        parts = urlsplit(opts.resource_override)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc or parts.fragment:
            raise ConfigurationError(
                "Resource override: it must be an absolute http(s) URL without a fragment "
                f"(RFC 8707), not {opts.resource_override!r}.")
    if opts.callback_port is not None and not 1 <= opts.callback_port <= 65535:
        raise ConfigurationError(
            f"Callback port: {opts.callback_port} is not a port number (1 to 65535).")
    # Here, not at the top: ports.py imports this module and the first frame must not load
    # the HTTP stack that core.oauth brings (tests/gui/test_first_frame.py).
    from mcp_auth_desktop.core.oauth import RESERVED_AUTHORIZE_PARAMS

    for key, _value in opts.extra_authorize_params:
        if not key:
            raise ConfigurationError("Authorization parameters: each needs a name (name=value).")
        if key in RESERVED_AUTHORIZE_PARAMS:
            raise ConfigurationError(
                f"Authorization parameters: {key!r} is set by the app itself "
                "(use the scopes or the resource fields for those).")
    if opts.client_metadata_url is not None:
        parts = urlsplit(opts.client_metadata_url)
        if parts.scheme != "https" or not parts.hostname:
            raise ConfigurationError("Client metadata URL: it must be an https:// URL.")


def edited_config(config: ServerConfig, edit: ServerEdit, *, has_secret: bool) -> ServerConfig:
    """``config`` with the edit applied (the client authentication chosen as ``add`` does)."""
    client_id = (edit.client_id or "").strip() or None
    method = edit.client_auth_method
    if client_id and method is None:
        keeps = has_secret and not edit.forget_client_secret and client_id == config.client_id
        method = "client_secret_basic" if edit.new_client_secret or keeps else "none"
    return replace(config, scopes=tuple(edit.scopes), client_id=client_id,
                   client_auth_method=method if client_id else None, options=edit.options)


#: Changes after which the current tokens no longer match the settings.
_INVALIDATING = ("scopes", "client id", "client secret", "client authentication",
                 "client metadata URL", "resource")
#: Changes the app's network checks apply at once (every request is checked against them).
_AT_ONCE = ("plain http to loopback", "private network addresses")


def changes(old: ServerConfig, new: ServerConfig, *, secret_changed: bool) -> tuple[str, ...]:
    """What differs between two settings, named as the dialog names the fields."""
    found: list[str] = []
    o, n = old.options, new.options
    pairs = (
        ("scopes", old.scopes, new.scopes),
        ("client id", old.client_id, new.client_id),
        ("client authentication", old.client_auth_method, new.client_auth_method),
        ("client metadata URL", o.client_metadata_url, n.client_metadata_url),
        ("resource", (o.resource_override, o.omit_resource), (n.resource_override, n.omit_resource)),
        ("callback port", o.callback_port, n.callback_port),
        ("authorization parameters", o.extra_authorize_params, n.extra_authorize_params),
        ("plain http to loopback", o.allow_insecure_loopback, n.allow_insecure_loopback),
        ("private network addresses", o.allow_private_network, n.allow_private_network),
    )
    for label, before, after in pairs:
        if before != after:
            found.append(label)
    if secret_changed:
        found.insert(2, "client secret")
    return tuple(found)


def holds_tokens(view: ServerView) -> bool:
    """Does the server hold tokens granted under its settings (signed in, or failing to refresh)?"""
    if view.state.signed_in:
        return True
    return view.state is ServerState.ERROR and (view.has_refresh_token or view.expires_at is not None)


def outcome(view: ServerView, changed: tuple[str, ...]) -> EditOutcome:
    """What the saved edit means for ``view`` (the server after saving), in words."""
    name = view.name
    if not changed:
        return EditOutcome(view, changed, False, f"Nothing changed for {name}.")
    saved = f"Saved {', '.join(changed)} for {name}."
    invalidating = [c for c in changed if c in _INVALIDATING]
    if invalidating and holds_tokens(view):
        return EditOutcome(view, changed, True, (
            f"{saved} The current sign-in was made with the old {', '.join(invalidating)}: "
            "sign in again to use the new settings."))
    at_once = [c for c in changed if c in _AT_ONCE]
    later = [c for c in changed if c not in _AT_ONCE]
    words = [saved]
    if later:
        words.append("Takes effect at the next sign-in." if holds_tokens(view)
                     else "Used when you sign in.")
    if at_once:
        words.append(f"The {' and '.join(at_once)} setting applies from now on.")
    return EditOutcome(view, changed, False, " ".join(words))
