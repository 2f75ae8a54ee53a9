"""The Edit server dialog: change a server's scopes, client and options after adding it.

Pre-filled with the stored settings (a stored client secret is never shown: the
field stays empty and saying nothing keeps it). Checked as the user types, in the
core's words (``core/server_edit.py``, the rules ``mcp-auth edit`` follows too);
Save stays disabled with the reason shown. The dialog saves nothing itself: it
emits ``submitted`` with a :class:`ServerEdit`, the window runs it through the
bridge and hands back the outcome. When the change leaves the current sign-in made
under the old settings (scopes, client, resource), the dialog says so and offers to
sign in again now; otherwise it closes and the status bar says what changed.

The edit names only the fields the user changed (``ServerEdit.only``) and the settings
the dialog opened with (``seen``): a change saved elsewhere meanwhile (``mcp-auth edit``)
to another field is kept, and one to a field the user changed too comes back as an
:class:`EditConflictError`, shown in the "changed elsewhere" panel (``edit_conflicts.py``)
where the user keeps theirs or takes the new value, field by field, before saving again.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QWidget,
)

from mcp_auth_desktop.core import edit_merge
from mcp_auth_desktop.core.edit_merge import FIELDS, FieldConflict, take_field
from mcp_auth_desktop.core.errors import ConfigurationError, EditConflictError
from mcp_auth_desktop.core.models import ServerConfig
from mcp_auth_desktop.core.server_edit import (
    EditOutcome,
    ServerEdit,
    changes,
    check_edit,
    edited_config,
)
from mcp_auth_desktop.gui.edit_conflicts import ConflictPanel
from mcp_auth_desktop.gui.form_parts import busy_bar, problem_label, say, stack
from mcp_auth_desktop.gui.plain import tooltip
from mcp_auth_desktop.gui.server_options_form import ServerOptionsForm
from mcp_auth_desktop.gui.validation import check_server_url, parse_scopes

__all__ = ["EditServerDialog"]


class EditServerDialog(QDialog):
    """Signals: submitted(ServerEdit), signInRequested(str) — the server's id."""

    submitted = Signal(object)
    signInRequested = Signal(str)

    def __init__(self, config: ServerConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config = config
        #: Whether a client secret is stored (None until the vault has said).
        self.secret_stored: bool | None = None
        #: The outcome of the save, once saved.
        self.outcome: EditOutcome | None = None
        #: The stored settings a refused save reported (what "take the new value" takes).
        self._current = config
        self.setWindowTitle(f"Edit {config.name}")
        self.setMinimumWidth(520)

        self.url = QLabel(config.url)
        self.url.setTextFormat(Qt.TextFormat.PlainText)
        self.url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.url.setToolTip("A different URL is a different server: add it as a new one")
        self.scopes = QLineEdit(" ".join(config.scopes))
        self.scopes.setPlaceholderText("empty: use what the server suggests")
        self.scopes.setToolTip("Space-separated OAuth scopes to request at the next sign-in")
        self.scopes.setAccessibleName("Scopes")

        self.advanced = QGroupBox("Client and options")
        adv = QFormLayout(self.advanced)
        self.form = ServerOptionsForm(adv)
        self.form.fill(config)
        self.forget_secret = QCheckBox("Forget the stored client secret")
        self.forget_secret.hide()
        adv.insertRow(4, self.forget_secret)

        self.conflicts = ConflictPanel()
        self.conflicts.chosen.connect(self._on_conflict_chosen)

        self.problem = problem_label()
        self.progress = busy_bar()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        # Offered after a save that leaves the current sign-in made under the old settings.
        self.sign_in_button = self.buttons.addButton(
            "Sign in again now", QDialogButtonBox.ButtonRole.ActionRole)
        self.sign_in_button.hide()
        self.sign_in_button.clicked.connect(self._on_sign_in_clicked)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.buttons.rejected.connect(self.reject)

        stack(self, [("URL:", self.url), ("&Scopes:", self.scopes)],
              self.advanced, self.conflicts, self.problem, self.progress, self.buttons)

        self.scopes.textChanged.connect(self.revalidate)
        self.form.connect(self.revalidate)
        self.forget_secret.toggled.connect(self.revalidate)
        self.scopes.setFocus(Qt.FocusReason.OtherFocusReason)
        self.revalidate()

    # --- reading the fields ---------------------------------------------------------

    def edit(self) -> ServerEdit:
        """The fields the user changed since the dialog opened, and what it opened with."""
        return replace(self._values(), only=frozenset(self.changed()), seen=self.config)

    def _values(self) -> ServerEdit:
        """Every field as the dialog shows it."""
        secret = self.form.client_secret.text()
        return ServerEdit(
            scopes=parse_scopes(self.scopes.text()),
            client_id=self.form.client_id_text(),
            client_auth_method=self.form.auth_method(),
            options=self.form.options(),
            new_client_secret=secret or None,
            forget_client_secret=self.forget_secret.isVisible() and self.forget_secret.isChecked(),
        )

    def changed(self) -> tuple[str, ...]:
        """What saving would change (names as the core gives them)."""
        edit = self._values()
        has = bool(self.secret_stored)
        new = edited_config(self.config, edit, has_secret=has)
        drop = has and (edit.forget_client_secret or new.client_id != self.config.client_id)
        return changes(self.config, new, secret_changed=bool(edit.new_client_secret) or drop)

    def validation_problem(self) -> str | None:
        problem = check_server_url(
            self.config.url, allow_insecure_loopback=self.form.allow_insecure_loopback.isChecked())
        if problem:
            return f"This server's URL is plain http: {problem}"
        problem = self.form.problem()
        if problem:
            return problem
        try:
            check_edit(self.config, self._values(), has_secret=bool(self.secret_stored))
        except ConfigurationError as exc:
            return exc.user_message
        return None

    def revalidate(self) -> None:
        if self.outcome is not None:
            return  # saved: the outcome stays on screen
        problem = self.validation_problem()
        if problem is None and self.conflicts.undecided:
            problem = ("Changed elsewhere while you were editing: for each field above, keep "
                       "yours or take the new value, then save.")
        changed = self.changed() if problem is None else ()
        say(self.problem, problem or (f"Changes: {', '.join(changed)}." if changed else ""),
            problem=bool(problem))
        self.save_button.setEnabled(problem is None and bool(changed) and not self.progress.isVisible())
        self.save_button.setToolTip(tooltip(
            problem or ("Save the changes" if changed else "Nothing has changed yet")))

    # --- told by the window -------------------------------------------------------------

    def set_secret_stored(self, stored: bool | None) -> None:
        """Say whether a client secret is stored (never what it is)."""
        self.secret_stored = stored
        if stored:
            self.form.client_secret.setPlaceholderText(
                "a secret is stored: leave empty to keep it, or type a new one")
        self.forget_secret.setVisible(bool(stored))
        self.revalidate()

    def set_working(self, working: bool) -> None:
        self.progress.setVisible(working)
        for w in (self.scopes, self.advanced):
            w.setEnabled(not working)
        if working:
            self.save_button.setEnabled(False)
            say(self.problem, "Saving…", problem=False)
        else:
            self.revalidate()

    def show_error(self, message: str) -> None:
        """The save was refused: say why, keep the input for the user to change."""
        self.set_working(False)
        say(self.problem, message, problem=True)

    def follow(self, current: ServerConfig) -> None:
        """The stored settings changed while the dialog is open (``mcp-auth edit``, another
        window): fields the user did not touch show the new values at once, and a field the
        user changed that was changed there too is shown as a conflict before any Save."""
        if current == self.config or self.outcome is not None or self.progress.isVisible():
            return
        v = self._values()
        mine = edited_config(self.config, v, has_secret=bool(self.secret_stored))
        found = edit_merge.conflicts(self.config, current, mine, frozenset(self.changed()))
        self._take_stored(current, found)

    def show_conflict(self, conflict: EditConflictError) -> None:
        """Saving was refused because fields the user changed were changed elsewhere too."""
        self.set_working(False)
        self._take_stored(conflict.current, tuple(conflict.conflicts))

    def _take_stored(self, current: ServerConfig, found: tuple[FieldConflict, ...]) -> None:
        """Every field the user did not change follows ``current`` from now on; conflicting
        ones keep the user's value on screen until they choose (earlier choices still open
        stay listed)."""
        mine = set(self.changed())
        shown = self._shown_config()
        for name in FIELDS:
            if name not in mine:
                shown = take_field(name, shown, current)
        self._show_config(shown)
        self.config = current  # what saving is now compared with
        if found:
            self.conflicts.show_conflicts(found)
        self._current = current
        self.revalidate()

    def _on_conflict_chosen(self, field: str, keep_mine: bool) -> None:
        if not keep_mine:
            self._show_config(take_field(field, self._shown_config(), self._current))
        self.revalidate()

    def _shown_config(self) -> ServerConfig:
        """The settings as the dialog's fields show them (the secret aside)."""
        v = self._values()
        return replace(self.config, scopes=v.scopes, client_id=v.client_id,
                       client_auth_method=v.client_auth_method, options=v.options)

    def _show_config(self, config: ServerConfig) -> None:
        secret = self.form.client_secret.text()  # fill() empties it: a typed secret stays
        self.form.fill(config)
        self.form.client_secret.setText(secret)
        self.scopes.setText(" ".join(config.scopes))

    def show_outcome(self, outcome: EditOutcome) -> None:
        """Saved: close, or when the current sign-in is now out of date, say so and offer it."""
        self.set_working(False)
        self.outcome = outcome
        if not outcome.sign_in_again:
            self.accept()
            return
        say(self.problem, outcome.message + "\n\nSign in again now?", problem=False)
        for w in (self.scopes, self.advanced):
            w.setEnabled(False)
        self.save_button.hide()
        self.cancel_button.setText("Later")
        self.sign_in_button.show()
        self.sign_in_button.setDefault(True)

    def _on_save_clicked(self) -> None:
        if self.validation_problem() is None and self.changed() and not self.conflicts.undecided:
            self.submitted.emit(self.edit())

    def _on_sign_in_clicked(self) -> None:
        self.signInRequested.emit(self.config.id)
        self.accept()
