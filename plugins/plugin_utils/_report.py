# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report: host records, and the files of a run folder, built from run journals.

FOR INTERNAL COLLECTION USE ONLY: the interfaces here are meant for this collection's own plugins (the
``hotpatch.windows.journal`` action plugin and the run watcher). They may change in any release.

``host_record(host, status, plan, outcome, extra)`` is the one place a host record is made (the journal's
``host`` lines hold them). ``render_run(run, merge)`` reads the run's journal (and those of merged report
directories: AWX job slices), and writes atomically into the run folder:

- ``hosts/<host>.json``: one record per host;
- ``fleet.json``: the summary, ``run``, ``calendar``, ``timeline`` and ``hosts`` (every record);
- ``fleet.csv``: one row per host;
- ``fleet.html``: one self-contained page (inline CSS and SVG, no script, no external asset).

No Jinja: plain Python with every value escaped (``html.escape``) and every string's URL credentials masked.
"""

from __future__ import annotations

import csv
import datetime
import html
import io
import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ansible_collections.hotpatch.windows.plugins.plugin_utils import _journal
from ansible_collections.hotpatch.windows.plugins.plugin_utils._journal import (
    Journal,
    Run,
    mask_secrets,
    parse_time,
)

OS_BY_BUILD = {14393: "2016", 17763: "2019", 20348: "2022", 26100: "2025"}
OS_NAMES = {"2022": "Windows Server 2022 Datacenter: Azure Edition", "2025": "Windows Server 2025"}
ACTIONS = ("none", "hotpatch", "baseline", "reboot", "conventional", "rollback", "enable", "unknown")
STATUSES = (
    "unchanged",
    "patched",
    "restarted",
    "deferred",
    "held",
    "failed",
    "not_reached",
    "check_mode",
    "planned",
    "assessed",
    "rolled_back",
    "enabled",
    "refused",
    "unknown",
)
PROBLEM_STATUSES = ("failed", "deferred", "not_reached", "held")
CSV_COLUMNS = (
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
)
FILES = ("fleet.json", "fleet.csv", "fleet.html")
ACTION_MEANING = {
    "none": "nothing to do",
    "hotpatch": "security hotpatch, no restart",
    "baseline": "baseline cumulative update, restarts when Windows says so",
    "reboot": "a restart was already pending",
    "conventional": "not hotpatch-eligible: regular updates, restart only if Windows needs it",
    "rollback": "the latest hotpatch or cumulative update removed (hotpatch.windows.rollback)",
    "enable": "hotpatch turned on: VBS, Arm64 CHPE off, the Arc licence (hotpatch.windows.enable)",
    "unknown": "not assessed",
}
MAX_TIMELINE_ROWS = 400


# ---------------------------------------------------------------------------------------------- helpers
def _map(value: Any) -> dict:
    return dict(value) if isinstance(value, Mapping) else {}


def _list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool(value: Any, default: bool | None = False) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    if value is None:
        return default
    return bool(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value if not isinstance(value, datetime.datetime) else value.date()
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _dedup(items: Iterable[Any]) -> list:
    seen, result = set(), []
    for item in items:
        key = json.dumps(item, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result


def safe_name(host: str) -> str:
    """The file name of a host's record: the inventory hostname, with characters a path cannot hold safely
    (anything but letters, digits, '.', '_', '-') replaced by '_' and a leading '.' prefixed with '_'."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", host) or "_"
    return "_" + name if name.startswith(".") else name


# ---------------------------------------------------------------------------------------------- records
def _deferred(items: Any, today: datetime.date | None) -> list[dict]:
    """The deferred / skipped updates with since-when and, for security updates, the exposure in days."""
    result = []
    for item in _list(items):
        if not isinstance(item, Mapping):
            continue
        entry = {
            key: item.get(key)
            for key in ("title", "kb", "kind", "security", "decision", "reason", "released")
            if key in item
        }
        since = _date(item.get("released"))
        entry["since"] = since.isoformat() if since else None
        exposure = None
        if since and today and _bool(item.get("security")):
            exposure = max(0, (today - since).days)
        entry["exposure_days"] = exposure
        result.append(entry)
    return result


def host_record(
    host: str,
    status: Mapping[str, Any] | None,
    plan: Mapping[str, Any] | None,
    outcome: Mapping[str, Any] | None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One host record from ``hotpatch_status`` (baseline_info), ``hotpatch_plan`` (host_plan + group) and
    ``hotpatch_outcome`` (_outcome.py), any of them missing. ``extra``: ``active`` (the host is still in the
    play; false: it failed or became unreachable later), ``inventory`` (``{platform, group}`` the inventory
    knows), ``rollback`` (what the rollback role recorded), ``assessed_at``, ``stage``, ``times``."""
    extra = _map(extra)
    raw_status = _map(status)
    plan = _map(plan) or None
    outcome = _map(outcome) or None
    assessed = (
        bool(raw_status)
        and not raw_status.get("failed")
        and isinstance(raw_status.get("eligibility"), Mapping)
    )
    st = raw_status if assessed else {}
    facts = _map(st.get("facts"))
    os_facts = _map(facts.get("os"))
    build_number = _int(os_facts.get("build"))
    eligibility = _map(st.get("eligibility"))
    cycle = _map(st.get("cycle"))
    current = _map(st.get("current"))
    pending = _map(st.get("reboot_pending"))
    inventory = _map(extra.get("inventory"))
    active = _bool(extra.get("active"), True)
    today = _date(_map(st.get("date")).get("value")) or _date(facts.get("now"))

    rollback = _map(extra.get("rollback"))
    rollback_only = not assessed and not raw_status and not outcome and bool(rollback)
    if rollback_only:
        # a host the rollback role worked on without an assessment in this run (playbook rollback + report)
        action = "rollback"
        state = "rolled_back" if _bool(rollback.get("removed")) else "unchanged"
        if str(rollback.get("message") or "").startswith("would "):
            state = "check_mode"
        message = rollback.get("message") or ""
    elif not assessed:
        action, state = "unknown", "failed"
        message = (
            (outcome or {}).get("message")
            or raw_status.get("message")
            or (
                "not assessed: the host was unreachable or its assessment failed (see the play output)"
                if not active or raw_status.get("failed")
                else "not assessed: no hotpatch_status (run hotpatch.windows.assess first)"
            )
        )
    elif outcome:
        action = outcome.get("action") or (plan or {}).get("action") or "unknown"
        state = outcome.get("status") or "unknown"
        message = outcome.get("message") or ""
    elif plan:
        action, state = plan.get("action") or "unknown", "assessed"
        message = "; ".join(str(reason) for reason in _list(plan.get("reasons")))
    else:
        action, state, message = "unknown", "assessed", "assessed, but no plan was made for this host"
    if not active and state not in ("failed", "not_reached"):
        message = "the host failed or became unreachable during the play" + (
            f"; {message}" if message else ""
        )
        state = "failed"

    out = outcome or {}
    restart = _map(out.get("restart"))
    restarts = _int(out.get("restarts")) or 0
    restarted = bool(_bool(out.get("restarted"))) or restarts > 0
    if rollback_only and _bool(rollback.get("restarted")):
        restarted = True
    if restarted and not restarts:
        restarts = 1
    warnings = _dedup([*_list(eligibility.get("warnings")), *_list(st.get("warnings"))])
    deferred_source = out.get("deferred") if "deferred" in out else (plan or {}).get("deferred")
    cause = out.get("cause") if out.get("cause") else (plan or {}).get("cause")
    record = {
        "host": str(host),
        "assessed": assessed,
        "stage": (
            ("enable" if out.get("action") == "enable" else "patch")
            if outcome
            else ("assess" if assessed else "rollback" if rollback_only else "none")
        ),
        "os": OS_BY_BUILD.get(build_number) if build_number is not None else None,
        "build_number": build_number,
        "platform": eligibility.get("platform") or inventory.get("platform") or "unknown",
        "eligible": eligibility.get("eligible") if isinstance(eligibility.get("eligible"), bool) else None,
        "reasons": [
            dict(r) if isinstance(r, Mapping) else {"code": None, "message": str(r)}
            for r in _list(eligibility.get("reasons"))
        ],
        "warnings": [str(w) for w in warnings],
        "release_line": st.get("release_line") or "unknown",
        "group": (plan or {}).get("group") or inventory.get("group"),
        "cycle": {
            "month": cycle.get("month"),
            "type": cycle.get("type"),
            "unplanned": bool(cycle.get("unplanned", False)),
            "kb": cycle.get("kb"),
            "published": cycle.get("published"),
            "note": cycle.get("note"),
        },
        "current": {"build": current.get("build"), "kb": current.get("kb"), "month": current.get("month")},
        "on_current_baseline": st.get("on_current_baseline") if assessed else None,
        "up_to_date": st.get("up_to_date") if assessed else None,
        "reboot_pending": pending.get("required") if assessed else None,
        "reboot_pending_reasons": [str(r) for r in _list(pending.get("reasons"))],
        "reboot_pending_ignored": [
            dict(i) if isinstance(i, Mapping) else {"signal": str(i)} for i in _list(pending.get("ignored"))
        ],
        "date": _map(st.get("date")).get("value"),
        "plan": (
            {
                "action": plan.get("action"),
                "reboot": plan.get("reboot"),
                "reasons": [str(r) for r in _list(plan.get("reasons"))],
                "cause": plan.get("cause"),
                "failed": bool(plan.get("failed", False)),
                # every offered update as the plan decided it (install, defer, skip, reject) and why
                "updates": [
                    {
                        key: update.get(key)
                        for key in ("title", "kb", "kind", "security", "decision", "reason", "covered_by")
                    }
                    for update in _list(plan.get("updates"))
                    if isinstance(update, Mapping)
                ],
            }
            if plan
            else None
        ),
        "action": action,
        "status": state,
        "wave": _int(out.get("wave")),
        "restarted": restarted,
        "restarts": restarts,
        "reboot_avoided": bool(_bool(out.get("reboot_avoided"))),
        "restart": {
            "needed": bool(_bool(restart.get("needed"))),
            "evidence": [str(e) for e in _list(restart.get("evidence"))],
            "ignored": [
                dict(i) if isinstance(i, Mapping) else {"signal": str(i)}
                for i in _list(restart.get("ignored"))
            ],
        },
        "installed": [str(kb) for kb in _list(out.get("installed"))],
        "failed_updates": [str(kb) for kb in _list(out.get("failed_updates"))],
        "deferred": _deferred(deferred_source, today),
        "cause": dict(cause) if isinstance(cause, Mapping) else None,
        "build_before": (
            out.get("build_before", current.get("build"))
            if outcome
            else rollback.get("build_before")
            if rollback_only
            else current.get("build")
        ),
        "build_after": out.get("build_after")
        if outcome
        else rollback.get("build_after")
        if rollback_only
        else None,
        "message": str(message),
        "times": extra.get("times"),
        "rollback": dict(extra["rollback"]) if isinstance(extra.get("rollback"), Mapping) else None,
        "assessed_at": extra.get("assessed_at"),
        "journal_stage": extra.get("stage"),
        "signals": _signals(st, facts),
    }
    return mask_secrets(_journal._jsonable(record))


def _signals(status: Mapping, facts: Mapping) -> dict:
    """What the enrolment probe read about who else patches the host and what it could not read
    (docs/probe.md): read errors (as the probe recorded them: off Azure the metadata address fails as a rule;
    the eligibility reasons say which read errors matter), local enrolment signals, the update source and
    Automatic Updates, the Azure patch mode (hotpatch_azure_patch_mode) and the Arc agent's status."""
    orchestration = _map(status.get("orchestration"))
    enrolment = _map(status.get("enrolment"))
    return {
        "read_errors": {str(k): str(v) for k, v in _map(status.get("read_errors")).items()},
        "enrolment": enrolment.get("complete"),
        "enrolment_missing": [str(item) for item in _list(enrolment.get("missing"))],
        "update_source": orchestration.get("update_source"),
        "wsus_server": orchestration.get("wsus_server"),
        "automatic_updates": orchestration.get("automatic_updates"),
        "azure_patch_mode": orchestration.get("azure_patch_mode"),
        "azcmagent": _map(facts.get("azcmagent")).get("status") or None,
        "findings": [
            str(item.get("code"))
            for item in _list(orchestration.get("findings"))
            if isinstance(item, Mapping)
        ],
    }


# ---------------------------------------------------------------------------------------------- sources
@dataclass
class Source:
    """One journal the report reads: the run's own, or a merged report directory's."""

    journal: Journal
    label: str
    own: bool = False
    legacy: bool = False

    @property
    def start(self) -> dict:
        return self.journal.start


def _legacy_journal(directory: Path) -> Journal | None:
    """A report directory of the first version (``hosts/*.json`` beside ``fleet.json``) as a journal."""
    files = sorted((directory / "hosts").glob("*.json"))
    if not files:
        return None
    journal = Journal(directory / "hosts")
    for path in files:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            journal.skipped += 1
            continue
        if isinstance(record, dict) and record.get("host"):
            journal.events.append({"v": 0, "event": "host", "host": record["host"], "record": record})
    journal.events.insert(0, {"v": 0, "event": "run_start", "run": directory.name})
    journal.events.append({"v": 0, "event": "run_end", "state": "finished"})
    return journal


def merge_source(path: os.PathLike | str) -> Source | None:
    """A report directory to merge: a run folder, a report directory (its ``latest`` run), or a report
    directory of the first version (``hosts/*.json``). None when it holds no report."""
    directory = Path(os.path.realpath(os.path.expanduser(os.fspath(path))))
    if (directory / _journal.JOURNAL).is_file():
        return Source(_journal.read(directory / _journal.JOURNAL), str(directory))
    run = _journal.latest_run(directory)
    if run is not None:
        return Source(_journal.read(run.journal), str(directory))
    legacy = _legacy_journal(directory)
    if legacy is not None:
        return Source(legacy, str(directory), legacy=True)
    return None


# ---------------------------------------------------------------------------------------------- timeline
def _seconds(a: datetime.datetime | None, b: datetime.datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return round((b - a).total_seconds(), 3)


def _source_end(source: Source, now: datetime.datetime, state: str) -> datetime.datetime | None:
    """When a source's run ended (run_end, run_interrupted, its last event), or now while it runs."""
    end = source.journal.end or source.journal.interrupted
    if end is not None:
        return parse_time(end.get("time"))
    if state == "running":
        return now
    times = [parse_time(e.get("time")) for e in source.journal.events]
    times = [t for t in times if t is not None]
    return max(times) if times else None


def _timeline(sources: list[Source], now: datetime.datetime, states: list[str]) -> dict:
    """Restarts per host (down/up), waves (start/end) and the run's span, from the journals' events."""
    restarts: dict[str, list[dict]] = {}
    waves: list[dict] = []
    starts, ends = [], []
    multi = len([s for s in sources if s.journal.events]) > 1
    for index, (source, state) in enumerate(zip(sources, states, strict=True)):
        if source.legacy:
            continue
        start = parse_time(source.start.get("time"))
        end = _source_end(source, now, state)
        if start:
            starts.append(start)
        if end:
            ends.append(end)
        open_restarts: dict[str, dict] = {}
        open_waves: dict[Any, dict] = {}
        for event in source.journal.events:
            kind = event.get("event")
            moment = parse_time(event.get("time"))
            if kind == "restart_begin" and event.get("host"):
                host = str(event["host"])
                entry = {
                    "wave": _int(event.get("wave")),
                    "down": event.get("time"),
                    "up": None,
                    "elapsed": None,
                    "ok": None,
                    "source": index,
                }
                restarts.setdefault(host, []).append(entry)
                open_restarts[host] = entry
            elif kind == "restart_end" and event.get("host"):
                host = str(event["host"])
                entry = open_restarts.pop(host, None)
                if entry is None:  # an end without its begin: the restart took `elapsed` seconds up to now
                    elapsed = event.get("elapsed")
                    begin = (
                        moment - datetime.timedelta(seconds=float(elapsed))
                        if moment and isinstance(elapsed, (int, float))
                        else moment
                    )
                    entry = {
                        "wave": _int(event.get("wave")),
                        "down": _journal.timestamp(begin) if begin else None,
                        "source": index,
                    }
                    restarts.setdefault(host, []).append(entry)
                entry.update(up=event.get("time"), ok=_bool(event.get("ok"), None))
                elapsed = event.get("elapsed")
                entry["elapsed"] = (
                    float(elapsed)
                    if isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool)
                    else _seconds(parse_time(entry.get("down")), moment)
                )
            elif kind == "wave_start":
                key = _int(event.get("wave"))
                label = f"wave {key}" + (f" ({Path(source.label).name})" if multi and not source.own else "")
                wave = {
                    "wave": key,
                    "label": label,
                    "start": event.get("time"),
                    "end": None,
                    "hosts": [str(h) for h in _list(event.get("hosts"))],
                    "held": [str(h) for h in _list(event.get("held"))],
                    "failed": [],
                    "stopped": False,
                    "message": "",
                    "source": index,
                }
                waves.append(wave)
                open_waves[key] = wave
            elif kind == "wave_end":
                key = _int(event.get("wave"))
                wave = open_waves.pop(key, None)
                if wave is None:
                    wave = {
                        "wave": key,
                        "label": f"wave {key}",
                        "start": None,
                        "hosts": [],
                        "held": [],
                        "source": index,
                    }
                    waves.append(wave)
                wave.update(
                    end=event.get("time"),
                    failed=[str(h) for h in _list(event.get("failed"))],
                    stopped=bool(_bool(event.get("stopped"))),
                    message=_text(event.get("message")),
                )
                for key_name in ("hosts", "held"):
                    if event.get(key_name) is not None:
                        wave[key_name] = [str(h) for h in _list(event.get(key_name))]
    start = min(starts) if starts else None
    end = max(ends) if ends else None
    # the most hosts down at once: a restart without its end is down until its run ended
    points = []
    for host, entries in restarts.items():
        for entry in entries:
            down = parse_time(entry.get("down"))
            up = parse_time(entry.get("up")) or end
            if down is None:
                continue
            points.append((down, 1, host))
            if up is not None:
                points.append((max(up, down), -1, host))
    points.sort(key=lambda p: (p[0], p[1]))
    current = peak = 0
    peak_at = None
    for moment, delta, _host in points:
        current += delta
        if current > peak:
            peak, peak_at = current, moment
    return {
        "start": _journal.timestamp(start) if start else None,
        "end": _journal.timestamp(end) if end else None,
        "duration": _seconds(start, end),
        "restarts": restarts,
        "waves": waves,
        "max_down": peak,
        "max_down_at": _journal.timestamp(peak_at) if peak_at else None,
    }


def _times(entries: list[dict]) -> dict | None:
    if not entries:
        return None
    ups = [e.get("up") for e in entries if e.get("up")]
    return {
        "down": entries[0].get("down"),
        "up": ups[-1] if ups else None,
        "restarts": [{k: e.get(k) for k in ("wave", "down", "up", "elapsed", "ok")} for e in entries],
    }


# ---------------------------------------------------------------------------------------------- calendar
def calendar(year: int, cycle_months: Iterable[str] = (), catalog: Any = None) -> dict:
    """The release calendar of one year for both hotpatch operating systems, with the catalog's freshness."""
    from ansible_collections.hotpatch.windows.plugins.plugin_utils._catalog import load_catalog

    loaded = load_catalog(catalog or None)
    current = set(cycle_months)
    rows = []
    for os_name in ("2022", "2025"):
        months = []
        for month in range(1, 13):
            entry = loaded.entry(os_name, year, month)
            months.append(dict(entry, current=entry["month"] in current))
        programme = loaded.programme(os_name)
        rows.append(
            {
                "os": os_name,
                "name": OS_NAMES[os_name],
                "months": months,
                "newest_month": loaded.newest_month(os_name),
                "programme": programme.row() if programme else None,
            }
        )
    sources = {}
    for key, value in sorted(loaded.sources.items()):
        value = _map(value)
        sources[str(key)] = {k: value.get(k) for k in ("title", "url", "retrieved")}
    return {
        "year": year,
        "rows": rows,
        "newest_month": {row["os"]: row["newest_month"] for row in rows},
        "sources": sources,
        "user_rows": len(loaded.items("user")),
    }


# ---------------------------------------------------------------------------------------------- build
@dataclass
class Report:
    summary: dict
    records: list[dict]
    calendar: dict
    timeline: dict
    run: dict
    settings: dict = field(default_factory=dict)

    def fleet(self) -> dict:
        return dict(
            self.summary,
            run=self.run,
            settings=self.settings,
            calendar=self.calendar,
            timeline=self.timeline,
            hosts=self.records,
        )


def _counts(records: list[dict], key: str, names: tuple) -> dict:
    counts = dict.fromkeys(names, 0)
    for record in records:
        value = record.get(key) or "unknown"
        counts[value] = counts.get(value, 0) + 1
    return counts


def build(
    run: Run | None,
    sources: list[Source],
    *,
    report_dir: Path,
    calendar_year: int | None = None,
    catalog: Any = None,
    now: datetime.datetime | None = None,
    finishing: bool = False,
    alive: bool | None = None,
) -> Report:
    """The report model from the sources (the run's own journal last: its hosts win). ``finishing``: the
    run is about to write run_end (its summary is wanted), so it counts as finished."""
    now = now or _journal.utcnow()
    states = []
    for source in sources:
        if source.own and finishing:
            states.append("finished")
        else:
            states.append(source.journal.state(alive if source.own else None))
    timeline = _timeline(sources, now, states)
    records: dict[str, dict] = {}
    for index, source in enumerate(sources):
        latest: dict[str, dict] = {}
        for event in source.journal.events:
            if (
                event.get("event") == "host"
                and isinstance(event.get("record"), Mapping)
                and event.get("host")
            ):
                latest[str(event["host"])] = dict(event["record"])
        for host, record in latest.items():
            entries = [e for e in timeline["restarts"].get(host, []) if e.get("source") == index]
            if entries:
                record["times"] = _times(entries)
                done = sum(1 for e in entries if e.get("ok"))
                if done > (record.get("restarts") or 0):
                    record["restarts"] = done
                record["restarted"] = bool(record.get("restarted")) or record["restarts"] > 0
            records[host] = record
    # hosts of the play that were never journaled: listed at run_start
    own = next((s for s in sources if s.own), None)
    ordered = [records[h] for h in sorted(records)]
    for record in ordered:
        for entry in record.get("deferred") or []:
            entry.setdefault("exposure_days", None)

    own_start = own.start if own else {}
    own_state = states[sources.index(own)] if own else "finished"
    started = own_start.get("time")
    end_event = (own.journal.end or own.journal.interrupted) if own else None
    ended = end_event.get("time") if end_event else (_journal.timestamp(now) if finishing else None)
    if own_state == "interrupted" and not ended and own:
        times = [e.get("time") for e in own.journal.events if e.get("time")]
        ended = times[-1] if times else None
    duration = _seconds(parse_time(started), parse_time(ended) or (now if own_state == "running" else None))
    merged = [s for s in sources if not s.own]
    check_mode = bool(own_start.get("check_mode")) or (
        bool(merged) and all(bool(s.start.get("check_mode")) for s in merged)
    )
    interrupted_message = (own.journal.interrupted or {}).get("message") if own else None
    if own_state == "interrupted" and not interrupted_message:
        pid = (own_start.get("controller") or {}).get("pid")
        interrupted_message = f"the controller process (pid {pid}) ended before the run finished"
    run_info = {
        "id": own.journal.run_id if own else None,
        "state": own_state,
        "check_mode": check_mode,
        "started": started,
        "ended": ended,
        "duration": duration,
        "dir": str(run.dir) if run else None,
        "playbook": own_start.get("playbook"),
        "controller_pid": (own_start.get("controller") or {}).get("pid"),
        "message": interrupted_message if own_state == "interrupted" else None,
        "skipped_lines": sum(s.journal.skipped for s in sources),
        "sources": [
            {
                "dir": s.label,
                "id": s.journal.run_id,
                "state": state,
                "check_mode": bool(s.start.get("check_mode")),
                "started": s.start.get("time"),
                "ended": ((s.journal.end or s.journal.interrupted) or {}).get("time"),
                "hosts": len({e.get("host") for e in s.journal.events if e.get("event") == "host"}),
            }
            for s, state in zip(sources, states, strict=True)
            if not s.own
        ],
    }
    months = [r["cycle"]["month"] for r in ordered if (r.get("cycle") or {}).get("month")]
    if calendar_year:
        year = int(calendar_year)
    elif months:
        year = int(sorted(months)[0][:4])
    else:
        year = (parse_time(started) or now).year
    catalog_rows = catalog if catalog not in (None, "", []) else (own_start.get("catalog") or {}).get("rows")
    cal = calendar(year, months, catalog_rows)

    waves_by_number: dict[int, list[str]] = {}
    for record in ordered:
        if isinstance(record.get("wave"), int):
            waves_by_number.setdefault(record["wave"], []).append(record["host"])
    html_path = str((run.dir if run else report_dir) / "fleet.html")
    summary = {
        "generated": _journal.timestamp(now)[:19] + "Z",
        "check_mode": check_mode,
        "state": own_state,
        "phase": (
            "enable"
            if any(r.get("stage") == "enable" for r in ordered)
            else "patch"
            if any(r.get("stage") == "patch" for r in ordered)
            else "rollback"
            if any(r.get("stage") == "rollback" for r in ordered)
            else "assess"
        ),
        "host_count": len(ordered),
        "by_action": _counts(ordered, "action", ACTIONS),
        "by_status": _counts(ordered, "status", STATUSES),
        "outcomes": ", ".join(
            f"{count} {name}" for name, count in _counts(ordered, "status", STATUSES).items() if count
        ),
        "restarts_planned": sum(1 for r in ordered if (r.get("plan") or {}).get("reboot")),
        "restarts": sum(1 for r in ordered if r.get("restarted")),
        "restart_count": sum(int(r.get("restarts") or 0) for r in ordered),
        "reboot_avoided": sum(1 for r in ordered if r.get("reboot_avoided")),
        "max_down": timeline["max_down"],
        "failed_hosts": [r["host"] for r in ordered if r.get("status") == "failed"],
        "deferred_hosts": [r["host"] for r in ordered if r.get("status") == "deferred"],
        "not_reached_hosts": [r["host"] for r in ordered if r.get("status") == "not_reached"],
        "held_hosts": [r["host"] for r in ordered if r.get("status") == "held"],
        "security_deferred_hosts": [
            r["host"] for r in ordered if any(d.get("security") for d in r.get("deferred") or [])
        ],
        "waves": [{"wave": n, "hosts": hosts} for n, hosts in sorted(waves_by_number.items())],
        "run": {k: run_info[k] for k in ("id", "state", "check_mode", "started", "ended", "duration", "dir")},
        "report_dir": str(report_dir),
        "run_dir": str(run.dir) if run else None,
        "latest": str(report_dir / _journal.LATEST),
        "html": html_path,
        "csv": str(Path(html_path).with_name("fleet.csv")),
        "json": str(Path(html_path).with_name("fleet.json")),
    }
    settings = own_start.get("settings") if isinstance(own_start.get("settings"), Mapping) else {}
    return Report(
        summary=mask_secrets(summary),
        records=ordered,
        calendar=cal,
        timeline=mask_secrets(timeline),
        run=mask_secrets(run_info),
        settings=mask_secrets(settings),
    )


# ---------------------------------------------------------------------------------------------- files
def write_atomic(path: Path, data: str | bytes) -> None:
    """Write a file whole or not at all: a temporary file in the same folder renamed over it."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    try:
        os.replace(temp, path)
    except OSError:
        os.unlink(temp)
        raise


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_csv(records: list[dict]) -> str:
    """One row per host, every field quoted; lists space-separated."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        cycle = r.get("cycle") or {}
        times = r.get("times") or {}
        deferred = " ".join(
            (d.get("kb") or [d.get("title")])[0]
            if isinstance(d.get("kb"), list) and d.get("kb")
            else _text(d.get("title"))
            for d in r.get("deferred") or []
        )
        writer.writerow(
            [
                _csv_value(v)
                for v in (
                    r.get("host"),
                    r.get("platform"),
                    r.get("os"),
                    r.get("eligible"),
                    " ".join(_text((x or {}).get("code")) for x in r.get("reasons") or []),
                    r.get("release_line"),
                    r.get("group"),
                    cycle.get("month"),
                    cycle.get("type"),
                    r.get("build_before"),
                    r.get("build_after"),
                    r.get("action"),
                    r.get("status"),
                    r.get("wave"),
                    bool(r.get("restarted")),
                    bool(r.get("reboot_avoided")),
                    " ".join(r.get("installed") or []),
                    r.get("message"),
                    r.get("restarts") or 0,
                    (r.get("cause") or {}).get("code"),
                    deferred,
                    " ".join(r.get("failed_updates") or []),
                    times.get("down"),
                    times.get("up"),
                )
            ]
        )
    return out.getvalue()


def write(report: Report, run: Run, copy_to_top: bool | None = None) -> dict:
    """Write the run folder's files (atomically) and, when this run is the latest, the top-level copies of
    fleet.json, fleet.csv and fleet.html (kept for one release, see docs/report.md). Returns the summary."""
    hosts_dir = run.dir / "hosts"
    hosts_dir.mkdir(parents=True, exist_ok=True)
    names = set()
    for record in report.records:
        name = safe_name(record["host"]) + ".json"
        names.add(name)
        write_atomic(hosts_dir / name, json.dumps(record, indent=2, sort_keys=True) + "\n")
    for path in hosts_dir.glob("*.json"):
        if path.name not in names:
            path.unlink()  # a host no longer in the report (a record can only be replaced, never removed)
    files = {
        "fleet.json": json.dumps(report.fleet(), indent=2, sort_keys=False) + "\n",
        "fleet.csv": render_csv(report.records),
        "fleet.html": render_html(report),
    }
    for name, text in files.items():
        write_atomic(run.dir / name, text)
    if copy_to_top is None:
        latest = _journal.latest_run(run.report_dir)
        copy_to_top = latest is not None and latest.dir == run.dir
    if copy_to_top:
        for name, text in files.items():
            write_atomic(run.report_dir / name, text)
    return report.summary


def sources_of(run: Run, merge: Iterable[os.PathLike | str] = ()) -> list[Source]:
    """The merged report directories' sources (in the order given; a later one wins a host), then the run's
    own journal."""
    result = []
    for path in merge or ():
        source = merge_source(path)
        if source is not None and Path(source.label) != run.dir and source.journal.path != run.journal:
            result.append(source)
    result.append(Source(_journal.read(run.journal), str(run.dir), own=True))
    return result


def render_run(
    run: Run,
    merge: Iterable[os.PathLike | str] = (),
    calendar_year: int | None = None,
    catalog: Any = None,
    now: datetime.datetime | None = None,
    alive: bool | None = None,
) -> dict:
    """Build and write the report of a run; returns the summary (what set_stats publishes)."""
    report = build(
        run,
        sources_of(run, merge),
        report_dir=run.report_dir,
        calendar_year=calendar_year,
        catalog=catalog,
        now=now,
        alive=alive,
    )
    return write(report, run)


# ---------------------------------------------------------------------------------------------- html
def e(value: Any) -> str:
    """A value as escaped HTML text (None as empty), URL credentials masked."""
    return html.escape(mask_secrets(_text(value)), quote=True)


def _fmt_time(text: Any) -> str:
    moment = parse_time(text)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


def _clock(text: Any) -> str:
    moment = parse_time(text)
    return moment.strftime("%H:%M:%S") if moment else ""


def _fmt_duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return ""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


CSS = """
:root { --ink: #1b1b1b; --muted: #5f6368; --line: #d9d9d9; --bg: #ffffff; }
* { box-sizing: border-box; }
body {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  margin: 1.2rem 1.5rem;
}
  color: var(--ink); background: var(--bg); font-size: 14px; line-height: 1.35; }
h1 { font-size: 1.45rem; margin: 0 0 0.2rem 0; }
h2 {
  font-size: 1.1rem;
  margin: 1.6rem 0 0.4rem 0;
  border-bottom: 1px solid var(--line);
  padding-bottom: 0.2rem;
}
.muted { color: var(--muted); font-size: 0.88rem; }
.banner {
  margin: 0.8rem 0;
  padding: 0.6rem 0.9rem;
  border-radius: 6px;
  border: 2px solid;
  font-weight: 600;
}
.banner.finished { border-color: #2e7d32; background: #edf7ee; }
.banner.plan { border-color: #1565c0; background: #e8f1fb; }
.banner.interrupted { border-color: #c62828; background: #fdecea; }
.banner.running { border-color: #ef6c00; background: #fff4e5; }
.banner .detail { font-weight: 400; display: block; margin-top: 0.2rem; }
.cards { display: flex; flex-wrap: wrap; gap: 0.6rem; margin-top: 0.6rem; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 0.45rem 0.8rem; min-width: 7.5rem; }
.card .n { font-size: 1.5rem; font-weight: 600; }
.card.good { border-color: #2e7d32;}
.card.bad { border-color: #c62828;}
.card.warn { border-color: #ef6c00;}
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin-top: 0.4rem; font-size: 0.86rem; }
th, td { border: 1px solid var(--line); padding: 0.28rem 0.45rem; text-align: left; vertical-align: top;
  overflow-wrap: anywhere; word-break: break-word; }
th { background: #f3f3f3; }
td.num { text-align: right; }
table.hosts { width: 100%; table-layout: fixed; min-width: 1000px; }
table.hosts col.c-host { width: 11%;}
table.hosts col.c-out { width: 12%;}
table.hosts col.c-build { width: 11%;}
table.hosts col.c-why { width: 30%;}
table.hosts col.c-upd { width: 20%;}
table.hosts col.c-rst { width: 16%;}
ul { margin: 0.1rem 0; padding-left: 1.05rem; }
li { margin: 0.05rem 0; }
.tag {
  display: inline-block;
  padding: 0 0.35rem;
  border-radius: 3px;
  font-size: 0.8rem;
  border: 1px solid var(--line);
}
.st-failed, .st-not_reached { background: #fdecea; }
.st-deferred, .st-held { background: #fff4e5; }
.st-patched { background: #e8f5e9; }
.st-restarted { background: #e3f2fd; }
.st-check_mode, .st-planned, .st-assessed { background: #f3f0fa; }
.label { font-weight: 600; }
.sec { color: #b71c1c; font-weight: 600; }
.timeline svg {
  display: block;
  width: 100%;
  height: auto;
  border: 1px solid var(--line);
  background: #fff;
}
.cal { table-layout: fixed; width: 100%; }
.cal td { text-align: center; font-size: 0.76rem; }
.cal th:first-child { width: 12rem; }
.cal .hotpatch { background: #e8f5e9; }
.cal .baseline { background: #e3f2fd; }
.cal .unplanned { background: #fdecea; }
.cal .unpublished {
  font-style: italic;
  color: var(--muted);
  background: repeating-linear-gradient(45deg, #fff, #fff 6px, #f4f4f4 6px, #f4f4f4 12px);
}
.cal .current { outline: 3px solid var(--ink); outline-offset: -3px; }
.legend span {
  display: inline-block;
  padding: 0.05rem 0.5rem;
  margin: 0 0.35rem 0.25rem 0;
  border: 1px solid var(--line);
}
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 0.8rem; margin: 0.3rem 0; }
dl.kv dt { font-weight: 600; } dl.kv dd { margin: 0; overflow-wrap: anywhere; }
@page { size: A4 landscape; margin: 1cm; }
@media print {
  body { margin: 0; font-size: 9pt; }
  .scroll { overflow: visible; }
  table.hosts { min-width: 0; font-size: 8pt; }
  .tag { white-space: nowrap; }
  tr, .card, .banner, .timeline { page-break-inside: avoid; break-inside: avoid; }
  h2 { page-break-after: avoid; break-after: avoid; }
  .banner, .st-failed, .st-not_reached, .st-deferred, .st-held, .st-patched, .st-restarted, .cal td {
    -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _banner(report: Report) -> str:
    run = report.run
    state = run.get("state")
    parts = []
    if run.get("check_mode"):
        parts.append(
            '<div class="banner plan" id="banner">Plan (check mode): nothing was changed'
            '<span class="detail">Every status says what would happen; no update was installed and no host '
            "was restarted.</span></div>"
        )
    if state == "interrupted":
        parts.append(
            '<div class="banner interrupted" id="banner-state">Interrupted: hosts done so far'
            f'<span class="detail">{e(run.get("message"))}. Hosts without a record of their own were not '
            "reached before the run stopped; a re-run reads each host's state again.</span></div>"
        )
    elif state == "running":
        parts.append(
            '<div class="banner running" id="banner-state">Running: the run has not finished'
            '<span class="detail">This page shows the hosts done so far; it is written again when the run '
            "ends.</span></div>"
        )
    elif not run.get("check_mode"):
        parts.append('<div class="banner finished" id="banner-state">Finished</div>')
    for source in run.get("sources") or []:
        if source.get("state") == "interrupted":
            parts.append(
                f'<div class="banner interrupted">Merged run {e(source.get("id"))} ({e(source.get("dir"))}) '
                "was interrupted: its hosts are those done so far.</div>"
            )
    return "\n".join(parts)


def _cards(report: Report) -> str:
    s = report.summary
    by_status = {k: v for k, v in s["by_status"].items() if v}
    cards = [("", s["host_count"], "hosts")]
    for name, count in by_status.items():
        tone = (
            "bad"
            if name in ("failed", "not_reached")
            else "warn"
            if name in ("deferred", "held")
            else "good"
            if name in ("patched", "restarted", "unchanged")
            else ""
        )
        cards.append((tone, count, name.replace("_", " ")))
    cards += [
        ("", s["restart_count"], f"restarts done ({s['restarts']} host(s))"),
        ("good", s["reboot_avoided"], "restarts avoided (hotpatched)"),
        ("", s["restarts_planned"], "restarts the plan expects"),
        ("warn" if s["max_down"] else "", s["max_down"], "most hosts down at once"),
    ]
    if s["security_deferred_hosts"]:
        cards.append(("warn", len(s["security_deferred_hosts"]), "hosts with security updates waiting"))
    duration = _fmt_duration(report.run.get("duration"))
    if duration:
        cards.append(("", duration, "run length"))
    body = "".join(
        f'<div class="card {tone}"><div class="n">{e(n)}</div>{e(label)}</div>' for tone, n, label in cards
    )
    return f'<div class="cards" id="counts">{body}</div>'


def _svg_timeline(report: Report) -> str:
    t = report.timeline
    start, end = parse_time(t.get("start")), parse_time(t.get("end"))
    restarts = t.get("restarts") or {}
    waves = t.get("waves") or []
    if start is None or end is None:
        return '<p class="muted">No run times recorded.</p>'
    span = max((end - start).total_seconds(), 1.0)
    width, left, right = 1200, 170, 20
    plot = width - left - right
    hosts = sorted(restarts, key=lambda h: (min((e.get("down") or "~") for e in restarts[h]), h))
    shown = hosts[:MAX_TIMELINE_ROWS]
    axis_h, wave_h, down_h, row_h = 26, 24, 56, 16
    top_rows = axis_h + wave_h + down_h + 8
    height = top_rows + max(len(shown), 1) * row_h + 10

    def x(text: Any) -> float:
        moment = parse_time(text)
        if moment is None:
            return left + plot
        return left + plot * min(max((moment - start).total_seconds() / span, 0.0), 1.0)

    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Rollout timeline" font-family="sans-serif" font-size="11">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    # axis: ticks every sensible step
    steps = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400]
    step = next((s for s in steps if span / s <= 10), 86400 * max(1, int(span // (86400 * 10)) + 1))
    tick = 0.0
    while tick <= span + 0.001:
        tx = left + plot * tick / span
        label = f"+{_fmt_duration(tick)}" if tick else _clock(t.get("start")) + " UTC"
        parts.append(
            f'<line x1="{tx:.1f}" y1="{axis_h - 6}" x2="{tx:.1f}" y2="{height - 6}" stroke="#eeeeee"/>'
        )
        parts.append(f'<text x="{tx + 2:.1f}" y="{axis_h - 10}" fill="#5f6368">{e(label)}</text>')
        tick += step
    parts.append(
        f'<text x="6" y="{axis_h - 10}" fill="#1b1b1b" font-weight="bold">'
        f"run {e(_fmt_duration(t.get('duration') or 0))}</text>"
    )
    # the run's span
    parts.append(f'<rect x="{left}" y="{axis_h - 4}" width="{plot}" height="3" fill="#9e9e9e"/>')
    # waves: bands over the whole chart, labelled in their own row
    wave_y = axis_h + 2
    parts.append(f'<text x="6" y="{wave_y + 15}" fill="#1b1b1b">waves</text>')
    colors = ["#bbdefb", "#c8e6c9", "#ffe0b2", "#e1bee7", "#b2dfdb", "#f8bbd0"]
    for index, wave in enumerate(waves):
        x1 = x(wave.get("start")) if wave.get("start") else left
        x2 = x(wave.get("end")) if wave.get("end") else left + plot
        color = colors[index % len(colors)]
        title = (
            f"{wave.get('label')}: {_clock(wave.get('start'))} - {_clock(wave.get('end')) or 'not ended'}; "
            f"hosts {', '.join(wave.get('hosts') or []) or 'none'}"
        )
        if wave.get("held"):
            title += f"; held {', '.join(wave['held'])}"
        if wave.get("failed"):
            title += f"; failed {', '.join(wave['failed'])}"
        parts.append(
            f'<rect class="wave" x="{x1:.1f}" y="{wave_y}" width="{max(x2 - x1, 2):.1f}" '
            f'height="{height - wave_y - 6}" fill="{color}" fill-opacity="0.35" stroke="{color}">'
            f"<title>{e(title)}</title></rect>"
        )
        parts.append(
            f'<rect x="{x1:.1f}" y="{wave_y}" width="{max(x2 - x1, 2):.1f}" height="{wave_h - 4}" '
            f'fill="{color}"/>'
        )
        stop = " (stopped)" if wave.get("stopped") else ""
        parts.append(
            f'<text x="{x1 + 3:.1f}" y="{wave_y + 14}" fill="#1b1b1b">{e(wave.get("label"))}{e(stop)}</text>'
        )
    # hosts down at once: a step line
    down_y = axis_h + wave_h + 4
    parts.append(f'<text x="6" y="{down_y + 16}" fill="#1b1b1b">hosts down</text>')
    parts.append(
        f'<text x="6" y="{down_y + 30}" fill="#5f6368">most at once: {int(t.get("max_down") or 0)}</text>'
    )
    peak = max(int(t.get("max_down") or 0), 1)
    changes = []
    for entries in restarts.values():
        for entry in entries:
            if entry.get("down"):
                changes.append((entry.get("down"), 1))
                changes.append((entry.get("up") or t.get("end"), -1))
    changes.sort(key=lambda c: (parse_time(c[0]) or end, c[1]))
    level, points = 0, [(left, down_y + down_h)]
    for moment, delta in changes:
        px = x(moment)
        points.append((px, down_y + down_h - (down_h - 6) * level / peak))
        level += delta
        points.append((px, down_y + down_h - (down_h - 6) * level / peak))
    points.append((left + plot, down_y + down_h - (down_h - 6) * level / peak))
    path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
    parts.append(f'<polyline points="{path}" fill="none" stroke="#c62828" stroke-width="2"/>')
    parts.append(
        f'<line x1="{left}" y1="{down_y + down_h}" x2="{left + plot}" y2="{down_y + down_h}" '
        'stroke="#9e9e9e"/>'
    )
    # one row per restarted host: down -> up bars
    if not shown:
        parts.append(
            f'<text x="{left + 4}" y="{top_rows + 12}" fill="#5f6368">no host restarted in this run</text>'
        )
    for row, host in enumerate(shown):
        y = top_rows + row * row_h
        if row % 2:
            parts.append(
                f'<rect x="0" y="{y}" width="{width}" height="{row_h}" fill="#000000" fill-opacity="0.03"/>'
            )
        parts.append(f'<text x="6" y="{y + 12}" fill="#1b1b1b">{e(host[:26])}</text>')
        for entry in restarts[host]:
            x1 = x(entry.get("down"))
            x2 = x(entry.get("up")) if entry.get("up") else left + plot
            ok = entry.get("ok")
            color = "#1565c0" if ok else "#c62828" if ok is False else "#ef6c00"
            dash = "" if entry.get("up") else ' stroke-dasharray="4 2" fill-opacity="0.6"'
            title = (
                f"{host}: down {_clock(entry.get('down'))}, "
                + (f"up {_clock(entry.get('up'))}" if entry.get("up") else "not back when the run ended")
                + (f" ({_fmt_duration(entry.get('elapsed'))})" if entry.get("elapsed") is not None else "")
                + (f", wave {entry.get('wave')}" if entry.get("wave") is not None else "")
                + ("" if ok is not False else ", restart failed")
            )
            parts.append(
                f'<rect class="down" x="{x1:.1f}" y="{y + 3}" width="{max(x2 - x1, 3):.1f}" '
                f'height="{row_h - 6}" fill="{color}" stroke="{color}"{dash}><title>{e(title)}</title></rect>'
            )
    parts.append("</svg>")
    more = ""
    if len(hosts) > len(shown):
        more = (
            f'<p class="muted">{len(hosts) - len(shown)} more restarted host(s) not drawn; see the table and '
            "fleet.csv.</p>"
        )
    legend = (
        '<p class="legend muted"><span style="background:#1565c0;color:#fff">down, back up</span>'
        '<span style="background:#c62828;color:#fff">restart failed</span>'
        '<span style="background:#ef6c00;color:#fff">not back when the run ended</span>'
        '<span style="background:#bbdefb">wave (start to end)</span>'
        f"Run {e(_fmt_time(t.get('start')))} to {e(_fmt_time(t.get('end')))} "
        f"({e(_fmt_duration(t.get('duration')))}).</p>"
    )
    return "".join(parts) + more + legend


def _ul(items: list[str], cls: str = "") -> str:
    if not items:
        return ""
    attr = f' class="{cls}"' if cls else ""
    return f"<ul{attr}>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _update_name(item: Mapping) -> str:
    kbs = item.get("kb")
    kb = kbs[0] if isinstance(kbs, list) and kbs else kbs if isinstance(kbs, str) else None
    title = _text(item.get("title"))
    return f"{kb} {title}".strip() if kb and kb not in title else title or _text(kb)


def _why(r: dict) -> str:
    items = []
    if r.get("message"):
        items.append(f'<span class="label">outcome:</span> {e(r["message"])}')
    for reason in (r.get("plan") or {}).get("reasons") or []:
        items.append(f'<span class="label">plan:</span> {e(reason)}')
    cause = r.get("cause")
    if cause:
        items.append(f'<span class="label">cause {e(cause.get("code"))}:</span> {e(cause.get("message"))}')
    if r.get("eligible") is False or r.get("reasons"):
        for reason in r.get("reasons") or []:
            items.append(
                f'<span class="label">not eligible, {e(reason.get("code"))}:</span> '
                f"{e(reason.get('message'))}"
            )
    for warning in r.get("warnings") or []:
        items.append(f'<span class="label">warning:</span> {e(warning)}')
    signals = r.get("signals") or {}
    if signals.get("update_source") == "wsus":
        items.append(f'<span class="label">updates from:</span> WSUS {e(signals.get("wsus_server"))}')
    if signals.get("azure_patch_mode"):
        items.append(f'<span class="label">Azure patch mode:</span> {e(signals.get("azure_patch_mode"))}')
    return _ul(items, "why") or '<span class="muted">-</span>'


def _updates(r: dict) -> str:
    items = []
    if r.get("installed"):
        items.append(f'<span class="label">installed:</span> {e(", ".join(r["installed"]))}')
    for item in r.get("failed_updates") or []:
        items.append(f'<span class="label">failed:</span> {e(item)}')
    for item in r.get("deferred") or []:
        verb = {"skip": "skipped", "reject": "rejected", "defer": "deferred"}.get(
            item.get("decision"), "left"
        )
        since = f" since {e(item.get('since'))}" if item.get("since") else ""
        exposure = ""
        if item.get("security"):
            days = item.get("exposure_days")
            exposed = f", exposed {e(days)} day(s)" if days is not None else ""
            exposure = f' <span class="sec">security{exposed}</span>'
        reason = f": {e(item.get('reason'))}" if item.get("reason") else ""
        items.append(f'<span class="label">{verb}:</span> {e(_update_name(item))}{since}{exposure}{reason}')
    return _ul(items) or '<span class="muted">-</span>'


def _restart_cell(r: dict) -> str:
    items = []
    restart = r.get("restart") or {}
    if r.get("reboot_avoided"):
        items.append("restart avoided (hotpatched)")
    if r.get("restarts"):
        items.append(f'<span class="label">restarted {e(r["restarts"])} time(s)</span>')
    for evidence in restart.get("evidence") or []:
        items.append(f'<span class="label">evidence:</span> {e(evidence)}')
    if not restart.get("evidence"):
        for reason in r.get("reboot_pending_reasons") or []:
            items.append(f'<span class="label">pending:</span> {e(reason)}')
    ignored = _dedup([*(restart.get("ignored") or []), *(r.get("reboot_pending_ignored") or [])])
    for item in ignored:
        detail = f" ({e(item.get('detail'))})" if item.get("detail") else ""
        why = f": {e(item.get('why'))}" if item.get("why") else ""
        items.append(f'<span class="label">ignored {e(item.get("signal"))}</span>{detail}{why}')
    for entry in (r.get("times") or {}).get("restarts") or []:
        up = _clock(entry.get("up")) or "not back"
        took = f" ({_fmt_duration(entry.get('elapsed'))})" if entry.get("elapsed") is not None else ""
        failed = " failed" if entry.get("ok") is False else ""
        items.append(f"down {e(_clock(entry.get('down')))}, up {e(up)}{e(took)}{failed}")
    return _ul(items) or '<span class="muted">-</span>'


def _host_rows(records: list[dict]) -> str:
    rows = []
    for r in records:
        status = _text(r.get("status"))
        eligible = (
            "unknown" if r.get("eligible") is None else "eligible" if r.get("eligible") else "not eligible"
        )
        host_cell = (
            f'<span class="label">{e(r.get("host"))}</span><br>'
            f'<span class="muted">{e(r.get("platform"))}, '
            f"{e('Windows Server ' + r['os'] if r.get('os') else 'OS unknown')}, {e(eligible)}"
            + (f", group {e(r.get('group'))}" if r.get("group") else "")
            + "</span>"
        )
        wave = f"<br>wave {e(r.get('wave'))}" if r.get("wave") is not None else ""
        outcome_cell = f'<span class="tag st-{e(status)}">{e(status)}</span><br>{e(r.get("action"))}{wave}'
        cycle = r.get("cycle") or {}
        build_cell = (
            f"{e(r.get('build_before'))}"
            + (
                f" &rarr; {e(r.get('build_after'))}"
                if r.get("build_after") and r.get("build_after") != r.get("build_before")
                else ""
            )
            + f'<br><span class="muted">line {e(r.get("release_line"))}'
            + (f", cycle {e(cycle.get('month'))} {e(cycle.get('type'))}" if cycle.get("month") else "")
            + "</span>"
        )
        rows.append(
            f'<tr class="st-{e(status)} host" id="host-{e(safe_name(_text(r.get("host"))))}">'
            f"<td>{host_cell}</td><td>{outcome_cell}</td><td>{build_cell}</td>"
            f'<td class="why-cell">{_why(r)}</td><td>{_updates(r)}</td><td>{_restart_cell(r)}</td></tr>'
        )
    return "\n".join(rows)


def _problems(records: list[dict]) -> str:
    problems = [r for r in records if r.get("status") in PROBLEM_STATUSES]
    if not problems:
        return "<p>None.</p>"
    rows = "".join(
        f'<tr class="st-{e(r.get("status"))}"><td>{e(r.get("host"))}</td><td>{e(r.get("status"))}</td>'
        f"<td>{e(r.get('action'))}</td><td>{e(r.get('message'))}</td></tr>"
        for r in problems
    )
    return (
        '<div class="scroll"><table style="width:100%;table-layout:fixed"><colgroup><col style="width:14%">'
        '<col style="width:10%"><col style="width:10%"><col></colgroup>'
        f"<tr><th>host</th><th>status</th><th>action</th><th>message</th></tr>{rows}</table></div>"
    )


def _waves_table(report: Report) -> str:
    waves = report.timeline.get("waves") or []
    if not waves:
        planned = report.summary.get("waves") or []
        if not planned:
            return "<p>No restart wave.</p>"
        rows = "".join(
            f'<tr><td class="num">{e(w["wave"])}</td><td>{e(", ".join(w["hosts"]))}</td></tr>'
            for w in planned
        )
        return f"<table><tr><th>wave</th><th>hosts</th></tr>{rows}</table>"
    rows = []
    for wave in waves:
        duration = _fmt_duration(_seconds(parse_time(wave.get("start")), parse_time(wave.get("end"))))
        rows.append(
            f"<tr><td>{e(wave.get('label'))}</td><td>{e(_clock(wave.get('start')))}</td>"
            f"<td>{e(_clock(wave.get('end')) or 'not ended')}</td><td>{e(duration)}</td>"
            f"<td>{e(', '.join(wave.get('hosts') or []))}</td><td>{e(', '.join(wave.get('held') or []))}</td>"
            f"<td>{e(', '.join(wave.get('failed') or []))}</td>"
            f"<td>{'stopped: ' if wave.get('stopped') else ''}{e(wave.get('message'))}</td></tr>"
        )
    return (
        '<div class="scroll"><table style="width:100%"><tr><th>wave</th><th>start (UTC)</th><th>end</th>'
        "<th>length</th><th>hosts</th><th>held</th><th>failed</th><th>message</th></tr>"
        + "".join(rows)
        + "</table></div>"
    )


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _calendar(cal: dict) -> str:
    rows = []
    for row in cal.get("rows") or []:
        cells = []
        for m in row.get("months") or []:
            classes = [_text(m.get("type"))]
            if m.get("unplanned"):
                classes.append("unplanned")
            if not m.get("published"):
                classes.append("unpublished")
            if m.get("current"):
                classes.append("current")
            text = e(m.get("type")) + (" (unplanned)" if m.get("unplanned") else "") + "<br>"
            if m.get("published"):
                text += f"{e(m.get('kb'))}<br>{e(m.get('build'))}"
            else:
                text += "not yet published"
            if m.get("programme") and m.get("programme") != "active":
                text += f"<br>programme {e(str(m.get('programme')).replace('_', ' '))}"
            text += f'<br><span class="muted">{e(m.get("release_date"))}</span>'
            cells.append(f'<td class="{e(" ".join(classes))}" title="{e(m.get("note"))}">{text}</td>')
        rows.append(f"<tr><th>{e(row.get('name'))}</th>{''.join(cells)}</tr>")
    newest = "; ".join(
        f"Windows Server {e(row.get('os'))}: {e(row.get('newest_month') or 'none')}"
        for row in cal.get("rows") or []
    )
    sources = []
    for key, source in (cal.get("sources") or {}).items():
        url = re.sub(r"^[a-z]+://", "", _text(source.get("url")))
        text = e(source.get("title") or key)
        if url:
            text += f" ({e(url)})"
        if source.get("retrieved"):
            text += f", retrieved {e(source.get('retrieved'))}"
        sources.append(text)
    user = (
        f" plus {e(cal.get('user_rows'))} row(s) of your own (hotpatch_catalog)"
        if cal.get("user_rows")
        else ""
    )
    head = "".join(f"<th>{m}</th>" for m in MONTHS)
    return (
        '<p class="legend"><span class="baseline">baseline (restart)</span>'
        '<span class="unplanned">unplanned baseline</span>'
        '<span class="hotpatch">hotpatch (no restart)</span>'
        '<span class="unpublished">not yet published</span>'
        '<span class="current">the hosts\' current cycle</span></p>'
        f'<div class="scroll"><table class="cal"><tr><th>OS</th>{head}</tr>{"".join(rows)}</table></div>'
        f'<p class="muted">The catalog\'s newest published month: {newest}{user}. '
        f"Source: {'; '.join(sources) or 'none recorded'}. "
        "Baselines restart; hotpatches install without a restart on eligible hosts on the current baseline. "
        "Planned baselines are January, April, July and October; an unplanned baseline replaces a hotpatch "
        "month when a fix cannot ship as a hotpatch.</p>"
    )


def _rollback(records: list[dict]) -> str:
    rows = [r for r in records if r.get("rollback")]
    if not rows:
        return ""
    body = "".join(
        f"<tr><td>{e(r['host'])}</td><td>{e(r['rollback'].get('kb'))}</td>"
        f"<td>{e(_csv_value(r['rollback'].get('removed')))}</td>"
        f"<td>{e(_csv_value(r['rollback'].get('reinstalled_baseline')))}</td>"
        f"<td>{e(_csv_value(r['rollback'].get('restarted')))}</td>"
        f"<td>{e(r['rollback'].get('build_before'))} &rarr; {e(r['rollback'].get('build_after'))}</td>"
        f"<td>{e(r['rollback'].get('message'))}</td></tr>"
        for r in rows
    )
    return (
        '<h2 id="rollback">Rollback</h2><div class="scroll"><table style="width:100%"><tr><th>host</th>'
        "<th>update</th>"
        "<th>removed</th><th>baseline reinstalled</th><th>restarted</th><th>build</th><th>message</th></tr>"
        f"{body}</table></div>"
    )


def _run_details(report: Report) -> str:
    run = report.run
    items = [
        ("run", run.get("id")),
        ("state", run.get("state")),
        ("check mode", "yes" if run.get("check_mode") else "no"),
        ("playbook", run.get("playbook")),
        ("started", _fmt_time(run.get("started"))),
        ("ended", _fmt_time(run.get("ended")) or "-"),
        ("length", _fmt_duration(run.get("duration"))),
        ("controller pid", run.get("controller_pid")),
        ("folder", run.get("dir")),
    ]
    if run.get("skipped_lines"):
        items.append(
            (
                "journal lines skipped",
                f"{run['skipped_lines']} (incomplete: written when a process was killed)",
            )
        )
    for key, value in sorted((report.settings or {}).items()):
        items.append(
            (f"setting {key}", json.dumps(value, sort_keys=True) if not isinstance(value, str) else value)
        )
    body = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in items if v not in (None, ""))
    sources = ""
    if run.get("sources"):
        rows = "".join(
            f"<tr><td>{e(s.get('dir'))}</td><td>{e(s.get('id'))}</td><td>{e(s.get('state'))}</td>"
            f"<td>{e('yes' if s.get('check_mode') else 'no')}</td><td>{e(s.get('hosts'))}</td></tr>"
            for s in run["sources"]
        )
        sources = (
            "<p>Merged from these reports (a later one wins a host; this run's own hosts win over all):</p>"
            '<div class="scroll"><table><tr><th>report</th><th>run</th><th>state</th><th>check mode</th>'
            f"<th>hosts</th></tr>{rows}</table></div>"
        )
    return f'<dl class="kv">{body}</dl>{sources}'


def render_html(report: Report) -> str:
    s = report.summary
    run = report.run
    title_state = "plan" if run.get("check_mode") else run.get("state")
    by_action = "".join(
        f'<tr><td>{e(name)}</td><td class="num">{e(count)}</td>'
        f"<td>{e(ACTION_MEANING.get(name, ''))}</td></tr>"
        for name, count in s["by_action"].items()
        if count
    )
    phase = {
        "patch": "after patching",
        "rollback": "after a rollback",
        "enable": "after turning hotpatch on (hotpatch.windows.enable)",
    }.get(s["phase"], "assessment only: nothing was installed or restarted")
    if run.get("check_mode"):
        phase = "plan (check mode): what would happen"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hotpatch fleet report {e(run.get("id"))} ({e(title_state)})</title>
<style>{CSS}</style>
</head>
<body>
<h1>Windows Server hotpatch: fleet report</h1>
<div class="muted">Run {e(run.get("id"))} &middot; started {e(_fmt_time(run.get("started")))} &middot;
{e(s["host_count"])} host(s) &middot; {e(phase)} &middot; written {e(s["generated"])}</div>
{_banner(report)}
{_cards(report)}
<h2 id="timeline-title">Timeline</h2>
<div class="timeline" id="timeline">{_svg_timeline(report)}</div>
<h2>Failures and hosts left behind</h2>
{_problems(report.records)}
<h2>Hosts</h2>
<p class="muted">Why: the outcome, the plan's reasons, the cause, eligibility and warnings. Updates: what was
installed, failed, and what waits (since when; for security updates the days exposed). Restart: Windows'
evidence, the pending-restart signals ignored, and when the host went down and came back (UTC).</p>
<div class="scroll"><table class="hosts" id="hosts">
<colgroup><col class="c-host"><col class="c-out"><col class="c-build"><col class="c-why"><col class="c-upd">
<col class="c-rst"></colgroup>
<tr><th>host</th><th>outcome</th><th>build</th><th>why</th><th>updates</th><th>restart</th></tr>
{_host_rows(report.records)}
</table></div>
<h2>Hosts by action</h2>
<table><tr><th>action</th><th>hosts</th><th>meaning</th></tr>{by_action}</table>
<h2>Restart waves</h2>
{_waves_table(report)}
{_rollback(report.records)}
<h2>Release calendar {e(report.calendar.get("year"))}</h2>
{_calendar(report.calendar)}
<h2>Run</h2>
{_run_details(report)}
<p class="muted">Files: fleet.json, fleet.csv, hosts/&lt;host&gt;.json and journal.jsonl beside this page,
in {e(run.get("dir"))}.</p>
</body>
</html>
"""
