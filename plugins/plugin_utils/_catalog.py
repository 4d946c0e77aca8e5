"""The hotpatch release catalog: release cycles, every release (KB) with its build and line, programmes.

Internal API of hotpatch.windows: only this collection's plugins may import it; it can change in any release.

Three kinds of rows (``release_catalog.yml`` beside this file ships Microsoft's; users add their own with
``hotpatch_catalog``: a list of rows or the path of a YAML file holding a list, or a mapping with lists under
``releases``, ``cycles`` and ``programmes``):

- **release** (one KB): ``{os, month, kb, build, line: hotpatch|lcu, baseline, oob, released, source, note}``.
  ``line`` says what the package is: ``hotpatch`` (installs without a restart) or ``lcu`` (a cumulative
  update: restarts). ``baseline`` marks the cumulative updates that are (or count as) the hotpatch baseline:
  a host with one installed is on the hotpatch line until the next baseline. It defaults to true for the
  regular (not out-of-band) cumulative update of a baseline month, false otherwise (Microsoft documents when
  an out-of-band release keeps the line, e.g. KB5070893 in October 2025). ``build`` may be null: an unknown
  build is never guessed. Key: os and KB.
- **cycle** (one month): ``{os, month, type: baseline|hotpatch, unplanned, source, note}``. Key: os and month.
  Months without a cycle row follow the planned pattern (January, April, July, October baselines).
- **programme** (one OS): ``{os, kind: programme, first, last, source, confidence}``: the first and last month
  of the OS's hotpatch programme (``last`` null: no end announced).

A row of the first version's form ``{os, month, type, unplanned, kb, build}`` is still accepted: it is a cycle
row and, with a KB, also a release row (``line`` hotpatch for a hotpatch month, a baseline ``lcu`` otherwise).
A user row replaces the shipped row with the same key and adds any other. The collection never invents a KB
or a build.
"""

import datetime
import functools
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

SHIPPED_CATALOG = Path(__file__).with_name("release_catalog.yml")
# Every task a worker runs may read the shipped catalog; libyaml's loader reads it ten times faster.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Windows Server release -> the major build number of its releases.
OS_BUILDS = {"2022": 20348, "2025": 26100}
PLANNED_BASELINE_MONTHS = (1, 4, 7, 10)
CYCLE_TYPES = ("baseline", "hotpatch")
LINES = ("hotpatch", "lcu")
KINDS = ("release", "cycle", "programme")
CONFIDENCES = ("primary", "secondary", "assumed")
RELEASE_KEYS = ("os", "month", "kb", "build", "line", "baseline", "oob", "released", "source", "note")
CYCLE_KEYS = ("os", "month", "type", "unplanned", "source", "note")
PROGRAMME_KEYS = ("os", "first", "last", "source", "confidence", "note")
# Keys of a row of the first version ({os, month, type, unplanned, kb, build}) and of any row.
LEGACY_KEYS = ("os", "month", "type", "unplanned", "kb", "build", "published", "note", "source")
ALL_KEYS = tuple(dict.fromkeys(("kind", *RELEASE_KEYS, *CYCLE_KEYS, *PROGRAMME_KEYS, *LEGACY_KEYS)))
REFRESH_HINT = "run the playbook hotpatch.windows.catalog_update or add a hotpatch_catalog row"

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_KB_RE = re.compile(r"^(?:KB)?(\d{6,8})$", re.IGNORECASE)
_BUILD_RE = re.compile(r"^(\d{5})\.(\d{1,6})$")


@dataclass(frozen=True)
class Release:
    """One release (KB) of an OS: what the package is, its build, and which line it leaves a host on."""

    os: str
    month: str
    kb: str
    build: str | None
    line: str
    baseline: bool | None  # None: the default, decided by the month's cycle type (see Catalog.is_baseline)
    oob: bool
    released: str | None
    source: str | None
    note: str | None
    origin: str = "shipped"  # 'shipped' or 'user'

    @property
    def ubr(self):
        parsed = parse_build(self.build)
        return parsed[1] if parsed else None

    def row(self):
        """The release as a catalog row (what a catalog file holds)."""
        data = asdict(self)
        del data["origin"]
        return data


@dataclass(frozen=True)
class Cycle:
    """The type of one month of an OS: a baseline (restart) or a hotpatch month."""

    os: str
    month: str
    type: str
    unplanned: bool
    source: str | None
    note: str | None
    origin: str = "shipped"

    def row(self):
        data = asdict(self)
        del data["origin"]
        return data


@dataclass(frozen=True)
class Programme:
    """The months an OS's hotpatch programme runs: from ``first`` to ``last`` (None: no end announced)."""

    os: str
    first: str | None
    last: str | None
    source: str | None
    confidence: str | None
    note: str | None
    origin: str = "shipped"

    def row(self):
        data = asdict(self)
        del data["origin"]
        data["kind"] = "programme"
        return data

    def state(self, month):
        """'not_started', 'active' or 'ended' for a month 'YYYY-MM'."""
        if self.first is not None and month < self.first:
            return "not_started"
        if self.last is not None and month > self.last:
            return "ended"
        return "active"


def normalise_os(os):
    """'2022' or '2025' from a string or an integer; HotpatchError for anything else."""
    if isinstance(os, bool) or not isinstance(os, (str, int)):
        raise HotpatchError(f"os must be '2022' or '2025', got {os!r}")
    text = str(os).strip()
    if text not in OS_BUILDS:
        raise HotpatchError(f"os {text!r} is not supported by hotpatch: use '2022' (Azure Edition) or '2025'")
    return text


def normalise_kb(kb):
    """'KB5041160' from 'KB5041160', 'kb5041160', '5041160' or 5041160; None when it is not a KB id."""
    if isinstance(kb, bool) or not isinstance(kb, (str, int)):
        return None
    match = _KB_RE.match(str(kb).strip())
    return "KB" + match.group(1) if match else None


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


def month_text(year, month):
    return f"{year:04d}-{month:02d}"


def add_months(month, count):
    """'YYYY-MM' ``count`` months after (or before) ``month``."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + count
    return month_text(index // 12, index % 12 + 1)


def cycle_month(when):
    """(year, month) of the release cycle a date falls in: the latest release day <= the date."""
    day = to_date(when)
    if day >= release_day(day.year, day.month):
        return day.year, day.month
    if day.month == 1:
        return day.year - 1, 12
    return day.year, day.month - 1


# ---------------------------------------------------------------------------------------------- rows
def _row_error(where, field, text):
    return HotpatchError(f"hotpatch catalog {where}: field '{field}' {text}")


def _kind(row, where):
    kind = row.get("kind")
    if kind is not None:
        if kind not in KINDS:
            raise _row_error(where, "kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
        return kind
    if "line" in row:
        return "release"
    if "first" in row or "last" in row:
        return "programme"
    if "type" in row:
        return "cycle"
    raise _row_error(where, "type", "is missing (a cycle row has type, a release row has line and kb)")


def _month(row, where, field="month", required=True):
    value = row.get(field)
    if value in (None, ""):
        if required:
            raise _row_error(where, field, "is missing")
        return None
    match = _MONTH_RE.match(str(value))
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise _row_error(where, field, f"must be 'YYYY-MM', got {value!r}")
    return str(value)


def _flag(row, where, field, default):
    value = row.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _row_error(where, field, f"must be true or false, got {value!r}")
    return value


def _text(row, where, field):
    value = row.get(field)
    if value is None:
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise _row_error(where, field, f"must be a string, got {value!r}")
    return str(value)


def _build(row, where, os):
    build = row.get("build")
    if build is None:
        return None
    if isinstance(build, float):
        raise _row_error(
            where, "build", f"must be a quoted string like '20348.2655', got the number {build!r}"
        )
    parsed = parse_build(build)
    if parsed is None:
        raise _row_error(where, "build", f"must look like '{OS_BUILDS[os]}.2655', got {build!r}")
    if parsed[0] != OS_BUILDS[os]:
        raise _row_error(where, "build", f"{build!r} is not a Windows Server {os} build ({OS_BUILDS[os]}.x)")
    return f"{parsed[0]}.{parsed[1]}"


def _kb(row, where, required):
    kb = row.get("kb")
    if kb is None:
        if required:
            raise _row_error(where, "kb", "is missing (a release row needs its KB)")
        return None
    normal = normalise_kb(kb)
    if normal is None:
        raise _row_error(where, "kb", f"must look like 'KB5041160', got {kb!r}")
    return normal


def _released(row, where):
    value = row.get("released")
    if value is None:
        return None
    if isinstance(value, datetime.date):
        return value.isoformat()
    try:
        return datetime.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise _row_error(where, "released", f"must be a date 'YYYY-MM-DD', got {value!r}") from None


def _check_keys(row, where, allowed):
    unknown = sorted(str(key) for key in row if key not in allowed)
    if unknown:
        raise _row_error(where, unknown[0], f"is unknown (this row can have {', '.join(allowed)})")


def normalise_row(row, where, origin="user"):
    """The Release, Cycle or Programme objects one catalog row stands for; HotpatchError naming the row.

    A row of the first version's form with a KB stands for a cycle and a release.
    """
    if not isinstance(row, dict):
        raise HotpatchError(f"hotpatch catalog {where}: a row must be a mapping, got {type(row).__name__}")
    kind = _kind(row, where)
    if row.get("os") in (None, ""):
        raise _row_error(where, "os", "is missing")
    try:
        os = normalise_os(row["os"])
    except HotpatchError as exc:
        raise _row_error(where, "os", f"is wrong: {exc}") from None
    if kind == "programme":
        _check_keys(row, where, ("kind", *PROGRAMME_KEYS))
        where = f"{where} (programme of os {os})"
        first, last = _month(row, where, "first", False), _month(row, where, "last", False)
        if first and last and last < first:
            raise _row_error(where, "last", f"{last} is before first {first}")
        confidence = row.get("confidence")
        if confidence is not None and confidence not in CONFIDENCES:
            raise _row_error(
                where, "confidence", f"must be one of {', '.join(CONFIDENCES)}, got {confidence!r}"
            )
        source, note = _text(row, where, "source"), _text(row, where, "note")
        return [Programme(os, first, last, source, confidence, note, origin)]
    month = _month(row, where)
    where = f"{where} (os {os}, month {month})"
    if kind == "release":
        _check_keys(row, where, ("kind", *RELEASE_KEYS))
        line = row.get("line")
        if line not in LINES:
            raise _row_error(where, "line", f"must be hotpatch or lcu, got {line!r}")
        baseline = _flag(row, where, "baseline", None)
        if baseline and line != "lcu":
            raise _row_error(where, "baseline", "can only be true for a cumulative update (line lcu)")
        release = Release(
            os=os,
            month=month,
            kb=_kb(row, where, True),
            build=_build(row, where, os),
            line=line,
            baseline=baseline,
            oob=_flag(row, where, "oob", False),
            released=_released(row, where),
            source=_text(row, where, "source"),
            note=_text(row, where, "note"),
            origin=origin,
        )
        return [release]
    _check_keys(row, where, ("kind", *LEGACY_KEYS))
    cycle_type = row.get("type")
    if cycle_type not in CYCLE_TYPES:
        raise _row_error(where, "type", f"must be baseline or hotpatch, got {cycle_type!r}")
    number = int(month[5:])
    unplanned = _flag(
        row, where, "unplanned", cycle_type == "baseline" and planned_type(number) == "hotpatch"
    )
    if unplanned and cycle_type != "baseline":
        raise _row_error(where, "unplanned", "can only be true for a baseline row")
    source, note = _text(row, where, "source"), _text(row, where, "note")
    rows = [Cycle(os, month, cycle_type, unplanned, source, note, origin)]
    kb, build = _kb(row, where, False), _build(row, where, os)
    _flag(row, where, "published", False)  # accepted for the first version's rows; derived, not stored
    if kb is None and build is not None:
        raise _row_error(where, "kb", "is missing: a build without its KB cannot be placed on a release line")
    if kb is not None:
        line = "hotpatch" if cycle_type == "hotpatch" else "lcu"
        released = release_day(int(month[:4]), number).isoformat()
        rows.append(
            Release(
                os,
                month,
                kb,
                build,
                line,
                True if line == "lcu" else None,
                False,
                released,
                source,
                note,
                origin,
            )
        )
    return rows


def _row_sources(source, where):
    """(rows, where) from a list, a mapping with releases/cycles/programmes, or a YAML file holding either."""
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        try:
            with path.open(encoding="utf-8") as handle:
                source = yaml.load(handle, Loader=_SAFE_LOADER)
        except OSError as exc:
            raise HotpatchError(
                f"hotpatch catalog file {str(path)!r} cannot be read: {exc.strerror}"
            ) from None
        except yaml.YAMLError as exc:
            raise HotpatchError(f"hotpatch catalog file {str(path)!r} is not valid YAML: {exc}") from None
        where = f"file {str(path)!r}"
    if isinstance(source, dict):
        lists = [key for key in ("releases", "cycles", "programmes") if key in source]
        if not lists:
            raise HotpatchError(
                f"hotpatch catalog {where}: a mapping needs the key 'releases' (a list of rows), and "
                "may have 'cycles' and 'programmes'"
            )
        rows = []
        for key in lists:
            part = source[key] or []
            if not isinstance(part, (list, tuple)):
                raise HotpatchError(f"hotpatch catalog {where}: '{key}' must be a list of rows")
            rows += [(row, f"{where} {key} row {index}") for index, row in enumerate(part, start=1)]
        return rows
    if source is None:
        return []
    if not isinstance(source, (list, tuple)):
        raise HotpatchError(
            f"hotpatch catalog {where}: expected a list of rows or a YAML file path, "
            f"got {type(source).__name__}"
        )
    return [(row, f"{where} row {index}") for index, row in enumerate(source, start=1)]


def _key(item):
    if isinstance(item, Release):
        return ("release", item.os, item.kb)
    if isinstance(item, Cycle):
        return ("cycle", item.os, item.month)
    return ("programme", item.os)


def _describe(key):
    if key[0] == "release":
        return f"{key[2]} of os {key[1]}"
    if key[0] == "cycle":
        return f"os {key[1]} month {key[2]}"
    return f"the programme of os {key[1]}"


def read_rows(source, where="hotpatch_catalog", origin="user"):
    """The Release, Cycle and Programme objects of one source; HotpatchError naming a bad or repeated row."""
    if isinstance(source, Catalog):
        return list(source.items(origin=None))
    items = {}
    for row, row_where in _row_sources(source, where):
        for item in normalise_row(row, row_where, origin):
            key = _key(item)
            if key in items:
                raise HotpatchError(f"hotpatch catalog {row_where}: a second row for {_describe(key)}")
            items[key] = item
    return list(items.values())


# ---------------------------------------------------------------------------------------------- catalog
class Catalog:
    """Shipped rows plus user rows, indexed for the questions the decisions ask."""

    def __init__(self, items, sources=None, ga_builds=None):
        merged = {}
        for item in items:
            merged[_key(item)] = item  # later items (user rows) replace earlier ones with the same key
        self._items = merged
        self.sources = dict(sources or {})
        self.ga_builds = dict(ga_builds or {})
        self.releases = {}  # os -> [Release] sorted by (month, released, kb)
        self.cycles = {}  # (os, month) -> Cycle
        self.programmes = {}  # os -> Programme
        self._by_kb = {}
        self._by_build = {}
        for item in merged.values():
            if isinstance(item, Release):
                self.releases.setdefault(item.os, []).append(item)
                self._by_kb[(item.os, item.kb)] = item
                if item.build is not None:
                    self._by_build.setdefault((item.os, item.build), []).append(item)
            elif isinstance(item, Cycle):
                self.cycles[(item.os, item.month)] = item
            else:
                self.programmes[item.os] = item
        for rows in self.releases.values():
            rows.sort(key=lambda row: (row.month, row.released or "", row.kb))

    def items(self, origin="user"):
        """Every row object; ``origin`` None for all, else only rows of that origin."""
        return [item for item in self._items.values() if origin is None or item.origin == origin]

    # ------------------------------------------------------------------ cycles
    def cycle_type(self, os, month):
        """(type, unplanned) of a month: its cycle row, else the planned pattern."""
        row = self.cycles.get((os, month))
        if row is not None:
            return row.type, row.unplanned
        return planned_type(int(month[5:])), False

    def is_baseline(self, release):
        """Whether a host with ``release`` installed is on that month's hotpatch baseline."""
        if release.line != "lcu":
            return False
        if release.baseline is not None:
            return release.baseline
        return not release.oob and self.cycle_type(release.os, release.month)[0] == "baseline"

    def month_releases(self, os, month):
        return [row for row in self.releases.get(os, []) if row.month == month]

    def cycle_release(self, os, month):
        """The release that defines a cycle: the month's hotpatch in a hotpatch month, its baseline cumulative
        update in a baseline month (user rows first, then regular before out-of-band releases), or None."""
        cycle_type = self.cycle_type(os, month)[0]
        if cycle_type == "hotpatch":
            candidates = [row for row in self.month_releases(os, month) if row.line == "hotpatch"]
        else:
            candidates = [row for row in self.month_releases(os, month) if self.is_baseline(row)]
        if not candidates:
            return None
        return sorted(
            candidates, key=lambda row: (row.origin != "user", row.oob, row.released or "", row.kb)
        )[0]

    def month_lcus(self, os, month):
        """The cumulative updates of a month (regular and out-of-band)."""
        return [row for row in self.month_releases(os, month) if row.line == "lcu"]

    def governing_baseline(self, os, month):
        """The baseline month that governs ``month``: the latest baseline month <= it."""
        current = month
        for _attempt in range(13):
            if self.cycle_type(os, current)[0] == "baseline":
                return current
            current = add_months(current, -1)
        return None

    def newest_month(self, os):
        """The newest month of ``os`` whose cycle release is published (has a KB), or None."""
        months = sorted({row.month for row in self.releases.get(os, [])}, reverse=True)
        for month in months:
            if self.cycle_release(os, month) is not None:
                return month
        return None

    def programme(self, os):
        return self.programmes.get(os)

    def entry(self, os, year, month):
        """The design's cycle dict for one os and month (exactly its seven keys)."""
        key = month_text(year, month)
        cycle_type, unplanned = self.cycle_type(os, key)
        release = self.cycle_release(os, key)
        return {
            "month": key,
            "type": cycle_type,
            "unplanned": unplanned,
            "kb": release.kb if release else None,
            "build": release.build if release else None,
            "published": release is not None,
            "release_date": release_day(year, month).isoformat(),
        }

    def status(self, os, month):
        """``{programme, note}`` of a month: whether the programme runs, and what a user should know."""
        programme = self.programmes.get(os)
        state = programme.state(month) if programme else "active"
        note = None
        if state == "ended":
            note = f"the Windows Server {os} hotpatch programme ended after {programme.last}"
        elif state == "not_started":
            note = f"before the Windows Server {os} hotpatch programme started ({programme.first})"
        elif self.cycle_release(os, month) is None:
            newest = self.newest_month(os)
            if newest is None or month > newest:
                note = (
                    f"planned, not yet published: the catalog's newest Windows Server {os} month is "
                    f"{newest or 'none'}; {REFRESH_HINT}"
                )
            else:
                note = f"no release of Windows Server {os} is recorded for {month} in the catalog"
        return {"programme": state, "note": note}

    # ------------------------------------------------------------------ releases
    def by_kb(self, os, kb):
        return self._by_kb.get((os, normalise_kb(kb)))

    def by_build(self, os, build):
        parsed = parse_build(str(build)) if build is not None else None
        if parsed is None:
            return []
        return list(self._by_build.get((os, f"{parsed[0]}.{parsed[1]}"), []))

    def newest_build(self, os):
        builds = [row.ubr for row in self.releases.get(os, []) if row.ubr is not None]
        return max(builds) if builds else None

    def rows(self, origin=None):
        """Every row as a catalog row dict (releases, cycles, programmes), sorted."""
        items = self.items(origin)
        order = {"programme": 0, "cycle": 1, "release": 2}
        items.sort(key=lambda item: (order[_key(item)[0]], item.os, getattr(item, "month", ""), _key(item)))
        return [item.row() for item in items]


@functools.lru_cache(maxsize=1)
def _shipped():
    with SHIPPED_CATALOG.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_SAFE_LOADER)
    items = read_rows(
        {key: data.get(key) or [] for key in ("releases", "cycles", "programmes")}, "shipped", "shipped"
    )
    return tuple(items), dict(data.get("sources") or {}), dict(data.get("ga_builds") or {})


@functools.lru_cache(maxsize=1)
def _shipped_catalog():
    items, sources, ga_builds = _shipped()
    return Catalog(items, sources, ga_builds)


def ga_build(os):
    """The first build of a release the collection knows ('26100.1742' for 2025), or None."""
    return _shipped()[2].get(normalise_os(os))


def load_catalog(extra=None):
    """The Catalog: shipped rows plus user rows (``extra``: rows, a YAML file path, or an earlier Catalog)."""
    if isinstance(extra, Catalog):
        return extra
    if extra in (None, "", [], {}):
        return _shipped_catalog()
    items, sources, ga_builds = _shipped()
    rows = read_rows(extra)
    return Catalog([*items, *rows], {**sources, **_user_sources(extra)}, ga_builds)


def _user_sources(extra):
    """The ``sources`` mapping of a user catalog (a mapping, or a YAML file holding one), else {}.

    A file written by hotpatch.windows.catalog_update names the documents its rows come from there.
    """
    if isinstance(extra, (str, Path)):
        try:
            with Path(extra).expanduser().open(encoding="utf-8") as handle:
                extra = yaml.load(handle, Loader=_SAFE_LOADER)
        except (OSError, yaml.YAMLError):
            return {}  # read_rows has reported it already
    if isinstance(extra, dict) and isinstance(extra.get("sources"), dict):
        return {str(key): value for key, value in extra["sources"].items() if isinstance(value, dict)}
    return {}


def release_cycle(when, os, catalog=None):
    """The release cycle that ``when`` falls in for ``os``: a cycle opens on its month's second Tuesday."""
    os = normalise_os(os)
    year, month = cycle_month(when)
    return load_catalog(catalog).entry(os, year, month)


def month_entry(os, year, month, catalog):
    """The cycle dict of one os and month from a Catalog."""
    return load_catalog(catalog).entry(os, year, month)


def find_build(os, build, catalog=None):
    """A release row of ``os`` whose build equals ``build`` ('26100.3107') as a dict, or None.

    Several releases can share a build (KB5070881 and KB5070893 are both 26100.6905): the first is returned;
    ``Catalog.by_build`` returns them all.
    """
    os = normalise_os(os)
    found = load_catalog(catalog).by_build(os, build)
    return found[0].row() if found else None


def dump_rows(rows):
    """YAML text of catalog rows (a mapping with 'programmes', 'cycles' and 'releases'), builds quoted."""
    grouped = {"programmes": [], "cycles": [], "releases": []}
    for row in rows:
        kind = row.get("kind") or ("release" if "line" in row else "programme" if "first" in row else "cycle")
        clean = {key: value for key, value in row.items() if value is not None and key != "kind"}
        if kind == "programme":
            clean["kind"] = "programme"
        grouped[{"release": "releases", "cycle": "cycles", "programme": "programmes"}[kind]].append(clean)
    return yaml.safe_dump({key: value for key, value in grouped.items() if value}, sort_keys=False, width=120)


def catalog_freshness(catalog=None):
    """How current the catalog is, per OS, for reports: the newest published month and where it comes from.

    ``{os: {newest_month, kb, origin: shipped|user, source: {id, title, url, retrieved, confidence} | None,
    programme: {first, last, confidence, source} | None}}``; ``newest_month`` None when nothing is published.
    """
    catalog = load_catalog(catalog)
    answer = {}
    for os in OS_BUILDS:
        month = catalog.newest_month(os)
        release = catalog.cycle_release(os, month) if month else None
        source = None
        if release is not None and release.source is not None:
            described = catalog.sources.get(release.source) or {}
            source = {"id": release.source}
            source.update({key: described.get(key) for key in ("title", "url", "retrieved", "confidence")})
        programme = catalog.programme(os)
        answer[os] = {
            "newest_month": month,
            "kb": release.kb if release else None,
            "origin": release.origin if release else None,
            "source": source,
            "programme": {
                "first": programme.first,
                "last": programme.last,
                "confidence": programme.confidence,
                "source": programme.source,
            }
            if programme
            else None,
        }
    return answer
