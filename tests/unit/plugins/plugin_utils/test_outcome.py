"""The rollout's state machine (plugins/plugin_utils/_outcome.py), from cases/outcome.yml."""

import pytest
from hotpatch_cases import load, params

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._outcome import (
    ROUTES,
    STATUSES,
    admit,
    after_install,
    after_wave,
    booted_since,
    new_outcome,
    restart_decision,
    rollout_stop,
)

CASES = load("outcome")
HOST = "web01"


def status_of(short, now=None):
    """A baseline_info-shaped status (the fields the outcome reads), or a failed one."""
    short = dict(short or {})
    if short.get("failed"):
        return short
    return {
        "facts": {
            "now": now or "2026-02-12T02:00:00Z",
            "timezone": "UTC",
            "last_boot": "2026-02-09T03:00:00Z",
        },
        "current": {"build": "26100.32230"},
        "failed": False,
    }


def probe_of(short):
    """A registered baseline_info result: `pending` (counted signals), `ignored`, `build`, `last_boot`."""
    short = dict(short or {})
    for key in ("failed", "unreachable", "skipped"):
        if short.get(key):
            return short
    return {
        "facts": {
            "now": short.get("now", "2026-02-12T04:00:00Z"),
            "timezone": "UTC",
            "last_boot": short.get("last_boot", "2026-02-09T03:00:00Z"),
        },
        "current": {"build": short.get("build", "26100.32313")},
        "reboot_pending": {
            "required": bool(short.get("pending")),
            "reasons": list(short.get("pending", [])),
            "signals": list(short.get("pending", [])) + list(short.get("ignored", [])),
            "ignored": [{"signal": name, "detail": None, "why": "x"} for name in short.get("ignored", [])],
        },
    }


def install_of(short):
    """A registered win_updates result: `installed` KBs, `failed_updates`, `reboot_required`."""
    short = dict(short or {})
    for key in ("failed", "unreachable", "skipped"):
        if short.get(key):
            return short
    updates = {}
    for kb in short.get("installed", []):
        updates[f"id-{kb}"] = {"title": f"update {kb}", "kb": [kb[2:]], "installed": True}
    for kb in short.get("failed_updates", []):
        updates[f"id-{kb}"] = {
            "title": f"update {kb}",
            "kb": [kb[2:]],
            "installed": False,
            "failure_msg": "0x80240022",
        }
    return {
        "changed": bool(updates),
        "reboot_required": short.get("reboot_required", False),
        "updates": updates,
    }


def check(result, expected):
    for key, value in expected.items():
        if key == "message":
            for fragment in value:
                assert fragment in result["message"], (fragment, result["message"])
        elif key == "restart" and isinstance(value, dict):
            for field, wanted in value.items():
                assert result["restart"][field] == wanted, (field, result["restart"])
        elif key == "evidence":
            text = " | ".join(result["evidence"])
            for fragment in value:
                assert fragment in text
        else:
            assert result[key] == value, (key, result[key])


@pytest.mark.parametrize("case", params(CASES["start"]))
def test_start(case):
    status = status_of(case.get("status"), case.get("now"))
    result = new_outcome(HOST, status, case["plan"], case.get("window"), case.get("check_mode", False))
    assert result["route"] in ROUTES and result["status"] in STATUSES
    assert result["restarted"] is False
    check(result, case["expected"])


def _planned(plan):
    return new_outcome(HOST, status_of({}), plan)


@pytest.mark.parametrize("case", params(CASES["install"]))
def test_install(case):
    outcome = _planned(case["plan"])
    assert outcome["route"] == "install"
    result = after_install(
        outcome,
        HOST,
        case["plan"],
        install_of(case["install"]),
        probe_of(case["after"]),
        case.get("unexpected", "reboot"),
    )
    assert result["route"] in ROUTES and result["status"] in STATUSES
    assert result["restarted"] is False  # the install step never restarts
    check(result, case["expected"])


@pytest.mark.parametrize("case", params(CASES["decision"]))
def test_decision(case):
    outcome = dict(_planned({"action": "baseline", "reboot": True}), **case["outcome"])
    result = restart_decision(
        outcome, probe_of(case["now"]), case.get("last_install"), case.get("window"), HOST
    )
    assert isinstance(result["restart"], bool)
    if result["restart"]:
        assert result["evidence"], "a restart always names Windows' evidence"
    check(result, case["expected"])


@pytest.mark.parametrize("case", params(CASES["wave"]))
def test_wave(case):
    outcome = dict(_planned({"action": "baseline", "reboot": True}), route="wave")
    steps = {name: install_of(value) if name == "install" else value for name, value in case["steps"].items()}
    result = after_wave(
        outcome,
        HOST,
        2,
        case["decision"],
        steps,
        probe_of(case["after"]),
        case.get("health"),
        case.get("admission"),
        case.get("check_mode", False),
    )
    assert result["wave"] == 2
    if not (case["decision"] or {}).get("restart"):
        assert result["restarted"] is False, "no evidence, no restart"
    check(result, case["expected"])


@pytest.mark.parametrize("case", params(CASES["admit"]))
def test_admit(case):
    result = admit(case["wave"], case["rollout"])
    assert result["admitted"] == case["expected"]["admitted"]
    assert sorted(result["held"]) == sorted(case["expected"]["held"])
    for reason in result["held"].values():
        assert "held back" in reason


@pytest.mark.parametrize("case", params(CASES["stop"]))
def test_stop(case):
    outcomes = {host: {"status": status} for host, status in case["outcomes"].items()}
    result = rollout_stop(3, outcomes, case["percent"])
    assert result["stop"] is case["expected"]
    if result["stop"]:
        assert "wave 3" in result["message"] and "patch_max_fail_percentage" in result["message"]


@pytest.mark.parametrize("case", params(CASES["booted"]))
def test_booted(case):
    assert booted_since(case["before"], case["now"]) is case["expected"]


@pytest.mark.parametrize("case", params(CASES["errors"]))
def test_errors(case):
    with pytest.raises(HotpatchError) as info:
        if case["function"] == "stop":
            rollout_stop(1, {"a": {"status": "failed"}}, case["percent"])
        else:
            plan = {"action": "hotpatch", "reboot": False}
            after_install(_planned(plan), HOST, plan, install_of({}), probe_of({}), case["unexpected"])
    for fragment in case["error"]:
        assert fragment in str(info.value)
