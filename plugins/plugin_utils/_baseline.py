"""Where a host stands against the release calendar: release line, baseline, up to date, pending restart.

Internal API of hotpatch.windows: only this collection's plugins may import it; it can change in any release.

``evaluate_baseline`` returns the design's ``baseline_info`` dict plus ``warnings`` (sentences the action
plugin shows as Ansible warnings) and ``catalog`` (the catalog's newest month per OS, so a report can say how
fresh it is). ``baseline_state`` does the same from raw facts and host settings alone, without a connection.

The host's release comes from its installed KBs as well as its build: two releases can share a build and
leave the host on different lines (October 2025: KB5070893 kept Windows Server 2025 on the hotpatch line,
KB5070881, also 26100.6905, moved it off), so where the build matches several releases the installed KB
decides, and where nothing decides the line is ``unknown`` rather than guessed. docs/decisions.md explains
each decision for users.
"""

from ansible_collections.hotpatch.windows.plugins.plugin_utils._catalog import (
    OS_BUILDS,
    cycle_month,
    load_catalog,
    normalise_kb,
    to_date,
)
from ansible_collections.hotpatch.windows.plugins.plugin_utils._eligibility import (
    enrolment_signals,
    evaluate_eligibility,
)
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._facts import (
    REBOOT_KEYS,
    inspect_facts,
    os_release,
)
from ansible_collections.hotpatch.windows.plugins.plugin_utils._orchestration import (
    orchestration,
    warnings_of,
)

EMPTY = {"build": None, "kb": None, "month": None}
# The servicing stack's own restart signals: Windows Update's RebootRequired and CBS RebootPending. The other
# two (PendingFileRenameOperations, a pending computer rename) are written by many programs, often again after
# a restart, so they restart a host only when the user opts in (hotpatch_restart_signals).
EVIDENCE_SIGNALS = ("cbs", "windows_update")
SIGNAL_NAMES = {
    "cbs": "CBS RebootPending",
    "windows_update": "Windows Update RebootRequired",
    "file_rename": "PendingFileRenameOperations",
    "computer_rename": "a pending computer rename",
}
SETTING_ALIASES = {
    "platform": "hotpatch_platform",
    "image": "hotpatch_image",
    "arc_license": "hotpatch_arc_license",
    "vmss_orchestration": "hotpatch_vmss_orchestration",
    "restart_signals": "hotpatch_restart_signals",
    "vbs_status": "hotpatch_vbs_status",
    "azure_patch_mode": "hotpatch_azure_patch_mode",
}


def _point(release):
    return {"build": release.build, "kb": release.kb, "month": release.month}


def restart_signals(value):
    """The pending-restart signals that count as Windows' evidence: servicing stack's and opted-in."""
    if value in (None, "", []):
        return list(EVIDENCE_SIGNALS)
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise HotpatchError(
            f"hotpatch_restart_signals must be a list of {', '.join(REBOOT_KEYS)}, got {value!r}"
        )
    unknown = [item for item in value if item not in REBOOT_KEYS]
    if unknown:
        raise HotpatchError(
            f"hotpatch_restart_signals: {unknown[0]!r} is not a signal; use {', '.join(REBOOT_KEYS)}"
        )
    return list(dict.fromkeys([*EVIDENCE_SIGNALS, *value]))


def reboot_pending(pending, signals=None, details=None, warnings=None):
    """``{required, reasons, signals, ignored}`` from the probe's four pending-restart signals.

    ``signals`` lists the signals that are evidence (default: CBS and Windows Update); ``reasons`` are the
    evidence found, ``signals`` every signal set, ``ignored`` the others with what they hold (``details``:
    the probe's ``pending_file_renames`` and ``computer_name``).
    """
    warnings = warnings if warnings is not None else []
    counted = restart_signals(signals)
    if pending is None:
        warnings.append("the host's pending-restart state could not be read: no restart is taken as pending")
        return {"required": False, "reasons": [], "signals": [], "ignored": []}
    unknown = [key for key in REBOOT_KEYS if pending.get(key) is None]
    if unknown:
        warnings.append(f"pending-restart signals not read from the host: {', '.join(unknown)}")
    present = [key for key in REBOOT_KEYS if pending.get(key) is True]
    reasons = [key for key in present if key in counted]
    details = details or {}
    ignored = []
    for key in present:
        if key in counted:
            continue
        detail = None
        if key == "file_rename":
            entries = details.get("pending_file_renames") or []
            detail = ", ".join(str(entry) for entry in entries[:5]) or None
        elif key == "computer_rename":
            names = details.get("computer_name") or {}
            if names.get("active") and names.get("pending"):
                detail = f"{names['active']} -> {names['pending']}"
        ignored.append(
            {
                "signal": key,
                "detail": detail,
                "why": f"{SIGNAL_NAMES[key]} alone is not Windows' restart evidence (add {key} to "
                "hotpatch_restart_signals to restart for it)",
            }
        )
    return {"required": bool(reasons), "reasons": reasons, "signals": present, "ignored": ignored}


def _line_of(catalog, release, eligible):
    if release.line == "hotpatch":
        return "hotpatch"
    if catalog.is_baseline(release) and eligible:
        return "hotpatch"
    return "lcu"


def _place(catalog, os, ubr, hotfixes, eligible, warnings):
    """(release_line, current, baseline point) of build ``OS_BUILDS[os].ubr`` with ``hotfixes`` installed."""
    build = f"{OS_BUILDS[os]}.{ubr}"
    installed = {normalise_kb(kb) for kb in hotfixes or []}
    matches = catalog.by_build(os, build)
    if matches:
        chosen = [row for row in matches if row.kb in installed] or matches
        lines = {_line_of(catalog, row, eligible) for row in chosen}
        if len(lines) > 1:
            kbs = " and ".join(row.kb for row in chosen)
            warnings.append(
                f"build {build} is the build of {kbs}, which leave a host on different release lines, and "
                "neither KB is among the host's installed updates: its release line is unknown"
            )
            return "unknown", {"build": build, "kb": None, "month": chosen[0].month}, dict(EMPTY)
        current = sorted(chosen, key=lambda row: (row.kb in installed, row.released or ""))[-1]
        line = lines.pop()
        if line == "lcu":
            return "lcu", _point(current), dict(EMPTY)
        if current.line == "lcu":  # a baseline
            return "hotpatch", _point(current), _point(current)
        month = catalog.governing_baseline(os, current.month)
        base = catalog.cycle_release(os, month) if month else None
        return "hotpatch", _point(current), _point(base) if base else dict(EMPTY, month=month)
    known = [row for row in catalog.releases.get(os, []) if row.ubr is not None]
    if not known:
        warnings.append(f"the hotpatch catalog holds no Windows Server {os} build: release line unknown")
        return "unknown", {"build": build, "kb": None, "month": None}, dict(EMPTY)
    oldest, newest = min(row.ubr for row in known), max(row.ubr for row in known)
    if ubr > newest:
        newest_row = max(known, key=lambda row: row.ubr)
        warnings.append(
            f"build {build} is newer than every Windows Server {os} build in the hotpatch catalog (newest "
            f"{newest_row.build}, {newest_row.month}): its release line is unknown; run the playbook "
            "hotpatch.windows.catalog_update or add a hotpatch_catalog row for its release"
        )
        return "unknown", {"build": build, "kb": None, "month": None}, dict(EMPTY)
    if ubr < oldest:
        return "lcu", {"build": build, "kb": None, "month": None}, dict(EMPTY)
    below = [row for row in known if row.ubr < ubr]
    month = max(below, key=lambda row: (row.ubr, row.month)).month if below else None
    warnings.append(
        f"build {build} is not a release in the hotpatch catalog (a preview or an out-of-band release it "
        "does not list): its release line is unknown; add a hotpatch_catalog row for its KB"
    )
    return "unknown", {"build": build, "kb": None, "month": month}, dict(EMPTY)


def _up_to_date(catalog, os, ubr, hotfixes, current, cycle, warnings):
    """Whether the host has this cycle's release (or something newer): by KB, by build, else by month."""
    if ubr is None:
        return False
    installed = {normalise_kb(kb) for kb in hotfixes or []}
    month_kbs = {row.kb for row in catalog.month_releases(os, cycle["month"])}
    if installed & month_kbs:
        return True
    if cycle["published"] and cycle["build"] is not None:
        return ubr >= int(cycle["build"].split(".")[1])
    if cycle["published"]:
        return cycle["kb"] in installed
    if current["month"] is not None and current["kb"] is not None:
        return current["month"] >= cycle["month"]
    warnings.append(
        f"the {cycle['month']} cycle of Windows Server {os} is not published in the catalog and the host's "
        "release is not in it either: whether the host has this cycle's release cannot be told (up_to_date "
        "false); Windows Update's offer decides what is installed"
    )
    return False


def _other_cycle(day, facts):
    """True when ``day`` is in another release cycle than the host's own clock (a plan for another date)."""
    if not facts.get("now"):
        return False
    try:
        return cycle_month(day) != cycle_month(facts["now"])
    except HotpatchError:
        return False


def evaluate_baseline(facts, eligibility, when=None, catalog=None, signals=None, azure_patch_mode=None):
    """The design's baseline_info dict for one host (``when`` defaults to the host's clock, facts.now).

    ``signals``: the pending-restart signals that count as evidence (hotpatch_restart_signals);
    ``azure_patch_mode``: hotpatch_azure_patch_mode (an Azure VM cannot see it).
    """
    normalised, problems = inspect_facts(facts)
    if eligibility is None:
        eligibility = evaluate_eligibility(facts)
    if not isinstance(eligibility, dict) or not isinstance(eligibility.get("eligible"), bool):
        raise HotpatchError(
            "eligibility must be the eligibility result ({eligible, platform, reasons, warnings})"
        )
    date_source = "hotpatch_date"
    if when is None or when == "":
        when, date_source = normalised["now"], "host_clock"
        if when is None:
            raise HotpatchError(
                "no date for the release cycle: facts.now is missing and hotpatch_date is not set"
            )
    day = to_date(when)
    loaded = load_catalog(catalog)
    warnings = [f"facts: {problem}" for problem in problems if problem.startswith(("os", "reboot_pending"))]
    os = os_release(normalised)
    ubr = normalised["os"]["ubr"] if normalised["os"] else None
    build = normalised["os"]["build"] if normalised["os"] else None
    hotfixes = normalised["hotfixes"] or []
    details = {key: facts.get(key) for key in ("pending_file_renames", "computer_name")}
    result = {
        "facts": facts,
        "eligibility": eligibility,
        "cycle": None,
        "release_line": "unknown",
        "current": {
            "build": f"{build}.{ubr}" if build is not None and ubr is not None else None,
            "kb": None,
            "month": None,
        },
        "baseline": dict(EMPTY),
        "on_current_baseline": False,
        "up_to_date": False,
        "reboot_pending": reboot_pending(normalised["reboot_pending"], signals, details, warnings),
        "date": {
            "value": day.isoformat(),
            "source": date_source,
            "other_cycle": _other_cycle(day, normalised),
        },
        "catalog": {"newest_month": None, "programme": None, "programme_last": None, "note": None},
        "enrolment": enrolment_signals(normalised),
        "orchestration": orchestration(normalised, eligibility.get("platform"), azure_patch_mode),
        "read_errors": dict(normalised["read_errors"]),
        "warnings": warnings,
    }
    warnings += [text for text in warnings_of(result["orchestration"]) if text not in warnings]
    if os not in OS_BUILDS:
        found = f"Windows Server {os}" if os else f"build {build}"
        warnings.append(
            f"{found} has no hotpatch release calendar: release line, baseline and cycle are unknown"
        )
        return result
    cycle = loaded.entry(os, *cycle_month(day))
    programme = loaded.programme(os)
    month_status = loaded.status(os, cycle["month"])
    result["cycle"] = cycle
    result["catalog"] = {
        "newest_month": loaded.newest_month(os),
        "programme": month_status["programme"],
        "programme_last": programme.last if programme else None,
        "note": month_status["note"],
    }
    if month_status["note"]:
        warnings.append(f"{cycle['month']} ({cycle['type']}): {month_status['note']}")
    if ubr is None:
        warnings.append("os.ubr is unknown: the host's build cannot be placed in the release calendar")
        return result
    line, current, base = _place(loaded, os, ubr, hotfixes, eligibility["eligible"], warnings)
    result["release_line"] = line
    result["current"] = current
    result["baseline"] = base
    governing = loaded.governing_baseline(os, cycle["month"])
    result["on_current_baseline"] = line == "hotpatch" and base["month"] == governing
    result["up_to_date"] = _up_to_date(loaded, os, ubr, hotfixes, current, cycle, warnings)
    return result


def _settings(settings):
    """Host settings by their design names, from short (platform=) or long (hotpatch_platform=) keywords."""
    result = {}
    for key, value in settings.items():
        name = SETTING_ALIASES.get(key, key)
        if name not in SETTING_ALIASES.values():
            known = ", ".join(sorted({*SETTING_ALIASES, *SETTING_ALIASES.values()}))
            raise HotpatchError(f"baseline_state: unknown setting {key!r}; use {known}")
        if name in result and result[name] != value:
            raise HotpatchError(
                f"baseline_state: {key!r} given twice (short and long name) with different values"
            )
        result[name] = value
    return result


def baseline_state(facts, date=None, catalog=None, **settings):
    """What ``baseline_info`` returns, from raw facts and host settings, without a connection."""
    named = _settings(settings)
    eligibility = evaluate_eligibility(
        facts,
        platform=named.get("hotpatch_platform"),
        image=named.get("hotpatch_image"),
        arc_license=named.get("hotpatch_arc_license"),
        vmss_orchestration=named.get("hotpatch_vmss_orchestration"),
        vbs_status=named.get("hotpatch_vbs_status"),
    )
    result = evaluate_baseline(
        facts,
        eligibility,
        date,
        catalog,
        named.get("hotpatch_restart_signals"),
        named.get("hotpatch_azure_patch_mode"),
    )
    for warning in eligibility.get("warnings") or []:
        if warning not in result["warnings"]:
            result["warnings"].insert(0, warning)
    return result
