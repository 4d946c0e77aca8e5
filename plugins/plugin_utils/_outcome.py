"""The rollout's per-host state machine: route, status, message, restart evidence, and when the rollout stops.

Internal API of hotpatch.windows: only this collection's plugins may import it; it can change in any release.

The patch role runs modules; every decision between them is one of these functions (exposed as filters, with
YAML unit cases). ``hotpatch_outcome`` has one shape from the first step to the last (``new_outcome``):

- ``route``: what the rollout does next with the host: ``install`` (the parallel install step), ``wave`` (a
  restart wave), ``done``, ``deferred`` (left for a later run) or ``failed``.
- ``status``: what happened so far: ``planned``, ``check_mode``, ``unchanged``, ``patched``, ``restarted``,
  ``deferred``, ``held``, ``not_reached`` or ``failed``.
- ``restart``: Windows' evidence ``{needed, evidence, ignored}``: a host restarts only when ``needed`` is
  true, read right before the restart (``restart_decision``).

Windows decides the restart: ``win_updates`` reporting ``reboot_required`` after an install, or the CBS
``RebootPending`` / Windows Update ``RebootRequired`` keys (plus the signals a user opted into with
``hotpatch_restart_signals``). The plan's ``reboot`` only predicts it.
"""

import datetime

from ansible_collections.hotpatch.windows.plugins.plugin_utils._catalog import normalise_kb
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._waves import place_waves, wave_size
from ansible_collections.hotpatch.windows.plugins.plugin_utils._window import window_state

ROUTES = ("install", "wave", "done", "deferred", "failed")
STATUSES = (
    "planned",
    "enabled",
    "refused",
    "check_mode",
    "unchanged",
    "patched",
    "restarted",
    "deferred",
    "held",
    "not_reached",
    "failed",
)
UNEXPECTED_POLICIES = ("reboot", "defer", "fail")
# Plan causes of a host left alone on purpose: its outcome says "not patched" and why.
NOT_PATCHED_CAUSES = ("facts_incomplete", "azure_platform_orchestrated")
INSTALL_ERROR = "the install step did not finish"


def _instant(text):
    """An aware datetime from an ISO 8601 text ('Z' accepted), or None."""
    if not isinstance(text, str) or not text.strip():
        return None
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def booted_since(boot_before, boot_now):
    """Whether the host booted again: its last boot time (the probe's ``last_boot``, the host's own clock)
    is later now than it was. Unknown either side: no."""
    before, now = _instant(boot_before), _instant(boot_now)
    return before is not None and now is not None and now > before


def _check(value, name, kind):
    if not isinstance(value, kind):
        raise HotpatchError(f"{name} must be a {kind.__name__ if isinstance(kind, type) else 'mapping'}")
    return value


def _message(host, text):
    return f"{host}: {text}" if host and not text.startswith(f"{host}:") else text


def _failed_result(result):
    """(failed, unreachable, message) of a registered task result (a skipped or absent one is not failed)."""
    if not isinstance(result, dict) or result.get("skipped"):
        return False, False, None
    if result.get("unreachable"):
        return True, True, str(result.get("msg") or "unreachable")
    if result.get("failed"):
        return True, False, str(result.get("msg") or "failed")
    return False, False, None


def _installed(result):
    """The KBs (and titles of updates without one) that a registered win_updates result installed."""
    if not isinstance(result, dict):
        return [], []
    updates = result.get("updates") or {}
    items = updates.values() if isinstance(updates, dict) else updates
    installed, failed = [], []
    for update in items:
        if not isinstance(update, dict):
            continue
        kbs = [normalise_kb(kb) or str(kb) for kb in update.get("kb") or []]
        name = kbs[0] if kbs else str(update.get("title"))
        if update.get("installed"):
            installed.append(name)
        elif update.get("failure_msg") or update.get("failure_hresult_code"):
            failed.append(f"{name} ({update.get('failure_msg') or update.get('failure_hresult_code')})")
    return sorted(set(installed)), sorted(set(failed))


def window_now(window, facts, host, assessed_at=None):
    """The maintenance window state at the host's clock (``facts``: the probe's raw facts), never raising:
    a bad window gives ``{open: false, error}`` naming the host and the value."""
    if not window:
        return {"open": True, "message": "no maintenance window"}
    facts = facts if isinstance(facts, dict) else {}
    try:
        return window_state(window, facts.get("now"), facts.get("timezone"), assessed_at, host)
    except HotpatchError as exc:
        return {"open": False, "error": str(exc), "message": str(exc)}


def new_outcome(host, status, plan, window=None, check_mode=False, assessed_at=None):
    """The first outcome of a host after its assessment: where the rollout takes it, and why.

    ``window`` is the host's ``patch_maintenance_window`` (read at the host's clock of the assessment plus the
    controller time since ``assessed_at``).
    """
    status = status if isinstance(status, dict) else {}
    plan = plan if isinstance(plan, dict) else {}
    window = window_now(window, status.get("facts"), host, assessed_at) if not status.get("failed") else {}
    current = (status.get("current") or {}).get("build")
    outcome = {
        "action": plan.get("action", "none"),
        "route": "done",
        "status": "unchanged",
        "restarted": False,
        "restarts": 0,
        "reboot_avoided": False,
        "restart": {"needed": False, "evidence": [], "ignored": []},
        "wave": None,
        "installed": [],
        "failed_updates": [],
        "deferred": list(plan.get("deferred") or []),
        "build_before": current,
        "build_after": current,
        "down": False,
        "cause": plan.get("cause"),
        "message": "",
    }
    if status.get("failed"):
        cause = status.get("message") or _message(host, "the assessment failed")
        return dict(
            outcome, route="failed", status="failed", down=bool(status.get("unreachable")), message=cause
        )
    if plan.get("failed"):
        code = (plan.get("cause") or {}).get("message") or "policy refused the plan"
        return dict(outcome, route="failed", status="failed", message=_message(host, f"not patched: {code}"))
    if window.get("error"):
        return dict(outcome, route="failed", status="failed", message=_message(host, window["error"]))
    action = plan.get("action", "none")
    if action == "none" and (plan.get("cause") or {}).get("code") in NOT_PATCHED_CAUSES:
        return dict(outcome, message=f"not patched: {plan['cause'].get('message')}")
    if action == "none":
        reasons = "; ".join(plan.get("reasons") or []) or "nothing to do"
        return dict(outcome, message=f"nothing to do: {reasons}")
    if not window.get("open", True):
        text = f"outside its maintenance window ({window.get('message', '')}): deferred, nothing installed"
        return dict(outcome, route="deferred", status="deferred", message=text)
    route = "wave" if action == "reboot" else "install"
    if check_mode:
        return dict(outcome, route=route, status="check_mode", message=_would(plan, route))
    return dict(outcome, route=route, status="planned", message=f"planned: {action}")


def _would(plan, route):
    action = plan.get("action")
    if route == "wave":
        text = "would restart to clear the pending restart (Windows' evidence), then install what the plan "
        text += "allows"
    elif plan.get("reboot"):
        text = (
            f"would install the {action} updates now and restart in a wave if Windows then says a restart is "
            "needed (expected)"
        )
    else:
        text = f"would install the {action} updates without a restart (Windows decides if one is needed)"
    return f"{text} ({'; '.join(plan.get('reasons') or [])})"


def _evidence(install, after, signals_only=False):
    """Windows' restart evidence: win_updates' reboot_required and the probe's counted signals."""
    evidence = []
    if not signals_only and isinstance(install, dict) and install.get("reboot_required"):
        evidence.append("win_updates reported reboot_required")
    pending = (after or {}).get("reboot_pending") if isinstance(after, dict) else None
    ignored = []
    if isinstance(pending, dict):
        evidence += [f"pending restart: {reason}" for reason in pending.get("reasons") or []]
        ignored = list(pending.get("ignored") or [])
    return evidence, ignored


def after_install(outcome, host, plan, install, after, unexpected="reboot"):
    """The outcome after the parallel install step, from what win_updates and the probe say now."""
    outcome = dict(_check(outcome, "outcome", dict))
    if outcome.get("route") != "install":
        return outcome
    if unexpected not in UNEXPECTED_POLICIES:
        raise HotpatchError(f"patch_unexpected_reboot must be one of {', '.join(UNEXPECTED_POLICIES)}")
    failed, unreachable, error = _failed_result(install)
    installed, failed_updates = _installed(install)
    outcome.update(installed=installed, failed_updates=failed_updates)
    after_failed, after_unreachable, after_error = _failed_result(after)
    if failed or after_failed:
        text = error if failed else after_error
        what = "the install" if failed else "reading the host after the install"
        return dict(
            outcome,
            route="failed",
            status="failed",
            down=unreachable or after_unreachable,
            message=_message(host, f"{what} failed: {text}; the host is not restarted"),
        )
    evidence, ignored = _evidence(install, after)
    outcome["build_after"] = ((after or {}).get("current") or {}).get("build") or outcome.get("build_after")
    outcome["restart"] = {"needed": bool(evidence), "evidence": evidence, "ignored": ignored}
    kbs = ", ".join(installed) or "nothing"
    if failed_updates:
        kbs += f" (failed: {', '.join(failed_updates)})"
    if not evidence:
        avoided = bool(plan.get("reboot")) or plan.get("action") == "hotpatch"
        text = f"installed {kbs} without a restart; Windows needs none; build {outcome['build_after']}"
        if plan.get("reboot") and installed:
            text += " (a restart was expected; Windows says none is needed)"
        return dict(
            outcome,
            route="done",
            status="patched" if installed else "unchanged",
            reboot_avoided=avoided and bool(installed),
            message=text,
        )
    because = "; ".join(evidence)
    if plan.get("reboot") or unexpected == "reboot":
        note = "a restart" if plan.get("reboot") else "an unexpected restart"
        text = f"installed {kbs}; Windows needs {note} ({because}): restart wave"
        return dict(outcome, route="wave", status="planned", message=text)
    if unexpected == "defer":
        text = (
            f"installed {kbs}; Windows needs an unexpected restart ({because}), deferred by "
            "patch_unexpected_reboot=defer"
        )
        return dict(outcome, route="deferred", status="deferred", message=text)
    text = (
        f"installed {kbs} but Windows needs an unexpected restart ({because}); patch_unexpected_reboot=fail"
    )
    return dict(outcome, route="failed", status="failed", message=_message(host, text))


def restart_decision(outcome, now, last_install=None, window=None, host=None):
    """Right before a host's restart: ``{restart, evidence, message}`` from the host as it is now.

    ``now`` is a baseline_info result read moments ago. Evidence is only what Windows shows now (its counted
    pending-restart signals); an install that reported reboot_required counts while the host has not booted
    since it (``last_install``: when that install ended, ISO 8601). A host that restarted on its own, or whose
    pending restart cleared, is not restarted.
    """
    outcome = _check(outcome, "outcome", dict)
    failed, unreachable, error = _failed_result(now)
    if failed:
        return {
            "restart": False,
            "evidence": [],
            "unreachable": unreachable,
            "message": f"could not read the host right before its restart: {error}; not restarted",
        }
    state = window_now(window, (now or {}).get("facts"), host)
    if not state.get("open", True):
        return {
            "restart": False,
            "evidence": [],
            "unreachable": False,
            "deferred": True,
            "message": state.get("error")
            or f"maintenance window closed before the restart ({state.get('message')}): deferred",
        }
    if outcome.get("action") == "enable":
        # An enable restart applies a registry change: only that change's evidence counts (hotpatch.windows
        # .enable never restarts for someone else's pending restart).
        from ansible_collections.hotpatch.windows.plugins.plugin_utils._enable import boot_evidence

        evidence, message = boot_evidence(outcome, now)
        return {"restart": bool(evidence), "evidence": evidence, "unreachable": False, "message": message}
    evidence, _ignored = _evidence(None, now, signals_only=True)
    boot = ((now or {}).get("facts") or {}).get("last_boot")
    if not evidence and outcome.get("restart", {}).get("needed") and last_install and boot:
        booted, installed = _instant(boot), _instant(last_install)
        rebooted = booted is not None and installed is not None and booted > installed
        if not rebooted:
            evidence = [
                "win_updates reported reboot_required after the install and the host has not booted since"
            ]
        else:
            return {
                "restart": False,
                "evidence": [],
                "unreachable": False,
                "message": f"the host restarted on its own at {boot}: no restart needed",
            }
    if evidence:
        return {"restart": True, "evidence": evidence, "unreachable": False, "message": "; ".join(evidence)}
    return {
        "restart": False,
        "evidence": [],
        "unreachable": False,
        "message": "Windows no longer shows a pending restart (no CBS RebootPending, no Windows Update "
        "RebootRequired): not restarted",
    }


def after_wave(outcome, host, wave, decision, steps, after, health=None, admission=None, check_mode=False):
    """The outcome of a host at the end of its wave.

    ``steps``: registered results ``{reboot, install, reboot_again}`` (absent or skipped when not run);
    ``after``: baseline_info after the wave; ``health``: list of failed health checks (sentences). A failed
    hook or health task file is ``steps.error`` (``{task, msg}``). ``admission``: the wave's ``admit`` result;
    a host it held back is ``not_reached`` with the reason. In check mode nothing ran: the outcome says in
    which wave the host would restart.
    """
    outcome = dict(_check(outcome, "outcome", dict), wave=wave)
    held = (admission or {}).get("held") if isinstance(admission, dict) else None
    if isinstance(held, dict) and host in held:
        return hold(outcome, wave, held[host])
    if check_mode:
        return dict(outcome, message=f"{outcome.get('message') or ''}; wave {wave}".lstrip("; "))
    steps = steps or {}
    decision = decision if isinstance(decision, dict) else {}
    if decision.get("deferred"):
        text = f"wave {wave}: {decision.get('message')}; not restarted"
        return dict(outcome, route="deferred", status="deferred", message=text)
    restarts = 0
    for name in ("reboot", "reboot_again"):
        result = steps.get(name)
        if isinstance(result, dict) and result.get("rebooted"):
            restarts += 1
    outcome["restarts"] = outcome.get("restarts", 0) + restarts
    outcome["restarted"] = outcome.get("restarted", False) or restarts > 0
    installed, failed_updates = _installed(steps.get("install"))
    outcome["installed"] = sorted(set(outcome.get("installed") or []) | set(installed))
    outcome["failed_updates"] = sorted(set(outcome.get("failed_updates") or []) | set(failed_updates))
    for name in ("reboot", "install", "reboot_again"):
        failed, unreachable, error = _failed_result(steps.get(name))
        if failed:
            down = name != "install" or unreachable
            what = {"reboot": "the restart", "install": "the install", "reboot_again": "the second restart"}[
                name
            ]
            return dict(
                outcome,
                route="failed",
                status="failed",
                down=down,
                message=_message(host, f"wave {wave}: {what} failed: {error}"),
            )
    error = steps.get("error")
    if isinstance(error, dict) and error:
        text = f"wave {wave}: {error.get('task') or 'a task'} failed: {error.get('msg') or 'failed'}"
        return dict(outcome, route="failed", status="failed", message=_message(host, text))
    if not decision.get("restart") and not restarts:
        if decision.get("unreachable"):
            return dict(
                outcome,
                route="failed",
                status="failed",
                down=True,
                message=_message(host, decision["message"]),
            )
        status = "patched" if outcome["installed"] else "unchanged"
        if outcome.get("action") == "enable":
            status = "enabled"
        return dict(
            outcome,
            route="done",
            status=status,
            restart=dict(outcome["restart"], needed=False),
            message=f"wave {wave}: {decision.get('message')}",
        )
    failed, unreachable, error = _failed_result(after)
    if failed:
        return dict(
            outcome,
            route="failed",
            status="failed",
            down=unreachable,
            message=_message(
                host, f"wave {wave}: restarted, but reading the host afterwards failed: {error}"
            ),
        )
    outcome["down"] = False
    outcome["build_after"] = ((after or {}).get("current") or {}).get("build") or outcome.get("build_after")
    evidence, ignored = _evidence(None, after, signals_only=True)
    outcome["restart"] = dict(
        outcome.get("restart") or {}, needed=bool(evidence), evidence=evidence, ignored=ignored
    )
    if evidence:
        text = f"wave {wave}: still needs a restart after {restarts} restart(s) ({'; '.join(evidence)})"
        return dict(outcome, route="failed", status="failed", message=_message(host, text))
    if health:
        text = f"wave {wave}: restarted, but the health check failed: {'; '.join(health)}"
        return dict(outcome, route="failed", status="failed", message=_message(host, text))
    if outcome.get("action") == "enable":
        from ansible_collections.hotpatch.windows.plugins.plugin_utils._enable import verify_after_restart

        problems, done = verify_after_restart(outcome, after)
        because = "; ".join(decision.get("evidence") or [])
        if problems:
            text = f"wave {wave}: restarted ({because}), but {'; '.join(problems)}"
            return dict(outcome, route="failed", status="failed", message=_message(host, text))
        changed = ", ".join(outcome.get("changed") or [])
        text = f"wave {wave}: set {changed}, restarted; {'; '.join(done)}; healthy"
        return dict(outcome, route="done", status="restarted", message=text)
    kbs = ", ".join(outcome["installed"]) or "nothing"
    text = f"wave {wave}: installed {kbs}, restarted ({'; '.join(decision.get('evidence') or [])}), build "
    text += f"{outcome['build_after']}, healthy"
    return dict(outcome, route="done", status="restarted", message=text)


def hold(outcome, wave, reason):
    """A wave host that does not go now: the caps would be exceeded, or the rollout stopped."""
    outcome = dict(_check(outcome, "outcome", dict), wave=wave)
    return dict(outcome, route="deferred", status="not_reached", message=reason)


def _group(value):
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise HotpatchError(f"hotpatch_availability_group must be a string, got {value!r}")
    return str(value)


def admit(wave_hosts, rollout):
    """Which hosts of a wave may restart now, counting the hosts that are down already.

    ``rollout``: the ``rollout_plan`` result as updated by ``rollout_progress`` (``down``: {host: group} of
    the hosts that are down: unreachable at the start, not back from their restart; ``groups``; the caps).
    Returns ``{admitted: [hosts], held: {host: reason}, down: [hosts]}``.
    """
    rollout = _check(rollout, "rollout", dict)
    size = wave_size(rollout.get("batch_size", 1), rollout.get("play_count") or 1)
    cap = rollout.get("max_per_group")
    cap = None if cap in (None, "") else int(cap)
    groups_of = dict(rollout.get("groups") or {})
    down_map = {host: group for host, group in (rollout.get("down") or {}).items() if host not in wave_hosts}
    down = sorted(down_map)
    used = len(down)
    groups = {}
    for host in down:
        group = _group(down_map[host])
        if group is not None:
            groups[group] = groups.get(group, 0) + 1
    admitted, held = [], {}
    for host in sorted(wave_hosts):
        group = _group(groups_of.get(host))
        if used >= size:
            held[host] = (
                f"held back: {used} host(s) are down ({', '.join(down)}) and fill patch_batch_size="
                f"{rollout.get('batch_size')}; not restarted in this run"
            )
            continue
        if cap is not None and group is not None and groups.get(group, 0) >= cap:
            others = [name for name in down if _group(down_map[name]) == group]
            held[host] = (
                f"held back: availability group {group} already has {groups[group]} host(s) down "
                f"({', '.join(others) or 'in this wave'}), patch_max_per_group={cap}; not restarted in this "
                "run"
            )
            continue
        admitted.append(host)
        used += 1
        if group is not None:
            groups[group] = groups.get(group, 0) + 1
    return {"admitted": admitted, "held": held, "down": down}


def rollout_stop(wave, outcomes, max_fail_percentage=0):
    """``{stop, failed, message}`` after a wave: stop when its failed hosts exceed the percentage."""
    try:
        percent = float(max_fail_percentage)
    except (TypeError, ValueError):
        raise HotpatchError(
            f"patch_max_fail_percentage must be a number 0-100, got {max_fail_percentage!r}"
        ) from None
    if not 0 <= percent <= 100:
        raise HotpatchError(
            f"patch_max_fail_percentage must be between 0 and 100, got {max_fail_percentage!r}"
        )
    hosts = sorted(outcomes)
    failed = [host for host in hosts if (outcomes[host] or {}).get("status") == "failed"]
    stop = bool(hosts) and len(failed) * 100 > percent * len(hosts)
    message = ""
    if stop:
        message = (
            f"rollout stopped after wave {wave}: {len(failed)} of {len(hosts)} host(s) failed "
            f"({', '.join(failed)}), more than patch_max_fail_percentage={max_fail_percentage}%; later waves "
            "were not started"
        )
    return {"stop": stop, "failed": failed, "message": message}


def _hostvar(hostvars, host, name):
    try:
        values = hostvars[host]
    except KeyError:
        return None
    try:
        return values.get(name) if hasattr(values, "get") else None
    except Exception:  # a variable that cannot be templated is no outcome
        return None


def rollout_plan(hosts, hostvars, batch_size, max_per_group=None, check_mode=False):
    """The rollout's restart waves from each host's outcome after the install step.

    ``hosts``: every host of the play (a percentage batch size is a share of them); ``hostvars``: Ansible's
    hostvars (or a mapping host -> {hotpatch_outcome, hotpatch_plan}). A host goes into a wave when Windows
    says it needs a restart (route ``wave``); in check mode, when its plan expects one. Hosts already down
    (unreachable at the assessment) keep room in every wave. Returns ``{waves, order, sizes, wave_of,
    held, down, stopped, message, batch_size, max_per_group, play_count}``.
    """
    hosts = [str(host) for host in hosts or []]
    plans, down, held_reasons = {}, {}, {}
    for host in hosts:
        outcome = _hostvar(hostvars, host, "hotpatch_outcome") or {}
        plan = _hostvar(hostvars, host, "hotpatch_plan") or {}
        group = plan.get("group") if isinstance(plan, dict) else None
        if isinstance(group, bool) or not isinstance(group, (str, int)):
            group = None  # a bad group failed its host at the assessment; it never restarts
        if isinstance(outcome, dict) and outcome.get("down"):
            down[host] = group
        route = outcome.get("route") if isinstance(outcome, dict) else None
        restarts = route == "wave" or (check_mode and route == "install" and bool(plan.get("reboot")))
        plans[host] = {"reboot": restarts, "group": group}
    waves, held = place_waves(plans, batch_size, max_per_group, down)
    for host in held:
        held_reasons[host] = (
            f"held back: the hosts already down ({', '.join(sorted(down))}) leave no room within "
            f"patch_batch_size={batch_size} / patch_max_per_group={max_per_group}; not restarted in this run"
        )
    wave_of = {host: index for index, wave in enumerate(waves, start=1) for host in wave}
    return {
        "waves": waves,
        "order": [host for wave in waves for host in wave],
        "sizes": [len(wave) for wave in waves] or [1],
        "wave_of": wave_of,
        "groups": {host: plan["group"] for host, plan in plans.items() if plan["reboot"]},
        "held": held_reasons,
        "down": down,
        "stopped": False,
        "message": "",
        "batch_size": batch_size,
        "max_per_group": max_per_group,
        "play_count": len(hosts),
    }


def rollout_progress(rollout, wave, hostvars, max_fail_percentage=0):
    """The rollout after a wave: who is down now, and whether it stops (``rollout_stop``)."""
    rollout = dict(_check(rollout, "rollout", dict))
    hosts = (rollout.get("waves") or [])[wave - 1] if 0 < wave <= len(rollout.get("waves") or []) else []
    outcomes = {host: _hostvar(hostvars, host, "hotpatch_outcome") or {} for host in hosts}
    down = dict(rollout.get("down") or {})
    groups = {host: (_hostvar(hostvars, host, "hotpatch_plan") or {}).get("group") for host in hosts}
    for host, outcome in outcomes.items():
        if outcome.get("down"):
            down[host] = groups.get(host)
        else:
            down.pop(host, None)
    decision = rollout_stop(
        wave, {host: outcome for host, outcome in outcomes.items() if outcome}, max_fail_percentage
    )
    rollout.update(down=down, last_wave=wave, last_failed=decision["failed"])
    if decision["stop"] and not rollout.get("stopped"):
        rollout.update(stopped=True, message=decision["message"], stopped_after=wave)
    return rollout


def finish(outcome, host, rollout=None, status=None, plan=None):
    """A host's last outcome of the run: a host whose wave never started is ``not_reached`` with why."""
    if not isinstance(outcome, dict) or not outcome:
        outcome = new_outcome(host, status, plan)
        if outcome["route"] in ("install", "wave"):
            outcome = dict(
                outcome, route="deferred", status="not_reached", message="the rollout did not reach it"
            )
        return outcome
    rollout = rollout if isinstance(rollout, dict) else {}
    if outcome.get("status") != "planned":
        return outcome
    reason = (
        (rollout.get("held") or {}).get(host) or rollout.get("message") or "its restart wave did not start"
    )
    wave = outcome.get("wave") or (rollout.get("wave_of") or {}).get(host)
    if outcome.get("installed"):
        evidence = "; ".join((outcome.get("restart") or {}).get("evidence") or []) or "Windows' evidence"
        reason += f"; it installed {', '.join(outcome['installed'])} and a restart is pending ({evidence})"
    return dict(outcome, route="deferred", status="not_reached", wave=wave, message=reason)
