"""MCP Auth Desktop mock server: a Streamable HTTP MCP resource server plus an OAuth 2.1 AS.

In-process use::

    from mock_server import MockConfig, create_app
    app = create_app(MockConfig(base_url="http://127.0.0.1:8000", auto_approve=True))
    state = app.state.mock          # MockState: knobs, stats, store, clock, mint_access_token()

See docs/MOCK_SERVER.md for flags, knobs, demo tools and scopes.
"""

from mock_server.app import create_app
from mock_server.clock import ManualClock, SystemClock
from mock_server.config import Knobs, MockConfig
from mock_server.state import MockState

__all__ = ["Knobs", "ManualClock", "MockConfig", "MockState", "SystemClock", "create_app"]
