"""What the server dialogs (Add server, Edit server) build alike around their fields.

Each stacks its fields as a form, then its option group and anything else, a line
saying what is wrong (plain text: it may carry a server's words), a thin busy bar
while its work runs, and its buttons. The option fields themselves are
``server_options_form.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from mcp_auth_desktop.gui.plain import set_plain

__all__ = ["busy_bar", "problem_label", "say", "stack"]

_PROBLEM_STYLE = "color: #d93636"


def problem_label() -> QLabel:
    """The line under the fields that says what the user must change, or what is going on."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)  # may carry a server's words
    label.setWordWrap(True)
    label.setObjectName("problem")
    label.setAccessibleName("Input problem")
    return label


def say(label: QLabel, text: str, *, problem: bool) -> None:
    """Show ``text`` as plain text, in red when it is a ``problem``."""
    set_plain(label, text)
    label.setStyleSheet(_PROBLEM_STYLE if problem else "")


def busy_bar() -> QProgressBar:
    """A thin bar that moves without a percentage; hidden until the dialog's work runs."""
    bar = QProgressBar()
    bar.setRange(0, 0)
    bar.setTextVisible(False)
    bar.setMaximumHeight(8)
    bar.hide()
    return bar


def stack(dialog: QDialog, rows: Sequence[tuple[str, QWidget]], *below: QWidget) -> None:
    """Lay ``dialog`` out: ``rows`` as a labelled form, then each of ``below`` under it."""
    form = QFormLayout()
    for label, widget in rows:
        form.addRow(label, widget)
    layout = QVBoxLayout(dialog)
    layout.addLayout(form)
    for widget in below:
        layout.addWidget(widget)
