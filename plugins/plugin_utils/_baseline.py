"""Where a host stands against the release calendar: release line, baseline, up to date, pending restart.

``evaluate_baseline`` returns the design's ``baseline_info`` dict plus ``warnings`` (a list of sentences the
action plugin shows as Ansible warnings). docs/decisions.md explains each decision for users.
"""

from ansible_collections.hotpatch.windows.plugins.plugin_utils._catalog import (
    OS_BUILDS,
    cycle_month,
    load_catalog,
    month_entry,
    parse_build,
    to_date,
)
from ansible_collections.hotpatch.windows.plugins.plugin_utils._eligibility import evaluate_eligibility
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._facts import (
    REBOOT_KEYS,
    inspect_facts,
    os_release,
)

EMPTY = {"build": None, "kb": None, "month": None}


def _point(row):
    return {"build": row["build"], "kb": row["kb"], "month": row["month"]}


def _published(rows, os):
    """Rows of ``os`` that carry a build, oldest first, as (ubr, row)."""
    pairs = [
        (parse_build(row["build"])[1], row) for row in rows if row["os"] == os and row["build"] is not None
    ]
    return sorted(pairs, key=lambda pair: (pair[0], pair[1]["month"]))


def _place(os, ubr, eligible, rows, warnings):
    """(release_line, current, baseline) of build ``OS_BUILDS[os].ubr``."""
    build = f"{OS_BUILDS[os]}.{ubr}"
    known = _published(rows, os)
    if not known or ubr > known[-1][0]:
        newest = known[-1][1]["build"] if known else "none"
        warnings.append(
            f"build {build} is newer than every Windows Server {os} build in the hotpatch catalog (newest "
            f"{newest}): its release line is unknown; add a hotpatch_catalog row for its month"
        )
        return "unknown", {"build": build, "kb": None, "month": None}, dict(EMPTY)
    exact = [row for row_ubr, row in known if row_ubr == ubr]
    if exact:
        row = exact[0]
        if row["type"] == "hotpatch" or eligible:
            return "hotpatch", _point(row), _governing_baseline(os, row["month"], rows)
        return "lcu", _point(row), _point(row)
    below = [row for row_ubr, row in known if row_ubr < ubr]
    month = below[-1]["month"] if below else None
    return "lcu", {"build": build, "kb": None, "month": month}, dict(EMPTY)


def _governing_baseline(os, month_text, rows):
    """The baseline that governs a month: the latest baseline month <= it (published or planned)."""
    year, month = (int(part) for part in month_text.split("-"))
    for _ in range(12):
        entry = month_entry(os, year, month, rows)
        if entry["type"] == "baseline":
            return {"build": entry["build"], "kb": entry["kb"], "month": entry["month"]}
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return dict(EMPTY)


def _reboot_pending(pending, warnings):
    if pending is None:
        warnings.append("the host's pending-restart state could not be read: assuming no restart is pending")
        return {"required": False, "reasons": []}
    unknown = [key for key in REBOOT_KEYS if pending.get(key) is None]
    if unknown:
        warnings.append(f"pending-restart signals not read from the host: {', '.join(unknown)}")
    reasons = [key for key in REBOOT_KEYS if pending.get(key) is True]
    return {"required": bool(reasons), "reasons": reasons}


def _up_to_date(os, ubr, line, current, cycle, warnings):
    if ubr is None:
        return False
    if cycle["published"] and cycle["build"] is not None:
        return ubr >= parse_build(cycle["build"])[1]
    if current["month"] is None or line == "unknown":
        warnings.append(
            f"the {cycle['month']} cycle of Windows Server {os} is not published in the catalog and the "
            "host's month is unknown: up_to_date is false"
        )
        return False
    warnings.append(
        f"the {cycle['month']} cycle of Windows Server {os} is not published in the catalog: up_to_date "
        f"compares months (host {current['month']}); add a hotpatch_catalog row once Microsoft publishes it"
    )
    return current["month"] >= cycle["month"]


def evaluate_baseline(facts, eligibility, when=None, catalog=None):
    """The design's baseline_info dict for one host (``when`` defaults to the host's clock, facts.now)."""
    normalised, problems = inspect_facts(facts)
    if eligibility is None:
        eligibility = evaluate_eligibility(facts)
    if not isinstance(eligibility, dict) or not isinstance(eligibility.get("eligible"), bool):
        raise HotpatchError(
            "eligibility must be the eligibility result ({eligible, platform, reasons, warnings})"
        )
    if when is None or when == "":
        when = normalised["now"]
        if when is None:
            raise HotpatchError(
                "no date for the release cycle: facts.now is missing and hotpatch_date is not set"
            )
    day = to_date(when)
    rows = load_catalog(catalog)
    warnings = [f"facts: {problem}" for problem in problems if problem.startswith(("os", "reboot_pending"))]
    os = os_release(normalised)
    ubr = normalised["os"]["ubr"] if normalised["os"] else None
    build = normalised["os"]["build"] if normalised["os"] else None
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
        "reboot_pending": _reboot_pending(normalised["reboot_pending"], warnings),
        "warnings": warnings,
    }
    if os not in OS_BUILDS:
        found = f"Windows Server {os}" if os else f"build {build}"
        warnings.append(
            f"{found} has no hotpatch release calendar: release line, baseline and cycle are unknown"
        )
        return result
    cycle = month_entry(os, *cycle_month(day), rows)
    result["cycle"] = cycle
    if ubr is None:
        warnings.append("os.ubr is unknown: the host's build cannot be placed in the release calendar")
        return result
    line, current, baseline = _place(os, ubr, eligibility["eligible"], rows, warnings)
    result["release_line"] = line
    result["current"] = current
    result["baseline"] = baseline
    governing = _governing_baseline(os, cycle["month"], rows)["month"]
    result["on_current_baseline"] = line == "hotpatch" and baseline["month"] == governing
    result["up_to_date"] = _up_to_date(os, ubr, line, current, cycle, warnings)
    return result
