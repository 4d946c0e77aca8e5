"""Maintenance windows (plugins/plugin_utils/_window.py), from cases/window.yml."""

from datetime import UTC, datetime, timedelta

import pytest
from hotpatch_cases import load, params

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._window import (
    DAYS,
    WINDOWS_ZONES,
    window_state,
)

CASES = load("window")


def call(case):
    return window_state(
        case["window"],
        case["now"],
        case.get("timezone"),
        assessed_at=case.get("assessed_at"),
        host=case.get("host"),
        controller_now=case.get("controller_now"),
    )


@pytest.mark.parametrize("case", params(CASES["cases"]))
def test_window(case):
    result = call(case)
    assert set(result) == {"open", "local", "timezone", "message"}
    for key, expected in case["expected"].items():
        assert result[key] == expected, key


@pytest.mark.parametrize("case", params(CASES["errors"]))
def test_errors(case):
    with pytest.raises(HotpatchError) as info:
        call(case)
    for fragment in case["error"]:
        assert fragment in str(info.value)


@pytest.mark.parametrize("windows_id", sorted(WINDOWS_ZONES))
def test_every_windows_zone_id_is_known(windows_id):
    result = window_state({"days": list(DAYS)}, "2026-02-12T02:00:00Z", windows_id, host="web01")
    assert result["open"] is True
    assert result["timezone"] == windows_id


def test_elapsed_time_uses_the_controller_clock_by_default():
    """Without controller_now, the time since the assessment is measured on the real clock."""
    assessed = datetime.now(UTC) - timedelta(hours=3)
    window = {"days": ["Thu"], "start": "01:00", "end": "05:00"}
    result = window_state(window, "2026-02-12T02:00:00Z", "UTC", assessed_at=assessed.isoformat())
    assert result["open"] is False
    assert result["local"] == "Thu 05:00 UTC"


def test_every_day_of_a_week():
    """Each day of a week, at noon, is open only in its own day's window."""
    monday = datetime(2026, 2, 9, 12, tzinfo=UTC)
    for offset, day in enumerate(DAYS):
        now = (monday + timedelta(days=offset)).isoformat()
        for other in DAYS:
            result = window_state({"days": [other]}, now, "UTC")
            assert result["open"] is (other == day), (day, other)
