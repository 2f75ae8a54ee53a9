"""The options of `mcp-auth` itself mean the same before the command and after it, for every
command in the table (generated from it: a new command is covered by itself); a command that
does not take one refuses it in words, and "did you mean" never offers back what was typed.

Parsing is checked in-process for every command x option x position (what `main` runs); the
reported line (`mcp-auth --json edit X`) and a refusal also as real processes."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from mcp_auth_desktop.cli.commands import COMMANDS
from mcp_auth_desktop.cli.main import build_parser, parse_args
from mcp_auth_desktop.cli.parser import GLOBAL_OPTIONS, command_parsers
from tests.cli.helpers import ROOT, cli_env, run_cli

PARSERS = command_parsers(build_parser())
#: Every option of `mcp-auth` itself, but help.
TOP_OPTIONS = sorted(o for o in build_parser()._option_string_actions if o not in ("-h", "--help"))


def _sample(name: str) -> list[str]:
    """The command with a value for each positional it requires (the first of its choices)."""
    words = [name]
    for action in PARSERS[name]._get_positional_actions():
        if action.nargs is None:
            words.append(str(next(iter(action.choices))) if action.choices else "x")
    return words


def _takes(name: str, option: str) -> bool:
    return option in PARSERS[name]._option_string_actions


def _positions(name: str, option: str) -> dict[str, list[str]]:
    """The option before the command, just after its name, and at the end."""
    cmd, *rest = _sample(name)
    return {"before": [option, cmd, *rest], "after the name": [cmd, option, *rest],
            "at the end": [cmd, *rest, option]}


def _refusal(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        parse_args(argv)
    assert info.value.code == 2, argv
    return capsys.readouterr().err


def test_the_table_and_the_parser_agree() -> None:
    assert [c.name for c in COMMANDS] == list(PARSERS)
    assert set(GLOBAL_OPTIONS) <= set(TOP_OPTIONS)
    # Every command takes -v; --json is refused by the commands whose stdout is not theirs
    # to format (the bridge's is the MCP protocol, setup-client's a config file's diff).
    assert all(_takes(c.name, "-v") and _takes(c.name, "--verbose") for c in COMMANDS)
    assert [c.name for c in COMMANDS if not _takes(c.name, "--json")] == ["bridge", "setup-client"]


@pytest.mark.parametrize("option", GLOBAL_OPTIONS)
@pytest.mark.parametrize("name", list(PARSERS))
def test_a_global_option_means_the_same_before_and_after_the_command(
        name: str, option: str, capsys: pytest.CaptureFixture[str]) -> None:
    positions = _positions(name, option)
    dest = PARSERS[name]._option_string_actions[option].dest if _takes(name, option) else None
    if dest is not None:
        parsed = {where: parse_args(argv) for where, argv in positions.items()}
        without = parse_args(_sample(name))
        assert getattr(without, dest) is False
        assert getattr(parsed["before"], dest) is True
        assert parsed["before"] == parsed["after the name"] == parsed["at the end"], parsed
        assert vars(parsed["before"]).keys() == vars(without).keys()
        return
    for where, argv in positions.items():
        err = _refusal(argv, capsys)
        assert f"mcp-auth {name}: error: unrecognized arguments: {option}" in err, (where, err)
        assert f"{option} is not an option of {name} (it is one of " in err, (where, err)
        assert f"did you mean {option}" not in err, (where, err)


def test_a_conflict_is_the_same_before_and_after_the_command(
        capsys: pytest.CaptureFixture[str]) -> None:
    """`token --json` excludes `--format`: so does `mcp-auth --json token` (every command whose
    --json is in a mutually exclusive group)."""
    checked = []
    for name, parser in PARSERS.items():
        for group in parser._mutually_exclusive_groups:
            if not any("--json" in a.option_strings for a in group._group_actions):
                continue
            for other in (a for a in group._group_actions if "--json" not in a.option_strings):
                # A value other than the default: argparse does not count the default as given.
                value = ([next(str(c) for c in other.choices if c != other.default)]
                         if other.choices else [])
                cmd, *rest = _sample(name)
                flag = other.option_strings[0]
                errors = [_refusal(argv, capsys).splitlines()[-1] for argv in (
                    ["--json", cmd, *rest, flag, *value],
                    [cmd, "--json", *rest, flag, *value],
                    [cmd, *rest, flag, *value, "--json"])]
                assert errors[0] == errors[1], errors  # the words of --json just after the name
                for err in errors:
                    assert "not allowed with argument" in err and "--json" in err and flag in err
                checked.append((name, flag))
    assert ("token", "--format") in checked


@pytest.mark.parametrize("option", [o for o in TOP_OPTIONS if o not in GLOBAL_OPTIONS])
@pytest.mark.parametrize("name", list(PARSERS))
def test_an_option_of_mcp_auth_alone_after_a_command_is_sent_before_it(
        name: str, option: str, capsys: pytest.CaptureFixture[str]) -> None:
    err = _refusal([*_sample(name), option], capsys)
    assert f"{option} is an option of mcp-auth itself: it goes before the command (mcp-auth {option})" in err
    assert f"did you mean {option}" not in err


def test_an_option_typed_for_the_wrong_command_is_never_suggested_back(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Each option of each command, typed with every command that lacks it."""
    checked = 0
    for name in PARSERS:
        for other, parser in PARSERS.items():
            for option in parser._option_string_actions:
                if _takes(name, option) or not option.startswith("--"):
                    continue
                action = parser._option_string_actions[option]
                value = [] if action.nargs == 0 else ["1"]
                err = _refusal([*_sample(name), option, *value], capsys)
                assert f"did you mean {option}?" not in err, (name, option, err)
                assert f"{option} is not an option of {name} (it is one of " in err
                assert other in err.splitlines()[-1] or " more);" in err
                checked += 1
    assert checked > 100


def test_a_typo_is_still_corrected_on_either_side(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--jsn", "list"], ["list", "--jsn"]):
        assert "mcp-auth list: --jsn: did you mean --json?" in _refusal(argv, capsys)
    assert "did you mean --name?" in _refusal(["add", "https://x.example/mcp", "--nme", "n"], capsys)


def test_did_you_mean_never_returns_the_word_itself() -> None:
    from mcp_auth_desktop.cli.option_checks import did_you_mean, suggest_for_parser_error

    assert did_you_mean("--json", ["--json", "--jsonl"]) == "--jsonl"
    assert did_you_mean("--json", ["--json"]) is None
    assert did_you_mean("Notes", ["notes"]) == "notes"  # another spelling is a suggestion
    assert suggest_for_parser_error("unrecognized arguments: --json", {"--json"}) is None


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=cli_env("global options test"), stdin=subprocess.DEVNULL)


def test_json_before_edit_edits_and_prints_json_as_after_it() -> None:
    """The reported line, as a real process: `mcp-auth --json edit X` said
    "--json: did you mean --json?" and changed nothing."""
    assert _cli("add", "https://mcp.example.com/mcp", "--name", "X", "--no-discover").returncode == 0
    before = _cli("--json", "edit", "X", "--scope", "read")
    assert before.returncode == 0, before.stderr
    after = _cli("edit", "X", "--scope", "read", "--json")
    assert after.returncode == 0, after.stderr
    first, second = json.loads(before.stdout), json.loads(after.stdout)
    assert first["scopes"] == second["scopes"] == ["read"]
    assert first["changed"] is True and second["changed"] is False  # the first one saved it
    listed = [json.loads(_cli(*argv).stdout) for argv in (["-v", "--json", "list"], ["list", "--json", "-v"])]
    assert listed[0] == listed[1] and [s["name"] for s in listed[0]["servers"]] == ["X"]


def test_json_before_a_command_without_json_is_refused_in_words() -> None:
    out = _cli("--json", "setup-client", "claude-code", "X")
    assert out.returncode == 2
    last = out.stderr.splitlines()[-1]
    assert last.startswith("mcp-auth setup-client: --json is not an option of setup-client"), out.stderr
    assert "did you mean" not in out.stderr and out.stdout == ""


def test_the_docs_say_where_global_options_go_and_who_refuses_json() -> None:
    doc = (ROOT / "docs" / "CLI.md").read_text()
    assert "mcp-auth [-v] [--json] COMMAND" in doc
    item = doc[doc.index("\n- `--json`"):]
    line = item[:item.index("\n\n")]  # the list item, over its lines
    for name in PARSERS:
        assert (f"`{name}`" in line) is (not _takes(name, "--json")), (name, line)
    synopsis = doc[doc.index("```\nmcp-auth"):]
    synopsis = synopsis[:synopsis.index("```", 4)]
    for name in PARSERS:
        assert re.search(rf"^mcp-auth {re.escape(name)} ", synopsis, re.M), f"{name} has no synopsis"
