"""The hotpatch release catalog and the release cycle of a date.

A row: ``{os: '2022'|'2025', month: 'YYYY-MM', type: baseline|hotpatch, unplanned: bool,
kb: 'KB5041160'|None, build: '20348.2655'|None, published: bool}``. The shipped rows live in
``release_catalog.yml`` beside this file; user rows (``hotpatch_catalog``) replace shipped rows of the same
os and month. Months without a row follow the planned pattern and are not published: no KB, no build.
"""

import datetime
import functools
import re
from pathlib import Path

import yaml

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

SHIPPED_CATALOG = Path(__file__).with_name("release_catalog.yml")

# Windows Server release -> the major build number of its releases.
OS_BUILDS = {"2022": 20348, "2025": 26100}
PLANNED_BASELINE_MONTHS = (1, 4, 7, 10)
RELEASE_TYPES = ("baseline", "hotpatch")
ROW_KEYS = ("os", "month", "type", "unplanned", "kb", "build", "published", "note")

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_KB_RE = re.compile(r"^(?:KB)?(\d{6,8})$", re.IGNORECASE)
_BUILD_RE = re.compile(r"^(\d{5})\.(\d{1,6})$")


def normalise_os(os):
    """'2022' or '2025' from a string or an integer; HotpatchError for anything else."""
    if isinstance(os, bool) or not isinstance(os, (str, int)):
        raise HotpatchError(f"os must be '2022' or '2025', got {os!r}")
    text = str(os).strip()
    if text not in OS_BUILDS:
        raise HotpatchError(f"os {text!r} is not supported by hotpatch: use '2022' (Azure Edition) or '2025'")
    return text


def release_day(year, month):
    """The release day of a month: its second Tuesday (Patch Tuesday)."""
    first = datetime.date(year, month, 1)
    first_tuesday = 1 + (1 - first.weekday()) % 7
    return datetime.date(year, month, first_tuesday + 7)


def to_date(when):
    """A ``datetime.date`` from a date, a datetime (aware ones in UTC) or an ISO 8601 string."""
    if isinstance(when, datetime.datetime):
        if when.tzinfo is not None:
            when = when.astimezone(datetime.UTC)
        return when.date()
    if isinstance(when, datetime.date):
        return when
    if isinstance(when, str) and when.strip():
        text = when.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            return to_date(datetime.datetime.fromisoformat(text))
        except ValueError:
            pass
    raise HotpatchError(f"date {when!r} is not a date: use 'YYYY-MM-DD' or an ISO 8601 date and time")


def parse_build(build):
    """(major, ubr) from '20348.2655'; None when it is not such a string."""
    if not isinstance(build, str):
        return None
    match = _BUILD_RE.match(build.strip())
    if not match:
        return None
    return int(match.group(1)), int(match.group(2))


def planned_type(month):
    """'baseline' or 'hotpatch' for a month number, by the planned pattern."""
    return "baseline" if month in PLANNED_BASELINE_MONTHS else "hotpatch"


def _row_error(where, field, text):
    return HotpatchError(f"hotpatch catalog {where}: field '{field}' {text}")


def _normalise_row(row, where):
    """A validated catalog row with every field; HotpatchError naming the row and the field."""
    if not isinstance(row, dict):
        raise HotpatchError(f"hotpatch catalog {where}: a row must be a mapping, got {type(row).__name__}")
    unknown = sorted(str(key) for key in row if key not in ROW_KEYS)
    if unknown:
        raise _row_error(where, unknown[0], f"is unknown (a row has {', '.join(ROW_KEYS[:-1])})")
    for field in ("os", "month", "type"):
        if row.get(field) in (None, ""):
            raise _row_error(where, field, "is missing")
    try:
        os = normalise_os(row["os"])
    except HotpatchError as exc:
        raise _row_error(where, "os", f"is wrong: {exc}") from None
    where = f"{where} (os {os}, month {row['month']})"
    match = _MONTH_RE.match(str(row["month"]))
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise _row_error(where, "month", f"must be 'YYYY-MM', got {row['month']!r}")
    month_number = int(match.group(2))
    if row["type"] not in RELEASE_TYPES:
        raise _row_error(where, "type", f"must be baseline or hotpatch, got {row['type']!r}")
    unplanned = row.get("unplanned")
    if unplanned is None:
        unplanned = row["type"] == "baseline" and planned_type(month_number) == "hotpatch"
    elif not isinstance(unplanned, bool):
        raise _row_error(where, "unplanned", f"must be true or false, got {unplanned!r}")
    if unplanned and row["type"] != "baseline":
        raise _row_error(where, "unplanned", "can only be true for a baseline row")
    kb = row.get("kb")
    if kb is not None:
        match_kb = _KB_RE.match(str(kb).strip()) if isinstance(kb, (str, int)) and kb is not True else None
        if not match_kb:
            raise _row_error(where, "kb", f"must look like 'KB5041160', got {kb!r}")
        kb = "KB" + match_kb.group(1)
    build = row.get("build")
    if build is not None:
        if isinstance(build, float):
            raise _row_error(
                where, "build", f"must be a quoted string like '20348.2655', got the number {build!r}"
            )
        parsed = parse_build(build)
        if parsed is None:
            raise _row_error(where, "build", f"must look like '{OS_BUILDS[os]}.2655', got {build!r}")
        if parsed[0] != OS_BUILDS[os]:
            raise _row_error(
                where, "build", f"{build!r} is not a Windows Server {os} build ({OS_BUILDS[os]}.x)"
            )
        build = f"{parsed[0]}.{parsed[1]}"
    published = row.get("published")
    if published is None:
        published = kb is not None or build is not None
    elif not isinstance(published, bool):
        raise _row_error(where, "published", f"must be true or false, got {published!r}")
    return {
        "os": os,
        "month": str(row["month"]),
        "type": row["type"],
        "unplanned": unplanned,
        "kb": kb,
        "build": build,
        "published": published,
    }


def _read_rows(source, where):
    """Rows from a list, a mapping with 'releases', or the path of a YAML file holding either."""
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        try:
            with path.open(encoding="utf-8") as handle:
                source = yaml.safe_load(handle)
        except OSError as exc:
            raise HotpatchError(
                f"hotpatch catalog file {str(path)!r} cannot be read: {exc.strerror}"
            ) from None
        except yaml.YAMLError as exc:
            raise HotpatchError(f"hotpatch catalog file {str(path)!r} is not valid YAML: {exc}") from None
        where = f"file {str(path)!r}"
    if isinstance(source, dict):
        if "releases" not in source:
            raise HotpatchError(
                f"hotpatch catalog {where}: a mapping needs the key 'releases' (a list of rows)"
            )
        source = source["releases"]
    if source is None:
        return []
    if not isinstance(source, (list, tuple)):
        raise HotpatchError(
            f"hotpatch catalog {where}: expected a list of rows or a YAML file path, "
            f"got {type(source).__name__}"
        )
    rows = {}
    for index, row in enumerate(source, start=1):
        normalised = _normalise_row(row, f"{where} row {index}")
        key = (normalised["os"], normalised["month"])
        if key in rows:
            raise HotpatchError(
                f"hotpatch catalog {where} row {index}: a second row for os {key[0]} month {key[1]}"
            )
        rows[key] = normalised
    return list(rows.values())


@functools.lru_cache(maxsize=1)
def _shipped():
    with SHIPPED_CATALOG.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return tuple(_read_rows(data["releases"], "shipped")), dict(data.get("ga_builds") or {})


def ga_build(os):
    """The first build of a release the collection knows ('26100.1742' for 2025), or None."""
    return _shipped()[1].get(normalise_os(os))


def load_catalog(extra=None):
    """Shipped rows plus user rows (``extra``: a list of rows or a YAML file path), sorted by os and month.

    A user row replaces the shipped row of the same os and month. ``extra`` may also be the result of an
    earlier load_catalog call (its rows carry ``published``), so loaded catalogs can be passed along.
    """
    rows = {(row["os"], row["month"]): dict(row) for row in _shipped()[0]}
    if extra not in (None, "", [], {}):
        for row in _read_rows(extra, "hotpatch_catalog"):
            rows[(row["os"], row["month"])] = row
    return [rows[key] for key in sorted(rows)]


def cycle_month(when):
    """(year, month) of the release cycle a date falls in: the latest release day <= the date."""
    day = to_date(when)
    if day >= release_day(day.year, day.month):
        return day.year, day.month
    if day.month == 1:
        return day.year - 1, 12
    return day.year, day.month - 1


def month_entry(os, year, month, rows):
    """The design's cycle dict for one os and month, from the rows or the planned pattern."""
    key = f"{year:04d}-{month:02d}"
    for row in rows:
        if row["os"] == os and row["month"] == key:
            return {
                "month": key,
                "type": row["type"],
                "unplanned": row["unplanned"],
                "kb": row["kb"],
                "build": row["build"],
                "published": row["published"],
                "release_date": release_day(year, month).isoformat(),
            }
    return {
        "month": key,
        "type": planned_type(month),
        "unplanned": False,
        "kb": None,
        "build": None,
        "published": False,
        "release_date": release_day(year, month).isoformat(),
    }


def release_cycle(when, os, catalog=None):
    """The release cycle that ``when`` falls in for ``os``: a cycle opens on its month's second Tuesday."""
    os = normalise_os(os)
    year, month = cycle_month(when)
    return month_entry(os, year, month, load_catalog(catalog))


def find_build(os, build, catalog=None):
    """The catalog row of ``os`` whose build equals ``build`` ('26100.3107'), or None."""
    os = normalise_os(os)
    parsed = parse_build(str(build)) if build is not None else None
    if parsed is None:
        return None
    for row in load_catalog(catalog):
        if row["os"] == os and row["build"] is not None and parse_build(row["build"]) == parsed:
            return row
    return None
