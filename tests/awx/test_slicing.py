"""AWX job slicing, simulated on the lab: slice i of N runs the hosts sorted(hosts)[i::N] (here through
ansible-runner's limit), all slices at once, as AWX schedules them.

- The plan is per host: the union of the slices' plans and dynamic groups equals one unsliced run, and the
  fleet report that extensions/awx/merge_reports.yml merges from the slices equals the unsliced report.
- The restart caps (patch_batch_size, patch_max_per_group) hold inside each slice, on the lab's ledger; the
  slices install and restart exactly what one unsliced run does. Across AWX slices running at the same time
  a group can have up to N x patch_max_per_group hosts down, so the patch template is not sliced by AWX.
- hotpatch_slice=i/N instead (N jobs at once, each with the whole inventory, as N nodes of a workflow): each
  availability group falls whole into one slice, so patch_max_per_group holds across the whole fleet on the
  lab's ledger, and the N jobs together install and restart what one run does (docs/awx.md).

Fleets: the plan comparison runs on tests/lab/fleets/demo.yml and on every fleet file listed in the
environment variable HOTPATCH_AWX_FLEETS (paths separated by the OS path separator: fleets held back from
the repository); the restart comparison on tests/awx/fleets/slicing.yml (all hosts restart).
"""

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.awx.jobs import launch_vars, localhost_inventory, run_job, slice_hosts
from tests.lab import Lab

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SLICES = 3
GROUPS = {
    host: (spec.get("vars") or {}).get("hotpatch_availability_group")
    for host, spec in yaml.safe_load((HERE / "fleets" / "slicing.yml").read_text())["hosts"].items()
}


def _fleets() -> list[Path]:
    fleets = [REPO / "tests" / "lab" / "fleets" / "demo.yml"]
    extra = os.environ.get("HOTPATCH_AWX_FLEETS", "")
    fleets += [Path(p).resolve() for p in extra.split(os.pathsep) if p.strip()]
    return fleets


def _hosts(inventory: Path) -> list[str]:
    data = yaml.safe_load(inventory.read_text())
    return sorted(data["all"]["children"]["windows"]["hosts"])


def _merged(jobs, fact: str) -> dict:
    """{host: value} of a fact over all slices; a host may appear in one slice only."""
    result = {}
    for job in jobs:
        for host, value in job.facts(fact).items():
            assert host not in result, f"{host} is in two slices"
            result[host] = value
    return result


def _merged_groups(jobs) -> dict:
    result = {}
    for job in jobs:
        for group, hosts in job.dynamic_groups().items():
            result.setdefault(group, set()).update(hosts)
    return result


def _merge_reports(work, root: Path, upstream_failed=False):
    extra = {"hotpatch_awx_report_root": str(root)}
    if upstream_failed:
        extra["hotpatch_awx_upstream_failed"] = True
    job = run_job(
        work,
        "extensions/awx/merge_reports.yml",
        work / "localhost.yml",
        extra,
        template_name="Hotpatch - fleet report",
    )
    return job


def _report(root: Path) -> dict:
    return json.loads((root / "latest" / "fleet.json").read_text())


def _comparable(record: dict) -> dict:
    keys = (
        "host",
        "plan",
        "action",
        "group",
        "eligible",
        "reasons",
        "platform",
        "cycle",
        "current",
        "status",
    )
    return {key: record.get(key) for key in keys}


@pytest.fixture
def work(tmp_path):
    localhost_inventory(tmp_path)
    return tmp_path


@pytest.mark.parametrize("fleet", _fleets(), ids=lambda p: p.stem)
def test_sliced_assess_plans_like_one_run(fleet, work):
    with Lab(fleet, work / "lab") as lab:
        hosts = _hosts(lab.inventory)
        count = min(SLICES, len(hosts))
        root = work / "reports"
        answers = {"hotpatch_awx_report_root": str(root / "sliced")}
        extra = launch_vars("Hotpatch - assess", answers)
        whole_extra = launch_vars("Hotpatch - assess", {"hotpatch_awx_report_root": str(root / "whole")})
        with ThreadPoolExecutor(max_workers=count + 1) as pool:
            futures = [
                pool.submit(run_job, work, "playbooks/assess.yml", lab.inventory, extra, ",".join(part))
                for part in (slice_hosts(hosts, count, n) for n in range(1, count + 1))
            ]
            whole = pool.submit(run_job, work, "playbooks/assess.yml", lab.inventory, whole_extra).result()
            slices = [f.result() for f in futures]

    for job in [*slices, whole]:
        assert job.status == "successful", job.stdout()[-3000:]
    # Each slice saw only its hosts, and every host was in exactly one slice.
    seen = [set(job.host_summary) for job in slices]
    assert set().union(*seen) == set(hosts) == set(whole.host_summary)
    assert sum(len(s) for s in seen) == len(hosts)

    # The plans and the dynamic groups: the union of the slices is the unsliced run.
    assert _merged(slices, "hotpatch_plan") == whole.facts("hotpatch_plan")
    assert set(whole.facts("hotpatch_plan")) == set(hosts)
    assert _merged_groups(slices) == whole.dynamic_groups()

    # Each slice publishes its own summary; AWX merges artifacts key by key, so one slice's hotpatch_report
    # hides the others': the fleet-wide number needs the merge node.
    sizes = [job.artifacts["hotpatch_report"]["host_count"] for job in slices]
    assert sizes == [len(s) for s in seen]
    assert whole.artifacts["hotpatch_report"]["host_count"] == len(hosts)

    # The workflow's fleet report node merges the slices' reports into the unsliced report.
    merge = _merge_reports(work, root / "sliced")
    assert merge.status == "successful", merge.stdout()[-3000:]
    merged = merge.artifacts["hotpatch_report"]
    own = _report(next((root / "whole").glob("job-*")))
    assert merged["host_count"] == own["host_count"] == len(hosts)
    assert merged["by_action"] == own["by_action"]
    fleet_json = _report(root / "sliced")
    assert [_comparable(r) for r in fleet_json["hosts"]] == [_comparable(r) for r in own["hosts"]]


def _peaks(events, hosts) -> tuple[int, dict]:
    """The most hosts of `hosts` down at once, overall and per availability group (from ledger events)."""
    down, peak, group_down, group_peak = set(), 0, {}, {}
    for entry in events:
        host, group = entry["host"], entry.get("group")
        if host not in hosts or entry["event"] not in ("restart_down", "restart_up"):
            continue
        (down.add if entry["event"] == "restart_down" else down.discard)(host)
        if group is not None:
            members = group_down.setdefault(group, set())
            (members.add if entry["event"] == "restart_down" else members.discard)(host)
            group_peak[group] = max(group_peak.get(group, 0), len(members))
        peak = max(peak, len(down))
    return peak, group_peak


def test_sliced_patch_keeps_the_caps_inside_each_slice(work):
    fleet = HERE / "fleets" / "slicing.yml"
    batch, cap = 2, 1
    answers = {"patch_batch_size": str(batch), "patch_max_per_group": cap}
    with (
        Lab(fleet, work / "lab-sliced") as sliced_lab,
        Lab(fleet, work / "lab-whole") as whole_lab,
        Lab(fleet, work / "lab-groups") as groups_lab,
    ):
        hosts = _hosts(sliced_lab.inventory)
        extra = launch_vars(
            "Hotpatch - patch", dict(answers, hotpatch_awx_report_root=str(work / "r-sliced"))
        )
        whole_extra = launch_vars(
            "Hotpatch - patch", dict(answers, hotpatch_awx_report_root=str(work / "r-whole"))
        )
        with ThreadPoolExecutor(max_workers=2 * SLICES + 1) as pool:
            futures = [
                pool.submit(run_job, work, "playbooks/patch.yml", sliced_lab.inventory, extra, ",".join(part))
                for part in (slice_hosts(hosts, SLICES, n) for n in range(1, SLICES + 1))
            ]
            group_futures = [
                pool.submit(
                    run_job,
                    work,
                    "playbooks/patch.yml",
                    groups_lab.inventory,
                    launch_vars(
                        "Hotpatch - patch",
                        dict(answers, hotpatch_awx_report_root=str(work / "r-groups")),
                    )
                    | {"hotpatch_slice": f"{n}/{SLICES}"},
                )
                for n in range(1, SLICES + 1)
            ]
            whole = pool.submit(
                run_job, work, "playbooks/patch.yml", whole_lab.inventory, whole_extra
            ).result()
            slices = [f.result() for f in futures]
            group_slices = [f.result() for f in group_futures]
        sliced_ledger, whole_ledger = sliced_lab.ledger(), whole_lab.ledger()
        groups_ledger = groups_lab.ledger()

    for job in [*slices, *group_slices, whole]:
        assert job.status == "successful", job.stdout()[-3000:]
    assert _merged(slices, "hotpatch_plan") == whole.facts("hotpatch_plan")
    restarting = {h for h, plan in whole.facts("hotpatch_plan").items() if plan["reboot"]}
    assert len(restarting) >= 2 * SLICES, "the fleet must make every slice restart more than one host"

    # Inside each slice: never more than patch_batch_size hosts, nor patch_max_per_group of a group, down.
    for number in range(1, SLICES + 1):
        part = set(slice_hosts(hosts, SLICES, number))
        peak, group_peak = _peaks(sliced_ledger.events, part)
        assert 1 <= peak <= batch, f"slice {number}: {peak} hosts down at once"
        assert all(n <= cap for n in group_peak.values()), f"slice {number}: {group_peak}"
    assert whole_ledger.max_down() <= batch
    assert all(n <= cap for n in whole_ledger.max_down_per_group().values())
    # Across slices running at once the caps add up: at most N times each.
    assert sliced_ledger.max_down() <= SLICES * batch
    assert all(n <= SLICES * cap for n in sliced_ledger.max_down_per_group().values())

    # The same work: the same updates installed and the same hosts restarted once.
    assert {h: sorted(k) for h, k in sliced_ledger.installs().items()} == {
        h: sorted(k) for h, k in whole_ledger.installs().items()
    }
    assert sliced_ledger.restarts() == whole_ledger.restarts() == dict.fromkeys(restarting, 1)
    outcome = {
        h: (o["status"], o["restarted"], sorted(o["installed"]))
        for h, o in whole.facts("hotpatch_outcome").items()
    }
    sliced_outcome = {
        h: (o["status"], o["restarted"], sorted(o["installed"]))
        for h, o in _merged(slices, "hotpatch_outcome").items()
    }
    assert sliced_outcome == outcome

    # The merged fleet report counts what the unsliced report counts.
    merge = _merge_reports(work, work / "r-sliced")
    assert merge.status == "successful", merge.stdout()[-3000:]
    merged, own = merge.artifacts["hotpatch_report"], whole.artifacts["hotpatch_report"]
    for key in ("host_count", "by_action", "by_status", "restarts", "restarts_planned", "reboot_avoided"):
        assert merged[key] == own[key], key

    # hotpatch_slice: every group whole in one slice, so the group cap holds across the fleet.
    assert _merged(group_slices, "hotpatch_plan") == whole.facts("hotpatch_plan")
    assert all(job.facts("hotpatch_plan") for job in group_slices), "a slice got no host"
    for group in {g for g in GROUPS.values() if g}:
        assert len(_group_slices(group_slices, group)) == 1, f"group {group} is split over slices"
    group_peak = groups_ledger.max_down_per_group()
    assert group_peak and all(n <= cap for n in group_peak.values()), group_peak
    assert groups_ledger.max_down() <= SLICES * batch
    assert {h: sorted(k) for h, k in groups_ledger.installs().items()} == {
        h: sorted(k) for h, k in whole_ledger.installs().items()
    }
    assert groups_ledger.restarts() == dict.fromkeys(restarting, 1)


def _slice_groups(job) -> list:
    """The availability groups of the hosts a job patched (from its hosts' plans' inventory data)."""
    return [GROUPS.get(host) for host in job.facts("hotpatch_plan")]


def _group_slices(jobs, group) -> list:
    """The jobs (by index) whose hosts include a member of `group`."""
    return [i for i, job in enumerate(jobs) if group in _slice_groups(job)]
