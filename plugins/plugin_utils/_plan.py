"""What one host does this cycle: install a hotpatch, a baseline, regular updates, restart, or nothing.

``host_plan(status, updates, policy)`` returns ``{action, reboot, reasons, install}``; ``install`` feeds
``ansible.windows.win_updates`` (``category_names``, ``accept_list``, ``reject_list``: regular expressions
matched, case-insensitively and anywhere, against each update's title and KB numbers).
docs/decisions.md explains each rule for users.
"""

import re

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

# Every classification an update can restart for (hotpatch-facts.md: the Windows Update classifications),
# named as win_updates reports them. Upgrades (feature updates to a new OS version) are never included.
ALL_CATEGORIES = [
    "Security Updates",
    "Critical Updates",
    "Update Rollups",
    "Updates",
    "Definition Updates",
    "Drivers",
    "Feature Packs",
]
# The month's hotpatch: its title contains "Hotpatch".
HOTPATCH_PATTERN = "Hotpatch"
# The regular cumulative update of the OS: installing it leaves the hotpatch line (restart).
LCU_PATTERN = r"^(?!.*Hotpatch).*Cumulative Update for (Microsoft server operating system|Windows Server)"
# What a hotpatch month defers to the next baseline: .NET, drivers, firmware, non-security updates.
DEFERRED_PATTERNS = [r"\.NET", r"Driver", r"Firmware"]
# Updates that never restart although win_updates does not say so: antimalware signatures and MSRT.
NO_RESTART_TITLE = "malicious software removal tool"
NO_INSTALL = {"category_names": [], "accept_list": [], "reject_list": []}
POLICY_KEYS = ("defer_non_security", "accept_list", "reject_list")


def _policy(policy):
    if policy is None:
        policy = {}
    if not isinstance(policy, dict):
        raise HotpatchError(
            f"policy must be a mapping ({', '.join(POLICY_KEYS)}), got {type(policy).__name__}"
        )
    unknown = sorted(str(key) for key in policy if key not in POLICY_KEYS)
    if unknown:
        raise HotpatchError(f"policy key {unknown[0]!r} is unknown: use {', '.join(POLICY_KEYS)}")
    defer = policy.get("defer_non_security", True)
    if defer is None:
        defer = True
    if not isinstance(defer, bool):
        raise HotpatchError(f"policy defer_non_security must be true or false, got {defer!r}")
    lists = {}
    for key in ("accept_list", "reject_list"):
        value = policy.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise HotpatchError(
                f"policy {key} must be a list of regular expressions (strings), got {value!r}"
            )
        lists[key] = list(value)
    return defer, lists["accept_list"], lists["reject_list"]


def _updates(updates):
    """A list of {title, kb, categories, reboot}, or None when what Windows Update offers is not known.

    ``updates`` is win_updates' `updates` (a mapping by id, or a list) or the whole registered win_updates
    result. An empty list or mapping means "not known" (the design's default is ``updates=[]``); only a
    whole registered result can say that the search found nothing, and then the result is an empty list.
    """
    if updates is None:
        return None
    searched = False
    if (
        isinstance(updates, dict)
        and "title" not in updates
        and isinstance(updates.get("updates"), (dict, list))
    ):
        updates = updates["updates"]  # the whole registered win_updates result
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
        result.append(
            {
                "title": item["title"],
                "kb": [str(value) for value in kb],
                "categories": [str(value) for value in categories],
                "reboot": reboot,
            }
        )
    if not result and not searched:
        return None
    return result


def _is_hotpatch(update):
    return HOTPATCH_PATTERN.lower() in update["title"].lower()


def _needs_restart(update):
    """Whether an update restarts the host: its `reboot` when known, else by kind.

    win_updates' search does not report reboot behaviour, so unknown updates are assumed to restart, except
    hotpatches, Definition Updates (antimalware signatures) and the Malicious Software Removal Tool, which
    never do.
    """
    if update["reboot"] is not None:
        return update["reboot"]
    if _is_hotpatch(update) or NO_RESTART_TITLE in update["title"].lower():
        return False
    return "definition updates" not in {category.lower() for category in update["categories"]}


def _matches(update, patterns):
    """True when a pattern matches the title or a KB number, as win_updates matches (case-insensitive)."""
    for pattern in patterns:
        try:
            regex = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise HotpatchError(
                f"policy pattern {pattern!r} is not a valid regular expression: {exc}"
            ) from None
        if any(regex.search(text) for text in [update["title"], *update["kb"]]):
            return True
    return False


def _names(updates):
    return ", ".join(update["title"] for update in updates)


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
    if eligibility["eligible"] and (
        not isinstance(cycle, dict) or cycle.get("type") not in ("baseline", "hotpatch")
    ):
        raise HotpatchError("status.cycle.type must be baseline or hotpatch for an eligible host")
    if cycle is not None and not isinstance(cycle, dict):
        raise HotpatchError(f"status.cycle must be the release_cycle result or null, got {cycle!r}")
    if cycle is not None and not isinstance(cycle.get("month"), str):
        raise HotpatchError(f"status.cycle.month must be 'YYYY-MM', got {cycle.get('month')!r}")
    line = status.get("release_line", "hotpatch")
    if line not in ("hotpatch", "lcu", "unknown"):
        raise HotpatchError(f"status.release_line must be hotpatch, lcu or unknown, got {line!r}")
    return {
        "eligible": eligibility["eligible"],
        "cycle": cycle,
        "line": line,
        "on_current": status["on_current_baseline"],
        "up_to_date": status["up_to_date"],
        "pending": pending,
    }


def _plan(action, reboot, reasons, install):
    return {"action": action, "reboot": reboot, "reasons": reasons, "install": install}


def _full_install(reject):
    return {"category_names": list(ALL_CATEGORIES), "accept_list": [], "reject_list": list(reject)}


def _installable(updates, install):
    """The updates win_updates would install with ``install``: its category, accept and reject rules.

    An update without categories (hand-written input) is not filtered by category.
    """
    wanted = {category.lower() for category in install["category_names"]}
    chosen = []
    for update in updates or []:
        categories = {category.lower() for category in update["categories"]}
        if categories and "*" not in wanted and not categories & wanted:
            continue
        if install["accept_list"] and not _matches(update, install["accept_list"]):
            continue
        if _matches(update, install["reject_list"]):
            continue
        chosen.append(update)
    return chosen


def _restart_reason(updates):
    restart = [update for update in updates if _needs_restart(update)]
    reason = f"restart for: {_names(restart)}" if restart else "none of the updates needs a restart"
    return bool(restart), reason


def _conventional(up_to_date, updates, reject):
    install = _full_install(reject)
    if updates is None:
        if up_to_date:
            return _plan(
                "none", False, ["not eligible for hotpatch and already has this cycle's release"], NO_INSTALL
            )
        return _plan(
            "conventional",
            True,
            ["not eligible for hotpatch: regular updates; the cumulative update restarts the host"],
            install,
        )
    taken = _installable(updates, install)
    if not taken:
        return _plan(
            "none",
            False,
            ["not eligible for hotpatch and Windows Update offers nothing to install"],
            NO_INSTALL,
        )
    reboot, restart_reason = _restart_reason(taken)
    reasons = [f"not eligible for hotpatch: regular updates ({_names(taken)})", restart_reason]
    return _plan("conventional", reboot, reasons, install)


def _baseline_cycle(cycle, up_to_date, updates, reject):
    name = f"{cycle['month']} {'unplanned ' if cycle.get('unplanned') else ''}baseline"
    install = _full_install(reject)
    if not up_to_date:
        kb = f" ({cycle['kb']})" if cycle.get("kb") else ""
        return _plan("baseline", True, [f"{name} cycle: install the baseline{kb}, which restarts"], install)
    taken = _installable(updates, install)
    if not taken:
        return _plan("none", False, [f"already on the {name}"], NO_INSTALL)
    reboot, restart_reason = _restart_reason(taken)
    reasons = [f"already on the {name}; installing what the baseline cycle takes: {_names(taken)}"]
    return _plan("baseline", reboot, [*reasons, restart_reason], install)


def _hotpatch_cycle(cycle, up_to_date, updates, defer, accept, reject):
    kb = f" ({cycle['kb']})" if cycle.get("kb") else ""
    if defer:
        install = {
            "category_names": list(ALL_CATEGORIES),
            "accept_list": [HOTPATCH_PATTERN, *accept],
            "reject_list": [LCU_PATTERN, *DEFERRED_PATTERNS, *reject],
        }
    else:
        install = {
            "category_names": list(ALL_CATEGORIES),
            "accept_list": [],
            "reject_list": [LCU_PATTERN, *reject],
        }
    taken = _installable(updates, install)
    hotpatches = [update for update in taken if _is_hotpatch(update)]
    extras = [update for update in taken if not _is_hotpatch(update)]
    deferred = [update for update in updates or [] if update not in taken]
    if up_to_date and not taken:
        reasons = [f"already has the {cycle['month']} hotpatch{kb}"]
    elif updates is not None and not hotpatches and not up_to_date:
        reasons = [
            f"{cycle['month']} hotpatch cycle{kb}: on the current baseline but Windows Update offers no "
            "hotpatch (check hotpatch enrolment or licence)"
        ]
    else:
        reasons = [f"{cycle['month']} hotpatch cycle: install the hotpatch{kb} without a restart"]
    if extras:
        taken_by = "policy accept_list also takes" if defer else "policy takes non-security updates now"
        reasons.append(f"{taken_by}: {_names(extras)}")
    if deferred:
        reasons.append(f"deferred to the next baseline: {_names(deferred)}")
    if up_to_date and not taken:
        return _plan("none", False, reasons, NO_INSTALL)
    reboot, restart_reason = _restart_reason(extras)
    if reboot:
        reasons.append(restart_reason)
    return _plan("hotpatch", reboot, reasons, install)


def _nothing_offered(state):
    """Windows Update was searched and offers nothing: there is nothing to install, so no restart."""
    cycle = state["cycle"]
    kb = f" ({cycle['kb']})" if cycle.get("kb") else ""
    release = f"the {cycle['month']} {cycle['type']}{kb}"
    if state["line"] == "unknown":
        reason = (
            "Windows Update offers nothing and the host's build is not in the hotpatch catalog (release line "
            "unknown): add a hotpatch_catalog row for its month"
        )
    elif not state["up_to_date"]:
        reason = (
            f"Windows Update offers nothing although the host lacks {release}: check its update source "
            "(WSUS approval) or its hotpatch enrolment"
        )
    elif cycle["type"] == "hotpatch" and not state["on_current"]:
        reason = f"off its baseline but already has {release}; it rejoins hotpatch at the next baseline"
    else:
        reason = f"already has {release}; Windows Update offers nothing"
    return _plan("none", False, [reason], NO_INSTALL)


def _decide(state, updates, defer, accept, reject):
    cycle, up_to_date = state["cycle"], state["up_to_date"]
    if not state["eligible"]:
        return _conventional(up_to_date, updates, reject)
    if updates is not None and not updates:
        return _nothing_offered(state)
    if cycle["type"] == "baseline":
        return _baseline_cycle(cycle, up_to_date, updates, reject)
    if state["line"] == "unknown":
        plan = _hotpatch_cycle(cycle, up_to_date, updates, defer, accept, reject)
        plan["reasons"].insert(
            0,
            "the host's build is not in the hotpatch catalog (release line unknown): only hotpatches are "
            "installed, no restart; add a hotpatch_catalog row for its month",
        )
        return plan
    if not state["on_current"]:
        if up_to_date and not updates:
            return _plan(
                "none",
                False,
                [
                    f"off its baseline but already has the {cycle['month']} release; it rejoins hotpatch at "
                    "the next baseline"
                ],
                NO_INSTALL,
            )
        return _plan(
            "baseline",
            True,
            [
                f"{cycle['month']} hotpatch cycle but the host is not on the current baseline: it must "
                "catch up with the latest cumulative update, which restarts"
            ],
            _full_install(reject),
        )
    return _hotpatch_cycle(cycle, up_to_date, updates, defer, accept, reject)


def host_plan(status, updates=None, policy=None):
    """The design's plan dict for one host's baseline_info result, searched updates and policy."""
    state = _status(status)
    defer, accept, reject = _policy(policy)
    updates = _updates(updates)
    plan = _decide(state, updates, defer, accept, reject)
    pending = state["pending"]
    if not pending["required"]:
        return plan
    signals = ", ".join(pending.get("reasons") or []) or "reported by the host"
    reasons = [f"a restart is already pending ({signals}): updates cannot install before it"]
    reasons += [f"after the restart: {plan['action']}: {reason}" for reason in plan["reasons"]]
    return _plan("reboot", True, reasons, plan["install"])
