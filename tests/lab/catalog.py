"""The lab's own release table (releases.yml beside this file) and the rules that fill its gaps.

Written from Microsoft's release-health page and the hotpatch documentation, independently of the collection.
Published rows are Microsoft's (each with its source); everything else is simulated and marked so: months
after the table follow Microsoft's planned pattern (baselines in January, April, July and October), Windows
Server 2016/2019 get one cumulative update a month. A simulated KB starts with `KB9` (Microsoft has published
no Windows update KB of that form for these releases) and a simulated build is above every published build of
its release, so it never equals a published one. A fleet may add or replace rows (`windows_update.releases`):
an unplanned baseline no catalog knows yet, an out-of-band release, or a month Microsoft published after the
lab's copy.
"""

import datetime
from functools import cached_property
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "releases.yml"
KINDS = ("baseline", "hotpatch", "lcu", "oob", "oob_hotpatch")
AUDIENCES = ("all", "hotpatch_line", "lcu_line", "not_enrolled", "none")
DEFAULT_AUDIENCE = {
    "baseline": "all",
    "hotpatch": "hotpatch_line",
    "lcu": "lcu_line",
    "oob": "not_enrolled",
    "oob_hotpatch": "hotpatch_line",
}
DEFAULT_LINE_AFTER = {
    "baseline": "hotpatch",
    "hotpatch": "hotpatch",
    "lcu": "lcu",
    "oob": "lcu",
    "oob_hotpatch": "hotpatch",
}
MAJOR = {"2016": 14393, "2019": 17763, "2022": 20348, "2025": 26100}
OS_DIGIT = {"2016": "6", "2019": "9", "2022": "2", "2025": "5"}
VERSION_NAME = {"2016": "1607", "2019": "1809", "2022": "21H2", "2025": "24H2"}
HOTPATCH_OSES = ("2022", "2025")
# simulated Windows Server 2016/2019 cumulative updates: UBR of 2024-01, then a fixed step per month
SIMULATED_START = {"2016": ("2024-01", 6614), "2019": ("2024-01", 5329)}
MONTH_STEP = 60
PLANNED_BASELINES = (1, 4, 7, 10)


def release_day(year: int, month: int) -> datetime.date:
    """The second Tuesday of the month (Patch Tuesday)."""
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


def cycle_of_date(day: datetime.date) -> str:
    if day >= release_day(day.year, day.month):
        return month_str(day.year, day.month)
    return add_months(month_str(day.year, day.month), -1)


def cycle_month(when: datetime.datetime) -> str:
    """The release cycle a moment belongs to: a month's cycle opens on its release day (UTC)."""
    return cycle_of_date(when.date())


def release_day_of(month: str) -> datetime.date:
    year, mon = (int(x) for x in month.split("-"))
    return release_day(year, mon)


def next_patch_tuesday(after: datetime.datetime) -> datetime.date:
    """The first release day strictly after the date of `after`."""
    day = after.date()
    month = month_str(day.year, day.month)
    for offset in range(3):
        candidate = release_day_of(add_months(month, offset))
        if candidate > day:
            return candidate
    raise AssertionError("unreachable")


def simulated_kb(os_name: str, kind: str, month: str) -> str:
    kind_digit = "1" if kind in ("lcu", "baseline") else "2"
    return f"KB9{OS_DIGIT[os_name]}{kind_digit}{month[2:4]}{month[5:7]}"


def _as_date(value, where: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def make_row(os_name: str, raw: dict, where: str, simulated: bool = False) -> dict:
    """A release row with every field filled in; ValueError naming `where` when a field is wrong."""
    kind = raw.get("kind")
    if kind not in KINDS:
        raise ValueError(f"{where}: kind {kind!r} is not one of {list(KINDS)}")
    date = _as_date(raw.get("date"), where)
    audience = raw.get("audience", DEFAULT_AUDIENCE[kind])
    if audience not in AUDIENCES:
        raise ValueError(f"{where}: audience {audience!r} is not one of {list(AUDIENCES)}")
    line_after = raw.get("line_after", DEFAULT_LINE_AFTER[kind])
    if line_after not in ("hotpatch", "lcu"):
        raise ValueError(f"{where}: line_after {line_after!r} is not hotpatch or lcu")
    build = raw.get("build")
    if isinstance(build, str) and "." in build:
        build = build.rsplit(".", 1)[1]
    try:
        build = int(build)
    except (TypeError, ValueError):
        raise ValueError(
            f"{where}: build {raw.get('build')!r} must be the revision (UBR), e.g. 32230"
        ) from None
    kb = str(raw.get("kb", ""))
    if not kb.upper().startswith("KB") or not kb[2:].isdigit():
        raise ValueError(f"{where}: kb {kb!r} must look like KB5073379")
    return {
        "os": os_name,
        "kb": kb.upper(),
        "build": build,
        "date": date,
        "month": str(raw.get("month") or cycle_of_date(date)),
        "kind": kind,
        "audience": audience,
        "all_until": _as_date(raw["all_until"], where) if raw.get("all_until") else None,
        "line_after": line_after,
        "restart": bool(raw.get("restart", kind != "hotpatch")),
        "classification": str(raw.get("classification", "Security Updates")),
        "unplanned": bool(raw.get("unplanned", False)),
        "source": str(raw.get("source", "fleet" if not simulated else "simulated")),
        "simulated": bool(raw.get("simulated", simulated)),
    }


class Catalog:
    """The release table of a lab: the published rows, a fleet's own rows, and simulated months.

    `extra`: rows a fleet declares, each {os, month?, kind, kb?, build?, date?, ...}. A row with a kb replaces
    the published row with the same OS and KB; rows of kind baseline/hotpatch/lcu for a month replace that
    month's rows of the same kinds (so `{os: '2025', month: '2026-08', kind: baseline, unplanned: true}`
    turns August 2026 into an unplanned baseline). A row without kb or build gets a simulated one."""

    def __init__(self, extra=None):
        data = yaml.safe_load(DATA.read_text())
        self.sources = data["sources"]
        self.published = {}
        for os_name, rows in data["releases"].items():
            self.published[os_name] = [
                make_row(os_name, row, f"releases.yml {os_name} {row.get('kb')}") for row in rows
            ]
        self.extra = list(extra or [])
        self._month_cache: dict = {}

    # ------------------------------------------------------------------ the table
    @cached_property
    def _tables(self) -> dict:
        tables = {name: list(rows) for name, rows in self.published.items()}
        for index, raw in enumerate(self.extra):
            os_name = str(raw.get("os", ""))
            where = f"windows_update.releases[{index}]"
            if os_name not in MAJOR:
                raise ValueError(f"{where}: os {raw.get('os')!r} is not one of {list(MAJOR)}")
            raw = dict(raw)
            month = raw.get("month")
            if not raw.get("date"):
                if not month:
                    raise ValueError(f"{where}: give a date or a month")
                raw["date"] = release_day_of(str(month)).isoformat()
            simulated = False
            if not raw.get("kb") or raw.get("build") is None:
                simulated = True
                month = str(month or cycle_of_date(_as_date(raw["date"], where)))
                raw.setdefault("kb", simulated_kb(os_name, raw.get("kind", "lcu"), month))
                if raw.get("build") is None:
                    raw["build"] = self._simulated_build(
                        tables.get(os_name, []), os_name, month, raw.get("kind")
                    )
            row = make_row(os_name, raw, where, simulated=simulated)
            rows = tables.setdefault(os_name, [])
            rows[:] = [r for r in rows if r["kb"] != row["kb"]]
            if row["kind"] in ("baseline", "hotpatch", "lcu") and raw.get("month"):
                monthly = ("baseline", "hotpatch", "lcu")
                rows[:] = [
                    r
                    for r in rows
                    if not (r["month"] == row["month"] and r["kind"] in monthly and r["source"] != "fleet")
                ]
            rows.append(row)
        for rows in tables.values():
            rows.sort(key=lambda r: (r["date"], r["build"]))
        return tables

    def _published_edge(self, os_name: str) -> tuple:
        """(last published month, highest published build) of a hotpatch release, or (None, None)."""
        rows = [r for r in self.published.get(os_name, []) if r["kind"] in ("baseline", "hotpatch", "lcu")]
        if not rows:
            return None, None
        return max(r["month"] for r in rows), max(r["build"] for r in self.published[os_name])

    def _simulated_build(self, rows, os_name, month, kind) -> int:
        """Past the published table: two steps a month above the highest published build; a hotpatch one step
        below its month's cumulative update. Before it (and on 2016/2019): one step a month."""
        last, top = self._published_edge(os_name)
        if last and month > last:
            build = top + 2 * MONTH_STEP * months_between(last, month)
            return build - MONTH_STEP if kind == "hotpatch" else build
        start_month, start_ubr = SIMULATED_START.get(os_name, ("2020-01", 1000))
        monthly = [r for r in self.published.get(os_name, []) if r["kind"] in ("baseline", "hotpatch", "lcu")]
        if monthly:
            start_month, start_ubr = monthly[0]["month"], monthly[0]["build"]
        return max(1, start_ubr + MONTH_STEP * months_between(start_month, month))

    def known_rows(self, os_name: str) -> list:
        return self._tables.get(os_name, [])

    @cached_property
    def _all_builds(self) -> dict:
        return {os_name: {r["build"] for r in rows} for os_name, rows in self._tables.items()}

    def month_rows(self, os_name: str, month: str) -> list:
        """Every release of `os_name` whose cycle is `month` (published, fleet or simulated), by date."""
        key = (os_name, month)
        if key not in self._month_cache:
            rows = [r for r in self.known_rows(os_name) if r["month"] == month]
            if not any(r["kind"] in ("baseline", "hotpatch", "lcu") for r in rows):
                rows = rows + self._simulate(os_name, month)
                rows.sort(key=lambda r: (r["date"], r["build"]))
            self._month_cache[key] = rows
        return self._month_cache[key]

    def _simulate(self, os_name: str, month: str) -> list:
        day = release_day_of(month).isoformat()
        builds = self._all_builds.get(os_name, set())

        def row(kind):
            ubr = self._simulated_build(None, os_name, month, kind)
            while ubr in builds:
                ubr += 1
            raw = {"kb": simulated_kb(os_name, kind, month), "build": ubr, "date": day, "kind": kind}
            return make_row(os_name, raw, "simulated", simulated=True)

        last, _ = self._published_edge(os_name)
        if os_name in HOTPATCH_OSES and last and month > last:
            if int(month[5:7]) in PLANNED_BASELINES:
                return [row("baseline")]
            return [row("hotpatch"), row("lcu")]
        # before the table, or a release without hotpatch (2016, 2019): a simulated monthly cumulative update
        return [row("lcu")]

    # ------------------------------------------------------------------ questions
    def month_type(self, os_name: str, month: str) -> str:
        rows = self.month_rows(os_name, month)
        if any(r["kind"] == "baseline" for r in rows):
            return "baseline"
        if any(r["kind"] == "hotpatch" for r in rows):
            return "hotpatch"
        return "lcu"

    def monthly(self, os_name: str, month: str, kind: str):
        for row in self.month_rows(os_name, month):
            if row["kind"] == kind:
                return row
        return None

    def current_baseline(self, os_name: str, month: str, back: int = 24):
        """The baseline row of the quarter `month` belongs to (the latest baseline at or before it)."""
        for offset in range(back):
            row = self.monthly(os_name, add_months(month, -offset), "baseline")
            if row is not None:
                return row
        return None

    def find(self, os_name: str, kb=None, build=None, around=None) -> list:
        """Rows with that KB and/or build: the known ones, else simulated ones up to `around`."""
        found = [
            r
            for r in self.known_rows(os_name)
            if (kb is None or r["kb"] == kb) and (build is None or r["build"] == build)
        ]
        if not found and around:
            for offset in range(-2, 36):
                for r in self.month_rows(os_name, add_months(around, -offset)):
                    if (
                        (kb is None or r["kb"] == kb)
                        and (build is None or r["build"] == build)
                        and r not in found
                    ):
                        found.append(r)
        return found

    def release(self, os_name: str, month: str) -> dict:
        """The month as the first lab version described it: {month, type, hotpatch, lcu}, each {kb, ubr,
        simulated}; `lcu` is the baseline in a baseline month."""

        def short(row):
            return (
                None if row is None else {"kb": row["kb"], "ubr": row["build"], "simulated": row["simulated"]}
            )

        kind = self.month_type(os_name, month)
        if kind == "baseline":
            return {
                "month": month,
                "type": "baseline",
                "hotpatch": None,
                "lcu": short(self.monthly(os_name, month, "baseline")),
            }
        if kind == "hotpatch":
            return {
                "month": month,
                "type": "hotpatch",
                "hotpatch": short(self.monthly(os_name, month, "hotpatch")),
                "lcu": short(self.monthly(os_name, month, "lcu")),
            }
        return {
            "month": month,
            "type": "baseline",
            "hotpatch": None,
            "lcu": short(self.monthly(os_name, month, "lcu")),
        }


DEFAULT = None


def default_catalog() -> Catalog:
    global DEFAULT
    if DEFAULT is None:
        DEFAULT = Catalog()
    return DEFAULT


def release(os_name: str, month: str) -> dict:
    """`Catalog.release` on the lab's own table (no fleet rows)."""
    return default_catalog().release(os_name, month)
