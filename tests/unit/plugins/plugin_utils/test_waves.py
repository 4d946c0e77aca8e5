"""Restart waves (plugins/plugin_utils/_waves.py), from cases/waves.yml."""

import random

import pytest
from ansible.utils.helpers import pct_to_int
from hotpatch_cases import load, params

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._waves import (
    install_batch,
    place_waves,
    plan_waves,
    wave_size,
)

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


@pytest.mark.parametrize("case", params(CASES["down"]))
def test_waves_keep_room_for_hosts_already_down(case):
    waves, held = place_waves(plans_of(case), case["batch_size"], case.get("max_per_group"), case["down"])
    assert waves == case["expected"]
    assert sorted(held) == sorted(case["held"])
    cap, down_groups = case.get("max_per_group"), list(case["down"].values())
    plans = plans_of(case)
    for wave in waves:
        assert len(wave) + len(case["down"]) <= case["batch_size"]
        for group in {plans[host].get("group") for host in wave} - {None}:
            members = sum(plans[host].get("group") == group for host in wave) + down_groups.count(group)
            assert cap is None or members <= cap


@pytest.mark.parametrize("case", params(CASES["errors"]))
def test_errors(case):
    with pytest.raises(HotpatchError) as info:
        plan_waves(plans_of(case), case["batch_size"], case.get("max_per_group"))
    for fragment in case["error"]:
        assert fragment in str(info.value)


def first_fit(plans, size, cap):
    """Reference: each host (by name) into the earliest wave with room, scanning from the first wave."""
    waves = []
    for host in sorted(plans):
        plan = plans[host]
        if not plan["reboot"]:
            continue
        group = plan.get("group")
        for wave in waves:
            same_group = sum(1 for other in wave if group is not None and plans[other].get("group") == group)
            if len(wave) < size and (cap is None or group is None or same_group < cap):
                wave.append(host)
                break
        else:
            waves.append([host])
    return waves


@pytest.mark.parametrize("seed", range(40))
def test_linear_placement_equals_first_fit(seed):
    rng = random.Random(seed)
    groups = [f"g{index}" for index in range(rng.randint(1, 6))] + [None]
    plans = {
        f"h{index:03d}": {"reboot": rng.random() < 0.8, "group": rng.choice(groups)}
        for index in range(rng.randint(1, 120))
    }
    size = rng.randint(1, 12)
    cap = rng.choice([None, 1, 2, 3])
    assert plan_waves(plans, size, cap) == first_fit(plans, size, cap)


@pytest.mark.parametrize("case", params(CASES["install_batch"]))
def test_install_batch(case):
    assert install_batch(case["batch_size"], case["hosts"]) == case["expected"]


@pytest.mark.parametrize("case", params(CASES["install_batch"]))
def test_install_batch_serial_is_the_batch_ansible_runs(case):
    """The play's serial, read as Ansible reads it, is the batch the setting asks for (every host at most)."""
    result = install_batch(case["batch_size"], case["hosts"])
    hosts = max(case["hosts"], 1)
    assert pct_to_int(result["serial"], hosts) == min(wave_size(case["batch_size"], hosts), hosts)
    assert result["at_once"] == (pct_to_int(result["serial"], hosts) == hosts)


@pytest.mark.parametrize("case", params(CASES["install_batch_errors"]))
def test_install_batch_errors(case):
    with pytest.raises(HotpatchError) as info:
        install_batch(case["batch_size"], case["hosts"])
    for fragment in case["error"]:
        assert fragment in str(info.value)
