"""The caps and the stop rule on a fleet large enough to need many waves (the rollout-scale issue).

24 Windows Server 2025 Azure Edition hosts in four availability groups of six, in the April 2026 baseline
cycle (every host restarts once), patch_batch_size=4 and patch_max_per_group=1: at least six waves.
a-broken (group g1) never comes back from its restart (it gives up after 10 s).

- stop (patch_max_fail_percentage 0): the rollout stops after a-broken's wave; no host of a later wave goes
  down, each is reported not_reached naming the wave and a-broken.
- go on (patch_max_fail_percentage 100): the later waves run; a-broken stays down, so it counts against
  its group's cap for the rest of the run: no other host of g1 restarts (each is held back, naming
  a-broken), every host of the other groups restarts exactly once, and the lab's ledger never shows more
  than 4 hosts down, nor 2 of one group.
"""

import pytest

from tests.integration.faults.runs import patch_run, scenario

GROUPS = 4
PER_GROUP = 6
BATCH, CAP = 4, 1


def fleet() -> dict:
    hosts = {
        f"h{group}-{index:02d}": {
            "os": "2025",
            "platform": "azure",
            "vars": {"hotpatch_availability_group": f"g{group}"},
        }
        for group in range(GROUPS)
        for index in range(PER_GROUP - (1 if group == 1 else 0))
    }
    hosts["a-broken"] = {
        "os": "2025",
        "platform": "azure",
        "faults": ["no_return_after_reboot"],
        "vars": {"hotpatch_availability_group": "g1", "patch_reboot_timeout": 10},
    }
    return {"date": "2026-04-16T02:00:00Z", "boot_seconds": 1, "hosts": hosts}


def _variables(percent):
    return {"patch_batch_size": BATCH, "patch_max_per_group": CAP, "patch_max_fail_percentage": percent}


@scenario("many_waves_stop", order=25)
def many_waves_stop(work):
    return patch_run(fleet(), work, _variables(0))


@scenario("many_waves_go", order=25)
def many_waves_go(work):
    return patch_run(fleet(), work, _variables(100))


@pytest.fixture(scope="module")
def runs(lab_scenarios):
    return {"stop": lab_scenarios.get("many_waves_stop"), "go": lab_scenarios.get("many_waves_go")}


@pytest.mark.parametrize("name", ["stop", "go"])
def test_many_waves_and_the_caps_hold_on_the_ledger(runs, name):
    run = runs[name]
    assert len(run.records) == GROUPS * PER_GROUP, sorted(run.records)
    waves = {record["wave"] for record in run.records.values() if record.get("wave")}
    assert len(waves) >= GROUPS * PER_GROUP // BATCH, waves
    assert 1 <= run.max_down <= BATCH, run.max_down
    assert run.max_down_per_group and all(n <= CAP for n in run.max_down_per_group.values()), (
        run.max_down_per_group
    )
    assert run.records["a-broken"]["status"] == "failed"


def test_the_rollout_stops_after_the_failed_wave(runs):
    run = runs["stop"]
    broken_wave = run.records["a-broken"]["wave"]
    later = [host for host, record in run.records.items() if (record.get("wave") or 0) > broken_wave]
    assert len(later) >= GROUPS * PER_GROUP - BATCH * broken_wave, later
    for host in later:
        record = run.records[host]
        assert record["status"] == "not_reached", record
        assert (
            f"rollout stopped after wave {broken_wave}" in record["message"]
            and "a-broken" in record["message"]
        )
        assert host not in run.restarts
    assert run.proc.returncode == 2


def test_a_host_that_never_came_back_holds_its_group_for_the_rest_of_the_run(runs):
    run = runs["go"]
    broken_wave = run.records["a-broken"]["wave"]
    for host, record in run.records.items():
        if host == "a-broken":
            continue
        if host.startswith("h1-") and record["wave"] > broken_wave:
            assert record["status"] == "not_reached", record
            assert "held back" in record["message"] and "a-broken" in record["message"], record
            assert host not in run.restarts
        else:
            assert record["status"] == "restarted", record
            assert run.restarts.get(host) == 1, host
    assert not [h for h in run.restarts if h.startswith("h1-") and run.records[h]["wave"] > broken_wave]
