"""Fixtures for the mock server's own tests."""

from tests.mock.helpers import mock_app, mock_process

__all__ = ["mock_app", "mock_process"]
