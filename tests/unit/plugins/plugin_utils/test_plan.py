"""Host plans (plugins/plugin_utils/_plan.py), from cases/plan.yml."""

import copy
import re

import pytest
from hotpatch_cases import load, params

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._plan import host_plan

CASES = load("plan")
LIBRARY = CASES["library"]
ACTIONS = {"none", "hotpatch", "baseline", "reboot", "conventional"}


OS_BUILD = {"2025": 26100, "2022": 20348}


def status_of(short):
    """A baseline_info-shaped status from a case's short form."""
    if not isinstance(short, dict):
        return short
    pending = short.get("pending", [])
    signals = short.get("signals", [])
    cycle = short["cycle"]
    if cycle is not None:
        cycle = {"unplanned": False, "kb": None, "build": None, "published": True} | cycle
    os = str(short.get("os", "2025"))
    return {
        "facts": {"os": {"build": OS_BUILD[os]}, "hotfixes": short.get("hotfixes", [])},
        "eligibility": {
            "eligible": short.get("eligible", True),
            "platform": "azure",
            "reasons": [
                {"code": "facts_incomplete", "message": text} for text in short.get("incomplete", [])
            ],
            "warnings": [],
        },
        "orchestration": short.get("orchestration", {}),
        "cycle": cycle,
        "release_line": short.get("release_line", "hotpatch"),
        "current": {"build": None, "kb": None, "month": None},
        "baseline": {"build": None, "kb": None, "month": None},
        "on_current_baseline": short["on_current_baseline"],
        "up_to_date": short["up_to_date"],
        "reboot_pending": {
            "required": bool(pending),
            "reasons": list(pending),
            "signals": list(pending) + list(signals),
            "ignored": [{"signal": signal, "detail": None, "why": "x"} for signal in signals],
        },
        "catalog": {
            "programme": short.get("programme", "active"),
            "note": "the programme ended after 2027-10" if short.get("programme") == "ended" else None,
        },
    }


def updates_of(case):
    """win_updates' `updates` (a mapping by update id) for the library names of a case, or None."""
    if "raw_updates" in case:
        return case["raw_updates"]
    names = case.get("updates")
    if names is None or names == {}:
        return names
    found = {f"id-{name}": copy.deepcopy(LIBRARY[name]) for name in names}
    if case.get("searched"):
        return {"changed": False, "found_update_count": len(found), "updates": found, "filtered_updates": {}}
    return found


def installed_by(install, updates):
    """The updates win_updates installs for an install block: its category, accept and reject rules.

    ansible.windows.win_updates (plugins/modules/win_updates.ps1) matches category names exactly
    (case-insensitive, '*' = all) and each accept/reject entry as a case-insensitive regular expression
    against the title and every KB as 'KB<number>' (Format-UpdateInfo: "KB$_").
    """
    chosen = []
    for name, update in updates.items():
        texts = [update["title"], *(f"KB{kb}" for kb in update["kb"])]
        categories = {category.lower() for category in update["categories"]}
        wanted = {category.lower() for category in install["category_names"]}
        if "*" not in wanted and not categories & wanted:
            continue
        if install["accept_list"] and not any(
            re.search(pattern, text, re.IGNORECASE) for pattern in install["accept_list"] for text in texts
        ):
            continue
        if any(
            re.search(pattern, text, re.IGNORECASE) for pattern in install["reject_list"] for text in texts
        ):
            continue
        chosen.append(name.removeprefix("id-"))
    return sorted(chosen)


@pytest.mark.parametrize("case", params(CASES["cases"]))
def test_plan(case):
    updates = updates_of(case)
    result = host_plan(status_of(case["status"]), updates, case.get("policy"))
    expected = case["expected"]
    assert set(result) >= {"action", "reboot", "reasons", "install", "updates", "deferred", "cause", "failed"}
    assert result["action"] in ACTIONS
    assert result["action"] == expected["action"]
    assert result["reboot"] is expected["reboot"]
    assert result["reasons"]
    assert all(isinstance(reason, str) and reason for reason in result["reasons"])
    text = " | ".join(result["reasons"])
    for fragment in expected.get("reasons", []):
        assert fragment in text
    assert set(result["install"]) == {"category_names", "accept_list", "reject_list"}
    if result["action"] == "none":
        assert result["install"] == {"category_names": [], "accept_list": [], "reject_list": []}
    if "installs" in expected:
        offered = updates["updates"] if case.get("searched") else updates
        assert installed_by(result["install"], offered or {}) == sorted(expected["installs"])
    if "offered" in case:
        offered = {f"id-{name}": LIBRARY[name] for name in case["offered"]}
        assert installed_by(result["install"], offered) == sorted(case["expected_installs_unsearched"])
    if "cause" in expected:
        assert (result["cause"] or {}).get("code") == expected["cause"]
    if "failed" in expected:
        assert result["failed"] is expected["failed"]
    if "deferred" in expected:
        titles = sorted(item["title"] for item in result["deferred"])
        assert titles == sorted(LIBRARY[name]["title"] for name in expected["deferred"])
    # every offered update is decided, and every security update not installed is in `deferred`
    for update in result["updates"]:
        assert update["decision"] in ("install", "defer", "skip", "reject")
        assert update["reason"]
        if update["security"] and update["decision"] != "install" and not update["covered_by"]:
            assert update["title"] in {item["title"] for item in result["deferred"]}


def test_whole_win_updates_result_and_list_are_accepted():
    status = status_of(CASES["cases"][8]["status"])
    as_dict = {"id-hotpatch": LIBRARY["hotpatch"], "id-dotnet": LIBRARY["dotnet"]}
    registered = {"changed": False, "found_update_count": 2, "updates": as_dict, "filtered_updates": {}}
    expected = host_plan(status, as_dict)
    assert host_plan(status, registered) == expected
    assert host_plan(status, list(as_dict.values())) == expected


def test_plan_is_the_same_for_any_update_order():
    status = status_of(CASES["cases"][8]["status"])
    names = ["hotpatch", "lcu", "dotnet", "driver", "defender"]
    forward = host_plan(status, {name: LIBRARY[name] for name in names})
    backward = host_plan(status, {name: LIBRARY[name] for name in reversed(names)})
    assert forward == backward


@pytest.mark.parametrize("case", params(CASES["errors"]))
def test_errors(case):
    status = case["status"] if case.get("raw_status") else status_of(case["status"])
    with pytest.raises(HotpatchError) as info:
        host_plan(status, updates_of(case), case.get("policy"))
    for fragment in case["error"]:
        assert fragment in str(info.value)
