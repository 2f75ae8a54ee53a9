"""Editing a server's settings after adding it (the rules are in ``core/server_edit.py``).

Storage first, then memory, as a rename does: a settings reconcile in between must
not undo the change. The client secret goes to the vault (never to the settings
file); changed scopes are marked so that the next sign-in asks for exactly the new
ones instead of adding them to the scopes the old sign-in was granted.
"""

from __future__ import annotations

from mcp_auth_desktop.core import edit_merge, server_edit, settings_seal
from mcp_auth_desktop.core.events import ServerUpdated
from mcp_auth_desktop.core.manager import views
from mcp_auth_desktop.core.manager.record import normalize_server_url
from mcp_auth_desktop.core.manager.shared import ManagerState, log
from mcp_auth_desktop.core.server_edit import EditOutcome, ServerEdit

__all__ = ["edit_server", "has_client_secret"]


async def edit_server(m: ManagerState, ref: str, edit: ServerEdit) -> EditOutcome:
    s = m._resolve(ref)
    # As stored now, not as last seen here: another process (``mcp-auth edit``) may have
    # saved a change this manager's settings watch has not brought in yet.
    # What decides where secrets go is checked against the vault, as at every read.
    found = [c for c in (await m._registry.load()).servers if c.id == s.config.id]
    stored = await settings_seal.apply(
        found, {}, m._vault, lambda sid, msg: m._note(None, "warning", msg, server_id=sid))
    old = stored[0] if stored and stored[0].url == s.config.url else s.config
    has_secret = await m._registry.get_client_secret(old.id) is not None
    # An edit naming only the fields the user changed (the GUI's) keeps every other
    # field as stored, and refuses to overwrite one changed elsewhere meanwhile.
    edit = edit_merge.rebase(old, edit, has_secret=has_secret)
    server_edit.check_edit(old, edit, has_secret=has_secret)
    new = server_edit.edited_config(old, edit, has_secret=has_secret)
    # Turning "plain http to loopback" off for an http server is refused here, in the
    # words of the URL rules, rather than at the next request.
    normalize_server_url(new.url, new.options)
    drop_secret = has_secret and (edit.forget_client_secret or new.client_id != old.client_id)
    secret_changed = bool(edit.new_client_secret) or drop_secret
    changed = server_edit.changes(old, new, secret_changed=secret_changed)
    if not changed:
        return server_edit.outcome(views.view(s), changed)
    if edit.new_client_secret:
        await m._registry.put_client_secret(old.id, edit.new_client_secret)
    elif drop_secret:
        # The secret belonged to the old client (or the user asked to forget it).
        await m._registry.delete_client_secret(old.id)
    if new != old:
        await m._registry.put_server(new)
        s.config = new
    if new.scopes != old.scopes:
        await m._change_status(s, lambda st: st.scopes_changed())
    log.info("edited %s: %s", new.name, ", ".join(changed))
    m._emit(ServerUpdated(old.id, m._clock.time()))
    return server_edit.outcome(views.view(s), changed)


async def has_client_secret(m: ManagerState, ref: str) -> bool:
    """Whether a client secret is stored for the server (its value never leaves the vault)."""
    return await m._registry.get_client_secret(m._resolve(ref).config.id) is not None
