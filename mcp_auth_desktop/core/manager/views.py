"""What a server looks like from outside: the ServerView of a record (no secrets)."""

from __future__ import annotations

import logging

from mcp_auth_desktop.core.identity import account_fields
from mcp_auth_desktop.core.manager.record import ServerRecord
from mcp_auth_desktop.core.refresh_record import last_refresh
from mcp_auth_desktop.core.state import ServerView

log = logging.getLogger("mcp_auth_desktop.core.manager")


def view(s: ServerRecord) -> ServerView:
    reg = s.registration
    d = s.discovery
    last_refresh_at, last_refresh_result = last_refresh(s.last_refresh_at, s.last_refresh_result,
                                                        s.status)
    return ServerView(
        id=s.config.id,
        name=s.config.name,
        url=s.config.url,
        state=s.state,
        issuer=d.auth_server.issuer if d else None,
        resource=d.resource if d else None,
        registration_method=reg.method if reg else None,
        client_id=(reg.client_id if reg else None) or s.config.client_id,
        redirect_uri=reg.redirect_uris[0] if reg and reg.redirect_uris else None,
        requested_scopes=s.status.requested_scopes or s.config.scopes,
        granted_scopes=s.granted_scopes,
        expires_at=s.expires_at,
        has_refresh_token=s.has_refresh_token,
        last_refresh_at=last_refresh_at,
        last_refresh_result=last_refresh_result,
        last_error=s.last_error or s.status.last_error,
        revocation_supported=(d.auth_server.revocation_endpoint is not None) if d else None,
        device_grant_supported=(d.auth_server.device_authorization_endpoint is not None) if d else None,
        pending_revocation=s.status.pending_revocation,
        discovery_trail=d.trail if d else (),
        mcp_server=s.status.mcp.description,
        refresh_failures=s.failures,
        failing_since=s.failing_since if s.failures else None,
        **account_fields(s.identity),
    )
