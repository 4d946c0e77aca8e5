"""The lab's own copy of Microsoft's release table, and the rules that fill the gaps with simulated releases.

Written from hotpatch-facts.md, independently of the collection. Published rows are Microsoft's; everything
else (the regular cumulative update of a hotpatch month, months after the table, Windows Server 2016/2019)
is simulated: its KB starts with `KB9` and its title says so. A simulated build never equals a published one.
"""

import datetime

# (month, type, kb, build): Windows Server 2025 and Windows Server 2022 Datacenter: Azure Edition
PUBLISHED = {
    "2025": [
        ("2024-11", "hotpatch", "KB5046696", 2240),
        ("2024-12", "hotpatch", "KB5048794", 2528),
        ("2025-01", "baseline", "KB5050009", 2894),
        ("2025-02", "hotpatch", "KB5052105", 3107),
        ("2025-03", "hotpatch", "KB5053636", 3403),
        ("2025-04", "baseline", "KB5055523", 3775),
        ("2025-05", "hotpatch", "KB5058497", 3981),
        ("2025-06", "hotpatch", "KB5060841", 4270),
        ("2025-07", "baseline", "KB5062553", 4652),
        ("2025-08", "hotpatch", "KB5064010", 4851),
        ("2025-09", "hotpatch", "KB5065474", 6508),
        ("2025-10", "baseline", "KB5066835", 6899),
        ("2025-11", "hotpatch", "KB5068966", 7092),
        ("2025-12", "hotpatch", "KB5072014", 7392),
        ("2026-01", "baseline", "KB5073379", 32230),
        ("2026-02", "hotpatch", "KB5075942", 32313),
        ("2026-03", "hotpatch", "KB5078736", 32463),
        ("2026-04", "baseline", "KB5082063", 32690),
        ("2026-05", "hotpatch", "KB5087423", 32772),
    ],
    "2022": [
        ("2024-01", "baseline", "KB5034129", 2227),
        ("2024-02", "hotpatch", "KB5034860", 2277),
        ("2024-03", "hotpatch", "KB5035959", 2333),
        ("2024-04", "baseline", "KB5036909", 2402),
        ("2024-05", "hotpatch", "KB5037848", 2458),
        ("2024-06", "hotpatch", "KB5039330", 2522),
        ("2024-07", "baseline", "KB5040437", 2582),
        ("2024-08", "baseline", "KB5041160", 2655),  # unplanned baseline
        ("2024-09", "hotpatch", "KB5042880", 2695),
        ("2024-10", "baseline", "KB5044281", 2762),
        ("2024-11", "hotpatch", "KB5046698", 2819),
        ("2024-12", "hotpatch", "KB5048800", 2908),
        ("2025-01", "baseline", "KB5049983", 3091),
        ("2025-02", "hotpatch", "KB5052106", 3148),
        ("2025-03", "hotpatch", "KB5053638", 3270),
        ("2025-04", "baseline", "KB5055526", 3453),
        ("2025-05", "hotpatch", "KB5058500", 3630),
        ("2025-06", "hotpatch", "KB5060525", 3745),
        ("2025-07", "baseline", "KB5062572", 3932),
        ("2025-08", "hotpatch", "KB5063812", 3989),
        ("2025-09", "hotpatch", "KB5065306", 4106),
        ("2025-10", "baseline", "KB5066782", 4294),
        ("2025-11", "hotpatch", "KB5068840", 4346),
        ("2025-12", "hotpatch", "KB5071413", 4467),
        ("2026-01", "baseline", "KB5073457", 4648),
        ("2026-02", "hotpatch", "KB5075943", 4711),
        ("2026-03", "hotpatch", "KB5078737", 4830),
        ("2026-04", "baseline", "KB5082142", 5020),
        ("2026-05", "hotpatch", "KB5087424", 5074),
    ],
}
# The one published regular cumulative update of a hotpatch month.
PUBLISHED_LCU = {("2025", "2025-02"): ("KB5051987", 3194)}

MAJOR = {"2016": 14393, "2019": 17763, "2022": 20348, "2025": 26100}
OS_DIGIT = {"2016": "6", "2019": "9", "2022": "2", "2025": "5"}
VERSION_NAME = {"2016": "1607", "2019": "1809", "2022": "21H2", "2025": "24H2"}
# simulated Windows Server 2016/2019 cumulative updates: UBR of 2024-01, then a fixed step per month
SIMULATED_START = {"2016": ("2024-01", 6614), "2019": ("2024-01", 5329)}
MONTH_STEP = 60
PLANNED_BASELINES = (1, 4, 7, 10)


def release_day(year: int, month: int) -> datetime.date:
    """The second Tuesday of the month."""
    first = datetime.date(year, month, 1)
    first_tuesday = first + datetime.timedelta(days=(1 - first.weekday()) % 7)
    return first_tuesday + datetime.timedelta(days=7)


def month_str(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def add_months(month: str, count: int) -> str:
    year, mon = (int(x) for x in month.split("-"))
    index = year * 12 + (mon - 1) + count
    return month_str(index // 12, index % 12 + 1)


def months_between(first: str, last: str) -> int:
    y1, m1 = (int(x) for x in first.split("-"))
    y2, m2 = (int(x) for x in last.split("-"))
    return (y2 * 12 + m2) - (y1 * 12 + m1)


def cycle_month(when: datetime.datetime) -> str:
    """The release cycle a moment belongs to: a month's cycle opens on its release day (UTC)."""
    day = when.date()
    if day >= release_day(day.year, day.month):
        return month_str(day.year, day.month)
    return add_months(month_str(day.year, day.month), -1)


def _simulated_kb(os_name: str, kind: str, month: str) -> str:
    kind_digit = "1" if kind == "lcu" else "2"
    return f"KB9{OS_DIGIT[os_name]}{kind_digit}{month[2:4]}{month[5:7]}"


def _published_rows(os_name: str) -> list:
    return PUBLISHED.get(os_name, [])


def _all_published_builds(os_name: str) -> set:
    builds = {row[3] for row in _published_rows(os_name)}
    builds.update(ubr for (osn, _), (_, ubr) in PUBLISHED_LCU.items() if osn == os_name)
    return builds


def release(os_name: str, month: str) -> dict:
    """What Windows Update ships for `os_name` in `month`.

    Returns {month, type: baseline|hotpatch, hotpatch: {kb, ubr, simulated}|None, lcu: {kb, ubr, simulated}}.
    `hotpatch` is set only in hotpatch months of the hotpatch-capable releases (2022, 2025).
    """
    rows = _published_rows(os_name)
    by_month = {row[0]: row for row in rows}
    if rows and month in by_month:
        _, kind, kb, ubr = by_month[month]
        if kind == "baseline":
            return {
                "month": month,
                "type": "baseline",
                "hotpatch": None,
                "lcu": {"kb": kb, "ubr": ubr, "simulated": False},
            }
        hotpatch = {"kb": kb, "ubr": ubr, "simulated": False}
        if (os_name, month) in PUBLISHED_LCU:
            lcu_kb, lcu_ubr = PUBLISHED_LCU[(os_name, month)]
            lcu = {"kb": lcu_kb, "ubr": lcu_ubr, "simulated": False}
        else:
            later = [row[3] for row in rows if row[0] > month]
            ceiling = later[0] if later else ubr + 2 * MONTH_STEP
            lcu_ubr = ubr + max(1, (ceiling - ubr) * 2 // 5)
            while lcu_ubr in _all_published_builds(os_name):
                lcu_ubr += 1
            lcu = {"kb": _simulated_kb(os_name, "lcu", month), "ubr": lcu_ubr, "simulated": True}
        return {"month": month, "type": "hotpatch", "hotpatch": hotpatch, "lcu": lcu}
    if rows and month > rows[-1][0]:
        # past the table: the planned pattern, simulated KBs and builds above every published build
        top = max(_all_published_builds(os_name))
        lcu_ubr = top + 2 * MONTH_STEP * months_between(rows[-1][0], month)
        planned_baseline = int(month[5:7]) in PLANNED_BASELINES
        lcu = {"kb": _simulated_kb(os_name, "lcu", month), "ubr": lcu_ubr, "simulated": True}
        if planned_baseline:
            return {"month": month, "type": "baseline", "hotpatch": None, "lcu": lcu}
        hotpatch = {
            "kb": _simulated_kb(os_name, "hotpatch", month),
            "ubr": lcu_ubr - MONTH_STEP,
            "simulated": True,
        }
        return {"month": month, "type": "hotpatch", "hotpatch": hotpatch, "lcu": lcu}
    # before the table, or a release without hotpatch (2016, 2019): a simulated monthly cumulative update
    start_month, start_ubr = SIMULATED_START.get(os_name, ("2020-01", 1000))
    if rows:
        start_month, start_ubr = rows[0][0], rows[0][3]
    ubr = max(1, start_ubr + MONTH_STEP * months_between(start_month, month))
    while ubr in _all_published_builds(os_name):
        ubr += 1
    return {
        "month": month,
        "type": "baseline",
        "hotpatch": None,
        "lcu": {"kb": _simulated_kb(os_name, "lcu", month), "ubr": ubr, "simulated": True},
    }


def hotpatch_line(os_name: str, month: str) -> set:
    """UBRs that keep a host on the hotpatch line for `month`'s hotpatch: the current baseline and the
    hotpatches released after it, before `month`."""
    builds = set()
    current = add_months(month, -1)
    for _ in range(24):
        rel = release(os_name, current)
        if rel["type"] == "baseline":
            builds.add(rel["lcu"]["ubr"])
            return builds
        builds.add(rel["hotpatch"]["ubr"])
        current = add_months(current, -1)
    return builds


def update_title(os_name: str, month: str, kind: str, kb: str, simulated: bool, arch: str) -> str:
    arch_name = "arm64" if arch == "ARM64" else "x64"
    version = VERSION_NAME[os_name]
    name = "Security Hotpatch Update" if kind == "hotpatch" else "Cumulative Update"
    title = f"{month} {name} for Windows Server {os_name} {version} for {arch_name}-based Systems ({kb})"
    if simulated:
        title += " [simulated by the lab: not a published release]"
    return title


def build_before(os_name: str, kb: str, month: str):
    """The UBR a host returns to when it uninstalls monthly release `kb` (looked for in the 36 months up to
    `month`): the previous month's release on the same line. None when `kb` is not a monthly release."""
    for back in range(36):
        current = add_months(month, -back)
        rel = release(os_name, current)
        previous = release(os_name, add_months(current, -1))
        if rel["hotpatch"] and rel["hotpatch"]["kb"] == kb:
            return previous["lcu"]["ubr"] if previous["type"] == "baseline" else previous["hotpatch"]["ubr"]
        if rel["lcu"]["kb"] == kb:
            return previous["lcu"]["ubr"]
    return None
