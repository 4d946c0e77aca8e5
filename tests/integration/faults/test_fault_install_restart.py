"""A host that someone else restarts while its install runs as an async job (a baseline month, two hosts).

The real hotpatch.windows.patch playbook runs on the lab with a timing model, so each host's cumulative update
takes about 25 s to search, download and install. When the lab's ledger shows the-victim's install job
started (`rollout_step` `step=start`, an Ansible async job), the test restarts the-victim from a second,
ad-hoc `ansible.windows.win_reboot`, as an admin or another tool would. On Windows the restart ends the job
and its results file never says finished. Then:

- the-victim is failed by the staged step as soon as it is back, because its boot time is later than the
  assessment's (not after `patch_install_timeout`), with the reason in its record; nothing of it was
  installed, and the rollout never restarted it (the lab saw the one restart the test made);
- the other host installs and restarts once in its wave, as if nothing happened.
"""

import pytest

from tests.integration.faults.runs import play_ran_tasks, read_records, run_restarting_a_host, scenario
from tests.lab import Lab

# The April 2026 baseline month; the lab's timing model at 0.02 real seconds per lab second: the search 1.2 s,
# the cumulative update's download 6 s and install 18 s, a restart 4.8 s (docs/lab.md)
FLEET = {
    "date": "2026-04-16T02:00:00Z",
    "timing": {"scale": 0.02},
    "hosts": {
        "the-victim": {"os": "2025", "vars": {"hotpatch_availability_group": "one"}},
        "the-other": {"os": "2025", "vars": {"hotpatch_availability_group": "two"}},
    },
}
VICTIM, OTHER = "the-victim", "the-other"


def _install_jobs(events, host) -> list:
    """The jids of the install jobs started on `host` (the assessment's search is an async job too)."""
    return [
        e["async_jid"]
        for e in events
        if e["event"] == "command"
        and e["host"] == host
        and e.get("async_jid")
        and e.get("state") == "installed"
    ]


@scenario("install_restart", order=30)
def install_restart(work):
    report = work / "report"
    extra = ["-e", f"hotpatch_report_dir={report}", "-e", "patch_batch_size=2"]
    extra += ["-e", "patch_install_timeout=900"]
    with Lab(FLEET, work / "lab") as lab:
        run = run_restarting_a_host(
            lab, work, "hotpatch.windows.patch", extra, VICTIM, lambda events: _install_jobs(events, VICTIM)
        )
    return dict(run, records=read_records((report / "latest").resolve()))


@pytest.fixture(scope="module")
def run(lab_scenarios):
    return lab_scenarios.get("install_restart")


def test_the_restart_came_while_the_install_job_ran(run):
    assert run["started"], run["output"][-3000:]
    assert run["reboot"].returncode == 0, run["reboot"].stdout[-2000:]
    jobs = _install_jobs(run["events"], VICTIM)
    ends = [e["end"] for e in run["events"] if e["event"] == "async_job" and e["jid"] in jobs]
    assert len(jobs) == 1 and ends == ["killed"], ends


def test_the_restarted_host_fails_with_the_reason_and_is_not_restarted_again(run):
    assert run["rc"] != 0  # the playbook fails the failed host for AWX
    record = run["records"][VICTIM]
    assert record["status"] == "failed", record
    assert "restarted" in record["message"] and "while its install ran" in record["message"], record
    assert "patch_install_timeout" not in record["message"], record
    assert record["restarted"] is False, record
    assert run["restarts"].get(VICTIM) == 1  # the test's own restart, none by the rollout
    assert not run["installs"].get(VICTIM)  # the restart ended the job before its install came due


def test_the_default_installs_every_host_at_once_in_the_start_play(run):
    """patch_install_batch_size is left at its default (100%): the install starts in the every-host play."""
    assert play_ran_tasks(run["output"], "Start the install on every host at once, without a restart")
    batched = "Install without a restart, patch_install_batch_size hosts at a time"
    assert not play_ran_tasks(run["output"], batched)


def test_the_other_host_installs_and_restarts_once(run):
    record = run["records"][OTHER]
    assert record["status"] == "restarted", record
    assert record["installed"], record
    assert run["restarts"].get(OTHER) == 1
    assert run["installs"].get(OTHER)
