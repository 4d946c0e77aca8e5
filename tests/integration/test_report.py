"""The report role and the journal module: run folders and `latest`, files, self-contained HTML, CSV
columns, set_stats, slice merging, check mode, the journal calls of tests/integration/journal/example.yml (the
calls the roles make), an interrupted ansible-playbook leaving a report marked interrupted, and the report
after assess and after patch on a lab fleet; plus `python -m tests.demo` end to end.

The first tests feed the role hand-written hostvars (the contracts of assess and patch) on local hosts, so
they check the report itself quickly; the lab tests check it against what the roles really leave behind.
"""

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from tests.integration.faults.runs import wait_until

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXAMPLE = REPO / "tests" / "integration" / "journal"

CSV_COLUMNS = [
    "host",
    "platform",
    "os",
    "eligible",
    "reasons",
    "release_line",
    "group",
    "cycle_month",
    "cycle_type",
    "build_before",
    "build_after",
    "action",
    "status",
    "wave",
    "restarted",
    "reboot_avoided",
    "installed",
    "message",
    "restarts",
    "cause",
    "deferred",
    "failed_updates",
    "down",
    "up",
]

STATUS_WEB01 = {
    "facts": {"os": {"build": 26100, "ubr": 32230}, "hotfixes": ["KB5073379"]},
    "eligibility": {"eligible": True, "platform": "azure", "reasons": [], "warnings": []},
    "cycle": {
        "month": "2026-02",
        "type": "hotpatch",
        "unplanned": False,
        "kb": "KB5075942",
        "build": "26100.32313",
        "published": True,
        "release_date": "2026-02-10",
    },
    "release_line": "hotpatch",
    "current": {"build": "26100.32230", "kb": "KB5073379", "month": "2026-01"},
    "baseline": {"build": "26100.32230", "kb": "KB5073379", "month": "2026-01"},
    "on_current_baseline": True,
    "up_to_date": False,
    "reboot_pending": {"required": False, "reasons": []},
}
STATUS_SQL01 = {
    "facts": {"os": {"build": 20348, "ubr": 4648}, "hotfixes": []},
    "eligibility": {
        "eligible": False,
        "platform": "on_premises",
        "warnings": [],
        "reasons": [{"code": "edition_not_supported", "message": 'Standard, "not" <b>Azure</b>'}],
    },
    "cycle": {
        "month": "2026-02",
        "type": "hotpatch",
        "unplanned": False,
        "kb": "KB5075943",
        "build": "20348.4711",
        "published": True,
        "release_date": "2026-02-10",
    },
    "release_line": "lcu",
    "current": {"build": "20348.4648", "kb": "KB5073457", "month": "2026-01"},
    "baseline": {"build": "20348.4648", "kb": "KB5073457", "month": "2026-01"},
    "on_current_baseline": True,
    "up_to_date": False,
    "reboot_pending": {"required": False, "reasons": []},
}


def ansible_env(**extra) -> dict:
    env = dict(os.environ)
    env.update(ANSIBLE_NOCOLOR="true", ANSIBLE_HOST_KEY_CHECKING="false", ANSIBLE_RETRY_FILES_ENABLED="false")
    env.update(extra)
    return env


def playbook(path: Path, inventory: Path, *args, **env) -> subprocess.CompletedProcess:
    command = [str(BIN / "ansible-playbook"), str(path), "-i", str(inventory), *args]
    return subprocess.run(
        command, env=ansible_env(**env), text=True, capture_output=True, timeout=900, check=False
    )


def write_yaml(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def local_inventory(path: Path, hosts: dict) -> Path:
    """Hosts that run on the controller with hand-written assess/patch facts as host variables."""
    return write_yaml(
        path,
        {
            "all": {
                "vars": {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                },
                "children": {"windows": {"hosts": hosts}},
            },
        },
    )


def synthetic_hosts(outcomes: bool = True) -> dict:
    web01 = {
        "hotpatch_status": STATUS_WEB01,
        "hotpatch_plan": {
            "action": "hotpatch",
            "reboot": False,
            "reasons": ["hotpatch month"],
            "group": None,
        },
    }
    sql01 = {
        "hotpatch_availability_group": "sql",
        "hotpatch_status": STATUS_SQL01,
        "hotpatch_plan": {
            "action": "conventional",
            "reboot": True,
            "reasons": ["not eligible"],
            "group": "sql",
        },
    }
    if outcomes:
        web01["hotpatch_outcome"] = {
            "action": "hotpatch",
            "status": "patched",
            "restarted": False,
            "reboot_avoided": True,
            "wave": None,
            "installed": ["KB5075942"],
            "message": "hotpatched, no restart",
            "build_before": "26100.32230",
            "build_after": "26100.32313",
        }
        sql01["hotpatch_outcome"] = {
            "action": "conventional",
            "status": "restarted",
            "restarted": True,
            "reboot_avoided": False,
            "wave": 1,
            "installed": ["KB5075943"],
            "message": 'restarted, "quoted", two, commas',
            "build_before": "20348.4648",
            "build_after": "20348.4711",
        }
    # dead01 never got assessed: only what the inventory knows about it
    return {"web01": web01, "sql01": sql01, "dead01": {"hotpatch_platform": "arc"}}


REPORT_PLAY = [
    {
        "name": "Report",
        "hosts": "windows",
        "gather_facts": False,
        "roles": [{"role": "hotpatch.windows.report"}],
    }
]


def read_report(report_dir: Path) -> tuple:
    """fleet.json, fleet.csv rows and fleet.html of the latest run under a report directory."""
    run_dir = report_dir / "latest"
    fleet = json.loads((run_dir / "fleet.json").read_text())
    with (run_dir / "fleet.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    return fleet, rows, (run_dir / "fleet.html").read_text()


def journal_events(report_dir: Path) -> list:
    lines = (report_dir / "latest" / "journal.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


class TagBalance(HTMLParser):
    """Records end tags that do not close the innermost open element (void elements aside)."""

    VOID = {"meta", "br", "hr", "img", "input", "link", "col"}

    def __init__(self):
        super().__init__()
        self.open, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if self.open and self.open[-1] == tag:
            self.open.pop()
        else:
            self.errors.append((tag, self.getpos()))


def assert_self_contained(html: str) -> None:
    balance = TagBalance()
    balance.feed(html)
    assert balance.errors == [] and balance.open == [], (balance.errors, balance.open)
    assert html.lstrip().lower().startswith("<!doctype html>")
    # text may quote a (masked) URL; nothing may load one
    assert not re.search(r"\b(src|href|action)\s*=|url\(|@import", html, re.IGNORECASE), (
        "fleet.html loads a URL"
    )
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", html, re.IGNORECASE), (
        "fleet.html loads an asset"
    )
    assert "<style>" in html


@pytest.fixture(scope="module")
def synthetic_report(tmp_path_factory):
    """The report role once on three local hosts: patched, restarted, never assessed."""
    work = tmp_path_factory.mktemp("report")
    inventory = local_inventory(work / "inventory.yml", synthetic_hosts())
    play = write_yaml(work / "report.yml", REPORT_PLAY)
    runner_dir = work / "runner"
    runner_dir.mkdir()
    import ansible_runner

    # ansible-runner looks ansible-playbook up on PATH: the venv's
    path = os.environ["PATH"]
    os.environ["PATH"] = f"{BIN}{os.pathsep}{path}"
    try:
        result = ansible_runner.run(
            private_data_dir=str(runner_dir),
            playbook=str(play),
            inventory=str(inventory),
            quiet=True,
            extravars={"hotpatch_report_dir": str(work / "out")},
            envvars={
                "ANSIBLE_COLLECTIONS_PATH": os.environ["ANSIBLE_COLLECTIONS_PATH"],
                "ANSIBLE_NOCOLOR": "true",
            },
        )
    finally:
        os.environ["PATH"] = path
    stdout = result.stdout.read()
    assert result.rc == 0, stdout
    stats = [
        event["event_data"].get("artifact_data")
        for event in result.events
        if event.get("event") == "playbook_on_stats"
    ]
    return work / "out", stats


def test_report_files_and_summary(synthetic_report):
    out, _ = synthetic_report
    fleet, _, _ = read_report(out)
    run_dir = (out / "latest").resolve()
    assert re.match(r"^\d{8}T\d{6}Z-[0-9a-f]{4}$", run_dir.name) and run_dir.parent == out.resolve()
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "fleet.csv",
        "fleet.html",
        "fleet.json",
        "hosts",
        "journal.jsonl",
    ]
    assert sorted(p.name for p in (run_dir / "hosts").iterdir()) == [
        "dead01.json",
        "sql01.json",
        "web01.json",
    ]
    # one release of top-level copies for readers of <report_dir>/fleet.json
    assert json.loads((out / "fleet.json").read_text())["run"]["id"] == run_dir.name
    assert fleet["host_count"] == 3
    assert fleet["phase"] == "patch"
    assert fleet["check_mode"] is False
    assert {k: v for k, v in fleet["by_action"].items() if v} == {
        "hotpatch": 1,
        "conventional": 1,
        "unknown": 1,
    }
    assert {k: v for k, v in fleet["by_status"].items() if v} == {"patched": 1, "restarted": 1, "failed": 1}
    assert fleet["restarts"] == 1
    assert fleet["reboot_avoided"] == 1
    assert fleet["restarts_planned"] == 1
    assert fleet["failed_hosts"] == ["dead01"]
    assert fleet["waves"] == [{"wave": 1, "hosts": ["sql01"]}]
    assert Path(fleet["html"]) == run_dir / "fleet.html"
    assert fleet["run"]["state"] == "finished" and fleet["state"] == "finished"
    events = [event["event"] for event in journal_events(out)]
    assert events[0] == "run_start" and events.count("host") == 3 and events[-1] == "run_end"

    dead = json.loads((run_dir / "hosts" / "dead01.json").read_text())
    assert dead["status"] == "failed"
    assert dead["assessed"] is False
    assert dead["platform"] == "arc"  # what the inventory knew
    assert "not assessed" in dead["message"]
    web = json.loads((run_dir / "hosts" / "web01.json").read_text())
    assert (web["os"], web["eligible"], web["release_line"]) == ("2025", True, "hotpatch")
    assert (web["build_before"], web["build_after"], web["installed"]) == (
        "26100.32230",
        "26100.32313",
        ["KB5075942"],
    )


def test_calendar_covers_the_year_for_both_os(synthetic_report):
    fleet, _, html = read_report(synthetic_report[0])
    calendar = fleet["calendar"]
    assert calendar["year"] == 2026  # the hosts' cycle year, not the controller's
    assert [row["os"] for row in calendar["rows"]] == ["2022", "2025"]
    for row in calendar["rows"]:
        months = row["months"]
        assert [m["month"] for m in months] == [f"2026-{n:02d}" for n in range(1, 13)]
        assert [m["type"] for m in months if m["month"][5:] in ("01", "04", "07", "10")] == ["baseline"] * 4
        assert [m["month"] for m in months if m["current"]] == ["2026-02"]
    feb_2025 = calendar["rows"][1]["months"][1]
    assert (feb_2025["type"], feb_2025["kb"], feb_2025["published"]) == ("hotpatch", "KB5075942", True)
    assert calendar["rows"][1]["months"][11]["published"] is False  # December 2026: planned, not published
    assert "KB5075942" in html
    assert "not yet published" in html


def test_csv_columns_and_quoting(synthetic_report):
    _, rows, _ = read_report(synthetic_report[0])
    assert rows[0] == CSV_COLUMNS
    by_host = {row[0]: dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]}
    assert sorted(by_host) == ["dead01", "sql01", "web01"]
    assert by_host["sql01"]["message"] == 'restarted, "quoted", two, commas'
    assert by_host["sql01"]["reasons"] == "edition_not_supported"
    assert (by_host["sql01"]["wave"], by_host["sql01"]["restarted"]) == ("1", "true")
    assert (by_host["web01"]["reboot_avoided"], by_host["web01"]["eligible"]) == ("true", "true")
    assert (by_host["dead01"]["status"], by_host["dead01"]["eligible"]) == ("failed", "")


def test_html_is_self_contained_and_escaped(synthetic_report):
    _, _, html = read_report(synthetic_report[0])
    assert_self_contained(html)
    for host in ("web01", "sql01", "dead01"):
        assert f'<span class="label">{host}</span>' in html
    assert "<b>Azure</b>" not in html
    assert "&lt;b&gt;Azure&lt;/b&gt;" in html
    assert "restarts avoided" in html


def test_set_stats_publishes_the_summary(synthetic_report):
    out, stats = synthetic_report
    assert len(stats) == 1 and stats[0], "no set_stats data in the playbook_on_stats event"
    summary = stats[0]["hotpatch_report"]
    assert summary["failed_hosts"] == ["dead01"]
    assert (summary["restarts"], summary["reboot_avoided"], summary["host_count"]) == (1, 1, 3)
    assert summary["html"] == str((out / "latest" / "fleet.html").resolve())
    assert "hosts" not in summary  # the per-host records stay in the files


def test_check_mode_and_assess_only_still_write_the_report(tmp_path):
    inventory = local_inventory(tmp_path / "inventory.yml", synthetic_hosts(outcomes=False))
    play = write_yaml(tmp_path / "report.yml", REPORT_PLAY)
    result = playbook(play, inventory, "--check", "-e", f"hotpatch_report_dir={tmp_path / 'out'}")
    assert result.returncode == 0, result.stdout + result.stderr
    fleet, rows, html = read_report(tmp_path / "out")
    assert fleet["check_mode"] is True
    assert fleet["phase"] == "assess"
    assert fleet["restarts"] == 0 and fleet["reboot_avoided"] == 0
    assert fleet["restarts_planned"] == 1
    statuses = {r["host"]: (r["action"], r["status"]) for r in fleet["hosts"]}
    assert statuses == {
        "web01": ("hotpatch", "assessed"),
        "sql01": ("conventional", "assessed"),
        "dead01": ("unknown", "failed"),
    }
    assert len(rows) == 4
    assert "Plan (check mode): nothing was changed" in html and "after patching" not in html


def test_merge_of_slices(tmp_path):
    """Two slices write their own reports; a third run with no hosts of its own joins them."""
    hosts = synthetic_hosts()
    play = write_yaml(tmp_path / "report.yml", REPORT_PLAY)
    for name, members in (("slice1", ["web01"]), ("slice2", ["sql01", "dead01"])):
        inventory = local_inventory(tmp_path / f"{name}.yml", {h: hosts[h] for h in members})
        result = playbook(play, inventory, "-e", f"hotpatch_report_dir={tmp_path / name}")
        assert result.returncode == 0, result.stdout + result.stderr
        assert read_report(tmp_path / name)[0]["host_count"] == len(members)
    merge = write_yaml(
        tmp_path / "merge.yml",
        [
            {
                "name": "Merge",
                "hosts": "localhost",
                "gather_facts": False,
                "roles": [
                    {
                        "role": "hotpatch.windows.report",
                        "vars": {
                            "report_hosts": [],
                            "report_merge_dirs": [str(tmp_path / "slice1"), str(tmp_path / "slice2")],
                        },
                    }
                ],
            }
        ],
    )
    inventory = local_inventory(tmp_path / "empty.yml", {})
    result = playbook(merge, inventory, "-e", f"hotpatch_report_dir={tmp_path / 'fleet'}")
    assert result.returncode == 0, result.stdout + result.stderr
    fleet, rows, _ = read_report(tmp_path / "fleet")
    assert [r["host"] for r in fleet["hosts"]] == ["dead01", "sql01", "web01"]
    assert (fleet["restarts"], fleet["reboot_avoided"], fleet["failed_hosts"]) == (1, 1, ["dead01"])
    assert [row[0] for row in rows[1:]] == ["dead01", "sql01", "web01"]
    # the slices' own host files are untouched by the merge
    slice2 = (tmp_path / "slice2" / "latest" / "hosts").iterdir()
    assert sorted(p.name for p in slice2) == ["dead01.json", "sql01.json"]
    assert [source["hosts"] for source in fleet["run"]["sources"]] == [1, 2]


# ---------------------------------------------------------------------------------------------- journal calls
def test_example_playbook_journals_a_run(tmp_path):
    """tests/integration/journal/example.yml: the calls the assess, patch and report roles make."""
    out = tmp_path / "out"
    command = [
        str(BIN / "ansible-playbook"),
        str(EXAMPLE / "example.yml"),
        "-i",
        str(EXAMPLE / "inventory.yml"),
    ]
    process = subprocess.Popen(
        [*command, "-e", f"hotpatch_report_dir={out}"],
        env=ansible_env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output
    events = journal_events(out)
    kinds = [event["event"] for event in events]
    assert kinds[0] == "run_start" and kinds[-1] == "run_end"
    assert kinds.count("run_start") == 1  # the report role found the run the first play opened
    # the controller is the ansible-playbook process itself (the worker's parent)
    assert events[0]["controller"]["pid"] == process.pid
    assert events[0]["settings"]["patch_health_url"] == "https://***@health.example.test/ping"
    assert "S3cr3t-health" not in (out / "latest" / "journal.jsonl").read_text()
    assert sorted(e["host"] for e in events if e["event"] == "restart_begin") == ["app01", "sql01"]
    assert [e["wave"] for e in events if e["event"].startswith("wave_")] == [1, 1]
    stages = [(e["host"], e["stage"]) for e in events if e["event"] == "host"]
    assert ("web01", "install") in stages and ("app01", "wave") in stages and ("web01", "final") in stages
    fleet, _, html = read_report(out)
    assert fleet["run"]["state"] == "finished" and fleet["run"]["playbook"] == "patch"
    records = {r["host"]: r for r in fleet["hosts"]}
    assert records["app01"]["restarts"] == 2 and records["app01"]["times"]["restarts"][0]["elapsed"] == 42.5
    assert records["web01"]["reboot_avoided"] is True
    assert fleet["max_down"] == 2
    assert sorted(fleet["timeline"]["waves"][0]["hosts"]) == ["app01", "sql01"]
    assert_self_contained(html)
    assert "S3cr3t-health" not in output


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_an_interrupted_playbook_leaves_a_report_marked_interrupted(tmp_path, sig):
    out = tmp_path / "out"
    command = [
        str(BIN / "ansible-playbook"),
        str(EXAMPLE / "example.yml"),
        "-i",
        str(EXAMPLE / "inventory.yml"),
    ]
    process = subprocess.Popen(
        [*command, "-e", f"hotpatch_report_dir={out}", "-e", "example_hold=true"],
        env=ansible_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def holding():
            journal = out / "latest" / "journal.jsonl"
            return journal.is_file() and journal.read_text().count('"event":"restart_begin"') == 2

        assert wait_until(holding, 120), "the playbook never reached its hold point"
        time.sleep(1)  # the hold task is running
        process.send_signal(sig)
        process.wait(60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
    fleet_json = out / "latest" / "fleet.json"
    assert wait_until(fleet_json.is_file, 30), "no report after the interruption"
    fleet = json.loads(fleet_json.read_text())
    assert fleet["run"]["state"] == "interrupted"
    # every host done so far: assessed (and installed) before the hold, two of them down in wave 1
    assert sorted(r["host"] for r in fleet["hosts"]) == ["app01", "sql01", "web01"]
    assert fleet["max_down"] == 2
    kinds = [event["event"] for event in journal_events(out)]
    assert kinds[-1] == "run_interrupted" and "run_end" not in kinds
    html = (out / "latest" / "fleet.html").read_text()
    assert "Interrupted: hosts done so far" in html
    assert_self_contained(html)


def test_a_later_run_marks_an_unfinished_run_interrupted(tmp_path):
    """A run whose controller died with no watcher to mark it (a container stopped): the next run marks it."""
    out = tmp_path / "out"
    stale = out / "20260101T000000Z-dead"
    stale.mkdir(parents=True)
    start = {"v": 1, "event": "run_start", "time": "2026-01-01T00:00:00.000Z", "run": stale.name,
             "controller": {"pid": 999999999, "start": None}, "check_mode": False}  # fmt: skip
    (stale / "journal.jsonl").write_text(json.dumps(start) + "\n")
    inventory = local_inventory(tmp_path / "inventory.yml", synthetic_hosts())
    play = write_yaml(tmp_path / "report.yml", REPORT_PLAY)
    result = playbook(play, inventory, "-e", f"hotpatch_report_dir={out}")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [json.loads(line) for line in (stale / "journal.jsonl").read_text().splitlines()]
    assert lines[-1]["event"] == "run_interrupted" and lines[-1]["by"] == "next run"
    assert json.loads((stale / "fleet.json").read_text())["run"]["state"] == "interrupted"
    assert (out / "latest").resolve() != stale.resolve()


# ---------------------------------------------------------------------------------------------- on the lab
LAB_FLEET = {
    "date": "2026-02-12T02:00:00Z",
    "hosts": {
        # eligible, on the January baseline: February's hotpatch, no restart
        "hp01": {"os": "2025", "platform": "azure"},
        # not eligible (2022 Standard on premises): conventional, restarts for the cumulative update
        "std01": {
            "os": "2022",
            "platform": "on_premises",
            "edition_id": "ServerStandard",
            "installation_type": "Server",
            "boot_seconds": 1,
        },
        # never answers: reported as failed with what is known
        "gone01": {"os": "2025", "platform": "azure", "faults": ["unreachable"]},
    },
}


@pytest.fixture(scope="module")
def lab_fleet_file(tmp_path_factory):
    pytest.importorskip("tests.lab", reason="the lab (tests/lab) is not there yet")
    return write_yaml(tmp_path_factory.mktemp("fleet") / "fleet.yml", LAB_FLEET)


def test_report_after_assess_alone_on_the_lab(lab_fleet_file, tmp_path):
    from tests.lab import Lab

    play = write_yaml(
        tmp_path / "assess_report.yml",
        [
            {
                "name": "Assess",
                "hosts": "windows",
                "gather_facts": False,
                "roles": [{"role": "hotpatch.windows.assess"}],
            },
            {
                "name": "Report",
                "hosts": "windows",
                "gather_facts": False,
                "roles": [{"role": "hotpatch.windows.report"}],
            },
        ],
    )
    with Lab(lab_fleet_file, tmp_path / "lab") as lab:
        result = playbook(play, Path(lab.inventory), "-e", f"hotpatch_report_dir={tmp_path / 'out'}")
        ledger = lab.ledger()
        assert ledger.restarts() == {} and ledger.installs() == {}
    fleet, _, html = read_report(tmp_path / "out")
    output = result.stdout + result.stderr
    assert fleet["phase"] == "assess", output
    records = {r["host"]: r for r in fleet["hosts"]}
    assert sorted(records) == ["gone01", "hp01", "std01"]
    assert (records["hp01"]["action"], records["hp01"]["eligible"]) == ("hotpatch", True), output
    assert records["std01"]["eligible"] is False
    assert records["std01"]["action"] == "conventional"
    assert records["std01"]["reasons"] and all(reason["code"] for reason in records["std01"]["reasons"])
    assert (records["gone01"]["status"], records["gone01"]["assessed"]) == ("failed", False)
    assert records["gone01"]["action"] == "unknown"
    assert records["gone01"]["message"].startswith("gone01: ")  # why assess failed, naming the host
    assert fleet["failed_hosts"] == ["gone01"]
    assert_self_contained(html)


def test_report_after_patch_on_the_lab(lab_fleet_file, tmp_path):
    from tests.lab import Lab

    with Lab(lab_fleet_file, tmp_path / "lab") as lab:
        result = playbook(
            Path("hotpatch.windows.patch"),
            Path(lab.inventory),
            "-e",
            f"hotpatch_report_dir={tmp_path / 'out'}",
        )
        restarts = lab.ledger().restarts()
    output = result.stdout + result.stderr
    fleet, rows, html = read_report(tmp_path / "out")
    records = {r["host"]: r for r in fleet["hosts"]}
    assert fleet["phase"] == "patch", output
    assert (records["hp01"]["status"], records["hp01"]["reboot_avoided"]) == ("patched", True), output
    assert records["hp01"]["build_after"] != records["hp01"]["build_before"]
    assert (records["gone01"]["status"], records["gone01"]["action"]) == ("failed", "unknown")
    # the report's restart count is the lab's
    assert fleet["restarts"] == len([h for h, n in restarts.items() if n]), (restarts, output)
    assert "hp01" not in restarts
    assert fleet["reboot_avoided"] == 1
    assert [row[0] for row in rows[1:]] == ["gone01", "hp01", "std01"]
    assert_self_contained(html)
