"""The rules of editing a server after adding it (core/server_edit.py), shared by the GUI and the CLI."""

from __future__ import annotations

import pytest

from mcp_auth_desktop.core.errors import ConfigurationError
from mcp_auth_desktop.core.models import ServerConfig, ServerOptions
from mcp_auth_desktop.core.server_edit import (
    ServerEdit,
    changes,
    check_edit,
    edited_config,
    outcome,
)
from mcp_auth_desktop.core.state import ServerState, ServerView

CONFIG = ServerConfig(id="s1", name="Notes", url="https://notes.example/mcp", scopes=("mcp:read",))


def _view(state: ServerState, **kw: object) -> ServerView:
    return ServerView(id="s1", name="Notes", url=CONFIG.url, state=state, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("edit", "words"), [
    (ServerEdit(scopes=('a"b',)), "Scopes: "),
    (ServerEdit(new_client_secret="x"), "needs a client id"),
    (ServerEdit(client_auth_method="none"), "enter its client id too"),
    (ServerEdit(client_id="c", client_auth_method="client_secret_basic"), "needs the client's secret"),
    (ServerEdit(client_auth_method="magic", client_id="c"), "is not one of"),
    (ServerEdit(options=ServerOptions(omit_resource=True, resource_override="https://r.example")),
     "not both"),
    (ServerEdit(options=ServerOptions(resource_override="https://r.example/#frag")), "fragment"),
    (ServerEdit(options=ServerOptions(callback_port=70000)), "Callback port: 70000"),
    (ServerEdit(options=ServerOptions(extra_authorize_params=(("code_challenge", "x"),))),
     "set by the app itself"),
    (ServerEdit(options=ServerOptions(client_metadata_url="http://cimd.example/c.json")), "https://"),
])
def test_unusable_input_is_refused_naming_the_field(edit: ServerEdit, words: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_edit(CONFIG, edit, has_secret=False)
    assert words in caught.value.user_message


def test_a_new_secret_never_reaches_a_repr() -> None:
    assert "s3cret-value" not in repr(ServerEdit(client_id="c", new_client_secret="s3cret-value"))


def test_a_stored_secret_is_kept_for_the_same_client_only() -> None:
    confidential = ServerConfig(id="s1", name="N", url=CONFIG.url, client_id="c",
                                client_auth_method="client_secret_basic")
    same = ServerEdit.of(confidential)
    check_edit(confidential, same, has_secret=True)  # kept: no need to type it again
    with pytest.raises(ConfigurationError):
        check_edit(confidential, ServerEdit(client_id="other", client_auth_method="client_secret_basic"),
                   has_secret=True)
    new = edited_config(confidential, ServerEdit(client_id="c2"), has_secret=True)
    assert new.client_auth_method == "none"  # the old secret belonged to the old client
    assert changes(confidential, new, secret_changed=True) == (
        "client id", "client authentication", "client secret")


def test_what_saving_means_depends_on_what_changed_and_the_sign_in() -> None:
    signed_in = _view(ServerState.SIGNED_IN)
    scopes = outcome(signed_in, ("scopes",))
    assert scopes.sign_in_again and "made with the old scopes: sign in again" in scopes.message
    port = outcome(signed_in, ("callback port",))
    assert not port.sign_in_again and port.message.endswith("Takes effect at the next sign-in.")
    never = outcome(_view(ServerState.NEEDS_SIGN_IN), ("scopes", "client id"))
    assert not never.sign_in_again and "Used when you sign in." in never.message
    net = outcome(signed_in, ("private network addresses",))
    assert not net.sign_in_again and "applies from now on" in net.message
    assert outcome(signed_in, ()).message == "Nothing changed for Notes."
