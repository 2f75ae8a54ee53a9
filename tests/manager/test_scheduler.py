"""Refresh timing math and the state-transition table."""

from __future__ import annotations

import random

import pytest

from mcp_auth_desktop.core.lifecycle import (
    ALLOWED_TRANSITIONS,
    IllegalTransitionError,
    can_transition,
    check_transition,
)
from mcp_auth_desktop.core.scheduler import (
    BACKOFF_CAP,
    MAX_JITTER,
    RETRY_AFTER_CAP,
    ClockJumpDetector,
    backoff_delay,
    refresh_due_at,
    refresh_margin,
)
from mcp_auth_desktop.core.state import ServerState as S


@pytest.mark.parametrize(
    ("lifetime", "margin"),
    [(3600, 360), (600, 60), (86400, 8640), (300, 60), (120, 60), (60, 30), (10, 5)],
)
def test_margin_is_larger_of_60s_and_10_percent_capped_at_half_life(lifetime, margin):
    assert refresh_margin(lifetime) == pytest.approx(margin)


def test_due_time_lies_between_margin_and_margin_plus_jitter():
    rng = random.Random(1)
    issued, lifetime = 1000.0, 3600.0
    dues = [refresh_due_at(issued, issued + lifetime, rng=rng) for _ in range(500)]
    latest = issued + lifetime - 360
    assert all(d is not None and latest - MAX_JITTER <= d <= latest for d in dues)
    # Jitter really spreads the refreshes out.
    assert max(dues) - min(dues) > 10  # type: ignore[operator]


def test_short_lifetime_refreshes_at_half_life_not_immediately():
    due = refresh_due_at(100.0, 110.0, rng=random.Random(3))
    assert due is not None and 100.0 < due <= 105.0


def test_unknown_expiry_means_no_scheduled_refresh():
    assert refresh_due_at(100.0, None) is None


def test_backoff_grows_then_caps():
    rng = random.Random(5)
    delays = [backoff_delay(n, rng=rng) for n in range(1, 15)]
    assert delays[0] <= 2.0
    assert delays[4] > delays[0]
    assert all(d <= BACKOFF_CAP for d in delays)
    assert delays[-1] >= BACKOFF_CAP / 2


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [(120.0, 120.0, 120.0), (1e9, RETRY_AFTER_CAP, RETRY_AFTER_CAP), (-5.0, 1.0, 2.0)],
)
def test_backoff_honours_retry_after_within_cap(retry_after, low, high):
    d = backoff_delay(1, retry_after=retry_after, rng=random.Random(0))
    assert low <= d <= high


def test_backoff_ignores_nan_retry_after():
    d = backoff_delay(1, retry_after=float("nan"), rng=random.Random(0))
    assert 1.0 <= d <= 2.0


def test_clock_jump_detector_sees_suspend_and_backwards_change():
    det = ClockJumpDetector(threshold=30)
    assert det.observe(1000, 10) is None
    assert det.observe(1010, 20) is None  # both moved 10 s
    assert det.observe(4610, 25) == pytest.approx(3595)  # slept an hour
    assert det.observe(4000, 30) == pytest.approx(-615)  # clock set back
    assert det.observe(4005, 35) is None


def test_every_arrow_of_the_state_diagram_is_allowed():
    drawn = [
        (S.NEW, S.DISCOVERING),
        (S.DISCOVERING, S.NEEDS_SIGN_IN),
        (S.DISCOVERING, S.ERROR),
        (S.NEEDS_SIGN_IN, S.SIGNING_IN),
        (S.SIGNING_IN, S.SIGNED_IN),
        (S.SIGNED_IN, S.REFRESHING),
        (S.REFRESHING, S.SIGNED_IN),
        (S.REFRESHING, S.SIGN_IN_NEEDED),
        (S.SIGN_IN_NEEDED, S.SIGNING_IN),
        (S.SIGNED_IN, S.REVOKED),
        (S.REVOKED, S.SIGNING_IN),
    ]
    for old, new in drawn:
        check_transition(old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (S.REVOKED, S.REFRESHING),
        (S.NEW, S.REFRESHING),
        (S.NEEDS_SIGN_IN, S.REFRESHING),
        (S.SIGN_IN_NEEDED, S.REFRESHING),
        (S.REFRESHING, S.SIGNING_IN),
        (S.REVOKED, S.SIGN_IN_NEEDED),
    ],
)
def test_impossible_transitions_fail_loudly(old, new):
    assert not can_transition(old, new)
    with pytest.raises(IllegalTransitionError):
        check_transition(old, new)


def test_table_covers_every_state():
    assert set(ALLOWED_TRANSITIONS) == set(S)
