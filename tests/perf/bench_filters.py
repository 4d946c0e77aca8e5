"""Benchmark of the planning filters: host_plan over 10,000 hosts, waves over 10,000 hosts in 50 groups.

    python tests/perf/bench_filters.py [--hosts 10000] [--groups 50] [--repeat 3] [--target 1.0]

The hosts are the demo fleet's hosts (every eligibility verdict and plan action), repeated: their raw facts
and offered updates come from the lab's model of Windows (tests/lab, no WinRM here), their status from the
collection's own evaluation. Each figure is the best of --repeat runs. The filters are called as plain
Python (what Jinja calls) and once more through Ansible's templating engine, as the roles call them.
Targets are judged on the CPU seconds of this process (time.process_time), so that other work on a shared
machine does not count; wall seconds are printed beside them. Exit code 1 when a target fails.
"""

import argparse
import copy
import sys
import time

from _common import LAB_FLEETS, load_average, print_machine, use_installed_collection, verdict

# (batch_size, max_per_group): a tenth of the fleet with one host per group, a quarter with ten, fixed
# waves of 50, and one host at a time (serial rolling restarts).
WAVE_SETTINGS = [("10%", 1), ("25%", 10), (50, None), (1, None)]


def archetypes(fleet_path=LAB_FLEETS / "demo.yml") -> list:
    """[(status, updates)] of each host of a lab fleet: what baseline_info and win_updates would return."""
    from ansible_collections.hotpatch.windows.plugins.plugin_utils._baseline import evaluate_baseline
    from ansible_collections.hotpatch.windows.plugins.plugin_utils._eligibility import evaluate_eligibility
    from tests.lab.fleet import load_fleet
    from tests.lab.modules import _update_info
    from tests.lab.windows import LabClock, SimHost

    fleet = load_fleet(fleet_path)
    clock = LabClock(fleet["date"], time.time())
    result = []
    for spec in fleet["hosts"].values():
        if spec["faults"]:
            continue
        host = SimHost(spec, clock, lambda *args, **kwargs: None)
        facts = host.probe_facts()
        hostvars = spec["vars"]
        eligibility = evaluate_eligibility(
            facts,
            platform=hostvars.get("hotpatch_platform", "auto"),
            image=hostvars.get("hotpatch_image"),
            arc_license=hostvars.get("hotpatch_arc_license", "unknown"),
            vmss_orchestration=hostvars.get("hotpatch_vmss_orchestration"),
        )
        status = evaluate_baseline(facts, eligibility)
        updates = {update["id"]: _update_info(update) for update in host.offered_updates()}
        result.append((status, updates))
    if not result:
        raise SystemExit(f"bench: {fleet_path.name} has no host without faults")
    return result


SLOW = 3.0


def fleet_inputs(count: int, groups: int) -> list:
    """[(hostname, group, status, updates)] for `count` hosts; every one its own copy of the data."""
    kinds = archetypes()
    hosts = []
    for index in range(count):
        status, updates = kinds[index % len(kinds)]
        hosts.append(
            (f"host{index:05d}", f"group{index % groups:02d}", copy.deepcopy(status), copy.deepcopy(updates))
        )
    return hosts


def best_of(repeat: int, work) -> tuple:
    """(best CPU seconds, best wall seconds, last result) of `repeat` runs of work(); one run when the first
    takes more than SLOW CPU seconds (the figure is then clear, and repeating it only costs time)."""
    cpu, wall, result = None, None, None
    for _ in range(repeat):
        if cpu is not None and cpu > SLOW:
            break
        started, started_cpu = time.perf_counter(), time.process_time()
        result = work()
        elapsed_cpu, elapsed = time.process_time() - started_cpu, time.perf_counter() - started
        cpu = elapsed_cpu if cpu is None else min(cpu, elapsed_cpu)
        wall = elapsed if wall is None else min(wall, elapsed)
    return cpu, wall, result


def timing(cpu: float, wall: float, target: float) -> str:
    return f"{cpu:.3f} CPU s ({wall:.3f} s wall), target < {target:g} CPU s"


def templar(variables: dict):
    """A function that renders one trusted template with `variables`, as a role's task would."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    engine = Templar(loader=DataLoader(), variables=variables)
    return lambda text: engine.template(trust_as_template(text))


def run(count: int, groups: int, repeat: int, target: float) -> bool:
    from ansible_collections.hotpatch.windows.plugins.filter.host_plan import host_plan_filter
    from ansible_collections.hotpatch.windows.plugins.filter.waves import waves_filter

    print_machine()
    hosts = fleet_inputs(count, groups)
    policy = {"defer_non_security": True}
    print(f"inputs: {count} hosts, {groups} availability groups, best of {repeat}")
    results = []

    cpu, wall, plans = best_of(
        repeat,
        lambda: {
            name: dict(host_plan_filter(status, updates, policy), group=group)
            for name, group, status, updates in hosts
        },
    )
    actions = {}
    for plan in plans.values():
        actions[plan["action"]] = actions.get(plan["action"], 0) + 1
    restarting = sum(plan["reboot"] for plan in plans.values())
    print(f"host_plan  plans: {dict(sorted(actions.items()))}; {restarting} restart")
    results.append(
        verdict(
            f"host_plan over {count} hosts (Python)",
            cpu < target,
            f"{timing(cpu, wall, target)}; {cpu / count * 1e6:.1f} CPU us per host",
        )
    )

    everyone = {name: dict(plan, reboot=True, action="baseline") for name, plan in plans.items()}
    for label, fleet_plans in (("this month's plans", plans), ("every host restarts", everyone)):
        for batch_size, max_per_group in WAVE_SETTINGS:
            cpu, wall, waves = best_of(
                repeat, lambda p=fleet_plans, b=batch_size, m=max_per_group: waves_filter(p, b, m)
            )
            placed = sum(len(wave) for wave in waves)
            results.append(
                verdict(
                    f"waves({batch_size!r}, {max_per_group}) over {count} hosts, {label} (Python)",
                    cpu < target,
                    f"{timing(cpu, wall, target)}; {len(waves)} waves, {placed} hosts placed",
                )
            )

    render = templar({"plans": everyone, "status": hosts[0][2], "updates": hosts[0][3]})
    direct, _, _ = best_of(repeat, lambda: waves_filter(everyone, "10%", 1))
    cpu, wall, _ = best_of(repeat, lambda: render("{{ plans | hotpatch.windows.waves('10%', 1) | length }}"))
    print(
        f"info  waves('10%', 1) over {count} hosts, every host restarts, through Ansible's templating: "
        f"{cpu:.3f} CPU s ({wall:.3f} s wall); the filter's own Python is {direct:.3f} CPU s, the rest is "
        "Ansible's lazy variable containers handing the plans over (the patch role does this once per run)"
    )
    calls = min(count, 200)
    cpu, wall, _ = best_of(
        repeat,
        lambda: [
            render("{{ status | hotpatch.windows.host_plan(updates, {'defer_non_security': true}) }}")
            for _ in range(calls)
        ],
    )
    print(
        f"info  host_plan through Ansible's templating: {cpu / calls * 1e3:.2f} CPU ms per host "
        f"({calls} renders; the assess role renders it once per host, in that host's worker)"
    )
    print(f"load average after: {load_average()}")
    return all(results)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hosts", type=int, default=10000, help="hosts in the fleet (default 10000)")
    parser.add_argument("--groups", type=int, default=50, help="availability groups (default 50)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each figure; the best counts")
    parser.add_argument("--target", type=float, default=1.0, help="seconds each filter must stay under")
    args = parser.parse_args(argv)
    if args.hosts < 1 or args.groups < 1 or args.repeat < 1:
        parser.error("--hosts, --groups and --repeat must be at least 1")
    use_installed_collection()
    return 0 if run(args.hosts, args.groups, args.repeat, args.target) else 1


if __name__ == "__main__":
    sys.exit(main())
