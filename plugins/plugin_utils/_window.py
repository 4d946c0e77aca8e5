"""Is a host's maintenance window open at the host's current time?

``window_state(window, now, timezone, assessed_at, host, controller_now)`` returns
``{open, local, timezone, message}``. The host's clock and time zone come from the assessment
(``hotpatch_status.facts.now`` / ``.timezone``); when ``assessed_at`` is given, the time that passed on the
controller since the assessment is added, so a window that closes during a long rollout is noticed.
Bad input raises ``HotpatchError`` naming the host and the value.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Windows time zone ids (what Windows reports) to IANA names, after the CLDR windowsZones table.
WINDOWS_ZONES = {
    "UTC": "UTC",
    "Coordinated Universal Time": "UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "Romance Standard Time": "Europe/Paris",
    "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kiev",
    "GTB Standard Time": "Europe/Bucharest",
    "Russian Standard Time": "Europe/Moscow",
    "Turkey Standard Time": "Europe/Istanbul",
    "Israel Standard Time": "Asia/Jerusalem",
    "South Africa Standard Time": "Africa/Johannesburg",
    "Arabian Standard Time": "Asia/Dubai",
    "India Standard Time": "Asia/Kolkata",
    "China Standard Time": "Asia/Shanghai",
    "Singapore Standard Time": "Asia/Singapore",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "New Zealand Standard Time": "Pacific/Auckland",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "US Mountain Standard Time": "America/Phoenix",
    "Pacific Standard Time": "America/Los_Angeles",
    "Alaskan Standard Time": "America/Anchorage",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Atlantic Standard Time": "America/Halifax",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Argentina Standard Time": "America/Buenos_Aires",
}


def _minutes(text, field, host):
    """Minutes since midnight of 'HH:MM' (00:00 to 24:00)."""
    try:
        hours, minutes = (int(part) for part in str(text).split(":"))
        value = hours * 60 + minutes if 0 <= hours <= 24 and 0 <= minutes < 60 else -1
    except ValueError:
        value = -1
    if not 0 <= value <= 24 * 60:
        raise HotpatchError(f"{host}: patch_maintenance_window.{field} must be 'HH:MM', got {text!r}")
    return value


def _zone(name, host):
    """ZoneInfo of an IANA name or a Windows time zone id."""
    if not isinstance(name, str):
        raise HotpatchError(
            f"{host}: unknown time zone {name!r}; set patch_maintenance_window.timezone to an IANA name"
        )
    iana = WINDOWS_ZONES.get(name, name)
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise HotpatchError(
            f"{host}: unknown time zone {name!r}; set patch_maintenance_window.timezone to an IANA name"
        ) from exc


def _instant(text, field, host):
    """An aware datetime from ISO 8601 text (or a datetime); no offset means UTC."""
    if isinstance(text, datetime):
        when = text
    else:
        try:
            when = datetime.fromisoformat(str(text))
        except ValueError as exc:
            raise HotpatchError(f"{host}: {field} is not an ISO 8601 time: {text!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def window_state(window, now, timezone="UTC", assessed_at=None, host=None, controller_now=None):
    """Return {open, local, timezone, message} for ``window`` ({days, start, end[, timezone]}).

    ``now`` is the host's clock at the assessment and ``timezone`` its time zone (IANA name or Windows id);
    ``assessed_at`` the controller's time of the assessment: the controller time elapsed since then
    (``controller_now``, default the current time) is added to ``now``. No window (None or empty) is always
    open. ``end`` at or before ``start`` spans midnight: the window opens on a listed day and runs into the
    next one.
    """
    host = host or "host"
    if not window:
        return {"open": True, "local": None, "timezone": None, "message": "no maintenance window"}
    if not isinstance(window, dict):
        raise HotpatchError(f"{host}: patch_maintenance_window must be a dict, got {window!r}")
    days = window.get("days") or list(DAYS)
    if not isinstance(days, (list, tuple)):
        raise HotpatchError(
            f"{host}: patch_maintenance_window.days must be a list of {list(DAYS)}, got {days!r}"
        )
    bad = [day for day in days if not isinstance(day, str) or day not in DAYS]
    if bad:
        raise HotpatchError(f"{host}: patch_maintenance_window.days has {bad}; use {list(DAYS)}")
    start = _minutes(window.get("start", "00:00"), "start", host)
    end = _minutes(window.get("end", "24:00"), "end", host)
    zone_name = window.get("timezone") or timezone or "UTC"
    zone = _zone(zone_name, host)

    host_now = _instant(now, "the host's clock", host)
    try:
        if assessed_at:
            current = (
                _instant(controller_now, "controller time", host) if controller_now else datetime.now(UTC)
            )
            host_now += max(current - _instant(assessed_at, "hotpatch_assessed_at", host), timedelta(0))
        local = host_now.astimezone(zone)
    except OverflowError as exc:
        raise HotpatchError(f"{host}: the host's clock {now!r} is out of range: {exc}") from exc
    minute = local.hour * 60 + local.minute
    today = DAYS[local.weekday()]
    yesterday = DAYS[(local.weekday() - 1) % 7]
    if start < end:
        is_open = today in days and start <= minute < end
    else:
        is_open = (today in days and minute >= start) or (yesterday in days and minute < end)
    label = f"{today} {local:%H:%M} {zone_name}"
    span = f"{','.join(days)} {window.get('start', '00:00')}-{window.get('end', '24:00')}"
    state = "inside" if is_open else "outside"
    return {"open": is_open, "local": label, "timezone": zone_name, "message": f"{label} is {state} {span}"}
