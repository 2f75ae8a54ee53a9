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
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from mcp_auth_desktop.core.models import ServerOptions
from mcp_auth_desktop.gui.bridge import AddServerRequest
from mcp_auth_desktop.gui.plain import set_plain, tooltip
from mcp_auth_desktop.gui.validation import (
    check_optional_url,
    check_port,
    check_server_url,
    parse_extra_params,
    parse_scopes,
)

__all__ = ["AddServerDialog"]

_AUTH_METHODS = [
    ("Automatic", None),
    ("none (public client)", "none"),
    ("client_secret_basic", "client_secret_basic"),
    ("client_secret_post", "client_secret_post"),
]


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
        self.allow_insecure_loopback = QCheckBox("Allow http to localhost / 127.0.0.1 / ::1 (local development)")
        self.allow_private_network = QCheckBox("Allow endpoints on private network addresses")
        self.client_id = QLineEdit()
        self.client_id.setPlaceholderText("pre-registered client id (else automatic registration)")
        self.client_secret = QLineEdit()
        self.client_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.client_secret.setPlaceholderText("only for confidential clients")
        self.client_auth_method = QComboBox()
        for label, value in _AUTH_METHODS:
            self.client_auth_method.addItem(label, value)
        self.client_metadata_url = QLineEdit()
        self.client_metadata_url.setPlaceholderText("https://… Client ID Metadata Document")
        self.omit_resource = QCheckBox("Do not send the resource parameter")
        self.omit_resource.setToolTip("For authorization servers that reject RFC 8707 resource")
        self.resource_override = QLineEdit()
        self.resource_override.setPlaceholderText("send this resource instead of the server URL")
        self.callback_port = QLineEdit()
        self.callback_port.setPlaceholderText("fixed loopback port, if the server needs one")
        self.extra_params = QPlainTextEdit()
        self.extra_params.setPlaceholderText("extra authorization parameters, one name=value a line")
        self.extra_params.setFixedHeight(56)
        self.extra_params.setTabChangesFocus(True)
        adv = QFormLayout(self.advanced)
        adv.addRow(self.allow_insecure_loopback)
        adv.addRow(self.allow_private_network)
        adv.addRow("Client id:", self.client_id)
        adv.addRow("Client secret:", self.client_secret)
        adv.addRow("Client authentication:", self.client_auth_method)
        adv.addRow("Client metadata URL:", self.client_metadata_url)
        adv.addRow(self.omit_resource)
        adv.addRow("Resource override:", self.resource_override)
        adv.addRow("Callback port:", self.callback_port)
        adv.addRow("Authorization params:", self.extra_params)
        items = (adv.itemAt(i) for i in range(adv.count()))
        self._advanced_fields = [item.widget() for item in items if item is not None]
        self.advanced.toggled.connect(self._on_advanced_toggled)
        self._on_advanced_toggled(False)

        self.problem = QLabel()
        # Server-derived text: plain, never rich text or links.
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setWordWrap(True)
        self.problem.setObjectName("problem")
        self.problem.setAccessibleName("Input problem")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress.hide()

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

        form = QFormLayout()
        form.addRow("&URL:", self.url)
        form.addRow("&Name:", self.name)
        form.addRow("&Scopes:", self.scopes)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.advanced)
        layout.addWidget(self.problem)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)

        for line in (self.url, self.client_id, self.client_secret, self.client_metadata_url,
                     self.resource_override, self.callback_port):
            line.textChanged.connect(self.revalidate)
        self.extra_params.textChanged.connect(self.revalidate)
        for box in (self.allow_insecure_loopback, self.allow_private_network, self.omit_resource):
            box.toggled.connect(self.revalidate)
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
        extra = parse_extra_params(self.extra_params.toPlainText())
        if isinstance(extra, str):
            return extra
        if self.omit_resource.isChecked() and self.resource_override.text().strip():
            return "Choose either “do not send resource” or a resource override, not both."
        return (
            check_optional_url(self.client_metadata_url.text(), "client metadata URL")
            or check_port(self.callback_port.text())
            or (
                "A client secret needs a client id."
                if self.client_secret.text() and not self.client_id.text().strip()
                else None
            )
        )

    def revalidate(self) -> None:
        problem = self.validation_problem()
        if self.keep_button.isVisible() and (
            problem is not None or self.request() != self._failed_request
        ):
            self.keep_button.hide()  # the offer was for the input that failed
        set_plain(self.problem, problem or "")
        self.problem.setStyleSheet("color: #d93636" if problem else "")
        self.add_button.setEnabled(problem is None and not self.progress.isVisible())
        self.add_button.setToolTip(tooltip(problem or "Look the server up and add it"))

    def request(self) -> AddServerRequest:
        url = self.url.text().strip()
        name = self.name.text().strip() or None
        scopes = parse_scopes(self.scopes.text())
        if not self._adv():
            return AddServerRequest(url=url, name=name, scopes=scopes)
        extra = parse_extra_params(self.extra_params.toPlainText())
        port = self.callback_port.text().strip()
        options = ServerOptions(
            resource_override=self.resource_override.text().strip() or None,
            omit_resource=self.omit_resource.isChecked(),
            callback_port=int(port) if port else None,
            extra_authorize_params=extra if isinstance(extra, tuple) else (),
            allow_insecure_loopback=self.allow_insecure_loopback.isChecked(),
            allow_private_network=self.allow_private_network.isChecked(),
            client_metadata_url=self.client_metadata_url.text().strip() or None,
        )
        return AddServerRequest(
            url=url,
            name=name,
            client_id=self.client_id.text().strip() or None,
            client_secret=self.client_secret.text() or None,
            client_auth_method=self.client_auth_method.currentData(),
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
            self.problem.setText("Looking the server up…")
            self.problem.setStyleSheet("")
        if working:
            self.add_button.setEnabled(False)
        else:
            self.revalidate()

    def show_error(self, message: str, *, offer_keep: bool = False) -> None:
        """Show why the add failed; ``offer_keep`` adds "Add anyway, sign in later"."""
        self.set_working(False)
        if offer_keep:
            message += "\n\nNothing was added. You can add it anyway and sign in later."
        set_plain(self.problem, message)
        self.problem.setStyleSheet("color: #d93636")
        self._failed_request = self.request() if offer_keep else None
        self.keep_button.setVisible(offer_keep)
