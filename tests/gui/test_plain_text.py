"""Issue 15 #1: server text is shown as plain text in every GUI sink, never as markup or a link.

An authorization server's ``error_description`` of
``<a href="file:///etc/passwd">click</a><b>bold</b>`` (through the real
``oauth_error_from_response``) reaches the error box, the details panel, the
row tool tip, the status bar, the event log and the tray notification. Each
sink must show the tags literally: labels and message boxes in
``Qt.PlainText`` with no link opening, tool tips escaped so their rich-text
rendering is the literal text.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt  # Qt::mightBeRichText lives in QtGui
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel, QMessageBox

from mcp_auth_desktop.core.errors import oauth_error_from_response
from mcp_auth_desktop.core.state import ServerState
from mcp_auth_desktop.gui.server_model import Column
from tests.gui.conftest import run, until
from tests.gui.fakes import FakeManager

HOSTILE = '<a href="file:///etc/passwd">click</a><b>bold</b>'


def assert_plain_label(label: QLabel, must_contain: str = HOSTILE) -> None:
    assert label.textFormat() == Qt.TextFormat.PlainText, label.text()
    assert not label.openExternalLinks()
    assert must_contain in label.text()  # the tags are in the shown text, literally


def rendered_tooltip(tip: str) -> str:
    """What Qt shows for a tool tip (rich text when it looks like rich text)."""
    if not GuiQt.mightBeRichText(tip):
        return tip
    doc = QTextDocument()
    doc.setHtml(tip)
    return doc.toPlainText()


def test_hostile_error_description_is_plain_everywhere(make_gui: Any, qtbot: Any) -> None:
    error = oauth_error_from_response("server_error", HOSTILE, status=503)
    assert HOSTILE in error.user_message  # the real error keeps the server's words
    manager = FakeManager(fail_refresh={"srv0001": error})
    gui = make_gui(manager, seed=1)
    sid = "srv0001"

    async def scenario() -> None:
        gui.window.select_server(sid)
        gui.actions.refresh(sid)
        await until(lambda: gui.window.error_box is not None, what="error box")
        await until(lambda: HOSTILE in gui.window.details.fields["error"].text(), what="details")

    run(gui.loop, scenario())

    # The message box: every label plain, links never opened, the tags shown literally.
    box = gui.window.error_box
    assert box is not None and box.textFormat() == Qt.TextFormat.PlainText
    assert HOSTILE in box.text()
    labels = [lb for lb in box.findChildren(QLabel) if lb.text()]
    assert any(HOSTILE in lb.text() for lb in labels)
    for label in labels:
        assert label.textFormat() == Qt.TextFormat.PlainText and not label.openExternalLinks()

    # The details panel.
    assert_plain_label(gui.window.details.fields["error"])

    # The row's tool tip renders to the literal text (no bold, no link).
    model = gui.window.model
    tip = model.index(model.row_of(sid), int(Column.STATE)).data(Qt.ItemDataRole.ToolTipRole)
    assert HOSTILE in rendered_tooltip(tip)

    # Status bar, event log: the literal text.
    assert HOSTILE in gui.window.statusBar().currentMessage()
    assert any(HOSTILE in line for line in gui.window.log_view.lines())


def test_server_named_values_in_the_details_panel_are_plain(make_gui: Any) -> None:
    manager = FakeManager()
    gui = make_gui(manager, seed=1)
    sid = "srv0001"
    manager.set_state(sid, ServerState.NEEDS_SIGN_IN, client_id=HOSTILE, issuer=HOSTILE,
                      last_error=HOSTILE, granted_scopes=(HOSTILE,))

    async def scenario() -> None:
        gui.window.select_server(sid)
        await until(lambda: HOSTILE in gui.window.details.fields["client_id"].text(), what="shown")

    run(gui.loop, scenario())
    for key in ("client_id", "issuer", "error", "state", "url", "registration"):
        label = gui.window.details.fields[key]
        assert label.textFormat() == Qt.TextFormat.PlainText and not label.openExternalLinks(), key
    assert_plain_label(gui.window.details.fields["issuer"])


def test_helpers_show_tags_and_escapes_literally(qtbot: Any) -> None:
    from mcp_auth_desktop.gui.plain import message_box, set_box_informative, set_plain, tooltip

    label = QLabel()
    qtbot.addWidget(label)
    label.setTextFormat(Qt.TextFormat.RichText)  # as a careless caller might have left it
    label.setOpenExternalLinks(True)
    set_plain(label, HOSTILE + "\x1b[2J\u202e")
    assert_plain_label(label)
    assert "\x1b" not in label.text() and "\u202e" not in label.text()

    box = message_box(QMessageBox.Icon.Warning, "t", HOSTILE)
    assert box.textFormat() == Qt.TextFormat.PlainText and box.text() == HOSTILE
    set_box_informative(box, HOSTILE)
    informative = [lb for lb in box.findChildren(QLabel) if lb.text() == HOSTILE]
    assert len(informative) == 2
    for lb in informative:
        assert lb.textFormat() == Qt.TextFormat.PlainText and not lb.openExternalLinks()
    box.deleteLater()

    assert rendered_tooltip(tooltip(HOSTILE)) == HOSTILE
    assert rendered_tooltip(tooltip("a\nb")).replace("\u2029", "\n") == "a\nb"


def test_tray_notification_body_is_escaped_for_markup_servers(make_gui: Any, monkeypatch: Any) -> None:
    """freedesktop notification servers may read the body as markup (links included)."""
    from mcp_auth_desktop.gui.plain import notification

    gui = make_gui(seed=1)
    gui.tray.show()
    assert gui.tray.isVisible() and gui.tray.supportsMessages()  # the headless tray host
    shown: list[tuple[str, str]] = []
    # Recorded at the call into Qt; everything before it is the real tray code.
    monkeypatch.setattr(gui.tray, "showMessage", lambda title, body, *a: shown.append((title, body)))
    gui.tray.on_notify("refresh-failed", "Server 1 <b>x</b>", HOSTILE + "\x1b[2J")
    [(title, body)] = shown
    assert "<a" not in body and "<b>" not in body and "\x1b" not in body
    assert body == notification(HOSTILE + "\x1b[2J", platform="linux")
    assert "&lt;a href=" in body and "\x1b" not in title
    assert notification(HOSTILE, platform="win32") == HOSTILE  # shown as plain text there


def test_no_gui_module_builds_a_message_box_around_the_helper() -> None:
    """A guard for code added later: message boxes and informative texts are built only
    through gui/plain.py (which forces plain text), never directly."""
    import re
    from pathlib import Path

    import mcp_auth_desktop.gui as gui_pkg

    offenders = []
    for path in sorted(Path(gui_pkg.__file__).parent.glob("*.py")):
        if path.name == "plain.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            # (setDetailedText is safe: Qt shows it with QTextEdit.setPlainText.)
            if re.search(r"\bQMessageBox\(|\.setInformativeText\(", line):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []
