"""A host that never returns from its restart, with patch_max_fail_percentage deciding whether the rollout
goes on. Fleet: fleets/rollout.yml (April 2026 baseline cycle: every host restarts); a-broken is in the
first wave and gives up on its restart after 10 s (patch_reboot_timeout in the fleet's host vars).

- stop: waves of one host, patch_max_fail_percentage 0 (the default): a-broken fails in wave 1 and the
  rollout stops; b-later and c-later installed their cumulative update in the parallel install step (only
  the restart waits for a wave) but are not restarted, and say why and that a restart is pending.
- go on: waves of two hosts, patch_max_fail_percentage 50, over HTTPS with certificate validation on:
  1 of 2 hosts failed in wave 1 is not more than 50 %, so wave 2 runs.
"""

import pytest

from tests.integration.faults.runs import FLEETS, patch_run, scenario


@scenario("rollout_stop", order=30)
def rollout_stop(work):
    return patch_run(FLEETS / "rollout.yml", work, {"patch_batch_size": 1, "patch_max_fail_percentage": 0})


@scenario("rollout_go", order=30)
def rollout_go(work):
    variables = {"patch_batch_size": 2, "patch_max_fail_percentage": 50}
    return patch_run(FLEETS / "rollout.yml", work, variables, https=True)


@pytest.fixture(scope="module")
def runs(lab_scenarios):
    return {"stop": lab_scenarios.get("rollout_stop"), "go": lab_scenarios.get("rollout_go")}


@pytest.mark.parametrize("name", ["stop", "go"])
def test_broken_host_fails_with_a_clear_message(runs, name):
    run = runs[name]
    record = run.records["a-broken"]
    assert record["status"] == "failed" and record["wave"] == 1
    assert record["message"].startswith("a-broken: wave 1: ")
    assert "restart" in record["message"].lower() and "timed out" in record["message"].lower()
    # the lab saw it go down once and never come up
    assert len(run.events("a-broken", "restart_down")) == 1
    assert run.events("a-broken", "restart_up") == []


def test_rollout_stops_after_the_failed_wave(runs):
    run = runs["stop"]
    assert run.restarts == {"a-broken": 1}
    assert sorted(run.installs) == ["a-broken", "b-later", "c-later"]
    for wave, host in ((2, "b-later"), (3, "c-later")):
        record = run.records[host]
        assert record["status"] == "not_reached", record
        assert record["wave"] == wave and record["restarted"] is False
        assert record["installed"] == run.installs[host]
        assert "rollout stopped after wave 1" in record["message"]
        assert "a-broken" in record["message"] and "patch_max_fail_percentage=0" in record["message"]
        assert "a restart is pending" in record["message"]
    assert run.proc.returncode == 2 and "Traceback" not in run.output


def test_rollout_goes_on_within_max_fail_percentage(runs):
    run = runs["go"]
    assert run.records["b-later"]["wave"] == 1 and run.records["c-later"]["wave"] == 2
    for host in ("b-later", "c-later"):
        record = run.records[host]
        assert record["status"] == "restarted", record["message"]
        assert run.restarts[host] == 1 and len(run.events(host, "restart_up")) == 1
        assert record["build_after"] != record["build_before"]
    assert run.restarts == {"a-broken": 1, "b-later": 1, "c-later": 1}
    assert run.max_down <= 2
    assert not [r for r in run.records.values() if "rollout stopped" in r["message"]]


@pytest.mark.parametrize("name", ["stop", "go"])
def test_report_holds_every_host(runs, name):
    run = runs[name]
    assert sorted(run.records) == run.hosts == ["a-broken", "b-later", "c-later"]
    assert run.fleet["failed_hosts"] == ["a-broken"]
