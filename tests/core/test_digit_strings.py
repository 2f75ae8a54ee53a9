"""Numeric header and field values: Unicode digits such as '¹' are not numbers.

``str.isdigit()`` is True for superscripts that ``int()`` rejects, so every
parser must insist on ASCII digits and answer junk with its normal result,
never a stray ValueError.
"""

from __future__ import annotations

import pytest

from mcp_auth_desktop.core import http, oauth


@pytest.mark.parametrize("value", ["¹", "²³", "٣", " ¹ ", "1¹"])
def test_expires_in_with_unicode_digits_is_unusable(value: str) -> None:
    assert oauth.clamp_expires_in(value) is None


@pytest.mark.parametrize("value", ["¹", "²³", "٣"])
def test_retry_after_with_unicode_digits_is_ignored(value: str) -> None:
    assert http.parse_retry_after(value) is None
