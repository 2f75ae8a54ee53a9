"""The advanced option fields of a server, shared by the Add and the Edit dialogs.

The pre-registered client (id, secret, authentication), the client metadata URL,
the resource sent (or not), the callback port, extra authorization parameters and
the two network switches. :meth:`problem` words what the user must change;
:meth:`options` reads the fields once they are usable.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from mcp_auth_desktop.core.models import ServerConfig, ServerOptions
from mcp_auth_desktop.gui.validation import check_optional_url, check_port, parse_extra_params

__all__ = ["AUTH_METHOD_CHOICES", "ServerOptionsForm"]

AUTH_METHOD_CHOICES = [
    ("Automatic", None),
    ("none (public client)", "none"),
    ("client_secret_basic", "client_secret_basic"),
    ("client_secret_post", "client_secret_post"),
]


class ServerOptionsForm:
    """The option widgets, laid out as rows of ``layout`` (a form inside the dialog's group)."""

    def __init__(self, layout: QFormLayout) -> None:
        self.allow_insecure_loopback = QCheckBox(
            "Allow http to localhost / 127.0.0.1 / ::1 (local development)")
        self.allow_private_network = QCheckBox("Allow endpoints on private network addresses")
        self.client_id = QLineEdit()
        self.client_id.setPlaceholderText("pre-registered client id (else automatic registration)")
        self.client_id.setAccessibleName("Client id")
        self.client_secret = QLineEdit()
        self.client_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.client_secret.setPlaceholderText("only for confidential clients")
        self.client_secret.setAccessibleName("Client secret")
        self.client_auth_method = QComboBox()
        for label, value in AUTH_METHOD_CHOICES:
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
        first = layout.count()  # items (labels and fields) already there
        layout.addRow(self.allow_insecure_loopback)
        layout.addRow(self.allow_private_network)
        layout.addRow("Client id:", self.client_id)
        layout.addRow("Client secret:", self.client_secret)
        layout.addRow("Client authentication:", self.client_auth_method)
        layout.addRow("Client metadata URL:", self.client_metadata_url)
        layout.addRow(self.omit_resource)
        layout.addRow("Resource override:", self.resource_override)
        layout.addRow("Callback port:", self.callback_port)
        layout.addRow("Authorization params:", self.extra_params)
        items = (layout.itemAt(i) for i in range(first, layout.count()))
        widgets = (item.widget() for item in items if item is not None)
        #: Every widget of these rows (labels too), to show or hide them as one.
        self.widgets: list[QWidget] = [w for w in widgets if w is not None]
        self.lines = (self.client_id, self.client_secret, self.client_metadata_url,
                      self.resource_override, self.callback_port)
        self.boxes = (self.allow_insecure_loopback, self.allow_private_network, self.omit_resource)

    def connect(self, slot: object) -> None:
        """Call ``slot`` whenever any field changes (validate as the user types)."""
        for line in self.lines:
            line.textChanged.connect(slot)
        self.extra_params.textChanged.connect(slot)
        for box in self.boxes:
            box.toggled.connect(slot)
        self.client_auth_method.currentIndexChanged.connect(slot)

    def fill(self, config: ServerConfig) -> None:
        """Show a server's stored settings (never a secret: the secret field stays empty)."""
        o = config.options
        self.allow_insecure_loopback.setChecked(o.allow_insecure_loopback)
        self.allow_private_network.setChecked(o.allow_private_network)
        self.client_id.setText(config.client_id or "")
        self.client_secret.clear()
        index = self.client_auth_method.findData(config.client_auth_method)
        self.client_auth_method.setCurrentIndex(max(index, 0))
        self.client_metadata_url.setText(o.client_metadata_url or "")
        self.omit_resource.setChecked(o.omit_resource)
        self.resource_override.setText(o.resource_override or "")
        self.callback_port.setText(str(o.callback_port) if o.callback_port else "")
        self.extra_params.setPlainText("\n".join(f"{k}={v}" for k, v in o.extra_authorize_params))

    def problem(self) -> str | None:
        """What to change before these options can be used, in words; None when usable."""
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

    def options(self) -> ServerOptions:
        extra = parse_extra_params(self.extra_params.toPlainText())
        port = self.callback_port.text().strip()
        return ServerOptions(
            resource_override=self.resource_override.text().strip() or None,
            omit_resource=self.omit_resource.isChecked(),
            callback_port=int(port) if port else None,
            extra_authorize_params=extra if isinstance(extra, tuple) else (),
            allow_insecure_loopback=self.allow_insecure_loopback.isChecked(),
            allow_private_network=self.allow_private_network.isChecked(),
            client_metadata_url=self.client_metadata_url.text().strip() or None,
        )

    def client_id_text(self) -> str | None:
        return self.client_id.text().strip() or None

    def auth_method(self) -> str | None:
        value = self.client_auth_method.currentData()
        return value if isinstance(value, str) else None
