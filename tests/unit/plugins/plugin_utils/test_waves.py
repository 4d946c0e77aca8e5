"""Restart waves (plugins/plugin_utils/_waves.py), from cases/waves.yml."""

import random

import pytest
from hotpatch_cases import load, params

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._waves import plan_waves

CASES = load("waves")


def plans_of(case):
    """Full plans from the short form host: [reboot, group]."""
    if "raw_plans" in case:
        return case["raw_plans"]
    plans = {}
    for host, short in case["plans"].items():
        plan = {
            "action": "baseline" if short[0] else "none",
            "reboot": short[0],
            "reasons": [],
            "install": {},
        }
        if len(short) > 1:
            plan["group"] = short[1]
        plans[host] = plan
    return plans


@pytest.mark.parametrize("case", params(CASES["cases"]))
def test_waves(case):
    plans = plans_of(case)
    result = plan_waves(plans, case["batch_size"], case.get("max_per_group"))
    assert result == case["expected"]


@pytest.mark.parametrize("case", params(CASES["cases"]))
def test_same_waves_for_any_input_order(case):
    plans = plans_of(case)
    expected = plan_waves(plans, case["batch_size"], case.get("max_per_group"))
    hosts = list(plans)
    for seed in range(5):
        random.Random(seed).shuffle(hosts)
        shuffled = {host: plans[host] for host in hosts}
        assert plan_waves(shuffled, case["batch_size"], case.get("max_per_group")) == expected


def test_caps_hold_on_a_large_fleet():
    rng = random.Random(7)
    plans = {
        f"host{index:03d}": {"reboot": rng.random() < 0.7, "group": rng.choice(["a", "b", "c", "d", None])}
        for index in range(300)
    }
    waves = plan_waves(plans, "10%", 3)
    placed = [host for wave in waves for host in wave]
    assert sorted(placed) == sorted(host for host, plan in plans.items() if plan["reboot"])
    assert len(placed) == len(set(placed))
    for wave in waves:
        assert 1 <= len(wave) <= 30
        for group in "abcd":
            assert sum(plans[host]["group"] == group for host in wave) <= 3


@pytest.mark.parametrize("case", params(CASES["errors"]))
def test_errors(case):
    with pytest.raises(HotpatchError) as info:
        plan_waves(plans_of(case), case["batch_size"], case.get("max_per_group"))
    for fragment in case["error"]:
        assert fragment in str(info.value)
