"""The details panel: everything worth knowing about the selected server.

Issuer, client registration, redirect URI, granted versus requested
scopes, the last refresh and its outcome, what discovery found, and the
tools the last Test listed. Plain labels, selectable, no secrets (the
:class:`ServerView` it shows carries none).
"""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from mcp_auth_desktop.core.account_text import account_cell
from mcp_auth_desktop.core.mcp.display import description_fields
from mcp_auth_desktop.core.stale_client import RE_REGISTER_ACTION
from mcp_auth_desktop.core.state import ServerState, ServerView
from mcp_auth_desktop.gui.bridge import Tool
from mcp_auth_desktop.gui.plain import plain, set_plain
from mcp_auth_desktop.gui.server_model import format_expires_in

__all__ = ["DetailsPanel"]

_CLIENT_ERROR_HINT = (
    "If the browser shows an error about the client (such as “Invalid client_id”), cancel "
    f"and choose {RE_REGISTER_ACTION} in the Server menu."
)

#: A field the vault holds the answer to, while it is still locked.
_LOCKED_FIELD = "unknown until your tokens are unlocked"

_METHODS = {
    "preregistered": "pre-registered client",
    "cimd": "Client ID Metadata Document",
    "dcr": "dynamic client registration (RFC 7591)",
}


def _when(ts: float | None) -> str:
    if not ts:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


#: Fields that show what the MCP server said about itself (its own text).
_SERVER_TEXT = (
    ("protocol", "Protocol"),
    ("mcp_server", "Server"),
    ("capabilities", "Capabilities"),
    ("instructions", "Instructions"),
)


class DetailsPanel(QScrollArea):
    """Shows one :class:`ServerView`; ``show_view(None)`` shows a hint instead.

    Signals: editRequested() — the user wants to change the server's settings.
    """

    editRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setMinimumWidth(300)
        body = QWidget()
        self.setWidget(body)
        outer = QVBoxLayout(body)
        self.hint = QLabel("Select a server to see its details.\nAdd one with “Add server” (Ctrl+N).")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        outer.addWidget(self.hint)

        self.fields: dict[str, QLabel] = {}
        self.group = QGroupBox()
        form = QFormLayout(self.group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for key, label in (
            ("state", "State"),
            ("account", "Signed in as"),
            ("url", "URL"),
            ("resource", "Resource"),
            ("issuer", "Issuer"),
            ("registration", "Registration"),
            ("client_id", "Client id"),
            ("redirect_uri", "Redirect URI"),
            ("requested", "Requested scopes"),
            ("granted", "Granted scopes"),
            ("expires", "Token expires"),
            ("refresh_token", "Refresh token"),
            ("last_refresh", "Last refresh"),
            ("revocation", "Revocation"),
            ("bridges", "Bridges connected"),
            ("error", "Last error"),
        ):
            value = QLabel()
            value.setTextFormat(Qt.TextFormat.PlainText)  # server text never becomes markup
            value.setOpenExternalLinks(False)
            value.setWordWrap(True)
            # A wrapped label is exactly as tall as its lines: the last line's underscores
            # (offline_access) sit below the font's descent and would be clipped.
            value.setContentsMargins(0, 0, 0, 2)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
            value.setAccessibleName(label)
            self.fields[key] = value
            form.addRow(f"{label}:", value)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setToolTip("Change the scopes, the client and the options (Ctrl+E)")
        self.edit_button.clicked.connect(self.editRequested)
        form.addRow("", self.edit_button)
        outer.addWidget(self.group)

        self.trail_box = QGroupBox("What discovery found")
        self.trail = QPlainTextEdit()
        self.trail.setReadOnly(True)
        self.trail.setMaximumHeight(110)
        self.trail.setAccessibleName("Discovery trail")
        QVBoxLayout(self.trail_box).addWidget(self.trail)
        outer.addWidget(self.trail_box)

        # What server/discover (2026-07-28) or initialize (older revisions) said, as of the last call.
        self.protocol_box = QGroupBox("MCP server (as of the last call)")
        said = QFormLayout(self.protocol_box)
        said.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for key, label in _SERVER_TEXT:
            value = QLabel()
            value.setWordWrap(True)
            value.setTextFormat(Qt.TextFormat.PlainText)  # the server's own words, never markup
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
            value.setAccessibleName(label)
            self.fields[key] = value
            said.addRow(f"{label}:", value)
        outer.addWidget(self.protocol_box)

        self.tools_box = QGroupBox("Tools (from the last Test)")
        self.tools = QListWidget()
        self.tools.setMaximumHeight(140)
        self.tools.setAccessibleName("Tools")
        QVBoxLayout(self.tools_box).addWidget(self.tools)
        outer.addWidget(self.tools_box)
        outer.addStretch(1)

        self._tools_for: dict[str, list[Tool]] = {}
        self._auth_url: dict[str, str] = {}
        self._bridges: dict[str, int] = {}
        self._view: ServerView | None = None
        # The countdown keeps moving between the server's changes (as the table's does).
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._show_expiry)
        self._tick.start()
        self.show_view(None)

    @property
    def server_id(self) -> str | None:
        return self._view.id if self._view else None

    def show_view(self, view: ServerView | None) -> None:
        self._view = view
        self.hint.setVisible(view is None)
        for w in (self.group, self.trail_box):
            w.setVisible(view is not None)
        if view is None:
            self.tools_box.hide()
            self.protocol_box.hide()
            return
        f = self.fields
        self.group.setTitle(view.name)
        set_plain(f["state"], f"locked — {view.locked_because}" if view.locked_because
                  else view.state.value)
        set_plain(f["account"], account_cell(view, none="not signed in"))
        set_plain(f["url"], view.url)
        set_plain(f["resource"], view.resource or "—")
        set_plain(f["issuer"], view.issuer or "not discovered yet")
        set_plain(f["registration"],
            _METHODS.get(view.registration_method or "", view.registration_method or "none yet")
        )
        set_plain(f["client_id"], view.client_id or "—")
        set_plain(f["redirect_uri"], view.redirect_uri or "—")
        set_plain(f["requested"], " ".join(view.requested_scopes) or "server default")
        granted = " ".join(view.granted_scopes) or "—"
        missing = set(view.requested_scopes) - set(view.granted_scopes)
        if view.granted_scopes and missing:
            granted += f"  (not granted: {' '.join(sorted(missing))})"
        set_plain(f["granted"], granted)
        self._show_expiry()
        set_plain(f["refresh_token"], "held" if view.has_refresh_token else "none")
        last = _when(view.last_refresh_at)
        if view.last_refresh_result:
            last += f" — {view.last_refresh_result}"
        set_plain(f["last_refresh"], last)
        rev = {True: "supported", False: "not offered by the server", None: "unknown yet"}[
            view.revocation_supported
        ]
        if view.pending_revocation:
            rev += " (a revocation is still pending)"
        set_plain(f["revocation"], rev)
        bridges = self._bridges.get(view.id, 0)
        set_plain(f["bridges"],
            f"{bridges} (mcp-auth bridge processes using these tokens)" if bridges else "none"
        )
        set_plain(f["error"], view.last_error or "none")
        auth_url = self._auth_url.get(view.id)
        if view.state.value == "signing in":
            # What to do when the server forgot this app: its error page is in the browser.
            set_plain(f["state"], f"signing in — {_CLIENT_ERROR_HINT}")
        if auth_url and view.state.value == "signing in" and _is_start_page(auth_url):
            # The one link in the GUI: our own listener's start page, never server text.
            # Single use: it is for when the browser did not open by itself.
            f["state"].setTextFormat(Qt.TextFormat.RichText)
            f["state"].setText(
                f'signing in — <a href="{html.escape(auth_url, quote=True)}">'
                "open the sign-in page (if your browser did not)</a>. " + html.escape(_CLIENT_ERROR_HINT)
            )
            f["state"].setOpenExternalLinks(True)
        if view.state is ServerState.LOCKED:
            # The tokens (and who they belong to) are in the vault: not known, not "none".
            for key in ("account", "granted", "expires", "refresh_token"):
                set_plain(f[key], _LOCKED_FIELD)
        said = dict(description_fields(view.mcp_server)) if view.mcp_server else {}
        self.protocol_box.setVisible(bool(said))
        for key, label in _SERVER_TEXT:
            set_plain(f[key], said.get(label, "none"))
        self.trail.setPlainText(plain("\n".join(view.discovery_trail) or _no_trail(view)))
        tools = self._tools_for.get(view.id)
        self.tools_box.setVisible(tools is not None)
        self.tools.clear()
        for tool in tools or []:
            self.tools.addItem(plain(f"{tool.name} — {tool.description}" if tool.description else tool.name,
                                     multiline=False))

    def _show_expiry(self) -> None:
        view = self._view
        if view is None:
            return
        if view.state is ServerState.LOCKED:
            set_plain(self.fields["expires"], _LOCKED_FIELD)
            return
        if view.expires_at is None:
            set_plain(self.fields["expires"], "—")
            return
        left = format_expires_in(view.expires_at, time.time())
        set_plain(self.fields["expires"], f"{_when(view.expires_at)} ({left if left == 'expired' else 'in ' + left})")

    def set_tools(self, server_id: str, tools: list[Tool]) -> None:
        self._tools_for[server_id] = tools
        if self._view is not None and self._view.id == server_id:
            self.show_view(self._view)

    def set_bridge_counts(self, counts: dict[str, int]) -> None:
        self._bridges = dict(counts)
        if self._view is not None:
            self.show_view(self._view)

    def set_authorization_url(self, server_id: str, url: str) -> None:
        self._auth_url[server_id] = url

    def forget(self, server_id: str) -> None:
        self._tools_for.pop(server_id, None)
        self._auth_url.pop(server_id, None)
        if self._view is not None and self._view.id == server_id:
            self.show_view(None)

    def tool_names(self) -> list[str]:
        return [t.name for t in self._tools_for.get(self.server_id or "", [])]


def _is_start_page(url: str) -> bool:
    """Our own loopback start page (the module loads with the first sign-in, not the window)."""
    from mcp_auth_desktop.core.loopback import is_start_page

    return is_start_page(url)


def _no_trail(view: ServerView) -> str:
    """Without a trail: discovery either never ran, or failed before it learnt anything."""
    if view.issuer is None and view.last_error:
        return f"Discovery failed: {view.last_error}"
    return "Discovery has not run yet."
