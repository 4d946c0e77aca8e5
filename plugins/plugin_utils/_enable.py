"""Turning hotpatch on: what to change on a host, whether the change needs a restart, what came of it.

Internal API of hotpatch.windows: only this collection's plugins may import it; it can change in any release.

The role ``hotpatch.windows.enable`` runs modules; every decision between them is one of these functions
(exposed as filters, with YAML unit cases):

- ``enable_plan(status, settings, licence)``: from the host's ``baseline_info`` result, the role's settings
  and the license profile read from Azure Resource Manager: the registry values to write
  (virtualization-based security, Arm64 CHPE off), the Arc licence request, the hosts refused (no UEFI
  Secure Boot, facts that could not be read) and the hosts an enable cannot help (other reasons apply).
- ``enable_outcome(host, status, plan, registry, check_mode)``: after the registry step, the host's
  ``hotpatch_outcome`` in the rollout's shape (``_outcome.py``): a restart wave only where a value was
  written and Windows runs something else until the next boot.
- ``boot_evidence(outcome, now)``: right before the restart (``_outcome.restart_decision``): the change is
  still pending - the host has not booted since and the running state still differs.
- ``verify_after_restart(outcome, after)``: after the restart, is VBS running (status 2), is
  HotPatchRestrictions 1.
- ``enable_finish(...)``: the licence request's result and the host's last outcome.

Sources: Microsoft Learn, "Enable Hotpatch for Azure Arc-enabled servers" (VSM check, the
``EnableVirtualizationBasedSecurity`` registry value, the restart, ``VirtualizationBasedSecurityStatus`` 2,
UEFI with Secure Boot at bare minimum, the Hotpatch licence on the Arc machine), "Hotpatch for Windows
Server" (Arm64: ``HotPatchRestrictions``=1 turns CHPE off, restart), "Enable virtualization-based protection
of code integrity" (``RequirePlatformSecurityFeatures``: 1 Secure Boot, 3 Secure Boot and DMA protection),
and the Azure REST API "License Profiles" of Microsoft.HybridCompute (2024-07-10).
"""

from urllib.parse import quote

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

DEVICE_GUARD = r"HKLM:\SYSTEM\CurrentControlSet\Control\DeviceGuard"
MEMORY_MANAGEMENT = r"HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager\Memory Management"
API_VERSION = "2024-07-10"
ENDPOINT = "https://management.azure.com"
FEATURE = "Hotpatch"
# Reasons an enable can fix; any other reason keeps the host ineligible whatever is enabled.
FIXABLE = ("vbs_not_running", "chpe_enabled", "arc_not_licensed")
SETTING_KEYS = (
    "vbs",
    "chpe",
    "arc_license",
    "platform_security_features",
    "arc_resource",
    "endpoint",
    "api_version",
    "group",
)
ARC_RESOURCE_KEYS = ("subscription_id", "resource_group", "name", "location")
NO_INSTALL = {"category_names": [], "accept_list": [], "reject_list": []}
CAUSES = {
    "vbs_hardware": "virtualization-based security needs UEFI with Secure Boot (Microsoft: at bare minimum; "
    "a Hyper-V VM must be Generation 2), which this host does not show",
    "facts_incomplete": "facts the decision needs could not be read: nothing changed",
    "not_applicable": "enabling cannot make this host eligible: other reasons apply",
    "arc_resource_unknown": "the Arc machine's Azure resource is unknown: set hotpatch_arc_resource",
    "licence_error": "the Arc machine's license profile could not be read or changed",
    "vbs_configured_not_running": "virtualization-based security is configured but not running",
}


def _bool(value, name, default):
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    raise HotpatchError(f"{name} must be true or false, got {value!r}")


def _settings(settings):
    settings = settings if isinstance(settings, dict) else {}
    unknown = sorted(str(key) for key in settings if key not in SETTING_KEYS)
    if unknown:
        raise HotpatchError(f"enable setting {unknown[0]!r} is unknown: use {', '.join(SETTING_KEYS)}")
    features = settings.get("platform_security_features", 1)
    if features not in (None, "", 1, 3, "1", "3") or isinstance(features, bool):
        raise HotpatchError(
            "enable_vbs_platform_security_features must be 1 (Secure Boot), 3 (Secure Boot and DMA "
            f"protection) or null (leave it), got {features!r}"
        )
    resource = settings.get("arc_resource") or {}
    if not isinstance(resource, dict) or set(resource) - set(ARC_RESOURCE_KEYS):
        raise HotpatchError(
            f"hotpatch_arc_resource must be a mapping of {', '.join(ARC_RESOURCE_KEYS)}, got {resource!r}"
        )
    endpoint = settings.get("endpoint") or ENDPOINT
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        raise HotpatchError(f"enable_arm_endpoint must be an http(s) URL, got {endpoint!r}")
    return {
        "vbs": _bool(settings.get("vbs"), "enable_vbs", True),
        "chpe": _bool(settings.get("chpe"), "enable_chpe", True),
        "arc_license": _bool(settings.get("arc_license"), "enable_arc_license", True),
        "platform_security_features": None if features in (None, "") else int(features),
        "arc_resource": dict(resource),
        "endpoint": endpoint.rstrip("/"),
        "api_version": str(settings.get("api_version") or API_VERSION),
        "group": settings.get("group"),
    }


def _cause(code, detail=None):
    return {"code": code, "message": f"{CAUSES[code]}: {detail}" if detail else CAUSES[code]}


def _facts(status):
    facts = status.get("facts") if isinstance(status, dict) else None
    return facts if isinstance(facts, dict) else {}


def arc_license_request(status, settings=None):
    """``{url, location, missing}`` of the Arc machine's license profile (``licenseProfiles/default``).

    The subscription, resource group, machine name and location come from ``hotpatch_arc_resource``, else
    from what ``azcmagent show -j`` reported (the probe's ``azcmagent``); ``missing`` names what neither gave.
    """
    checked = _settings(settings)
    agent = _facts(status).get("azcmagent") or {}
    resource = checked["arc_resource"]
    values = {
        "subscription_id": resource.get("subscription_id") or agent.get("subscription_id"),
        "resource_group": resource.get("resource_group") or agent.get("resource_group"),
        "name": resource.get("name") or agent.get("resource_name"),
        "location": resource.get("location") or agent.get("location"),
    }
    missing = [key for key in ("subscription_id", "resource_group", "name") if not values[key]]
    url = None
    if not missing:
        url = (
            f"{checked['endpoint']}/subscriptions/{quote(values['subscription_id'], safe='')}/resourceGroups/"
            f"{quote(values['resource_group'], safe='')}/providers/Microsoft.HybridCompute/machines/"
            f"{quote(values['name'], safe='')}/licenseProfiles/default?api-version={checked['api_version']}"
        )
    return {"url": url, "location": values["location"], "missing": missing, **values}


def _feature_status(licence):
    """(profile exists, Hotpatch feature status or None, error) from a registered uri GET result."""
    if not isinstance(licence, dict) or licence.get("skipped"):
        return None, None, "not read"
    code = licence.get("status")
    body = licence.get("json") if isinstance(licence.get("json"), dict) else {}
    if code == 404:
        return False, None, None
    if code != 200:
        error = (body.get("error") or {}) if isinstance(body, dict) else {}
        text = error.get("message") or licence.get("msg") or "no answer"
        return None, None, f"HTTP {code}: {error.get('code') or ''} {text}".replace("  ", " ").strip()
    product = (body.get("properties") or {}).get("productProfile") or {}
    for feature in product.get("productFeatures") or []:
        if isinstance(feature, dict) and str(feature.get("name", "")).lower() == FEATURE.lower():
            return True, feature.get("subscriptionStatus"), None
    return True, None, None


def _registry_change(what, path, name, data, reason):
    return {
        "what": what,
        "kind": "registry",
        "path": path,
        "name": name,
        "type": "dword",
        "data": data,
        "restart": True,
        "reason": reason,
    }


def _plan(changes, refused, reasons, licence=None, group=None, cause=None, failed=False):
    registry = [
        {key: change[key] for key in ("path", "name", "type", "data")}
        for change in changes
        if change["kind"] == "registry"
    ]
    action = "enable" if changes or licence else "none"
    return {
        "action": action,
        "reboot": any(change.get("restart") for change in changes),
        "reasons": reasons,
        "changes": changes,
        "registry": registry,
        "licence": licence,
        "refused": refused,
        "install": dict(NO_INSTALL),
        "updates": [],
        "deferred": [],
        "cause": cause,
        "failed": failed,
        "group": group,
    }


def enable_plan(status, settings=None, licence=None):
    """What to change on one host to make it hotpatch-eligible (see the module's documentation).

    ``status``: the host's ``hotpatch_status`` (a failed assessment gives a failed plan); ``settings``:
    ``{vbs, chpe, arc_license, platform_security_features, arc_resource, endpoint, api_version, group}``;
    ``licence``: the registered ``ansible.builtin.uri`` GET of the license profile (Arc hosts), or None.
    """
    checked = _settings(settings)
    group = checked["group"]
    status = status if isinstance(status, dict) else {}
    if status.get("failed") or not isinstance(status.get("eligibility"), dict):
        message = status.get("message") or "the host could not be assessed"
        cause = status.get("cause") or {"code": "probe_failed", "message": message}
        return _plan([], [], [message], group=group, cause=cause, failed=True)
    facts = _facts(status)
    eligibility = status["eligibility"]
    reasons_found = [r for r in eligibility.get("reasons") or [] if isinstance(r, dict)]
    codes = {reason.get("code") for reason in reasons_found}
    platform = eligibility.get("platform")
    if "facts_incomplete" in codes:
        detail = "; ".join(
            reason.get("message", "") for reason in reasons_found if reason.get("code") == "facts_incomplete"
        )
        cause = _cause("facts_incomplete", detail)
        return _plan([], [cause], [cause["message"]], group=group, cause=cause)
    blocking = [r for r in reasons_found if r.get("code") not in FIXABLE]
    if blocking:
        detail = "; ".join(f"{r.get('code')}: {r.get('message')}" for r in blocking)
        cause = _cause("not_applicable", detail)
        return _plan([], [], [cause["message"]], group=group, cause=cause)
    changes, refused, reasons = [], [], []
    vbs = facts.get("vbs_status")
    config = facts.get("vbs_config") if isinstance(facts.get("vbs_config"), dict) else {}
    if checked["vbs"] and vbs is not None and vbs != 2:
        if facts.get("secure_boot") is not True:
            shown = "off" if facts.get("secure_boot") is False else "unknown (BIOS firmware, or not readable)"
            refused.append(_cause("vbs_hardware", f"Secure Boot is {shown}"))
        elif config.get("enable_virtualization_based_security") == 1:
            refused.append(
                _cause(
                    "vbs_configured_not_running",
                    f"EnableVirtualizationBasedSecurity is 1 and VirtualizationBasedSecurityStatus is {vbs}: "
                    "a restart may still be pending from an earlier change (restart the host yourself), or "
                    "the firmware or hypervisor does not allow it (Microsoft: troubleshoot VSM)",
                )
            )
        else:
            changes.append(
                _registry_change(
                    "vbs",
                    DEVICE_GUARD,
                    "EnableVirtualizationBasedSecurity",
                    1,
                    f"VirtualizationBasedSecurityStatus is {vbs}: turn virtualization-based security on "
                    "(runs after a restart)",
                )
            )
            features = checked["platform_security_features"]
            if features is not None and config.get("require_platform_security_features") is None:
                changes.append(
                    _registry_change(
                        "vbs",
                        DEVICE_GUARD,
                        "RequirePlatformSecurityFeatures",
                        features,
                        "require Secure Boot"
                        + (" and DMA protection" if features == 3 else "")
                        + " for virtualization-based security",
                    )
                )
    os = facts.get("os") if isinstance(facts.get("os"), dict) else {}
    if checked["chpe"] and os.get("architecture") == "ARM64" and facts.get("hotpatch_restrictions") != 1:
        changes.append(
            _registry_change(
                "chpe",
                MEMORY_MANAGEMENT,
                "HotPatchRestrictions",
                1,
                "Arm64 with CHPE on: HotPatchRestrictions=1 turns it off (applies after a restart)",
            )
        )
    licence_request = None
    if checked["arc_license"] and platform == "arc":
        licence_request, licence_refused, licence_reason = _licence_plan(status, checked, licence, refused)
        refused += licence_refused
        if licence_reason:
            reasons.append(licence_reason)
    for change in changes:
        reasons.append(f"{change['name']}={change['data']}: {change['reason']}")
    if licence_request:
        reasons.append(licence_request["reason"])
    for item in refused:
        reasons.append(f"refused: {item['message']}")
    if not changes and not licence_request and not refused:
        why = "already eligible" if not codes else "no enable setting applies"
        reasons.insert(0, f"nothing to change: {why}")
    cause = refused[0] if refused else None
    return _plan(changes, refused, reasons, licence_request, group, cause)


def _licence_plan(status, checked, licence, refused):
    """(licence request or None, refusals, reason) of an Arc machine's Hotpatch licence feature."""
    target = arc_license_request(status, checked)
    if target["missing"]:
        return None, [_cause("arc_resource_unknown", "no " + ", ".join(target["missing"]))], None
    exists, feature, error = _feature_status(licence)
    if error:
        return None, [_cause("licence_error", f"GET {target['url'].split('?')[0]}: {error}")], None
    if feature in ("Enabled", "Enabling"):
        return None, [], f"the Hotpatch licence feature is {feature} on the Arc machine {target['name']}"
    if any(item["code"] == "vbs_hardware" for item in refused):
        return None, [], None
    feature_body = {"productFeatures": [{"name": FEATURE, "subscriptionStatus": "Enable"}]}
    if exists:
        method, body = "PATCH", {"properties": {"productProfile": feature_body}}
    else:
        if not target["location"]:
            return None, [_cause("arc_resource_unknown", "no location to create the license profile")], None
        method = "PUT"
        body = {"location": target["location"], "properties": {"productProfile": feature_body}}
    shown = f"is {feature}" if feature else ("is not set" if exists else "has no license profile yet")
    request = {
        "method": method,
        "url": target["url"],
        "body": body,
        "machine": target["name"],
        "before": feature,
        "reason": f"the Hotpatch licence feature {shown} on the Arc machine {target['name']}: {method} "
        "licenseProfiles/default with productFeatures Hotpatch Enable (after virtualization-based security "
        "runs)",
    }
    return request, [], None


def _registry_results(registry):
    """(changed [names], failed [messages]) of the registered win_regedit loop."""
    results = registry.get("results") if isinstance(registry, dict) else None
    changed, failed = [], []
    for result in results or []:
        if not isinstance(result, dict) or result.get("skipped"):
            continue
        item = result.get("item") if isinstance(result.get("item"), dict) else {}
        name = item.get("name") or "a registry value"
        if result.get("failed") or result.get("unreachable"):
            failed.append(f"{name}: {result.get('msg') or 'failed'}")
        elif result.get("changed"):
            changed.append(name)
    return changed, failed


def enable_outcome(host, status, plan, registry=None, check_mode=False):
    """The host's outcome after the registry step, in the rollout's shape (``_outcome.new_outcome``)."""
    status = status if isinstance(status, dict) else {}
    plan = plan if isinstance(plan, dict) else {}
    facts = _facts(status)
    current = (status.get("current") or {}).get("build") if isinstance(status.get("current"), dict) else None
    outcome = {
        "action": plan.get("action", "none"),
        "route": "done",
        "status": "unchanged",
        "restarted": False,
        "restarts": 0,
        "reboot_avoided": False,
        "restart": {
            "needed": False,
            "evidence": [],
            "ignored": [],
            "pending": [],
            "boot": facts.get("last_boot"),
        },
        "wave": None,
        "installed": [],
        "failed_updates": [],
        "deferred": [],
        "build_before": current,
        "build_after": current,
        "down": False,
        "cause": plan.get("cause"),
        "changed": [],
        "message": "",
    }
    if plan.get("failed"):
        message = (plan.get("cause") or {}).get("message") or "the host could not be assessed"
        text = message if message.startswith(f"{host}:") else f"{host}: {message}"
        return dict(
            outcome, route="failed", status="failed", down=bool(status.get("unreachable")), message=text
        )
    refused = plan.get("refused") or []
    changes = [change for change in plan.get("changes") or [] if change.get("kind") == "registry"]
    if not changes and not plan.get("licence"):
        if refused:
            text = "; ".join(item["message"] for item in refused)
            return dict(outcome, status="refused", message=text)
        return dict(outcome, message="; ".join(plan.get("reasons") or []) or "nothing to change")
    changed, failed = _registry_results(registry)
    if failed:
        text = f"{host}: writing the registry failed: {'; '.join(failed)}; the host is not restarted"
        return dict(outcome, route="failed", status="failed", message=text)
    if check_mode:
        changed = [change["name"] for change in changes]
    pending = []
    for change in changes:
        if change["name"] in changed and change.get("restart"):
            setting = f"{change['name']}={change['data']}"
            entry = next((item for item in pending if item["what"] == change["what"]), None)
            if entry is None:
                pending.append({"what": change["what"], "setting": setting})
            else:
                entry["setting"] += f", {setting}"
    outcome["changed"] = [
        f"{change['name']}={change['data']}" for change in changes if change["name"] in changed
    ]
    licence = plan.get("licence")
    later = f"; then {licence['method']} the Hotpatch licence feature" if licence else ""
    if pending:
        vbs = facts.get("vbs_status")
        evidence = [_pending_text(entry, vbs) for entry in pending]
        outcome["restart"] = dict(outcome["restart"], needed=True, evidence=evidence, pending=pending)
        settings = ", ".join(outcome["changed"])
        if check_mode:
            text = f"would set {settings} and restart in a wave to apply it{later}"
            return dict(outcome, route="wave", status="check_mode", message=text)
        text = f"set {settings}; Windows applies it at the next boot: restart wave{later}"
        return dict(outcome, route="wave", status="planned", message=text)
    if licence:
        verb = "would " if check_mode else ""
        text = f"{verb}{licence['method']} the Hotpatch licence feature of {licence['machine']}"
        return dict(outcome, status="check_mode" if check_mode else "planned", message=text)
    return dict(outcome, message="the registry already holds the values: nothing changed, no restart")


def _pending_text(entry, vbs):
    if entry["what"] == "vbs":
        return (
            f"{entry['setting']} written and VirtualizationBasedSecurityStatus is {vbs} (not running): "
            "Windows starts virtualization-based security at the next boot"
        )
    return f"{entry['setting']} written: Windows turns CHPE off at the next boot"


def boot_evidence(outcome, now):
    """Right before an enable restart: ``(evidence, message)``. A change is still pending while the host runs
    the boot it ran when the value was written (its last boot time is unchanged) and, for VBS, while VBS does
    not run; a host that restarted on its own needs no restart."""
    restart = outcome.get("restart") if isinstance(outcome.get("restart"), dict) else {}
    pending = restart.get("pending") or []
    facts = _facts(now)
    boot_then, boot_now = restart.get("boot"), facts.get("last_boot")
    if boot_then and boot_now and boot_now != boot_then:
        return [], f"the host restarted on its own (last boot {boot_now}): the change applied, no restart"
    evidence = []
    for entry in pending:
        if entry.get("what") == "vbs" and facts.get("vbs_status") == 2:
            continue
        evidence.append(_pending_text(entry, facts.get("vbs_status")) + ", and the host has not booted since")
    if not evidence:
        return [], "virtualization-based security already runs: no restart needed"
    return evidence, "; ".join(evidence)


def verify_after_restart(outcome, after):
    """Problems left after the restart (sentences): VBS not running, HotPatchRestrictions not 1."""
    restart = outcome.get("restart") if isinstance(outcome.get("restart"), dict) else {}
    facts = _facts(after)
    problems, done = [], []
    for entry in restart.get("pending") or []:
        if entry.get("what") == "vbs":
            vbs = facts.get("vbs_status")
            if vbs == 2:
                done.append("virtualization-based security runs (VirtualizationBasedSecurityStatus 2)")
            else:
                problems.append(
                    f"VirtualizationBasedSecurityStatus is {vbs} after the restart, not 2: the firmware or "
                    "hypervisor does not let VBS run (Microsoft: troubleshoot Virtual Secure Mode)"
                )
        elif entry.get("what") == "chpe":
            if facts.get("hotpatch_restrictions") == 1:
                done.append("HotPatchRestrictions is 1 (CHPE off)")
            else:
                problems.append(
                    f"HotPatchRestrictions is {facts.get('hotpatch_restrictions')} after the restart, not 1"
                )
    return problems, done


def enable_finish(
    outcome,
    host,
    rollout=None,
    status=None,
    plan=None,
    licence_change=None,
    licence_after=None,
    check_mode=False,
):
    """The host's last outcome: a restart wave that never started said (``_outcome.finish``), the licence
    request's result folded in."""
    from ansible_collections.hotpatch.windows.plugins.plugin_utils._outcome import finish

    outcome = dict(outcome) if isinstance(outcome, dict) else {}
    plan = plan if isinstance(plan, dict) else {}
    licence = plan.get("licence")
    if outcome.get("route") == "wave" and outcome.get("status") == "planned":
        outcome = finish(outcome, host, rollout)
    if not licence or outcome.get("status") in ("failed", "not_reached", "deferred"):
        if licence and outcome.get("status") in ("not_reached", "deferred"):
            outcome["message"] = (
                f"{outcome.get('message')}; the Hotpatch licence was not requested (virtualization-based "
                "security first)"
            )
        return outcome
    if check_mode:
        if outcome.get("status") == "unchanged":
            outcome["status"] = "check_mode"
        text = f"would {licence['method']} the Hotpatch licence feature of {licence['machine']}"
        if text not in (outcome.get("message") or ""):
            outcome["message"] = "; ".join(part for part in (outcome.get("message"), text) if part)
        return outcome
    vbs = _facts(status).get("vbs_status")
    if vbs != 2:
        text = (
            f"the Hotpatch licence was not requested: VirtualizationBasedSecurityStatus is {vbs} "
            "(Microsoft: if VSM isn't running, enabling hotpatch fails)"
        )
        return dict(outcome, route="failed", status="failed", message=f"{host}: {text}")
    changed_ok = isinstance(licence_change, dict) and licence_change.get("status") in (200, 201, 202)
    if not changed_ok:
        error = _feature_status(licence_change)[2] if isinstance(licence_change, dict) else "not sent"
        text = f"{licence['method']} of the Hotpatch licence feature failed: {error or 'no answer'}"
        return dict(outcome, route="failed", status="failed", message=f"{host}: {text}")
    _status, feature, error = _feature_status(licence_after)
    if feature == "Failed" or error:
        text = f"the Hotpatch licence feature is {feature or 'unknown'} after the request"
        text += f" ({error})" if error else ""
        return dict(outcome, route="failed", status="failed", message=f"{host}: {text}")
    note = f"Hotpatch licence feature {feature or 'requested'} on {licence['machine']}"
    if feature == "Enabling":
        note += " (Azure applies it within about 10 minutes)"
    message = "; ".join(part for part in (outcome.get("message"), note) if part)
    final = "restarted" if outcome.get("restarted") else "enabled"
    return dict(outcome, route="done", status=final, licence=feature, message=message)
