"""A patch run interrupted by a signal at a chosen point, then run again (fleet: fleets/interrupt.yml).

The real hotpatch.windows.patch playbook runs on the lab; when the lab's ledger shows a-one back from its
restart (wave 1) and b-two down (wave 2), the test sends SIGINT (as Ctrl-C does) or SIGTERM (as a job
runner's cancel does) to ansible-playbook. Then:

- the run's report is marked interrupted and lists every host, a-one restarted, c-three with its cumulative
  update installed and its restart still pending (never reached);
- a second run, from the hosts' state, neither repeats a restart (a-one, and b-two whose restart finished
  after the signal, are up to date) nor forgets one (c-three's pending restart happens): in the lab's ledger
  each host went down exactly once over both runs.
"""

import json
import signal
import subprocess

import pytest

from tests.integration.faults.runs import (
    BIN,
    FLEETS,
    ansible_env,
    read_records,
    run_playbook,
    scenario,
    wait_until,
)
from tests.lab import Lab


def _hosts_in(events, kind):
    return [event["host"] for event in events if event.get("event") == kind]


def interrupted_then_rerun(work, sig):
    report = work / "report"
    variables = {"hotpatch_report_dir": str(report), "patch_batch_size": 1}
    first = work / "first"
    first.mkdir(parents=True)
    (first / "vars.yml").write_text(json.dumps(variables))
    with Lab(FLEETS / "interrupt.yml", work / "lab") as lab:
        command = [str(BIN / "ansible-playbook"), "hotpatch.windows.patch", "-i", str(lab.inventory)]
        with (first / "patch.out").open("w") as out:
            process = subprocess.Popen(
                [*command, "-e", f"@{first / 'vars.yml'}"],
                cwd=first,
                env=ansible_env(first),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:

                def chosen_point():
                    events = lab.ledger().events
                    return "a-one" in _hosts_in(events, "restart_up") and "b-two" in _hosts_in(
                        events, "restart_down"
                    )

                reached = wait_until(chosen_point, 300)
                if reached:
                    process.send_signal(sig)
                process.wait(90)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(30)
        first_rc = process.returncode
        first_report = report / "latest"
        wait_until(lambda: (first_report / "fleet.json").is_file(), 30)
        first_dir = first_report.resolve()
        first_fleet = json.loads((first_dir / "fleet.json").read_text())
        first_records = read_records(first_dir)
        # b-two's restart goes on without the controller: wait until it is back before the second run
        wait_until(lambda: "b-two" in _hosts_in(lab.ledger().events, "restart_up"), 60)
        before = len(lab.ledger().events)
        second = run_playbook("hotpatch.windows.patch", lab.inventory, work / "second", variables)
        events = lab.ledger().events
        second_dir = (report / "latest").resolve()
        return {
            "reached": reached,
            "first_rc": first_rc,
            "first_fleet": first_fleet,
            "first_records": first_records,
            "first_output": (first / "patch.out").read_text(),
            "second": second,
            "second_dir": second_dir,
            "second_records": read_records(second_dir),
            "first_events": events[:before],
            "second_events": events[before:],
            "first_dir": first_dir,
        }


@scenario("interrupt_sigint", order=20)
def interrupt_sigint(work):
    return interrupted_then_rerun(work, signal.SIGINT)


@scenario("interrupt_sigterm", order=20)
def interrupt_sigterm(work):
    return interrupted_then_rerun(work, signal.SIGTERM)


@pytest.fixture(scope="module", params=["sigint", "sigterm"])
def run(request, lab_scenarios):
    return lab_scenarios.get(f"interrupt_{request.param}")


def test_the_signal_came_at_the_chosen_point(run):
    assert run["reached"], run["first_output"][-3000:]
    assert run["first_rc"] != 0
    # the signal stopped the run: c-three's wave never started in the first run
    assert "c-three" not in _hosts_in(run["first_events"], "restart_down")


def test_the_interrupted_run_reports_every_host_done_so_far(run):
    fleet = run["first_fleet"]
    assert fleet["run"]["state"] == "interrupted", fleet["run"]
    assert sorted(record["host"] for record in fleet["hosts"]) == ["a-one", "b-two", "c-three"]
    records = run["first_records"]
    assert records["a-one"]["restarted"] is True, records["a-one"]
    assert records["a-one"]["status"] == "restarted", records["a-one"]
    # installed in the parallel install step, restart still to come
    assert records["c-three"]["installed"], records["c-three"]
    assert records["c-three"]["restarted"] is False, records["c-three"]
    html = (run["first_dir"] / "fleet.html").read_text()
    assert "Interrupted" in html


def test_the_rerun_neither_repeats_nor_forgets_a_restart(run):
    second = run["second"]
    assert second.returncode == 0, second.stdout[-3000:]
    assert _hosts_in(run["second_events"], "restart_down") == ["c-three"]
    every = run["first_events"] + run["second_events"]
    for host in ("a-one", "b-two", "c-three"):
        assert _hosts_in(every, "restart_down").count(host) == 1, host
    records = run["second_records"]
    assert records["c-three"]["restarted"] is True, records["c-three"]
    for host in ("a-one", "b-two"):
        assert records[host]["restarted"] is False, records[host]
        assert records[host]["status"] != "failed", records[host]
