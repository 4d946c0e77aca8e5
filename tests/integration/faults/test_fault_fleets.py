"""Fault scenarios kept outside the repository, written to the lab's fleet schema (docs/lab.md), run through
the patch playbook and judged by the rules that hold for every fault:

- no restart without Windows' evidence (the restart-safety invariant, checked on every Lab by
  tests/integration/conftest.py);
- no host missing from the report, each with a status and, when it failed, a message naming it;
- no cap exceeded in the lab's ledger (patch_batch_size, patch_max_per_group, hosts already down included);
- no traceback, and the run ends 0 (all well) or 2 (some host failed, reported).

Give the fleet files in HOTPATCH_FAULT_FLEETS (paths separated by the OS path separator). A fleet file may
have a sibling `<name>.vars.yml` with the run's extra variables (rollout settings). Without the variable
only the judge's own tests below run.
"""

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from tests.integration.faults.runs import patch_run

FLEETS = [
    Path(p).resolve() for p in os.environ.get("HOTPATCH_FAULT_FLEETS", "").split(os.pathsep) if p.strip()
]


def batch_limit(value, hosts: int) -> int:
    """patch_batch_size as a host count: a count, or a percentage of the hosts (at least one)."""
    text = str(value).strip()
    if text.endswith("%"):
        return max(1, int(hosts * float(text[:-1]) // 100))
    return int(text)


def judge(run, variables: dict) -> list:
    """The rules every fault run must keep; returns what broke (empty when all held)."""
    broken = []
    missing = sorted(set(run.hosts) - set(run.records))
    if missing:
        broken.append(f"hosts missing from the report: {missing}")
    for host, record in sorted(run.records.items()):
        if not record.get("status"):
            broken.append(f"{host}: no status in the report")
        if record.get("status") == "failed" and host not in str(record.get("message")):
            broken.append(f"{host}: failed with a message that does not name it: {record.get('message')!r}")
    batch = batch_limit(variables.get("patch_batch_size", 1), len(run.hosts))
    if run.max_down > batch:
        broken.append(f"{run.max_down} hosts down at once, patch_batch_size allows {batch}")
    cap = variables.get("patch_max_per_group", 1)
    over = {group: n for group, n in run.max_down_per_group.items() if cap and n > int(cap)}
    if over:
        broken.append(f"groups with more than patch_max_per_group={cap} down at once: {over}")
    if "Traceback" in run.output:
        broken.append("a traceback in the output")
    if run.proc.returncode not in (0, 2):
        broken.append(f"ansible-playbook ended {run.proc.returncode}")
    return broken


@pytest.mark.parametrize("fleet", FLEETS, ids=[path.stem for path in FLEETS])
def test_held_back_fault_fleet_keeps_every_rule(fleet, tmp_path):
    extra = fleet.with_name(f"{fleet.stem}.vars.yml")
    variables = yaml.safe_load(extra.read_text()) if extra.is_file() else {}
    run = patch_run(fleet, tmp_path, variables)
    assert not judge(run, variables), judge(run, variables)


def _run(**changes):
    base = dict(
        hosts=["web01", "web02"],
        records={
            "web01": {"status": "restarted", "message": "ok"},
            "web02": {"status": "failed", "message": "web02: wave 1: timed out"},
        },
        max_down=1,
        max_down_per_group={"web": 1},
        output="",
        proc=SimpleNamespace(returncode=2),
    )
    base.update(changes)
    return SimpleNamespace(**base)


def test_the_judge_passes_a_run_that_kept_every_rule():
    assert judge(_run(), {}) == []


@pytest.mark.parametrize(
    ("changes", "variables", "words"),
    [
        ({"records": {"web01": {"status": "restarted"}}}, {}, "missing from the report: ['web02']"),
        ({"max_down": 2}, {}, "2 hosts down at once"),
        ({"max_down": 3}, {"patch_batch_size": "50%"}, "patch_batch_size allows 1"),
        ({"max_down_per_group": {"web": 2}}, {"patch_batch_size": 2}, "'web': 2"),
        (
            {"records": {"web01": {"status": "restarted"}, "web02": {"status": "failed", "message": "x"}}},
            {},
            "does not name it",
        ),
        ({"output": "Traceback (most recent call last)"}, {}, "traceback"),
        ({"proc": SimpleNamespace(returncode=4)}, {}, "ended 4"),
    ],
)
def test_the_judge_catches_each_broken_rule(changes, variables, words):
    broken = judge(_run(**changes), variables)
    assert any(words in line for line in broken), broken
