"""What an assessment leaves (plugins/plugin_utils/_assess.py), from cases/assess.yml."""

import pytest
from hotpatch_cases import load, params

from ansible_collections.hotpatch.windows.plugins.plugin_utils._assess import (
    assess_groups,
    assessed_status,
    failed_plan,
)

CASES = load("assess")
SHAPE = {
    "facts",
    "eligibility",
    "cycle",
    "release_line",
    "current",
    "baseline",
    "on_current_baseline",
    "up_to_date",
    "reboot_pending",
    "failed",
    "message",
    "cause",
}


def probe_of(short):
    if short.get("ok"):
        return {
            "changed": False,
            "facts": {"now": "2026-02-12T02:00:00Z"},
            "eligibility": {"eligible": True},
            "cycle": {"month": "2026-02"},
            "release_line": "hotpatch",
            "current": {"build": "26100.32313", "kb": "KB5075942", "month": "2026-02"},
            "baseline": {"build": None, "kb": None, "month": None},
            "on_current_baseline": True,
            "up_to_date": True,
            "reboot_pending": {"required": False, "reasons": [], "signals": [], "ignored": []},
            "invocation": {"module_args": {}},
        }
    return short


@pytest.mark.parametrize("case", params(CASES["status"]))
def test_status_keeps_one_shape(case):
    status = assessed_status(probe_of(case["probe"]), "web01", case.get("problems"), case.get("search"))
    assert set(status) >= SHAPE
    assert "invocation" not in status and "changed" not in status
    expected = case["expected"]
    assert status["failed"] is expected["failed"]
    if "unreachable" in expected:
        assert status["unreachable"] is expected["unreachable"]
    assert (status["cause"] or {}).get("code") == expected["cause"]
    for fragment in expected.get("message", []):
        assert fragment in status["message"]
    if status["failed"]:
        plan = failed_plan(status)
        assert plan["action"] == "none" and plan["reboot"] is False and plan["failed"] is True
        assert plan["cause"] == status["cause"]
        assert assess_groups(plan, status) == ["hotpatch_failed"]


@pytest.mark.parametrize("case", params(CASES["groups"]))
def test_groups(case):
    status = {"failed": case.get("failed", False), "eligibility": {"eligible": case.get("eligible", True)}}
    assert assess_groups(case["plan"], status) == case["expected"]


def test_status_keeps_the_probe_warnings_ansible_takes_off_the_result():
    """A registered result loses its top-level warnings (Ansible shows them); the fact keeps them."""
    warning = "Automatic Updates install updates on a schedule (every day at 03:00) ... (AUOptions=4)"
    probe = dict(probe_of({"ok": True}), ansible_facts={"hotpatch": {"warnings": [warning]}})
    assert assessed_status(probe, "web01")["warnings"] == [warning]
    assert assessed_status(probe_of({"ok": True}), "web01")["warnings"] == []
