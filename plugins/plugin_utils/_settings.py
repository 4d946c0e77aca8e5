"""Checking what users set: the rollout's settings, each host's settings, and variables that look like ours.

Internal API of hotpatch.windows: only this collection's plugins may import it; it can change in any release.

Every bad value is refused before any host changes, with the host and the value named. Rollout settings
(``rollout_settings``) are the same for the whole run: a bad one stops the run before anything changes.
Host settings (``host_problems``) are per host: a bad one fails that host only, with its cause, and the rest
of the fleet goes on. ``unknown_variables`` warns about a variable that looks like one of this collection's
but is not (``-e batch_size=25%``), with the closest known name.
"""

import datetime
import difflib
import re
from urllib.parse import unquote, urlsplit, urlunsplit

from ansible_collections.hotpatch.windows.plugins.plugin_utils._catalog import (
    OS_BUILDS,
    cycle_month,
    load_catalog,
    month_text,
    to_date,
)
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._waves import install_batch, wave_size

PREFIXES = ("hotpatch_", "patch_", "assess_", "report_", "rollback_", "enable_", "catalog_update_")
# Every variable a user may set (role options and host variables). Facts the roles set are not listed here.
KNOWN = {
    # host variables and play-wide settings read by every role
    "hotpatch_hosts",
    "hotpatch_date",
    "hotpatch_date_other_cycle",
    "hotpatch_clock_tolerance",
    "hotpatch_platform",
    "hotpatch_image",
    "hotpatch_arc_license",
    "hotpatch_vmss_orchestration",
    "hotpatch_catalog",
    "hotpatch_availability_group",
    "hotpatch_restart_signals",
    "hotpatch_vbs_status",
    "hotpatch_azure_patch_mode",
    "hotpatch_arc_resource",
    "hotpatch_report_dir",
    "hotpatch_slice",
    # assess
    "assess_search_updates",
    "assess_search_categories",
    "assess_search_timeout",
    "assess_defer_non_security",
    "assess_include_drivers",
    "assess_skip_optional",
    "assess_no_hotpatch",
    "assess_accept_list",
    "assess_reject_list",
    "assess_fail_unassessed",
    # patch
    "patch_batch_size",
    "patch_max_per_group",
    "patch_max_fail_percentage",
    "patch_unexpected_reboot",
    "patch_reboot_timeout",
    "patch_install_timeout",
    "patch_install_batch_size",
    "patch_health_services",
    "patch_health_ports",
    "patch_health_urls",
    "patch_health_url_username",
    "patch_health_url_password",
    "patch_health_url_headers",
    "patch_health_tasks",
    "patch_health_retries",
    "patch_health_delay",
    "patch_pre_wave_tasks",
    "patch_post_wave_tasks",
    "patch_maintenance_window",
    "patch_azure_platform",
    # report
    "report_dir",
    "report_hosts",
    "report_merge_dirs",
    "report_calendar_year",
    "report_set_stats",
    # rollback
    "rollback_confirm",
    "rollback_kb",
    "rollback_reinstall_baseline",
    "rollback_reboot_timeout",
    "rollback_hosts",
    "rollback_serial",
    # enable
    "enable_confirm",
    "enable_vbs",
    "enable_chpe",
    "enable_arc_license",
    "enable_arm_endpoint",
    "enable_arm_token",
    "enable_arm_api_version",
    "enable_vbs_platform_security_features",
    "enable_run_name",
    # catalog_update
    "catalog_update_source",
    "catalog_update_dest",
    "catalog_update_from",
    "catalog_update_to",
    "catalog_update_prefer_import",
}
# Facts and internal variables the roles set (registered results, loop variables): never reported as unknown.
SET_BY_ROLES = {
    "hotpatch_status",
    "hotpatch_plan",
    "hotpatch_outcome",
    "hotpatch_assessed_at",
    "hotpatch_run",
    "hotpatch_rollout",
    "hotpatch_install_batch",
    "hotpatch_assess_hosts",
    "assess_probe",
    "assess_settings",
    "assess_clock",
    "assess_problems",
    "assess_policy",
    "assess_status",
    "assess_plan",
    "assess_search",
    "assess_search_start",
    "assess_run_name",
    "patch_install",
    "patch_start",
    "patch_installed_at",
    "patch_check",
    "patch_restart",
    "patch_restarted",
    "patch_back",
    "patch_wave",
    "patch_wave_hooks",
    "patch_wave_error",
    "patch_unhealthy",
    "patch_services",
    "patch_ports",
    "patch_urls",
    "patch_admission",
    "patch_wave_hosts",
    "patch_wave_number",
    "patch_wave_index",
    "patch_steps",
    "rollback_result",
    "enable_settings_check",
    "enable_probe",
    "enable_settings",
    "enable_licence_target",
    "enable_licence",
    "enable_registry",
    "enable_licence_change",
    "enable_licence_after",
    "enable_after",
    "rollback_before",
    "rollback_packages",
    "rollback_target",
    "rollback_removed",
    "rollback_reinstalled",
    "rollback_pending",
    "rollback_rebooted",
    "rollback_after",
}
PLATFORMS = ("auto", "azure", "azure_local", "arc", "on_premises")
LICENSES = ("enabled", "disabled", "unknown")
ORCHESTRATIONS = ("uniform", "flexible")
PATCH_MODES = ("automaticbyplatform", "automaticbyos", "manual")
ARC_RESOURCE_KEYS = ("subscription_id", "resource_group", "name", "location")
UNEXPECTED = ("reboot", "defer", "fail")
SIGNALS = ("cbs", "windows_update", "file_rename", "computer_rename")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


def mask_url(text):
    """``text`` with credentials inside any URL masked: ``https://user:pass@host`` -> ``https://***@host``."""
    if not isinstance(text, str):
        return text
    return _CREDENTIALS.sub("***@", text)


def _problem(code, message):
    return {"code": code, "message": message}


def unknown_variables(names):
    """Warnings for variables that look like this collection's but are not, with the closest known name."""
    warnings = []
    known = sorted(KNOWN)
    for name in sorted({str(name) for name in names or []}):
        if name in KNOWN or name in SET_BY_ROLES or name.startswith(("_", "ansible_")):
            continue
        ours = name.startswith(PREFIXES)
        suffix = [candidate for candidate in known if candidate.endswith("_" + name)]
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.8 if ours else 0.88)
        if ours or suffix or close:
            guess = (close or suffix or [None])[0]
            hint = f"; did you mean {guess}?" if guess else ""
            warnings.append(f"variable {name!r} is not a hotpatch.windows setting and is ignored{hint}")
    return warnings


def duration_seconds(value, name):
    """Seconds of '90', '15m', '2h', '1d' or an integer; None for 'off' (the check is disabled)."""
    if isinstance(value, str) and value.strip().lower() in ("off", "none", "false", ""):
        return None
    if value is None or value is False:
        return None
    if isinstance(value, bool):
        raise HotpatchError(f"{name} must be a duration such as '15m' or 'off', got {value!r}")
    match = _DURATION.match(str(value))
    if not match:
        raise HotpatchError(
            f"{name} must be a duration such as 90, '15m', '2h', '1d' or 'off', got {value!r}"
        )
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def _int(value, name, low, high=None):
    if isinstance(value, bool):
        raise HotpatchError(f"{name} must be an integer, got {value!r}")
    try:
        number = int(str(value).strip()) if isinstance(value, str) else value
    except ValueError:
        raise HotpatchError(f"{name} must be an integer, got {value!r}") from None
    if not isinstance(number, int) or number < low or (high is not None and number > high):
        limit = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise HotpatchError(f"{name} must be an integer {limit}, got {value!r}")
    return number


def rollout_settings(settings):
    """The checked rollout settings (a mapping of the patch_* variables); HotpatchError naming a bad one.

    Returns them normalised. These are the same for the whole run: a bad one stops the run before any host
    changes.
    """
    if not isinstance(settings, dict):
        raise HotpatchError("rollout settings must be a mapping of patch_* variables")
    result = dict(settings)
    batch = settings.get("patch_batch_size", 1)
    try:
        wave_size(batch, 100)
    except HotpatchError:
        raise HotpatchError(
            f"patch_batch_size must be a count >= 1 (2) or a percentage above 0 and at most 100 ('25%'), "
            f"got {batch!r}"
        ) from None
    installs = settings.get("patch_install_batch_size", "100%")
    try:
        install_batch(installs, 100)
    except HotpatchError:
        raise HotpatchError(
            "patch_install_batch_size must be a count >= 1 (10) or a whole percentage above 0 and at most "
            f"100 ('25%'), got {installs!r}"
        ) from None
    group = settings.get("patch_max_per_group", 1)
    result["patch_max_per_group"] = None if group in (None, "") else _int(group, "patch_max_per_group", 1)
    percent = settings.get("patch_max_fail_percentage", 0)
    try:
        number = float(percent)
    except (TypeError, ValueError):
        number = -1.0
    if isinstance(percent, bool) or not 0 <= number <= 100:
        raise HotpatchError(f"patch_max_fail_percentage must be a number from 0 to 100, got {percent!r}")
    result["patch_reboot_timeout"] = _int(
        settings.get("patch_reboot_timeout", 1800), "patch_reboot_timeout", 1
    )
    result["patch_install_timeout"] = _int(
        settings.get("patch_install_timeout", 14400), "patch_install_timeout", 1
    )
    unexpected = settings.get("patch_unexpected_reboot", "reboot")
    if unexpected not in UNEXPECTED:
        raise HotpatchError(
            f"patch_unexpected_reboot must be one of {', '.join(UNEXPECTED)}, got {unexpected!r}"
        )
    azure_platform = settings.get("patch_azure_platform", "skip")
    if azure_platform not in ("skip", "install"):
        raise HotpatchError(f"patch_azure_platform must be skip or install, got {azure_platform!r}")
    for name in ("patch_health_retries", "patch_health_delay"):
        if name in settings:
            result[name] = _int(settings[name], name, 0)
    urls = settings.get("patch_health_urls") or []
    if not isinstance(urls, list):
        raise HotpatchError(
            f"patch_health_urls must be a list of URLs or {{url, ...}}, got {mask_url(str(urls))}"
        )
    for item in urls:
        url = item.get("url") if isinstance(item, dict) else item
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise HotpatchError(f"patch_health_urls: {mask_url(str(url))!r} is not an http(s) URL")
    return result


def strip_credentials(url):
    """(url without user:password, username, password) of one URL."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None, None
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return (
        urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)),
        None if parts.username is None else unquote(parts.username),
        None if parts.password is None else unquote(parts.password),
    )


MASK = "********"


def shown_settings(settings):
    """Checked rollout settings as they may be shown: credentials in health URLs masked, the health URL
    password and header values replaced by a mask (the task result is printed and logged)."""
    shown = dict(settings)
    if shown.get("patch_health_url_password"):
        shown["patch_health_url_password"] = MASK
    if isinstance(shown.get("patch_health_url_headers"), dict):
        shown["patch_health_url_headers"] = {key: MASK for key in shown["patch_health_url_headers"]}
    urls = shown.get("patch_health_urls")
    if isinstance(urls, list):
        shown["patch_health_urls"] = [
            dict(item, url=mask_url(item.get("url"))) if isinstance(item, dict) else mask_url(item)
            for item in urls
        ]
    return shown


def _date_problems(host, settings, facts_now, check_mode):
    """Problems of hotpatch_date: a real date, inside the programme, in the host clock's cycle."""
    problems = []
    value = settings.get("hotpatch_date")
    if value in (None, ""):
        return problems
    try:
        day = to_date(value)
    except HotpatchError as exc:
        return [_problem("bad_date", f"{host}: hotpatch_date: {exc}")]
    catalog = load_catalog(settings.get("hotpatch_catalog") or None)
    first = min((p.first for p in catalog.programmes.values() if p.first), default=None)
    newest = max((catalog.newest_month(os) or "" for os in OS_BUILDS), default="")
    month = month_text(*cycle_month(day))
    limit_year = int(newest[:4]) + 2 if newest else day.year
    if (first and month < first) or day.year > limit_year:
        problems.append(
            _problem(
                "bad_date",
                f"{host}: hotpatch_date {value!r} ({month} cycle) is outside the hotpatch programme this "
                f"collection knows ({first} to {limit_year}); a date like this is most likely a typo",
            )
        )
        return problems
    if facts_now:
        host_month = month_text(*cycle_month(facts_now))
        allowed = bool(settings.get("hotpatch_date_other_cycle")) and check_mode
        if host_month != month and not allowed:
            problems.append(
                _problem(
                    "date_other_cycle",
                    f"{host}: hotpatch_date {value!r} is in the {month} cycle but the host's clock "
                    f"({facts_now}) is in the {host_month} cycle: refused (set hotpatch_date_other_cycle: "
                    "true to plan for another date in check mode only)",
                )
            )
    return problems


def host_problems(host, settings, facts_now=None, controller_now=None, check_mode=False):
    """Problems (``[{code, message}]``) of one host's settings; an empty list when all are good.

    ``settings``: the host's variables (only the keys of this collection are read). ``facts_now``: the host's
    clock from the probe, to check it against ``controller_now`` (``hotpatch_clock_tolerance``) and the cycle
    of ``hotpatch_date``.
    """
    problems = []

    def check_choice(name, choices):
        value = settings.get(name)
        if value in (None, ""):
            return
        if not isinstance(value, str) or value.strip().lower() not in choices:
            problems.append(
                _problem("bad_setting", f"{host}: {name} must be one of {', '.join(choices)}, got {value!r}")
            )

    check_choice("hotpatch_platform", PLATFORMS)
    check_choice("hotpatch_arc_license", LICENSES)
    check_choice("hotpatch_vmss_orchestration", ORCHESTRATIONS)
    check_choice("hotpatch_azure_patch_mode", PATCH_MODES)
    vbs = settings.get("hotpatch_vbs_status")
    if vbs not in (None, "") and (
        isinstance(vbs, bool) or str(vbs).strip() not in ("0", "1", "2") or isinstance(vbs, float)
    ):
        problems.append(
            _problem(
                "bad_setting",
                f"{host}: hotpatch_vbs_status must be 0, 1 or 2 (VirtualizationBasedSecurityStatus), "
                f"got {vbs!r}",
            )
        )
    resource = settings.get("hotpatch_arc_resource")
    if resource not in (None, {}) and (
        not isinstance(resource, dict)
        or set(resource) - set(ARC_RESOURCE_KEYS)
        or not all(isinstance(value, str) and value for value in resource.values())
    ):
        problems.append(
            _problem(
                "bad_setting",
                f"{host}: hotpatch_arc_resource must be a mapping of {', '.join(ARC_RESOURCE_KEYS)} "
                f"(strings), got {resource!r}",
            )
        )
    group = settings.get("hotpatch_availability_group")
    if group is not None and (isinstance(group, bool) or not isinstance(group, (str, int))):
        problems.append(
            _problem(
                "bad_setting",
                f"{host}: hotpatch_availability_group must be one name (a string), got {group!r}",
            )
        )
    image = settings.get("hotpatch_image")
    if image not in (None, {}) and (
        not isinstance(image, dict)
        or not all(isinstance(image.get(k), str) for k in ("publisher", "offer", "sku"))
    ):
        problems.append(
            _problem(
                "bad_setting",
                f"{host}: hotpatch_image must be {{publisher, offer, sku}} strings, got {image!r}",
            )
        )
    signals = settings.get("hotpatch_restart_signals")
    if signals not in (None, "", []):
        listed = signals if isinstance(signals, list) else [signals]
        bad = [item for item in listed if item not in SIGNALS]
        if bad:
            problems.append(
                _problem(
                    "bad_setting", f"{host}: hotpatch_restart_signals has {bad}; use {', '.join(SIGNALS)}"
                )
            )
    try:
        if settings.get("hotpatch_catalog"):
            load_catalog(settings["hotpatch_catalog"])
    except HotpatchError as exc:
        problems.append(_problem("bad_catalog", f"{host}: {exc}"))
        return problems
    problems += _date_problems(host, settings, facts_now, check_mode)
    try:
        tolerance = duration_seconds(
            settings.get("hotpatch_clock_tolerance", "1d"), "hotpatch_clock_tolerance"
        )
    except HotpatchError as exc:
        problems.append(_problem("bad_setting", f"{host}: {exc}"))
        tolerance = None
    if tolerance is not None and facts_now and controller_now:
        try:
            host_time = datetime.datetime.fromisoformat(str(facts_now).replace("Z", "+00:00"))
            ours = datetime.datetime.fromisoformat(str(controller_now).replace("Z", "+00:00"))
            if host_time.tzinfo is None:
                host_time = host_time.replace(tzinfo=datetime.UTC)
            if ours.tzinfo is None:
                ours = ours.replace(tzinfo=datetime.UTC)
            skew = abs((host_time - ours).total_seconds())
        except ValueError:
            skew = None
        tolerance_text = settings.get("hotpatch_clock_tolerance", "1d")
        if skew is not None and skew > tolerance:
            problems.append(
                _problem(
                    "clock_skew",
                    f"{host}: the host's clock ({facts_now}) differs from the controller's "
                    f"({controller_now}) by {int(skew)} s, more than hotpatch_clock_tolerance "
                    f"({tolerance_text}): its release cycle cannot be trusted; fix the host's time or set "
                    "hotpatch_clock_tolerance",
                )
            )
    return problems
