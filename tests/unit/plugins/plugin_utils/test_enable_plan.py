"""hotpatch.windows.enable's decisions (plugins/plugin_utils/_enable.py), from cases/enable.yml."""

import pytest
from hotpatch_cases import case_facts, load, params

from ansible_collections.hotpatch.windows.plugins.plugin_utils._baseline import evaluate_baseline
from ansible_collections.hotpatch.windows.plugins.plugin_utils._eligibility import evaluate_eligibility
from ansible_collections.hotpatch.windows.plugins.plugin_utils._enable import (
    boot_evidence,
    enable_finish,
    enable_outcome,
    enable_plan,
    verify_after_restart,
)
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._outcome import restart_decision

CASES = load("enable")
PLANS = {case["id"]: case for case in CASES["plan"]}
HOST = "web01"


def status_of(case):
    if case.get("failed"):
        return {"failed": True, "message": f"{HOST}: unreachable", "eligibility": None}
    facts = case_facts(case)
    eligibility = evaluate_eligibility(facts, **case.get("eligibility_args", {}))
    return evaluate_baseline(facts, eligibility, "2025-02-20")


def licence_of(short):
    """A registered ansible.builtin.uri result of the license profile."""
    if short is None:
        return None
    result = {"status": short["status"], "json": {}}
    if short["status"] in (200, 201):
        features = []
        if short.get("feature"):
            features = [{"name": "Hotpatch", "subscriptionStatus": short["feature"]}]
        result["json"] = {"properties": {"productProfile": {"productFeatures": features}}}
    elif short.get("code"):
        result["json"] = {"error": {"code": short["code"], "message": short.get("message", "")}}
    return result


def plan_of(name):
    case = PLANS[name]
    return enable_plan(status_of(case), case.get("settings"), licence_of(case.get("licence"))), case


@pytest.mark.parametrize("case", params(CASES["plan"]))
def test_plan(case):
    plan = enable_plan(status_of(case), case.get("settings"), licence_of(case.get("licence")))
    expected = case["expected"]
    for key in ("action", "reboot", "failed"):
        if key in expected:
            assert plan[key] == expected[key], key
    if "registry" in expected:
        assert [f"{item['name']}={item['data']}" for item in plan["registry"]] == expected["registry"]
        assert all(item["type"] == "dword" for item in plan["registry"])
    if "licence" in expected:
        assert (plan["licence"] or {}).get("method") == expected["licence"]
    if "refused" in expected:
        assert [item["code"] for item in plan["refused"]] == expected["refused"]
    if "cause" in expected:
        assert (plan["cause"] or {}).get("code") == expected["cause"]
    text = " | ".join(plan["reasons"])
    for fragment in expected.get("reasons", []):
        assert fragment in text
    if "licence_body" in case:
        assert plan["licence"]["body"] == case["licence_body"]
    if "licence_url" in case:
        assert plan["licence"]["url"] == "".join(case["licence_url"])
    # a plan never restarts without a registry change; the token is never in it
    assert plan["reboot"] is bool(plan["registry"])
    assert "bearer" not in str(plan).lower()


@pytest.mark.parametrize("case", params(CASES["plan_errors"]))
def test_plan_errors(case):
    with pytest.raises(HotpatchError) as info:
        enable_plan(status_of(case), case.get("settings"))
    for fragment in case["error"]:
        assert fragment in str(info.value)


def registry_of(results):
    registered = []
    for name, state in (results or {}).items():
        item = {"name": name}
        if state == "failed":
            registered.append({"item": item, "failed": True, "msg": "Access is denied"})
        else:
            registered.append({"item": item, "changed": state == "changed"})
    return {"results": registered}


@pytest.mark.parametrize("case", params(CASES["outcome"]))
def test_outcome(case):
    plan, plan_case = plan_of(case["plan_of"])
    status = status_of(plan_case)
    outcome = enable_outcome(
        HOST, status, plan, registry_of(case.get("registry")), case.get("check_mode", False)
    )
    expected = case["expected"]
    assert outcome["route"] == expected["route"]
    assert outcome["status"] == expected["status"]
    assert outcome["restart"]["needed"] is expected["restart_needed"]
    if "pending" in expected:
        assert [entry["what"] for entry in outcome["restart"]["pending"]] == expected["pending"]
        assert outcome["restart"]["boot"] == status["facts"]["last_boot"]
    for fragment in expected.get("message", []):
        assert fragment in outcome["message"]


def outcome_with(pending, boot):
    setting = {"vbs": "EnableVirtualizationBasedSecurity=1", "chpe": "HotPatchRestrictions=1"}
    return {
        "action": "enable",
        "restart": {
            "needed": True,
            "pending": [{"what": w, "setting": setting[w]} for w in pending],
            "boot": boot,
        },
    }


@pytest.mark.parametrize("case", params(CASES["evidence"]))
def test_evidence(case):
    outcome = outcome_with(case["pending"], case["boot"])
    now = {"facts": dict(case["now"])}
    evidence, message = boot_evidence(outcome, now)
    assert bool(evidence) is case["restart"]
    for fragment in case.get("message", []):
        assert fragment in message
    # the rollout's restart_decision gives an enable host exactly this evidence, never another signal's
    decision = restart_decision(outcome, dict(now, reboot_pending={"reasons": ["cbs"]}))
    assert decision["restart"] is case["restart"] and decision["evidence"] == evidence


@pytest.mark.parametrize("case", params(CASES["verify"]))
def test_verify(case):
    problems, done = verify_after_restart(outcome_with(case["pending"], "x"), {"facts": case["after"]})
    assert bool(problems) is bool(case["problems"])
    for fragment in case["problems"]:
        assert fragment in " | ".join(problems)
    for fragment in case["done"]:
        assert fragment in " | ".join(done)


@pytest.mark.parametrize("case", params(CASES["finish"]))
def test_finish(case):
    plan, _ = plan_of(case["plan_of"])
    status = {"facts": {"vbs_status": case["vbs_status"]}}
    result = enable_finish(
        dict(case["outcome"], action="enable"),
        HOST,
        case.get("rollout"),
        status,
        plan,
        licence_of(case.get("change")),
        licence_of(case.get("after")),
        case.get("check_mode", False),
    )
    expected = case["expected"]
    for key in ("route", "status", "licence"):
        if key in expected:
            assert result.get(key) == expected[key], key
    for fragment in expected.get("message", []):
        assert fragment in result["message"]
