"""What an assessment left: the host's status (one shape, failed or not), a failed host's plan, its groups.

Internal API of hotpatch.windows: only this collection's plugins may import it; it can change in any release.
"""

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

RESULT_KEYS = ("changed", "failed", "ansible_facts", "invocation", "warnings", "deprecations", "skipped")
EMPTY_POINT = {"build": None, "kb": None, "month": None}
# The groups assess puts a host into, by plan action (design.md).
ACTION_GROUPS = {
    "hotpatch": ["hotpatch_month"],
    "baseline": ["baseline_month"],
    "reboot": ["reboot_required"],
    "none": ["hotpatch_compliant"],
    "conventional": [],
}
# Plan causes of a host planned `none` that is not known to be up to date: never hotpatch_compliant.
NOT_COMPLIANT_CAUSES = (
    "facts_incomplete",
    "azure_platform_orchestrated",
    "not_offered",
    "wsus_approval_missing",
)


def _empty_status():
    return {
        "facts": None,
        "eligibility": None,
        "cycle": None,
        "release_line": "unknown",
        "current": dict(EMPTY_POINT),
        "baseline": dict(EMPTY_POINT),
        "on_current_baseline": False,
        "up_to_date": False,
        "reboot_pending": {"required": False, "reasons": [], "signals": [], "ignored": []},
        "date": None,
        "catalog": None,
        "warnings": [],
    }


def _named(host, text):
    text = str(text or "failed").strip()
    return text if text.startswith(f"{host}:") else f"{host}: {text}"


def assessed_status(probe, host, problems=None, search=None):
    """``hotpatch_status``: the baseline_info result, or the same shape with ``failed``, ``message`` and
    ``cause`` (``{code, message}``; codes ``unreachable``, ``probe_failed``, ``search_failed`` and the
    ``check_settings`` problem codes) for a host that could not be assessed."""
    if not isinstance(probe, dict):
        raise HotpatchError(f"{host}: the probe result must be the registered baseline_info result")
    status = _empty_status()
    if problems and (probe.get("skipped") or probe.get("failed") or probe.get("unreachable")):
        message = "; ".join(str(problem.get("message")) for problem in problems)
        cause = {"code": problems[0].get("code", "bad_setting"), "message": message}
        status.update(failed=True, unreachable=False, message=message, cause=cause, problems=list(problems))
        return status
    if probe.get("unreachable"):
        message = _named(host, f"unreachable: {probe.get('msg') or 'no answer'}")
        return dict(
            status,
            failed=True,
            unreachable=True,
            message=message,
            cause={"code": "unreachable", "message": message},
        )
    if probe.get("failed") or probe.get("skipped"):
        message = _named(host, probe.get("msg") or "the probe failed")
        return dict(
            status,
            failed=True,
            unreachable=False,
            message=message,
            cause={"code": "probe_failed", "message": message},
        )
    status.update({key: value for key, value in probe.items() if key not in RESULT_KEYS})
    status.update(failed=False, unreachable=False, message="", cause=None)
    # The status's own warnings (who else patches the host, the calendar...): Ansible takes a registered
    # result's top-level `warnings` away to show them, so they are read from the fact the probe set.
    own = (probe.get("ansible_facts") or {}).get("hotpatch")
    if isinstance(own, dict) and isinstance(own.get("warnings"), list):
        status["warnings"] = list(own["warnings"])
    if problems:
        message = "; ".join(str(problem.get("message")) for problem in problems)
        cause = {"code": problems[0].get("code", "bad_setting"), "message": message}
        return dict(status, failed=True, message=message, cause=cause, problems=list(problems))
    if (
        isinstance(search, dict)
        and not search.get("skipped")
        and (search.get("failed") or search.get("unreachable"))
    ):
        what = (
            "unreachable during the Windows Update search"
            if search.get("unreachable")
            else "the Windows Update search failed"
        )
        message = _named(host, f"{what}: {search.get('msg') or 'no answer'}")
        return dict(
            status,
            failed=True,
            unreachable=bool(search.get("unreachable")),
            message=message,
            cause={"code": "search_failed", "message": message},
        )
    return status


def failed_plan(status):
    """The plan of a host that could not be assessed: nothing installed, never restarted, with the cause."""
    status = status if isinstance(status, dict) else {}
    message = status.get("message") or "the assessment failed"
    return {
        "action": "none",
        "reboot": False,
        "reasons": [message],
        "install": {"category_names": [], "accept_list": [], "reject_list": []},
        "updates": [],
        "deferred": [],
        "cause": status.get("cause") or {"code": "probe_failed", "message": message},
        "failed": True,
    }


def assess_groups(plan, status):
    """The dynamic groups of a host (hotpatch_month, baseline_month, reboot_required, hotpatch_compliant,
    hotpatch_ineligible, hotpatch_failed)."""
    status = status if isinstance(status, dict) else {}
    plan = plan if isinstance(plan, dict) else {}
    if status.get("failed") or plan.get("failed"):
        return ["hotpatch_failed"]
    groups = list(ACTION_GROUPS.get(plan.get("action"), []))
    if (plan.get("cause") or {}).get("code") in NOT_COMPLIANT_CAUSES:
        groups = [group for group in groups if group != "hotpatch_compliant"]
    if not (status.get("eligibility") or {}).get("eligible"):
        groups.append("hotpatch_ineligible")
    return groups
