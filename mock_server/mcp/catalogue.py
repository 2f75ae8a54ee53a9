"""The tool catalogue in listing order: demo tools first, then the conformance fixtures.
Fixed order, so tools/list is deterministic across requests."""

from __future__ import annotations

from mock_server import tools as demo
from mock_server.mcp import fixtures, fixtures_tasks
from mock_server.mcp.registry import CONFIRM_ACTION, REGIONAL_ECHO, McpTool, wrap_demo


def _demo_tools() -> list[McpTool]:
    # whoami first: it takes no arguments, so a client probing the first listed tool succeeds.
    order = ["whoami", "echo", "list_notes", "write_note", "share_note", "admin_stats"]
    return [*(wrap_demo(demo.TOOLS[name]) for name in order), REGIONAL_ECHO, CONFIRM_ACTION]


TOOLS: dict[str, McpTool] = {tool.name: tool for tool in (*_demo_tools(), *fixtures.TOOLS, *fixtures_tasks.TOOLS)}
