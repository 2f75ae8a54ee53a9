"""An MCP server built with the official Python SDK (`mcp` 2.3.0 MCPServer, Streamable HTTP),
for the bridge's forwarding tests: progress, logging, an elicitation (a server-to-client
request on the POST's event stream) and a notification on the session's GET stream.

Run: ``python tests/bridge/sdk_server.py PORT``. It checks no token (it sits behind the
FaultProxy, next to the mock server that signs the bridge in); what it offers is the SDK's
own behaviour, not ours.
"""

from __future__ import annotations

import asyncio
import sys

import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel

server = MCPServer("sdk-test-server")


class Name(BaseModel):
    name: str


@server.tool()
async def progress_echo(text: str, ctx: Context) -> str:
    """Reports progress three times and logs once before answering."""
    await ctx.info(f"working on {text}")
    for step in range(1, 4):
        await ctx.report_progress(step, 3, f"step {step}")
        await asyncio.sleep(0.05)
    return f"done: {text}"


@server.tool()
async def ask_name(ctx: Context) -> str:
    """Asks the client (elicitation) and answers with what it said."""
    answer = await ctx.elicit("What is your name?", schema=Name)
    if answer.action == "accept" and answer.data is not None:
        return f"hello {answer.data.name}"
    return f"no name ({answer.action})"


@server.tool()
async def announce(ctx: Context) -> str:
    """Sends notifications/tools/list_changed outside any request (the GET stream)."""
    await ctx.session.send_tool_list_changed()
    return "announced"


if __name__ == "__main__":
    uvicorn.run(server.streamable_http_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
