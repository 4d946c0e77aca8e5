"""How many hosts install at once (patch_install_batch_size), read from the lab's ledger.

Six Windows Server 2025 Azure Edition hosts in the April 2026 baseline month (every host installs the
cumulative update and restarts once), with the lab's timing model at 0.005 real seconds per lab second (the
search 0.3 s, the download 1.5 s, the install 4.5 s). Each host's install is an Ansible async job on the host;
the ledger records when each job started (the `command` event with its `async_jid`) and when it ended (the
`async_job` event).

- patch_install_batch_size=2: never more than two install jobs run at once, and two do (the install play
  runs two hosts at a time); every host still installs and restarts exactly once (status restarted).
- patch_install_batch_size=6, a count of every host, is every host at once, as the default (100%) is: the
  playbook starts every install in one play (not a batched play of six), and every host's job runs at the
  same time, although the play dispatches them one by one. (Every other patch run of the suite takes the
  default; tests/integration/faults/test_fault_install_restart.py checks it takes the same plays.)
- patch_install_batch_size=0 is refused before any host changes: no job starts, no host restarts.
"""

import datetime

import pytest

from tests.integration.faults.runs import patch_run, play_ran_tasks, scenario

HOSTS = 6
FLEET = {
    "date": "2026-04-16T02:00:00Z",
    "timing": {"scale": 0.005},
    "hosts": {
        f"web{index}": {
            "os": "2025",
            "platform": "azure",
            "vars": {"hotpatch_availability_group": f"g{index}"},
        }
        for index in range(HOSTS)
    },
}
WAVES = {"patch_batch_size": HOSTS, "patch_max_per_group": 1}


@scenario("install_batches_two", order=40)
def install_batches_two(work):
    return patch_run(FLEET, work, dict(WAVES, patch_install_batch_size=2))


@scenario("install_batches_every_host_by_count", order=40)
def install_batches_every_host_by_count(work):
    return patch_run(FLEET, work, dict(WAVES, patch_install_batch_size=HOSTS))


@scenario("install_batches_zero", order=60)
def install_batches_zero(work):
    return patch_run(FLEET, work, dict(WAVES, patch_install_batch_size=0))


@pytest.fixture(scope="module")
def runs(lab_scenarios):
    return {
        "two": lab_scenarios.get("install_batches_two"),
        "count": lab_scenarios.get("install_batches_every_host_by_count"),
        "zero": lab_scenarios.get("install_batches_zero"),
    }


def _when(event) -> datetime.datetime:
    return datetime.datetime.fromisoformat(event["time"].replace("Z", "+00:00"))


def install_job(event) -> bool:
    """Whether a command started an install job (win_updates state=installed; the assessment's search is an
    async job too)."""
    return bool(event.get("async_jid")) and event.get("state") == "installed"


def most_jobs_at_once(events) -> int:
    """The most install jobs running at the same time: +1 at each job's start, -1 at its end."""
    starts = {e["async_jid"]: _when(e) for e in events if e["event"] == "command" and install_job(e)}
    ends = {e["jid"]: _when(e) for e in events if e["event"] == "async_job" and e["jid"] in starts}
    assert set(starts) == set(ends), (starts, ends)  # every job ended (finished, not killed)
    steps = sorted([(moment, 1) for moment in starts.values()] + [(moment, -1) for moment in ends.values()])
    running = most = 0
    for _moment, step in steps:  # an end sorts before a start at the same moment
        running += step
        most = max(most, running)
    return most


@pytest.mark.parametrize(("name", "expected"), [("two", 2), ("count", HOSTS)])
def test_install_jobs_at_once_follow_the_setting(runs, name, expected):
    run = runs[name]
    assert run.proc.returncode == 0, run.output[-3000:]
    assert most_jobs_at_once(run.ledger_events) == expected
    assert [e["end"] for e in run.ledger_events if e["event"] == "async_job"] == ["finished"] * HOSTS * 2
    assert run.restarts == {host: 1 for host in FLEET["hosts"]}
    assert sorted(run.installs) == sorted(FLEET["hosts"])
    assert {record["status"] for record in run.records.values()} == {"restarted"}, run.records


@pytest.mark.parametrize(("name", "at_once"), [("two", False), ("count", True)])
def test_every_host_at_once_whatever_way_the_setting_says_it(runs, name, at_once):
    output = runs[name].output
    assert play_ran_tasks(output, "Start the install on every host at once, without a restart") is at_once
    batched = "Install without a restart, patch_install_batch_size hosts at a time"
    assert play_ran_tasks(output, batched) is not at_once, output[-3000:]


def test_a_bad_install_batch_size_is_refused_before_any_host_changes(runs):
    run = runs["zero"]
    assert run.proc.returncode != 0
    assert "patch_install_batch_size must be a count >= 1" in run.output
    # no job started, not even a search
    assert not [e for e in run.ledger_events if e["event"] == "command" and e.get("async_jid")]
    assert run.restarts == {} and run.installs == {}
