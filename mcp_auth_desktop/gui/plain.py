"""Server-derived text is shown as plain text everywhere in the GUI (issue 15 #1).

``QLabel``, ``QMessageBox`` and tool tips guess whether a string is rich
text (``Qt::mightBeRichText``): an ``error_description`` such as
``<a href="file:///etc/passwd">click</a>`` would become a formatted, clickable
link, and ``QMessageBox`` opens its links outside the browser URL allow-list.
Every sink that can show text a server influenced goes through this module:

* :func:`set_plain` for labels: ``Qt.PlainText`` and no link opening;
* :func:`message_box`, :func:`set_box_text`, :func:`set_box_informative`
  for message boxes: every label in the box plain, links never opened;
* :func:`tooltip` for tool tips (which take no format): the text escaped
  inside a rich-text envelope, so tags show literally and nothing is a link;
* :func:`notification` for tray notifications: on Linux and the BSDs they go to
  the desktop's notification server over D-Bus, whose body may be markup
  (``body-markup``, even links), so the text is escaped there;
* :func:`plain` for the rest (status bar, log, list items): control and
  bidirectional-override characters neutralised by the same
  :func:`~mcp_auth_desktop.core.safetext.terminal_safe` the CLI and the log use.
"""

from __future__ import annotations

import html
import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from mcp_auth_desktop.core.safetext import terminal_safe

__all__ = [
    "plain",
    "set_plain",
    "message_box",
    "set_box_text",
    "set_box_informative",
    "tooltip",
    "notification",
]


def plain(text: object, *, multiline: bool = True) -> str:
    """``text`` with control, escape and bidirectional-override characters made visible."""
    return terminal_safe(text, keep="\n" if multiline else "")


def set_plain(label: QLabel, text: object) -> None:
    """Show ``text`` in ``label`` literally: no markup, no links."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setOpenExternalLinks(False)
    label.setText(plain(text))


def _lock_box(box: QMessageBox) -> None:
    # The main and the informative label are private children; every label in the
    # box is forced to plain text and never opens a link.
    box.setTextFormat(Qt.TextFormat.PlainText)
    for label in box.findChildren(QLabel):
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setOpenExternalLinks(False)


def message_box(
    icon: QMessageBox.Icon,
    title: str,
    text: object,
    buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.NoButton,
    parent: QWidget | None = None,
) -> QMessageBox:
    """A ``QMessageBox`` whose text (and any informative text set later) is plain."""
    box = QMessageBox(icon, plain(title, multiline=False), "", buttons, parent)
    set_box_text(box, text)
    return box


def set_box_text(box: QMessageBox, text: object) -> None:
    _lock_box(box)
    box.setText(plain(text))
    _lock_box(box)


def set_box_informative(box: QMessageBox, text: object) -> None:
    _lock_box(box)
    box.setInformativeText(plain(text))
    _lock_box(box)  # the informative label is created by the call above


def tooltip(text: object) -> str:
    """A tool tip that shows ``text`` literally (tool tips have no text format of their own)."""
    escaped = html.escape(plain(text), quote=False).replace("\n", "<br>")
    return f"<qt>{escaped}</qt>"


def notification(text: object, *, platform: str = sys.platform) -> str:
    """A tray notification body that shows ``text`` literally."""
    body = plain(text)
    if platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        # freedesktop notifications: the body may be interpreted as markup.
        body = html.escape(body, quote=False)
    return body
