"""What one host installs this cycle, what it leaves for later and why, and whether a restart is expected.

Internal API of hotpatch.windows: only this collection's plugins may import it; it can change in any release.

``host_plan(status, updates, policy, catalog)`` returns ``{action, reboot, reasons, install, updates,
deferred, cause, failed}``. The plan never decides a restart: ``reboot`` is a prediction that places a host in
a wave; Windows decides (``_outcome.py``). Rules (docs/decisions.md explains them for admins):

- Security first: every cycle installs Critical and Security updates (Windows, .NET, other Microsoft
  products), Defender definitions and the Malicious Software Removal Tool.
- Updates outside the hotpatch programme (non-security Windows updates, .NET, other products) are installed
  in hotpatch months too and restart a host only if Windows says so; ``defer_non_security`` leaves the
  non-security ones for the next baseline month (the fewest restarts).
- In a hotpatch month a host that takes the month's hotpatch does not take the month's cumulative update
  (LCU): the hotpatch carries its security fixes. Where no hotpatch is offered but the LCU is, Microsoft's
  behaviour is "install the LCU and restart": policy ``no_hotpatch`` (install | fail | skip).
- Releases are recognised by KB where the catalog knows them, by the title forms Windows Update uses
  otherwise. Drivers are opt-in (``include_drivers``); optional (preview) updates are skipped
  (``skip_optional``); feature updates (Upgrades) are never installed.
- "Cannot read" is not "absent": a host whose facts could not be read (eligibility reason
  ``facts_incomplete``) is planned ``none`` with cause ``facts_incomplete``: neither restarted nor given
  regular updates, whatever else it shows.
- An Azure VM that Azure patches itself (``hotpatch_azure_patch_mode: AutomaticByPlatform``) is assessed and
  reported only (``none``, cause ``azure_platform_orchestrated``) unless policy ``azure_platform`` is
  ``install``.
"""

import re

from ansible_collections.hotpatch.windows.plugins.plugin_utils._catalog import (
    OS_BUILDS,
    add_months,
    load_catalog,
    normalise_kb,
)
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._facts import RELEASES

ACTIONS = ("none", "hotpatch", "baseline", "reboot", "conventional")
# Update kinds, from the KB (catalog), the categories and the title.
KINDS = ("hotpatch", "lcu", "security", "definition", "msrt", "other", "driver", "optional", "upgrade")
SECURITY_KINDS = ("hotpatch", "lcu", "security", "definition", "msrt")
DECISIONS = ("install", "defer", "skip", "reject")
DECISION_WORDS = {"defer": "deferred", "skip": "skipped", "reject": "not installed"}
NO_HOTPATCH_POLICIES = ("install", "fail", "skip")
AZURE_PLATFORM_POLICIES = ("skip", "install")
# Cause codes (contract: reports and the outcome filters read them).
CAUSES = {
    "unplanned_baseline_suspected": "the month is a hotpatch month, but Windows Update offers the cumulative "
    "update and no hotpatch (a fix that cannot ship as a hotpatch: an unplanned baseline)",
    "hotpatch_line_lost": "this host is offered the cumulative update and no hotpatch while the month has "
    "one (hotpatch licence, enrolment, or a release that moved it off the hotpatch line)",
    "not_offered": "Windows Update offers nothing although the host lacks this cycle's release (update "
    "source, WSUS approval, hotpatch licence)",
    "programme_ended": "the hotpatch programme of this Windows Server release has ended",
    "release_unknown": "the host's build is not in the catalog and Windows Update was not searched",
    "wsus_approval_missing": "WSUS approval missing? The host gets its updates from WSUS, and Windows Update "
    "offers nothing although the host lacks this cycle's release",
    "facts_incomplete": "facts the decision needs could not be read: not patched and not restarted this run",
    "azure_platform_orchestrated": "Azure patches this VM itself (patchMode AutomaticByPlatform): assessed "
    "and reported only",
}
# Microsoft's caveat for installs outside Azure's own orchestration of a hotpatch VM.
ON_DEMAND_CAVEAT = (
    "patch_azure_platform=install: Azure also patches this VM (patchMode AutomaticByPlatform); installs "
    "made outside Azure's orchestration do not follow its availability-first rules and may restart"
)
ALL_CATEGORIES = ["*"]
SEARCH_CATEGORIES = [
    "Security Updates",
    "Critical Updates",
    "Definition Updates",
    "Update Rollups",
    "Updates",
    "Feature Packs",
    "Drivers",
]
# Title forms Windows Update uses (tests/windows_samples lists each with its public source).
HOTPATCH_TITLE = re.compile(r"hotpatch", re.IGNORECASE)
LCU_TITLES = [
    re.compile(
        r"Cumulative Update (?:for|Preview for) (?:Microsoft server operating system|Windows Server)", re.I
    ),
    re.compile(r"^\d{4}-\d{2} Security Update \(KB\d+\) \((?:20348|26100)\.\d+\)$", re.I),
]
OPTIONAL_TITLE = re.compile(r"\bPreview\b", re.IGNORECASE)
MSRT_TITLE = re.compile(r"Malicious Software Removal Tool", re.IGNORECASE)
NEVER_RESTART = ("hotpatch", "definition", "msrt")
POLICY_KEYS = (
    "defer_non_security",
    "include_drivers",
    "skip_optional",
    "no_hotpatch",
    "accept_list",
    "reject_list",
    "azure_platform",
)
NO_INSTALL = {"category_names": [], "accept_list": [], "reject_list": []}


def _bool_policy(policy, key, default):
    value = policy.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise HotpatchError(f"policy {key} must be true or false, got {value!r}")
    return value


def _policy(policy):
    """The checked policy: defaults for what is not set; HotpatchError naming a bad key or value."""
    if policy is None:
        policy = {}
    if not isinstance(policy, dict):
        raise HotpatchError(
            f"policy must be a mapping ({', '.join(POLICY_KEYS)}), got {type(policy).__name__}"
        )
    unknown = sorted(str(key) for key in policy if key not in POLICY_KEYS)
    if unknown:
        raise HotpatchError(f"policy key {unknown[0]!r} is unknown: use {', '.join(POLICY_KEYS)}")
    result = {
        "defer_non_security": _bool_policy(policy, "defer_non_security", False),
        "include_drivers": _bool_policy(policy, "include_drivers", False),
        "skip_optional": _bool_policy(policy, "skip_optional", True),
        "no_hotpatch": policy.get("no_hotpatch") or "install",
        "azure_platform": policy.get("azure_platform") or "skip",
    }
    if result["azure_platform"] not in AZURE_PLATFORM_POLICIES:
        raise HotpatchError(
            "policy azure_platform (patch_azure_platform) must be one of "
            f"{', '.join(AZURE_PLATFORM_POLICIES)}, got {result['azure_platform']!r}"
        )
    if result["no_hotpatch"] not in NO_HOTPATCH_POLICIES:
        raise HotpatchError(
            f"policy no_hotpatch must be one of {', '.join(NO_HOTPATCH_POLICIES)}, "
            f"got {result['no_hotpatch']!r}"
        )
    for key in ("accept_list", "reject_list"):
        value = policy.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise HotpatchError(
                f"policy {key} must be a list of regular expressions (strings), got {value!r}"
            )
        compiled = []
        for pattern in value:
            try:
                compiled.append(re.compile(pattern, re.IGNORECASE))
            except re.error as exc:
                raise HotpatchError(
                    f"policy pattern {pattern!r} is not a valid regular expression: {exc}"
                ) from None
        result[key] = compiled
    return result


def _updates(updates):
    """A list of {title, kb, categories, reboot}, or None when what Windows Update offers is not known.

    ``updates`` is win_updates' ``updates`` (a mapping by id, or a list) or the whole registered win_updates
    result. An empty list or mapping means "not known" (the design's default is ``updates=[]``); only a whole
    registered result can say that the search found nothing, and then the result is an empty list.
    """
    if updates is None:
        return None
    searched = False
    if (
        isinstance(updates, dict)
        and "title" not in updates
        and isinstance(updates.get("updates"), (dict, list))
    ):
        if updates.get("failed") or updates.get("skipped"):
            return None  # a failed or skipped search says nothing about what is offered
        filtered = updates.get("filtered_updates")
        merged = updates["updates"]
        if isinstance(merged, dict) and isinstance(filtered, dict) and filtered:
            merged = {**filtered, **merged}  # a search with filters still saw the filtered updates
        updates = merged
        searched = True
    if isinstance(updates, dict):
        items = [updates[key] for key in sorted(updates, key=str)]
    elif isinstance(updates, list):
        items = updates
    else:
        raise HotpatchError(f"updates must be win_updates' `updates` (a mapping or a list), got {updates!r}")
    result = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("title"), str):
            raise HotpatchError(f"update {index} must be a mapping with a string `title`, got {item!r}")
        kb = item.get("kb") or []
        categories = item.get("categories") or []
        if isinstance(kb, (str, int)):
            kb = [kb]
        if isinstance(categories, str):
            categories = [categories]
        if not isinstance(kb, list) or not isinstance(categories, list):
            raise HotpatchError(f"update {item['title']!r}: kb and categories must be lists")
        reboot = item.get("reboot")
        if reboot is not None and not isinstance(reboot, bool):
            raise HotpatchError(f"update {item['title']!r}: reboot must be true or false, got {reboot!r}")
        numbers = []
        for value in kb:
            normal = normalise_kb(value)
            numbers.append(normal[2:] if normal else str(value))
        result.append(
            {
                "title": item["title"],
                "kb": numbers,
                "categories": [str(c) for c in categories],
                "reboot": reboot,
            }
        )
    result.sort(key=lambda update: (update["title"], update["kb"]))
    if not result and not searched:
        return None
    return result


def _status(status):
    """The fields of a baseline_info result that the rules read; HotpatchError when one is wrong."""
    if not isinstance(status, dict):
        raise HotpatchError(
            f"status must be the baseline_info result (hotpatch_status), got {type(status).__name__}"
        )
    eligibility = status.get("eligibility")
    if not isinstance(eligibility, dict) or not isinstance(eligibility.get("eligible"), bool):
        raise HotpatchError("status.eligibility.eligible is missing: status must be the baseline_info result")
    for key in ("on_current_baseline", "up_to_date"):
        if not isinstance(status.get(key), bool):
            raise HotpatchError(f"status.{key} must be true or false, got {status.get(key)!r}")
    pending = status.get("reboot_pending")
    if not isinstance(pending, dict) or not isinstance(pending.get("required"), bool):
        raise HotpatchError("status.reboot_pending.required must be true or false")
    cycle = status.get("cycle")
    if cycle is not None and not isinstance(cycle, dict):
        raise HotpatchError(f"status.cycle must be the release_cycle result or null, got {cycle!r}")
    if eligibility["eligible"] and (cycle is None or cycle.get("type") not in ("baseline", "hotpatch")):
        raise HotpatchError("status.cycle.type must be baseline or hotpatch for an eligible host")
    if cycle is not None and not isinstance(cycle.get("month"), str):
        raise HotpatchError(f"status.cycle.month must be 'YYYY-MM', got {cycle.get('month')!r}")
    line = status.get("release_line", "hotpatch")
    if line not in ("hotpatch", "lcu", "unknown"):
        raise HotpatchError(f"status.release_line must be hotpatch, lcu or unknown, got {line!r}")
    orchestration = status.get("orchestration") if isinstance(status.get("orchestration"), dict) else {}
    reasons = eligibility.get("reasons") if isinstance(eligibility.get("reasons"), list) else []
    return {
        "incomplete": [
            str(reason.get("message"))
            for reason in reasons
            if isinstance(reason, dict) and reason.get("code") == "facts_incomplete"
        ],
        "orchestration": orchestration,
        "eligible": eligibility["eligible"],
        "platform": eligibility.get("platform"),
        "cycle": cycle,
        "line": line,
        "on_current": status["on_current_baseline"],
        "up_to_date": status["up_to_date"],
        "pending": pending,
        "os": _os_of(status),
        "programme": (status.get("catalog") or {}).get("programme"),
        "programme_note": (status.get("catalog") or {}).get("note"),
        "hotfixes": _hotfixes(status),
    }


def _hotfixes(status):
    """The installed KBs of the status's facts ('KB5052105'), ignoring what is not a KB id."""
    facts = status.get("facts") if isinstance(status.get("facts"), dict) else {}
    values = facts.get("hotfixes")
    if isinstance(values, (str, int)):
        values = [values]
    if not isinstance(values, list):
        return set()
    return {normalise_kb(kb) for kb in values} - {None}


def _os_of(status):
    """'2022', '2025' or None: from the facts' build, else the current build."""
    facts = status.get("facts") or {}
    build = (facts.get("os") or {}).get("build") if isinstance(facts.get("os"), dict) else None
    if build is None:
        current = (status.get("current") or {}).get("build")
        if isinstance(current, str) and "." in current:
            build = current.split(".")[0]
    try:
        return RELEASES.get(int(build)) if build is not None else None
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------- updates
def _release_of(update, catalog, os):
    """The catalog release of an offered update (by KB), or None."""
    for number in update["kb"]:
        for name in [os] if os else list(OS_BUILDS):
            release = catalog.by_kb(name, number)
            if release is not None:
                return release
    return None


def _kind(update, release):
    categories = {category.lower() for category in update["categories"]}
    title = update["title"]
    if "upgrades" in categories:
        return "upgrade"
    if release is not None:
        return "hotpatch" if release.line == "hotpatch" else "lcu"
    if "drivers" in categories:
        return "driver"
    if OPTIONAL_TITLE.search(title):
        return "optional"
    if "definition updates" in categories:
        return "definition"
    if MSRT_TITLE.search(title):
        return "msrt"
    if HOTPATCH_TITLE.search(title):
        return "hotpatch"
    if any(pattern.search(title) for pattern in LCU_TITLES):
        return "lcu"
    if categories & {"security updates", "critical updates"}:
        return "security"
    return "other"


def _restart_expected(update, kind):
    """Whether an update is expected to restart the host (a prediction: Windows decides after the install)."""
    if update["reboot"] is not None:
        return update["reboot"]
    return kind not in NEVER_RESTART


def _matches(update, patterns):
    """True when a pattern matches the title or a KB, as win_updates matches them (KB as 'KB<number>')."""
    texts = [update["title"], *(f"KB{number}" for number in update["kb"])]
    return any(pattern.search(text) for pattern in patterns for text in texts)


def _label(update):
    """The title, with the KB when the title does not hold it."""
    kb = ""
    if update["kb"]:
        first = update["kb"][0]
        first = first if str(first).upper().startswith("KB") else f"KB{first}"
        kb = "" if first in update["title"] else f" ({first})"
    return f"{update['title']}{kb}"


def _names(items):
    return ", ".join(_label(item) for item in items)


def _accept_pattern(update):
    """A win_updates accept_list entry that matches this update only: its KB, else its exact title.

    win_updates matches accept_list and reject_list entries against the title and each KB as ``KB<number>``.
    """
    if update["kb"]:
        return f"^KB{re.escape(update['kb'][0])}$"
    return f"^{re.escape(update['title'])}$"


def _classify(updates, catalog, os, cycle):
    rows = []
    for update in updates:
        release = _release_of(update, catalog, os)
        kind = _kind(update, release)
        rows.append(
            {
                "title": update["title"],
                "kb": [f"KB{number}" if number.isdigit() else number for number in update["kb"]],
                "categories": update["categories"],
                "kind": kind,
                "security": kind in SECURITY_KINDS,
                "restart": _restart_expected(update, kind),
                "month": release.month if release else None,
                "released": release.released if release else (cycle or {}).get("release_date"),
                "decision": None,
                "reason": None,
                "covered_by": None,
                "_raw": update,
            }
        )
    return rows


def _decide(row, decision, reason):
    if row["decision"] is None:
        row["decision"], row["reason"] = decision, reason


# ---------------------------------------------------------------------------------------------- plans
def _next_baseline(cycle, catalog, os):
    """The next baseline month after ``cycle`` (catalog cycle rows, else the planned pattern)."""
    month = cycle["month"]
    for _month in range(12):
        month = add_months(month, 1)
        if catalog.cycle_type(os, month)[0] == "baseline" if os else int(month[5:]) in (1, 4, 7, 10):
            return month
    return None


def _plan(action, reboot, reasons, install=None, rows=(), cause=None, failed=False):
    deferred = [
        {
            "title": row["title"],
            "kb": row["kb"],
            "kind": row["kind"],
            "security": row["security"],
            "decision": row["decision"],
            "reason": row["reason"],
            "released": row["released"],
        }
        for row in rows
        if row["decision"] in ("defer", "skip")
        or (row["decision"] == "reject" and row["security"] and not row["covered_by"])
    ]
    updates = [{key: value for key, value in row.items() if key != "_raw"} for row in rows]
    return {
        "action": action,
        "reboot": reboot,
        "reasons": reasons,
        "install": install or dict(NO_INSTALL),
        "updates": updates,
        "deferred": deferred,
        "cause": cause,
        "failed": failed,
    }


def _cause(code, detail):
    return {"code": code, "message": f"{CAUSES[code]}: {detail}" if detail else CAUSES[code]}


def _searched_plan(state, rows, policy, catalog):
    """The plan when Windows Update was searched: each offered update decided on its own."""
    cycle = state["cycle"] or {}
    eligible = state["eligible"]
    ended = state["programme"] == "ended"
    hotpatch_month = eligible and not ended and cycle.get("type") == "hotpatch"
    for row in rows:
        raw = row["_raw"]
        if _matches(raw, policy["reject_list"]):
            _decide(row, "reject", "matches the policy reject_list")
        elif row["kind"] == "upgrade":
            _decide(row, "reject", "feature updates (Upgrades) are never installed by hotpatch.windows")
        elif _matches(raw, policy["accept_list"]):
            _decide(row, "install", "matches the policy accept_list")
        elif row["kind"] == "driver" and not policy["include_drivers"]:
            _decide(row, "skip", "drivers are opt-in (patch_include_drivers): driver installs can drop WinRM")
        elif row["kind"] == "optional" and policy["skip_optional"]:
            _decide(row, "skip", "optional (preview) updates are skipped (patch_skip_optional)")
    hotpatches = [row for row in rows if row["kind"] == "hotpatch" and row["decision"] is None]
    lcus = [row for row in rows if row["kind"] == "lcu" and row["decision"] is None]
    reasons, cause, failed = [], None, False
    # an eligible host on its baseline, or one whose release the catalog cannot place (it may well be)
    expects_hotpatch = hotpatch_month and (state["on_current"] or state["line"] == "unknown")
    has_month_hotpatch = cycle.get("kb") is not None and cycle.get("kb") in state["hotfixes"]
    for row in hotpatches:
        _decide(row, "install", "the month's security hotpatch: installs without a restart")
    if hotpatches or (hotpatch_month and has_month_hotpatch):
        # Windows Update offers a hotpatch only to a host that can take it: its evidence beats the calendar.
        for row in lcus:
            kb = hotpatches[0]["kb"][0] if hotpatches and hotpatches[0]["kb"] else cycle.get("kb")
            _decide(row, "reject", f"the hotpatch {kb} carries this month's security fixes without a restart")
            row["covered_by"] = kb
    elif hotpatch_month and lcus and expects_hotpatch:
        code = "hotpatch_line_lost" if cycle.get("published") else "unplanned_baseline_suspected"
        offered = _names(lcus)
        cause = _cause(
            code,
            f"offered {offered}" + (f"; the catalog lists hotpatch {cycle['kb']}" if cycle.get("kb") else ""),
        )
        cause["policy"] = policy["no_hotpatch"]
        if policy["no_hotpatch"] == "install":
            for row in lcus:
                _decide(
                    row,
                    "install",
                    "no hotpatch is offered: the cumulative update closes the month's "
                    "vulnerabilities and restarts (policy no_hotpatch=install)",
                )
        elif policy["no_hotpatch"] == "skip":
            for row in lcus:
                _decide(
                    row,
                    "skip",
                    "no hotpatch is offered and policy no_hotpatch=skip: the month's security "
                    "fixes stay open until it is installed",
                )
        else:
            failed = True
            for row in lcus:
                _decide(row, "skip", "no hotpatch is offered and policy no_hotpatch=fail: not installed")
    for row in lcus:
        if hotpatch_month and not state["on_current"]:
            _decide(
                row,
                "install",
                "the host is not on the current baseline: the cumulative update catches it up "
                "(restart); it rejoins hotpatch at the next baseline",
            )
        else:
            _decide(row, "install", "the cumulative update: security fixes; restarts")
    next_baseline = _next_baseline(cycle, catalog, state["os"]) if hotpatch_month else None
    for row in rows:
        if row["kind"] in ("security", "definition", "msrt"):
            _decide(row, "install", "security content is installed every cycle")
        elif row["kind"] in ("other", "driver", "optional"):
            if hotpatch_month and policy["defer_non_security"]:
                _decide(
                    row,
                    "defer",
                    f"non-security: deferred to the next baseline month ({next_baseline}) by "
                    "policy defer_non_security",
                )
            else:
                _decide(
                    row,
                    "install",
                    "outside the hotpatch programme: installed now, restarts only if Windows needs it",
                )
    install_rows = [row for row in rows if row["decision"] == "install"]
    if state["line"] == "unknown" and rows:
        reasons.append(
            "the host's build is not in the hotpatch catalog (release line unknown): what Windows Update "
            "offers decides, and Windows decides the restart"
        )
    if ended:
        reasons.append(f"{state['programme_note']}: regular updates (conventional)")
        cause = cause or _cause("programme_ended", state["programme_note"])
    elif not eligible:
        reasons.append("not eligible for hotpatch: regular updates, restart only if Windows needs one")
    if cause:
        reasons.append(cause["message"])
    if install_rows:
        reasons.append("install: " + "; ".join(f"{_label(row)} ({row['reason']})" for row in install_rows))
    for decision in ("defer", "skip", "reject"):
        chosen = [row for row in rows if row["decision"] == decision]
        if chosen:
            reasons.append(
                f"{DECISION_WORDS[decision]}: "
                + "; ".join(f"{_label(row)} ({row['reason']})" for row in chosen)
            )
    restart_rows = [row for row in install_rows if row["restart"]]
    reboot = bool(restart_rows)
    if reboot:
        reasons.append(f"restart expected for: {_names(restart_rows)} (Windows decides after the install)")
    if not install_rows:
        if not rows:
            reasons.insert(0, _nothing_offered_reason(state, cause))
            if (
                not state["up_to_date"]
                and eligible
                and not ended
                and cycle.get("type")
                and state["line"] != "unknown"
            ):
                lacks = f"the host lacks the {cycle.get('month')} {cycle.get('type')}" + (
                    f" ({cycle['kb']})" if cycle.get("kb") else ""
                )
                server = state["orchestration"].get("wsus_server")
                if state["orchestration"].get("update_source") == "wsus":
                    lacks += f"; approve it on the WSUS server {server} (UseWUServer=1)"
                    cause = cause or _cause("wsus_approval_missing", lacks)
                else:
                    cause = cause or _cause("not_offered", lacks)
        else:
            reasons.insert(0, "nothing to install this cycle")
        return _plan("none", False, reasons, None, rows, cause, failed)
    install = {
        "category_names": list(ALL_CATEGORIES),
        "accept_list": sorted({_accept_pattern(row["_raw"]) for row in install_rows}),
        "reject_list": [pattern.pattern for pattern in policy["reject_list"]],
    }
    if ended or not eligible:
        action = "conventional"
    elif any(row["kind"] == "lcu" for row in install_rows) or cycle.get("type") == "baseline":
        action = "baseline"
    else:
        action = "hotpatch"
    return _plan(action, reboot, reasons, install, rows, cause, failed)


def _nothing_offered_reason(state, cause):
    cycle = state["cycle"] or {}
    kb = f" ({cycle['kb']})" if cycle.get("kb") else ""
    release = f"the {cycle.get('month')} {cycle.get('type')}{kb}"
    if state["line"] == "unknown":
        return (
            "Windows Update offers nothing; the host's build is not in the hotpatch catalog (release line "
            "unknown): run hotpatch.windows.catalog_update or add a hotpatch_catalog row"
        )
    if not state["up_to_date"] and cycle and state["orchestration"].get("update_source") == "wsus":
        return (
            "WSUS approval missing? Windows Update (WSUS "
            f"{state['orchestration'].get('wsus_server')}) offers nothing although the host lacks {release}: "
            "approve it on the WSUS server"
        )
    if not state["up_to_date"] and cycle:
        return (
            f"Windows Update offers nothing although the host lacks {release}: check its update source (WSUS "
            "approval) or its hotpatch enrolment or licence"
        )
    return (
        f"already has {release}; Windows Update offers nothing" if cycle else "Windows Update offers nothing"
    )


def _unsearched_plan(state, policy, catalog):
    """The plan when Windows Update was not searched: from the calendar, by categories and title forms."""
    cycle = state["cycle"] or {}
    eligible = state["eligible"]
    ended = state["programme"] == "ended"
    categories = ["Security Updates", "Critical Updates", "Definition Updates", "Update Rollups"]
    hotpatch_month = eligible and not ended and cycle.get("type") == "hotpatch"
    if not (hotpatch_month and policy["defer_non_security"]):
        categories += ["Updates", "Feature Packs"]
    if policy["include_drivers"]:
        categories.append("Drivers")
    reject = [pattern.pattern for pattern in policy["reject_list"]]
    if policy["skip_optional"]:
        reject.append(OPTIONAL_TITLE.pattern)
    reasons = []
    if hotpatch_month and state["on_current"] and state["line"] != "lcu":
        month_lcus = catalog.month_lcus(state["os"], cycle["month"]) if state["os"] else []
        reject += [f"^{release.kb}$" for release in month_lcus]
        reject += [pattern.pattern for pattern in LCU_TITLES]
        install = {"category_names": categories, "accept_list": [], "reject_list": reject}
        if state["up_to_date"]:
            return _plan("none", False, [f"already has the {cycle['month']} hotpatch"])
        kb = f" ({cycle['kb']})" if cycle.get("kb") else ""
        reasons.append(
            f"{cycle['month']} hotpatch cycle: install the hotpatch{kb} without a restart, and the "
            "month's other security updates; the cumulative update is not installed"
        )
        return _plan("hotpatch", False, reasons, install)
    install = {"category_names": categories, "accept_list": [], "reject_list": reject}
    if state["up_to_date"]:
        what = "not eligible for hotpatch and" if not eligible else ""
        return _plan("none", False, [f"{what} already has this cycle's release".strip()])
    if ended or not eligible:
        cause = _cause("programme_ended", state["programme_note"]) if ended else None
        reason = (
            f"{state['programme_note']}: regular updates"
            if ended
            else "not eligible for hotpatch: regular updates"
        )
        reasons = [f"{reason}; the cumulative update restarts the host"]
        return _plan("conventional", True, reasons, install, cause=cause)
    if hotpatch_month:
        reasons.append(
            f"{cycle['month']} hotpatch cycle but the host is not on the current baseline: it catches "
            "up with the cumulative update, which restarts"
        )
    else:
        name = f"{cycle['month']} {'unplanned ' if cycle.get('unplanned') else ''}baseline"
        reasons.append(
            f"{name} cycle: install the baseline{' (' + cycle['kb'] + ')' if cycle.get('kb') else ''}, "
            "which restarts"
        )
    return _plan("baseline", True, reasons, install)


def host_plan(status, updates=None, policy=None, catalog=None):
    """The design's plan dict for one host's baseline_info result, searched updates and policy."""
    state = _status(status)
    checked = _policy(policy)
    if state["incomplete"]:
        # Cannot read is not absent: no install, no restart, whatever the rest of the facts say.
        detail = "; ".join(state["incomplete"])
        cause = _cause("facts_incomplete", detail)
        return _plan("none", False, [cause["message"]], cause=cause)
    azure_platform = state["orchestration"].get("azure_platform_patching") is True
    if azure_platform and checked["azure_platform"] == "skip":
        cause = _cause(
            "azure_platform_orchestrated",
            "hotpatch_azure_patch_mode is AutomaticByPlatform and patch_azure_platform is skip: Azure "
            "installs and restarts on its own schedule (set patch_azure_platform=install to install now "
            "anyway)",
        )
        return _plan("none", False, [cause["message"]], cause=cause)
    loaded = load_catalog(catalog)
    if state["programme"] is None and state["os"] and state["cycle"]:
        month_status = loaded.status(state["os"], state["cycle"]["month"])
        state["programme"], state["programme_note"] = month_status["programme"], month_status["note"]
    offered = _updates(updates)
    other_date = ((status.get("date") or {}) if isinstance(status.get("date"), dict) else {}).get(
        "other_cycle"
    )
    if other_date:
        offered = None  # what Windows Update offers today says nothing about another cycle
    if offered is None:
        plan = _unsearched_plan(state, checked, loaded)
    else:
        plan = _searched_plan(state, _classify(offered, loaded, state["os"], state["cycle"]), checked, loaded)
    if other_date:
        plan["reasons"].insert(
            0,
            f"planned for hotpatch_date {status['date'].get('value')}, another cycle than the host's clock: "
            "from the release calendar alone (today's Windows Update offer says nothing about that cycle)",
        )
    if azure_platform:
        plan["reasons"].insert(0, ON_DEMAND_CAVEAT)
    pending = state["pending"]
    if not pending["required"]:
        return plan
    signals = ", ".join(pending.get("reasons") or []) or "reported by the host"
    reasons = [f"a restart is already pending ({signals}): updates cannot install before it"]
    reasons += [f"after the restart: {plan['action']}: {reason}" for reason in plan["reasons"]]
    return dict(plan, action="reboot", reboot=True, reasons=reasons)
