"""A host that someone else restarts while its Windows Update search runs as an async job (two hosts).

The real hotpatch.windows.assess playbook runs on the lab with a timing model in which a search takes 20 s
(1,000 lab seconds at 0.02: a slow WSUS server). The assessment starts every host's search as an Ansible async
job (`win_updates` `state=searched`, `poll: 0`) and waits for it on the host (`hotpatch.windows.async_wait`).
When the lab's ledger shows the-victim's search job started, the test restarts the-victim from a second,
ad-hoc `ansible.windows.win_reboot`, as an admin or another tool would. On Windows the restart ends the job
and its results file never says finished. Then:

- the-victim's assessment fails as soon as it is back, because its boot time is later than the probe's
  (not after `assess_search_timeout`), with the reason in its record; the playbook fails the host;
- the other host is assessed as if nothing happened, its search having run at the same time as the victim's.
"""

import datetime

import pytest

from tests.integration.faults.runs import read_records, run_restarting_a_host, scenario
from tests.lab import Lab

FLEET = {
    "date": "2026-04-16T02:00:00Z",
    "timing": {"scale": 0.02, "search": 1000},
    "hosts": {
        "the-victim": {"os": "2025"},
        "the-other": {"os": "2025"},
    },
}
VICTIM, OTHER = "the-victim", "the-other"


def _search_jobs(events, host=None) -> list:
    """The search jobs' start commands (win_updates state=searched as an async job), on `host` or on any."""
    return [
        e
        for e in events
        if e["event"] == "command"
        and e.get("async_jid")
        and e.get("state") == "searched"
        and host in (None, e["host"])
    ]


@scenario("search_restart", order=30)
def search_restart(work):
    report = work / "report"
    extra = ["-e", f"hotpatch_report_dir={report}", "-e", "assess_search_timeout=600"]
    with Lab(FLEET, work / "lab") as lab:
        run = run_restarting_a_host(
            lab, work, "hotpatch.windows.assess", extra, VICTIM, lambda events: _search_jobs(events, VICTIM)
        )
    return dict(run, records=read_records((report / "latest").resolve()))


@pytest.fixture(scope="module")
def run(lab_scenarios):
    return lab_scenarios.get("search_restart")


def test_the_restart_came_while_the_search_job_ran(run):
    assert run["started"], run["output"][-3000:]
    assert run["reboot"].returncode == 0, run["reboot"].stdout[-2000:]
    jobs = {e["async_jid"]: e["host"] for e in _search_jobs(run["events"])}
    ends = {e["jid"]: e["end"] for e in run["events"] if e["event"] == "async_job"}
    assert sorted(jobs.values()) == sorted([VICTIM, OTHER])  # every host searched, each once
    assert {jobs[jid]: end for jid, end in ends.items()} == {VICTIM: "killed", OTHER: "finished"}


def test_the_restarted_host_fails_its_assessment_with_the_reason(run):
    assert run["rc"] != 0  # the assess playbook fails a host it could not assess
    record = run["records"][VICTIM]
    assert record["status"] == "failed", record
    message = record["message"]
    assert "Windows Update search" in message and "restarted" in message, record
    assert "did not finish" not in message, record  # seen at once, not at assess_search_timeout
    assert run["restarts"] == {VICTIM: 1}  # the test's own restart only


def test_the_other_host_is_assessed_and_searched_alongside(run):
    record = run["records"][OTHER]
    assert record["status"] != "failed", record
    victim, other = (_search_jobs(run["events"], host)[0]["time"] for host in (VICTIM, OTHER))
    assert abs(_seconds(victim) - _seconds(other)) < 10  # both searches ran at once (a search takes 20 s)


def _seconds(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
