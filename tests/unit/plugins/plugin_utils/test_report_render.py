"""The report renderer (plugins/plugin_utils/_report.py): host records (cases/report.yml) and the files of a
run folder from a synthetic journal (synthetic_run.py)."""

import csv
import io
import json
import os
import re
import time
from html.parser import HTMLParser

import pytest
import synthetic_run
from hotpatch_cases import load, params

from ansible_collections.hotpatch.windows.plugins.plugin_utils import _journal, _report

CASES = load("report")


def _status(value):
    return CASES["base_status"] if value == "base" else value


@pytest.mark.parametrize("case", params(CASES["host_record"]))
def test_host_record(case):
    record = _report.host_record(
        case["host"], _status(case.get("status")), case.get("plan"), case.get("outcome"), case.get("extra")
    )
    for key, expected in case["expected"].items():
        assert record[key] == expected, key
    assert record["host"] == case["host"]
    json.dumps(record)  # plain JSON


def test_a_record_has_every_field():
    record = _report.host_record("web01", CASES["base_status"], {"action": "none"}, None)
    today = {
        *("host", "assessed", "stage", "os", "build_number", "platform", "eligible", "reasons", "warnings"),
        *("release_line", "group", "cycle", "current", "on_current_baseline", "up_to_date", "reboot_pending"),
        *("plan", "action", "status", "wave", "restarted", "reboot_avoided", "installed", "build_before"),
        *("build_after", "message"),
    }
    added = {"restarts", "restart", "cause", "deferred", "failed_updates", "times", "rollback"}
    assert today | added <= set(record)


def test_safe_file_names():
    assert _report.safe_name("web01.contoso.test") == "web01.contoso.test"
    assert _report.safe_name("../etc/passwd") == "_.._etc_passwd"
    assert _report.safe_name(".hidden") == "_.hidden"
    assert _report.safe_name("") == "_"


# ---------------------------------------------------------------------------------------------- run folder
@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    run = synthetic_run.write_run(root)
    summary = _report.render_run(run)
    return root, run, summary


def _fleet(run):
    return json.loads((run.dir / "fleet.json").read_text())


def test_files_of_the_run_folder(rendered):
    root, run, summary = rendered
    names = sorted(p.name for p in run.dir.iterdir())
    assert names == ["fleet.csv", "fleet.html", "fleet.json", "hosts", "journal.jsonl"]
    assert sorted(p.name for p in (run.dir / "hosts").iterdir()) == [
        f"{h}.json" for h in sorted(synthetic_run.hosts())
    ]
    assert os.readlink(root / "latest") == run.id
    # the top-level copies of the latest run (kept for one release)
    for name in ("fleet.json", "fleet.csv", "fleet.html"):
        assert (root / name).read_bytes() == (run.dir / name).read_bytes()
    assert not list(run.dir.rglob(".*.tmp")), "a temporary file was left behind"
    assert summary["html"] == str(run.dir / "fleet.html")
    assert summary["latest"] == str(root / "latest")


def test_summary(rendered):
    _, run, summary = rendered
    fleet = _fleet(run)
    assert {k: fleet[k] for k in summary if k != "run"} == {k: v for k, v in summary.items() if k != "run"}
    assert summary["run"].items() <= fleet["run"].items()  # fleet.json's run has more: sources, message ...
    assert summary["host_count"] == 8
    assert summary["state"] == "finished" and summary["run"]["state"] == "finished"
    assert summary["run"]["duration"] == 21 * 60.0
    assert summary["phase"] == "patch"
    assert {k: v for k, v in summary["by_status"].items() if v} == {
        "patched": 2,
        "restarted": 3,
        "failed": 2,
        "not_reached": 1,
    }
    assert summary["outcomes"] == "2 patched, 3 restarted, 2 failed, 1 not reached".replace(
        "not reached", "not_reached"
    )
    assert summary["restarts"] == 4  # hosts restarted at least once (app02 too: its restart began and failed)
    assert summary["restart_count"] == 5  # app01 twice
    assert summary["reboot_avoided"] == 2
    assert summary["max_down"] == 2
    assert summary["failed_hosts"] == ["app02", "dead01"]
    assert summary["not_reached_hosts"] == ["app03"]
    assert summary["security_deferred_hosts"] == ["web01"]
    assert summary["waves"] == [
        {"wave": 1, "hosts": ["app01", "sql01"]},
        {"wave": 2, "hosts": ["app02", "app03", "sql02"]},
    ]


def test_timeline_and_host_times(rendered):
    _, run, _ = rendered
    fleet = _fleet(run)
    timeline = fleet["timeline"]
    assert (timeline["start"], timeline["end"]) == ("2026-02-12T02:00:00.000Z", "2026-02-12T02:21:00.000Z")
    assert [(w["wave"], w["start"], w["end"], w["held"], w["failed"]) for w in timeline["waves"]] == [
        (1, "2026-02-12T02:03:00.000Z", "2026-02-12T02:10:00.000Z", [], []),
        (2, "2026-02-12T02:11:00.000Z", "2026-02-12T02:20:00.000Z", ["app03"], ["app02"]),
    ]
    records = {r["host"]: r for r in fleet["hosts"]}
    app01 = records["app01"]["times"]
    assert [(r["down"][11:19], r["up"][11:19], r["ok"]) for r in app01["restarts"]] == [
        ("02:03:30", "02:05:30", True),
        ("02:06:30", "02:09:30", True),
    ]
    assert (app01["down"], app01["up"]) == ("2026-02-12T02:03:30.000Z", "2026-02-12T02:09:30.000Z")
    assert records["app02"]["times"]["restarts"][0]["ok"] is False
    assert records["web01"]["times"] is None


def test_csv(rendered):
    _, run, _ = rendered
    rows = list(csv.reader(io.StringIO((run.dir / "fleet.csv").read_text())))
    assert rows[0] == list(_report.CSV_COLUMNS)
    by_host = {row[0]: dict(zip(_report.CSV_COLUMNS, row, strict=True)) for row in rows[1:]}
    assert sorted(by_host) == sorted(synthetic_run.hosts())
    assert by_host["sql01"]["reasons"] == "edition_not_supported"
    assert (by_host["app01"]["restarts"], by_host["app01"]["wave"], by_host["app01"]["restarted"]) == (
        "2",
        "1",
        "true",
    )
    assert by_host["app01"]["cause"] == "hotpatch_line_lost"
    assert by_host["web01"]["deferred"] == "KB5074000"
    assert by_host["dead01"]["eligible"] == ""
    raw = (run.dir / "fleet.csv").read_text()
    assert all(line.startswith('"') for line in raw.splitlines())  # every field quoted


class TagBalance(HTMLParser):
    VOID = {"meta", "br", "hr", "img", "input", "link", "col"}

    def __init__(self):
        super().__init__()
        self.open, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if self.open and self.open[-1] == tag:
            self.open.pop()
        else:
            self.errors.append((tag, self.getpos()))


def test_html_is_self_contained_balanced_and_escaped(rendered):
    _, run, _ = rendered
    html = (run.dir / "fleet.html").read_text()
    balance = TagBalance()
    balance.feed(html)
    assert balance.errors == [] and balance.open == [], (balance.errors[:5], balance.open)
    assert not re.search(r"https?://", html.replace("https://***@", "")), "a network address in fleet.html"
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", html, re.IGNORECASE)
    assert not re.search(r"\b(src|href)=", html, re.IGNORECASE)
    assert "<b>Azure</b>" not in html and "&lt;b&gt;Azure&lt;/b&gt;" in html
    assert "<svg" in html and 'class="down"' in html and 'class="wave"' in html
    assert "@media print" in html
    assert "Finished" in html and "Interrupted" not in html


def test_html_shows_the_why(rendered):
    _, run, _ = rendered
    html = (run.dir / "fleet.html").read_text()
    for text in (
        "off its baseline: must catch up",  # plan reasons
        "cause hotpatch_line_lost",  # cause
        "KB5074000",  # deferred security update
        "since 2026-01-13",
        "exposed 30 day(s)",
        "drivers are opt-in",  # skipped
        "ignored file_rename",  # ignored pending-restart signal
        "evidence:",  # restart evidence
        "most hosts down at once",
        "restarts avoided",
        "not yet published",  # calendar
        "newest published month",
    ):
        assert text in html, text


def test_no_secret_in_any_file(rendered):
    _, run, _ = rendered
    for path in run.dir.rglob("*"):
        if path.is_file():
            data = path.read_text()
            assert "Hunter2pass" not in data, path
            assert "admin:" not in data, path


def test_check_mode_is_labelled_a_plan(tmp_path):
    run, _ = _journal.open_run(tmp_path, synthetic_run.CONTROLLER, {"check_mode": True})
    record = _report.host_record(
        "web01", CASES["base_status"], {"action": "hotpatch", "reboot": False, "reasons": []},
        {"action": "hotpatch", "status": "check_mode", "message": "would install"},
    )  # fmt: skip
    _journal.append(run.journal, [_journal.event_line("host", {"host": "web01", "record": record})])
    _journal.append(run.journal, [_journal.event_line("run_end", {"state": "finished"})])
    summary = _report.render_run(run)
    html = (run.dir / "fleet.html").read_text()
    assert summary["check_mode"] is True
    assert "Plan (check mode): nothing was changed" in html
    assert "after patching" not in html


def test_interrupted_run(tmp_path):
    run = synthetic_run.write_run(tmp_path, finished=False)
    summary = _report.render_run(run)  # its controller (a pid that does not exist) is gone
    assert summary["state"] == "interrupted"
    html = (run.dir / "fleet.html").read_text()
    assert "Interrupted: hosts done so far" in html
    fleet = _fleet(run)
    assert fleet["run"]["ended"] == "2026-02-12T02:20:30.000Z"  # the last event
    assert len(fleet["hosts"]) == 8


def test_running_run(tmp_path):
    me = {"pid": os.getpid(), "start": _journal.process_start(os.getpid())}
    run, _ = _journal.open_run(tmp_path, me)
    _journal.append(run.journal, [_journal.event_line("restart_begin", {"host": "web01", "wave": 1})])
    summary = _report.render_run(run)
    html = (run.dir / "fleet.html").read_text()
    assert summary["state"] == "running" and "Running: the run has not finished" in html
    assert summary["max_down"] == 1  # down until now


def test_merge_of_slices_and_a_first_version_report(tmp_path):
    def slice_run(name, hosts, pid):
        root = tmp_path / name
        run, _ = _journal.open_run(root, {"pid": pid, "start": None})
        lines = []
        for host, state in hosts:
            plan = {"action": "hotpatch", "reasons": []}
            outcome = {"action": "hotpatch", "status": state, "message": name}
            record = _report.host_record(host, CASES["base_status"], plan, outcome)
            lines.append(_journal.event_line("host", {"host": host, "record": record}))
        _journal.append(run.journal, [*lines, _journal.event_line("run_end", {"state": "finished"})])
        return root

    one = slice_run("job-1", [("web01", "patched"), ("web02", "failed")], 999999990)
    two = slice_run("job-2", [("web02", "patched"), ("web03", "patched")], 999999991)
    legacy = tmp_path / "old"
    (legacy / "hosts").mkdir(parents=True)
    (legacy / "hosts" / "old01.json").write_text(
        json.dumps({"host": "old01", "status": "patched", "action": "hotpatch"})
    )
    merged, _ = _journal.open_run(tmp_path / "fleet", {"pid": os.getpid(), "start": None})
    summary = _report.render_run(merged, merge=[one, two, legacy])
    fleet = _fleet(merged)
    assert [(r["host"], r["message"] if r["host"] != "old01" else None) for r in fleet["hosts"]] == [
        ("old01", None),
        ("web01", "job-1"),
        ("web02", "job-2"),  # the later directory wins
        ("web03", "job-2"),
    ]
    assert summary["failed_hosts"] == []
    assert [s["state"] for s in fleet["run"]["sources"]] == ["finished", "finished", "finished"]


def test_render_of_1000_hosts_is_quick(tmp_path):
    run = synthetic_run.write_run(tmp_path, host_count=1000)
    started = time.perf_counter()
    summary = _report.render_run(run)
    took = time.perf_counter() - started
    assert summary["host_count"] == 1000
    assert took < 10, f"rendering 1000 hosts took {took:.1f} s"
