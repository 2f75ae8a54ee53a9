"""The Add server dialog: a URL, an optional name, and the advanced options.

Everything is checked as the user types; the Add button stays disabled
with the reason shown until the input can be tried. The dialog does not
add anything itself: it emits ``submitted`` with an
:class:`AddServerRequest`; the window runs the (async) add, and the dialog
stays open showing progress, then closes on success or shows the error.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QLineEdit, QWidget

from mcp_auth_desktop.gui.bridge import AddServerRequest
from mcp_auth_desktop.gui.form_parts import busy_bar, problem_label, say, stack
from mcp_auth_desktop.gui.plain import tooltip
from mcp_auth_desktop.gui.server_options_form import ServerOptionsForm
from mcp_auth_desktop.gui.validation import check_server_url, parse_scopes

__all__ = ["AddServerDialog"]


class AddServerDialog(QDialog):
    """Signals: submitted(AddServerRequest)."""

    submitted = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add MCP server")
        self.setMinimumWidth(520)

        self.url = QLineEdit()
        self.url.setPlaceholderText("https://mcp.example.com/mcp")
        self.url.setToolTip("The MCP endpoint URL the server's documentation gives you")
        self.url.setAccessibleName("Server URL")
        self.name = QLineEdit()
        self.name.setPlaceholderText("optional: a short name, e.g. Work tracker")
        self.name.setAccessibleName("Server name")
        self.scopes = QLineEdit()
        self.scopes.setPlaceholderText("optional: leave empty to use what the server suggests")
        self.scopes.setToolTip("Space-separated OAuth scopes to request")

        # --- advanced -----------------------------------------------------
        self.advanced = QGroupBox("Advanced")
        self.advanced.setCheckable(True)
        self.advanced.setChecked(False)
        self.advanced.setToolTip("Pre-registered clients and compatibility switches")
        self.form = ServerOptionsForm(QFormLayout(self.advanced))
        f = self.form
        # The fields by their own names too (the window and the tests use them).
        self.allow_insecure_loopback, self.allow_private_network = (
            f.allow_insecure_loopback, f.allow_private_network)
        self.client_id, self.client_secret, self.client_auth_method = (
            f.client_id, f.client_secret, f.client_auth_method)
        self.client_metadata_url, self.omit_resource, self.resource_override = (
            f.client_metadata_url, f.omit_resource, f.resource_override)
        self.callback_port, self.extra_params = f.callback_port, f.extra_params
        self._advanced_fields = f.widgets
        self.advanced.toggled.connect(self._on_advanced_toggled)
        self._on_advanced_toggled(False)

        self.problem = problem_label()
        self.progress = busy_bar()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.add_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.add_button.setText("Add")
        # Offered only after the server could not be reached or used: keep it
        # anyway (nothing is contacted now) and sign in later.
        self.keep_button = self.buttons.addButton(
            "Add anyway, sign in later", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.keep_button.setToolTip("Keep this server in the list without contacting it now")
        self.keep_button.hide()
        self.keep_button.clicked.connect(self._on_keep_clicked)
        self._failed_request: AddServerRequest | None = None
        self.buttons.accepted.connect(self._on_add_clicked)
        self.buttons.rejected.connect(self.reject)

        stack(self, [("&URL:", self.url), ("&Name:", self.name), ("&Scopes:", self.scopes)],
              self.advanced, self.problem, self.progress, self.buttons)

        self.url.textChanged.connect(self.revalidate)
        self.form.connect(self.revalidate)
        self.advanced.toggled.connect(self.revalidate)
        self.url.setFocus(Qt.FocusReason.OtherFocusReason)
        self.revalidate()

    def _on_advanced_toggled(self, on: bool) -> None:
        # A collapsed group: hide the fields rather than grey them out.
        for widget in self._advanced_fields:
            if widget is not None:
                widget.setVisible(on)
        self.adjustSize()

    def _adv(self) -> bool:
        return self.advanced.isChecked()

    def validation_problem(self) -> str | None:
        problem = check_server_url(
            self.url.text(), allow_insecure_loopback=self._adv() and self.allow_insecure_loopback.isChecked()
        )
        if problem or not self._adv():
            return problem
        return self.form.problem()

    def revalidate(self) -> None:
        problem = self.validation_problem()
        if self.keep_button.isVisible() and (
            problem is not None or self.request() != self._failed_request
        ):
            self.keep_button.hide()  # the offer was for the input that failed
        say(self.problem, problem or "", problem=bool(problem))
        self.add_button.setEnabled(problem is None and not self.progress.isVisible())
        self.add_button.setToolTip(tooltip(problem or "Look the server up and add it"))

    def request(self) -> AddServerRequest:
        url = self.url.text().strip()
        name = self.name.text().strip() or None
        scopes = parse_scopes(self.scopes.text())
        if not self._adv():
            return AddServerRequest(url=url, name=name, scopes=scopes)
        options = self.form.options()
        return AddServerRequest(
            url=url,
            name=name,
            client_id=self.form.client_id_text(),
            client_secret=self.client_secret.text() or None,
            client_auth_method=self.form.auth_method(),
            scopes=scopes,
            options=options,
        )

    def _on_add_clicked(self) -> None:
        if self.validation_problem() is None:
            self.submitted.emit(self.request())

    def _on_keep_clicked(self) -> None:
        if self.validation_problem() is None:
            self.submitted.emit(replace(self.request(), discover=False))

    # --- called by the window while the add runs -----------------------------

    def set_working(self, working: bool) -> None:
        self.progress.setVisible(working)
        if working:
            self.keep_button.hide()
        for w in (self.url, self.name, self.scopes, self.advanced):
            w.setEnabled(not working)
        if working:
            say(self.problem, "Looking the server up…", problem=False)
        if working:
            self.add_button.setEnabled(False)
        else:
            self.revalidate()

    def show_error(self, message: str, *, offer_keep: bool = False) -> None:
        """Show why the add failed; ``offer_keep`` adds "Add anyway, sign in later"."""
        self.set_working(False)
        if offer_keep:
            message += "\n\nNothing was added. You can add it anyway and sign in later."
        say(self.problem, message, problem=True)
        self._failed_request = self.request() if offer_keep else None
        self.keep_button.setVisible(offer_keep)
