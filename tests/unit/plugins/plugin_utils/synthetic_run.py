"""A synthetic run journal (waves, restarts, reasons, deferred security updates) written with the real journal
API at fixed times: the report unit tests, the screenshot test and the render benchmark read it."""

import datetime
import json
from pathlib import Path

from ansible_collections.hotpatch.windows.plugins.plugin_utils import _journal, _report

START = datetime.datetime(2026, 2, 12, 2, 0, 0, tzinfo=datetime.UTC)
CONTROLLER = {"pid": 999999999, "start": None}  # no such process: a run without run_end reads interrupted


def at(minutes: float) -> str:
    return _journal.timestamp(START + datetime.timedelta(minutes=minutes))


def status(os="2025", eligible=True, build="26100.32230", ignored=(), warnings=(), reasons=()):
    major = 26100 if os == "2025" else 20348
    return {
        "facts": {"os": {"build": major, "ubr": int(build.split(".")[1])}, "now": "2026-02-12T02:00:00Z"},
        "eligibility": {
            "eligible": eligible,
            "platform": "azure" if eligible else "on_premises",
            "reasons": [dict(r) for r in reasons],
            "warnings": [],
        },
        "cycle": {
            "month": "2026-02",
            "type": "hotpatch",
            "unplanned": False,
            "kb": "KB5075942",
            "build": "26100.32313",
            "published": True,
            "release_date": "2026-02-10",
            "note": None,
            "programme": "active",
        },
        "release_line": "hotpatch" if eligible else "lcu",
        "current": {"build": build, "kb": "KB5073379", "month": "2026-01"},
        "baseline": {"build": build, "kb": "KB5073379", "month": "2026-01"},
        "on_current_baseline": eligible,
        "up_to_date": False,
        "reboot_pending": {
            "required": False,
            "reasons": [],
            "signals": [i["signal"] for i in ignored],
            "ignored": [dict(i) for i in ignored],
        },
        "date": {"value": "2026-02-12", "source": "host_clock"},
        "catalog": {"newest_month": "2026-05", "programme": None},
        "warnings": list(warnings),
    }


DOTNET = {
    "title": "2026-01 Security Update for .NET Framework 4.8.1 (KB5074000)",
    "kb": ["KB5074000"],
    "kind": "security",
    "security": True,
    "decision": "defer",
    "reason": "policy defer_non_security is off, but this host's window closed",
    "released": "2026-01-13",
}
DRIVER = {
    "title": "Contoso NIC driver 1.2.3",
    "kb": [],
    "kind": "driver",
    "security": False,
    "decision": "skip",
    "reason": "drivers are opt-in (patch_include_drivers): driver installs can drop WinRM",
    "released": None,
}
FILE_RENAME = {
    "signal": "file_rename",
    "detail": r"C:\Windows\Temp\av-update.tmp",
    "why": "PendingFileRenameOperations alone is not Windows' restart evidence",
}


def plan(action, reboot, reasons, group=None, deferred=(), cause=None):
    return {
        "action": action,
        "reboot": reboot,
        "reasons": list(reasons),
        "install": {"category_names": [], "accept_list": [], "reject_list": []},
        "updates": [],
        "deferred": [dict(d) for d in deferred],
        "cause": cause,
        "failed": False,
        "group": group,
    }


def outcome(action, state, message, wave=None, restarts=0, installed=(), evidence=(), avoided=False, **more):
    result = {
        "action": action,
        "route": "done",
        "status": state,
        "restarted": restarts > 0,
        "restarts": restarts,
        "reboot_avoided": avoided,
        "restart": {"needed": bool(evidence), "evidence": list(evidence), "ignored": []},
        "wave": wave,
        "installed": list(installed),
        "failed_updates": [],
        "deferred": [],
        "build_before": "26100.32230",
        "build_after": "26100.32313" if installed else "26100.32230",
        "down": False,
        "cause": None,
        "message": message,
    }
    result.update(more)
    return result


LONG = (
    "wave 2: the restart failed: timed out waiting for the host to come back after "
    + "a-very-long-token-without-spaces-" * 6
    + " (health check https://admin:Hunter2pass@health.example.test/ping?full=1)"
)


def hosts():
    """{host: (status, plan, outcome)} of the synthetic fleet."""
    cve = {
        "code": "hotpatch_line_lost",
        "message": "this host is offered the cumulative update and no hotpatch",
    }
    return {
        "web01": (
            status(),
            plan("hotpatch", False, ["hotpatch month, on the January baseline"], "web", deferred=[DOTNET]),
            outcome(
                "hotpatch",
                "patched",
                "installed KB5075942 without a restart",
                installed=["KB5075942"],
                avoided=True,
                deferred=[DOTNET],
            ),
        ),
        "web02": (
            status(ignored=[FILE_RENAME], warnings=["the host's clock is 3 minutes ahead of the controller"]),
            plan("hotpatch", False, ["hotpatch month"], "web", deferred=[DRIVER]),
            outcome(
                "hotpatch",
                "patched",
                "installed KB5075942",
                installed=["KB5075942"],
                avoided=True,
                deferred=[DRIVER],
            ),
        ),
        "sql01": (
            status(
                "2022",
                eligible=False,
                build="20348.4648",
                reasons=[{"code": "edition_not_supported", "message": 'Standard, "not" <b>Azure</b>'}],
            ),
            plan("conventional", True, ["not eligible: regular updates"], "sql"),
            outcome(
                "conventional",
                "restarted",
                "wave 1: installed KB5075943, restarted, healthy",
                wave=1,
                restarts=1,
                installed=["KB5075943"],
                evidence=["win_updates reported reboot_required"],
            ),
        ),
        "sql02": (
            status("2022", eligible=False, build="20348.4648"),
            plan("conventional", True, ["not eligible: regular updates"], "sql"),
            outcome(
                "conventional",
                "restarted",
                "wave 2: installed KB5075943, restarted, healthy",
                wave=2,
                restarts=1,
                installed=["KB5075943"],
                evidence=["pending restart: cbs"],
            ),
        ),
        "app01": (
            status(build="26100.31000"),
            plan("baseline", True, ["off its baseline: must catch up"], "app", cause=cve),
            outcome(
                "baseline",
                "restarted",
                "wave 1: restarted twice (pending restart, then the cumulative update)",
                wave=1,
                restarts=2,
                installed=["KB5073379"],
                evidence=["pending restart: cbs", "win_updates reported reboot_required"],
                cause=cve,
            ),
        ),
        "app02": (
            status(build="26100.31000"),
            plan("baseline", True, ["off its baseline: must catch up"], "app"),
            outcome("baseline", "failed", LONG, wave=2, restarts=1, installed=["KB5073379"], down=True),
        ),
        "app03": (
            status(build="26100.31000"),
            plan("baseline", True, ["off its baseline: must catch up"], "app"),
            outcome(
                "baseline",
                "not_reached",
                "held back: availability group app already has 1 host(s) down (app02), patch_max_per_group=1",
                wave=2,
            ),
        ),
        "dead01": ({"failed": True, "message": "dead01: unreachable: connection refused"}, None, None),
    }


def write_run(root: Path, finished=True, host_count=None) -> _journal.Run:
    """The synthetic run under ``root``; ``host_count`` adds generated hosts (for the render benchmark)."""
    run, _ = _journal.open_run(
        root,
        CONTROLLER,
        {
            "playbook": "patch",
            "check_mode": False,
            "settings": {"patch_batch_size": 2, "patch_health_url": "https://admin:Hunter2pass@health/ping"},
            "hosts": sorted(hosts()),
        },
        moment=START,
    )
    fleet = hosts()
    if host_count:
        for index in range(host_count - len(fleet)):
            fleet[f"gen{index:05d}"] = fleet[["web01", "sql01", "app01", "web02"][index % 4]]
    lines = []
    for minute, (name, (st, pl, _)) in enumerate(sorted(fleet.items())):
        record = _report.host_record(name, st, pl, None, {"stage": "assess"})
        lines.append(
            _journal.event_line(
                "host", {"host": name, "stage": "assess", "record": record, "time": at(0.5 + minute * 0.001)}
            )
        )
    waves = [
        (1, ["app01", "sql01"], [], 3, 10),
        (2, ["app02", "sql02"], ["app03"], 11, 20),
    ]
    for number, members, held, begin, end in waves:
        lines.append(
            _journal.event_line(
                "wave_start", {"wave": number, "hosts": members, "held": held, "time": at(begin)}
            )
        )
        for offset, name in enumerate(members):
            down = begin + 0.5 + offset
            lines.append(
                _journal.event_line("restart_begin", {"host": name, "wave": number, "time": at(down)})
            )
            if name == "app01":  # restarted twice
                lines.append(
                    _journal.event_line(
                        "restart_end",
                        {"host": name, "wave": number, "elapsed": 120, "ok": True, "time": at(down + 2)},
                    )
                )
                lines.append(
                    _journal.event_line("restart_begin", {"host": name, "wave": number, "time": at(down + 3)})
                )
                down += 3
            ok = name != "app02"
            up = down + (3 if ok else 6)
            lines.append(
                _journal.event_line(
                    "restart_end",
                    {"host": name, "wave": number, "elapsed": (up - down) * 60, "ok": ok, "time": at(up)},
                )
            )
        failed = ["app02"] if number == 2 else []
        lines.append(
            _journal.event_line(
                "wave_end",
                {
                    "wave": number,
                    "hosts": members,
                    "held": held,
                    "failed": failed,
                    "stopped": False,
                    "message": "",
                    "time": at(end),
                },
            )
        )
    for name, (st, pl, oc) in sorted(fleet.items()):
        record = _report.host_record(
            name, st, pl, oc, {"stage": "final", "inventory": {"group": (pl or {}).get("group")}}
        )
        lines.append(
            _journal.event_line("host", {"host": name, "stage": "final", "record": record, "time": at(20.5)})
        )
    _journal.append(run.journal, lines)
    if finished:
        _journal.append(
            run.journal,
            [_journal.event_line("run_end", {"state": "finished", "summary": {}, "time": at(21)})],
        )
    return run


if __name__ == "__main__":  # python synthetic_run.py DIR: write and render one, print the summary
    import sys

    target = Path(sys.argv[1])
    made = write_run(target)
    print(json.dumps(_report.render_run(made), indent=2))
