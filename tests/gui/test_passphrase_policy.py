"""The GUI's passphrase dialog applies the one policy (core/passphrase_policy.py): the length
rule for a new vault only; any existing vault can be unlocked with the passphrase it was made
with (a one-character vault made by the CLI used to be refused here)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from mcp_auth_desktop.core import passphrase_policy
from mcp_auth_desktop.gui.passphrase_dialog import PassphraseDialog


def _ok_enabled(dialog: PassphraseDialog) -> bool:
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()


def test_unlock_accepts_any_non_empty_passphrase(qtbot: QtBot) -> None:
    dialog = PassphraseDialog("unlock")
    qtbot.addWidget(dialog)
    assert not _ok_enabled(dialog)
    dialog.passphrase.setText("x")
    assert _ok_enabled(dialog) and dialog.problem() is None


def test_a_new_vault_needs_the_policy_length_and_the_same_twice(qtbot: QtBot) -> None:
    dialog = PassphraseDialog("choose", confirm=True)
    qtbot.addWidget(dialog)
    dialog.passphrase.setText("x" * (passphrase_policy.MIN_LENGTH - 1))
    dialog.repeat.setText("x" * (passphrase_policy.MIN_LENGTH - 1))
    assert not _ok_enabled(dialog)
    assert dialog.problem() == passphrase_policy.creation_problem("x")
    dialog.passphrase.setText("x" * passphrase_policy.MIN_LENGTH)
    assert dialog.problem() == "The two passphrases differ." and not _ok_enabled(dialog)
    dialog.repeat.setText("x" * passphrase_policy.MIN_LENGTH)
    assert _ok_enabled(dialog)
