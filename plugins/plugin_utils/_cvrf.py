"""Microsoft's security update documents (MSRC CVRF) as release catalog rows: the importer of catalog_update.

Internal API of hotpatch.windows: only this collection's plugins may import it; it can change in any release.
Plain Python (no Ansible): the action plugin of ``hotpatch.windows.catalog_update`` fetches the documents and
calls ``update_catalog``; tests call it with recorded documents.

The MSRC security updates API (v3.0) publishes one CVRF document per month,
``https://api.msrc.microsoft.com/cvrf/v3.0/cvrf/2026-Jun`` (JSON with ``Accept: application/json``, else XML).
Each vulnerability lists remediations; a "Vendor Fix" remediation names a KB (its description), the product
ids it fixes, a SubType ("Security Update" for a cumulative update; "Security Hotpatch Update" or
"SecurityHotpatchUpdate" for a hotpatch; others such as "Standalone Security Update") and often the build it
brings (FixedBuild, ``10.0.26100.32995``).

How the rows of a month are read from its document, for each OS over its products ("Windows Server 2025" and
"Windows Server 2025 (Server Core installation)"; likewise 2022, whose hotpatches Microsoft lists under the
same two products):

- A document also lists releases of other months (a CVE published this month but fixed earlier, a fix
  re-released later), so each KB is counted by the vulnerabilities that list it. The month's cumulative update
  is the Security Update listed by the most; the month's hotpatch is the hotpatch listed by the most, when at
  least half as many vulnerabilities list it as list the cumulative update.
- Another Security Update the catalog does not know, whose build lies between this month's cumulative update
  and the next month's (known from the catalog or from this import), is an out-of-band release of the month.
- A month of a hotpatch cycle (by the planned pattern or a cycle row) with a cumulative update and no hotpatch
  is an unplanned baseline, while the OS's programme runs.
- A build comes from FixedBuild only; none, or one of another OS, leaves it null. A KB is never made up.

Rows the import reads are compared with the catalog (shipped rows and the rows already in the output file):
new rows are written; equal rows are not (the catalog has them); a row that disagrees with a published row is
reported field by field and the catalog's row is kept, unless ``prefer='import'``; a cycle row whose month the
catalog only plans (no release published for it) yields to the document's evidence, and the report says so.
The output file is written atomically (a temporary file in its directory, then a rename).
"""

import contextlib
import datetime
import json
import os as _os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import yaml

from ansible_collections.hotpatch.windows.plugins.plugin_utils._catalog import (
    OS_BUILDS,
    Catalog,
    Cycle,
    Release,
    _shipped,
    add_months,
    cycle_month,
    month_text,
    normalise_kb,
    planned_type,
    read_rows,
    to_date,
)
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

MSRC_URL = "https://api.msrc.microsoft.com/cvrf/v3.0/cvrf/{month}"
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DOCUMENT_SUFFIXES = (".json", ".xml")
PREFER = ("catalog", "import")

# The ProductTree names of each OS's products (compared without case and repeated spaces). Microsoft lists
# the Windows Server 2022 Datacenter: Azure Edition hotpatches under the two 2022 products; a name of its own
# is accepted should one appear. "Windows Server 2022, 23H2 Edition" is another OS (build 25398): not taken.
PRODUCT_NAMES = {
    "2025": ("windows server 2025", "windows server 2025 (server core installation)"),
    "2022": ("windows server 2022", "windows server 2022 (server core installation)"),
}
_AZURE_EDITION = re.compile(r"^windows server (2022|2025) datacenter:? azure edition\b")
_ID_RE = re.compile(r"^(\d{4})-([A-Za-z]{3})$")
_FIXED_BUILD_RE = re.compile(r"^(?:10\.0\.)?(\d{5})\.(\d{1,6})$")
RELEASE_COMPARED = ("month", "build", "line", "oob", "released", "baseline")
CYCLE_COMPARED = ("type", "unplanned")
# A hotpatch is the month's when at least this share of the vulnerabilities listing the LCU list it.
HOTPATCH_SHARE = 0.5


class CvrfError(HotpatchError):
    """A document that could not be fetched or read; the message names the month and what was wrong."""

    def __init__(self, month, text):
        self.month = month
        super().__init__(f"MSRC document {cvrf_id(month)} ({month}): {text}")


# ---------------------------------------------------------------------------------------------- months
def cvrf_id(month):
    """The document id of a month: '2026-Jun' for '2026-06'."""
    year, number = month.split("-")
    return f"{year}-{MONTH_NAMES[int(number) - 1]}"


def month_of_id(document_id):
    """'2026-06' for the document id '2026-Jun' (any case), else None."""
    match = _ID_RE.match(str(document_id or "").strip())
    if not match:
        return None
    names = [name.lower() for name in MONTH_NAMES]
    if match.group(2).lower() not in names:
        return None
    return month_text(int(match.group(1)), names.index(match.group(2).lower()) + 1)


def check_month(value, what):
    """'YYYY-MM' from a string; HotpatchError naming ``what`` otherwise."""
    text = str(value or "").strip()
    if re.match(r"^\d{4}-\d{2}$", text) and 1 <= int(text[5:]) <= 12:
        return text
    raise HotpatchError(f"{what} must be a month 'YYYY-MM', got {value!r}")


def month_range(first, last):
    """Every month from ``first`` to ``last`` ('YYYY-MM'), both included."""
    months, current = [], first
    while current <= last:
        months.append(current)
        current = add_months(current, 1)
    return months


def default_months(catalog, today):
    """(first, last): from the month after the catalog's newest published month to the cycle of ``today``.

    The newest month is the oldest of the OSes whose programme still runs (each OS's newest month with its
    cycle release published), so that no OS misses a month.
    """
    last = month_text(*cycle_month(today))
    newest = {os: catalog.newest_month(os) for os in OS_BUILDS}
    running = [
        month
        for os, month in newest.items()
        if month and (catalog.programme(os) is None or catalog.programme(os).state(last) != "ended")
    ]
    known = running or [month for month in newest.values() if month]
    first = add_months(min(known), 1) if known else last
    return first, last


# ---------------------------------------------------------------------------------------------- documents
@dataclass(frozen=True)
class Fix:
    """One Vendor Fix remediation: a KB, its SubType, its FixedBuild as written, the products it fixes."""

    kb: str
    subtype: str
    build: str | None
    products: tuple

    @property
    def kind(self):
        """'hotpatch', 'lcu' (a Security Update: the cumulative update) or 'other'."""
        letters = re.sub(r"[^a-z]", "", self.subtype.lower())
        if letters == "securityhotpatchupdate":
            return "hotpatch"
        if letters == "securityupdate":
            return "lcu"
        return "other"


@dataclass
class Document:
    """What the importer needs of a CVRF document."""

    month: str
    id: str | None
    title: str | None
    released: str | None  # InitialReleaseDate, 'YYYY-MM-DD'
    revision: str | None  # CurrentReleaseDate as written
    products: dict  # product id -> name
    vulnerabilities: list  # [(cve, [Fix])]


def _value(item):
    """The text of a JSON CVRF field: ``{"Value": x}`` or ``x``."""
    if isinstance(item, dict):
        item = item.get("Value")
    if item is None or isinstance(item, (dict, list)):
        return None
    return str(item).strip()


def _date_text(text):
    try:
        return to_date(text).isoformat() if text else None
    except HotpatchError:
        return None


def _local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(element, name):
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip() or None
    return None


def _parse_xml(data, month):
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise CvrfError(month, f"is not well-formed XML ({exc}): a truncated or damaged download?") from None
    if _local(root.tag) != "cvrfdoc":
        raise CvrfError(month, f"is not a CVRF document: its XML root element is <{_local(root.tag)}>")
    tracking = next((child for child in root if _local(child.tag) == "DocumentTracking"), None)
    identifier = initial = current = None
    if tracking is not None:
        identification = next((child for child in tracking if _local(child.tag) == "Identification"), None)
        identifier = _child_text(identification, "ID") if identification is not None else None
        initial, current = (
            _child_text(tracking, "InitialReleaseDate"),
            _child_text(tracking, "CurrentReleaseDate"),
        )
    products = {}
    for element in root.iter():
        if _local(element.tag) == "FullProductName" and element.get("ProductID"):
            products[element.get("ProductID")] = (element.text or "").strip()
    vulnerabilities = []
    for element in root:
        if _local(element.tag) != "Vulnerability":
            continue
        fixes = []
        for remediations in element:
            if _local(remediations.tag) != "Remediations":
                continue
            for remediation in remediations:
                if _local(remediation.tag) != "Remediation" or remediation.get("Type") != "Vendor Fix":
                    continue
                kb = normalise_kb(_child_text(remediation, "Description"))
                if kb is None:
                    continue
                ids = tuple(
                    (child.text or "").strip() for child in remediation if _local(child.tag) == "ProductID"
                )
                subtype = _child_text(remediation, "SubType") or ""
                fixes.append(Fix(kb, subtype, _child_text(remediation, "FixedBuild"), ids))
        vulnerabilities.append((_child_text(element, "CVE"), fixes))
    return Document(
        month,
        identifier,
        _child_text(root, "DocumentTitle"),
        _date_text(initial),
        current,
        products,
        vulnerabilities,
    )


def _json_products(node, found):
    if isinstance(node, dict):
        if "ProductID" in node and isinstance(node.get("ProductID"), (str, int)) and "Value" in node:
            found[str(node["ProductID"])] = str(node["Value"] or "").strip()
        for value in node.values():
            _json_products(value, found)
    elif isinstance(node, list):
        for value in node:
            _json_products(value, found)
    return found


def _parse_json(text, month):
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CvrfError(month, f"is not valid JSON ({exc}): a truncated or damaged download?") from None
    if not isinstance(data, dict):
        raise CvrfError(month, f"is not a CVRF document: the JSON is a {type(data).__name__}, not an object")
    listed = data.get("Vulnerability")
    if not isinstance(listed, list) or not isinstance(data.get("ProductTree"), dict):
        raise CvrfError(month, "is not a CVRF document: no 'ProductTree' object and 'Vulnerability' list")
    tracking = data.get("DocumentTracking")
    tracking = tracking if isinstance(tracking, dict) else {}
    identification = tracking.get("Identification")
    identification = identification if isinstance(identification, dict) else {}
    vulnerabilities = []
    for vulnerability in listed:
        if not isinstance(vulnerability, dict):
            raise CvrfError(month, "is not a CVRF document: a 'Vulnerability' entry is not an object")
        fixes = []
        for remediation in vulnerability.get("Remediations") or []:
            if not isinstance(remediation, dict) or str(remediation.get("Type")) not in ("2", "Vendor Fix"):
                continue
            kb = normalise_kb(_value(remediation.get("Description")))
            if kb is None:
                continue
            ids = remediation.get("ProductID") or []
            ids = tuple(str(item) for item in (ids if isinstance(ids, list) else [ids]))
            subtype = _value(remediation.get("SubType")) or ""
            fixes.append(Fix(kb, subtype, _value(remediation.get("FixedBuild")), ids))
        vulnerabilities.append((_value(vulnerability.get("CVE")), fixes))
    return Document(
        month,
        _value(identification.get("ID")),
        _value(data.get("DocumentTitle")),
        _date_text(_value(tracking.get("InitialReleaseDate"))),
        _value(tracking.get("CurrentReleaseDate")),
        _json_products(data["ProductTree"], {}),
        vulnerabilities,
    )


def parse_document(data, month):
    """A Document from the bytes (or text) of a month's CVRF document, JSON or XML; CvrfError if malformed."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CvrfError(month, f"is not UTF-8 text ({exc})") from None
    else:
        text = str(data or "")
    start = text.lstrip()[:1]
    if not start:
        raise CvrfError(month, "is empty")
    if start == "{" or start == "[":
        document = _parse_json(text, month)
    elif start == "<":
        document = _parse_xml(text.lstrip().encode("utf-8"), month)
    else:
        raise CvrfError(month, f"is neither JSON nor XML: it starts with {text.lstrip()[:40]!r}")
    named = month_of_id(document.id)
    if document.id is not None and named != month:
        raise CvrfError(
            month, f"holds the document {document.id!r}, not {cvrf_id(month)!r}: a misnamed file?"
        )
    return document


def os_of_product(name):
    """'2022' or '2025' for a ProductTree name of those releases (Windows Server, not 23H2), else None."""
    text = " ".join(str(name or "").lower().split())
    for os, names in PRODUCT_NAMES.items():
        if text in names:
            return os
    match = _AZURE_EDITION.match(text)
    return match.group(1) if match else None


def fixed_build(text, os):
    """'26100.32995' from FixedBuild '10.0.26100.32995' when it is a build of ``os``, else None."""
    match = _FIXED_BUILD_RE.match(str(text or "").strip())
    if not match or int(match.group(1)) != OS_BUILDS[os]:
        return None
    return f"{match.group(1)}.{int(match.group(2))}"


# ---------------------------------------------------------------------------------------------- evidence
@dataclass
class Listed:
    """What one document says of one KB for one OS."""

    kb: str
    kinds: set = field(default_factory=set)
    subtypes: set = field(default_factory=set)
    builds: set = field(default_factory=set)  # valid builds of the OS
    foreign_builds: set = field(default_factory=set)  # FixedBuild values that are not builds of the OS
    count: int = 0  # vulnerabilities that list it

    @property
    def kind(self):
        if "hotpatch" in self.kinds:
            return "hotpatch"
        return "lcu" if "lcu" in self.kinds else "other"

    @property
    def build(self):
        return next(iter(self.builds)) if len(self.builds) == 1 else None

    @property
    def ubr(self):
        build = self.build
        return int(build.split(".")[1]) if build else None


def evidence(document):
    """{os: {kb: Listed}} of the Windows Server 2025 and 2022 fixes a document lists (an OS absent: none)."""
    product_os = {pid: os_of_product(name) for pid, name in document.products.items()}
    found = {}
    for _cve, fixes in document.vulnerabilities:
        counted = set()
        for fix in fixes:
            for os in sorted({product_os.get(pid) for pid in fix.products} - {None}):
                listed = found.setdefault(os, {}).setdefault(fix.kb, Listed(fix.kb))
                listed.kinds.add(fix.kind)
                listed.subtypes.add(fix.subtype)
                build = fixed_build(fix.build, os)
                if build:
                    listed.builds.add(build)
                elif fix.build:
                    listed.foreign_builds.add(fix.build)
                if (os, fix.kb) not in counted:
                    counted.add((os, fix.kb))
                    listed.count += 1
    return found


@dataclass
class MonthRead:
    """One OS and month of one document: its cumulative update, its hotpatch, the other KBs it lists."""

    os: str
    month: str
    document: Document
    listed: dict
    lcu: Listed | None = None
    hotpatch: Listed | None = None


def _pick(listed, kind, catalog, os, month):
    """The KB of ``kind`` listed by the most vulnerabilities, leaving out KBs the catalog holds for another
    month (a document re-lists earlier and later releases)."""
    candidates = []
    for item in listed.values():
        known = catalog.by_kb(os, item.kb)
        if item.kind == kind and (known is None or known.month == month):
            candidates.append(item)
    if not candidates:
        return None
    return sorted(candidates, key=lambda item: (-item.count, item.ubr or 0, item.kb))[0]


def read_month(document, os, listed, catalog):
    """The MonthRead of one OS: the month's cumulative update and hotpatch, picked from what is listed."""
    read = MonthRead(os, document.month, document, listed)
    read.lcu = _pick(listed, "lcu", catalog, os, document.month)
    hotpatch = _pick(listed, "hotpatch", catalog, os, document.month)
    if hotpatch is not None and (read.lcu is None or hotpatch.count >= HOTPATCH_SHARE * read.lcu.count):
        read.hotpatch = hotpatch
    return read


# ---------------------------------------------------------------------------------------------- rows
def source_id(month):
    return f"msrc-cvrf-{cvrf_id(month)}"


def _release(os, month, listed, line, read, oob=False, note=None):
    return Release(
        os=os,
        month=month,
        kb=listed.kb,
        build=listed.build,
        line=line,
        baseline=None,
        oob=oob,
        released=None if oob else read.document.released,
        source=source_id(month),
        note=note,
        origin="user",
    )


def _next_lcu_ubr(os, month, reads, catalog):
    """The UBR of the next month's regular cumulative update (from this import or the catalog), or None."""
    following = add_months(month, 1)
    read = reads.get((os, following))
    if read is not None and read.lcu is not None and read.lcu.ubr is not None:
        return read.lcu.ubr
    regular = [row.ubr for row in catalog.month_lcus(os, following) if not row.oob and row.ubr is not None]
    return min(regular) if regular else None


@dataclass
class Imported:
    """Rows read from the documents, and what the documents list but the import does not take."""

    releases: list = field(default_factory=list)
    cycles: list = field(default_factory=list)
    not_imported: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def import_rows(reads, catalog):
    """Release and cycle rows (Release/Cycle objects, origin 'user') of every MonthRead in ``reads``."""
    result = Imported()
    for (os, month), read in sorted(reads.items()):
        document_name = cvrf_id(month)
        programme = catalog.programme(os)
        state = programme.state(month) if programme else "active"
        if state == "not_started":
            result.skipped.append(
                {"os": os, "month": month, "reason": f"before the programme's first month {programme.first}"}
            )
            continue
        if read.lcu is None and read.hotpatch is None:
            result.skipped.append(
                {
                    "os": os,
                    "month": month,
                    "reason": "the document lists no cumulative update or hotpatch of this month",
                }
            )
            continue
        taken = set()
        for listed in (read.lcu, read.hotpatch):
            if listed is None:
                continue
            taken.add(listed.kb)
            if len(listed.builds) > 1:
                result.warnings.append(
                    f"{document_name}: {listed.kb} has FixedBuild {', '.join(sorted(listed.builds))}: "
                    "build left unknown"
                )
            if listed.foreign_builds:
                result.warnings.append(
                    f"{document_name}: {listed.kb} FixedBuild {', '.join(sorted(listed.foreign_builds))} "
                    f"is not a Windows Server {os} build ({OS_BUILDS[os]}.x): ignored"
                )
            line = "hotpatch" if listed is read.hotpatch else "lcu"
            result.releases.append(_release(os, month, listed, line, read))
        next_ubr = _next_lcu_ubr(os, month, reads, catalog)
        for listed in sorted(read.listed.values(), key=lambda item: item.kb):
            if listed.kb in taken:
                continue
            known = catalog.by_kb(os, listed.kb)
            if known is not None and known.month != month:
                if listed.build and known.build and listed.build != known.build:
                    result.warnings.append(
                        f"{document_name}: {listed.kb} FixedBuild {listed.build} differs from the catalog's "
                        f"{known.build} ({known.month}): the catalog's is kept"
                    )
                continue
            entry = {
                "os": os,
                "month": month,
                "kb": listed.kb,
                "subtype": ", ".join(sorted(listed.subtypes)),
                "build": listed.build,
                "listed_by": listed.count,
            }
            lcu_ubr = read.lcu.ubr if read.lcu else None
            known_ubrs = None not in (listed.ubr, lcu_ubr, next_ubr)
            if listed.kind == "lcu" and known_ubrs and lcu_ubr < listed.ubr < next_ubr:
                note = (
                    f"out-of-band: listed in the MSRC document {document_name} with a build between the "
                    f"month's cumulative update ({read.lcu.build}) and the next month's "
                    f"({OS_BUILDS[os]}.{next_ubr}); its release date is not in the document"
                )
                result.releases.append(_release(os, month, listed, "lcu", read, oob=True, note=note))
                continue
            if known is not None:
                continue  # the catalog holds it for this month; the document does not tell more
            if listed.kind == "other":
                entry["reason"] = "its SubType is neither a cumulative update (Security Update) nor hotpatch"
            elif listed.kind == "hotpatch":
                entry["reason"] = (
                    f"listed by {listed.count} vulnerabilities, fewer than half of the "
                    f"{read.lcu.count if read.lcu else 0} of the month's cumulative update: a hotpatch of "
                    "another month"
                )
            elif listed.ubr is None:
                entry["reason"] = "no FixedBuild of this OS: its month cannot be told"
            elif lcu_ubr is not None and listed.ubr <= lcu_ubr:
                entry["reason"] = f"its build is not above the month's cumulative update ({read.lcu.build})"
            elif next_ubr is None:
                entry["reason"] = (
                    "the next month's cumulative update is unknown, so it cannot be told from an out-of-band "
                    "release of this month: import the next month too"
                )
            else:
                entry["reason"] = (
                    "its build is not below the next month's cumulative update: a later month's release"
                )
            result.not_imported.append(entry)
        if state != "active":
            result.skipped.append(
                {"os": os, "month": month, "reason": f"no cycle row: programme {state.replace('_', ' ')}"}
            )
            continue
        existing = catalog.cycles.get((os, month))
        if read.hotpatch is not None:
            cycle_type, unplanned, note = "hotpatch", False, None
        else:
            cycle_type = "baseline"
            unplanned = planned_type(int(month[5:])) == "hotpatch" or (
                existing is not None and existing.type == "hotpatch"
            )
            note = None
            if unplanned:
                note = (
                    f"the MSRC document {document_name} lists the cumulative update {read.lcu.kb} and no "
                    f"Security Hotpatch Update for Windows Server {os}: an unplanned baseline"
                )
        result.cycles.append(Cycle(os, month, cycle_type, unplanned, source_id(month), note, "user"))
    return result


# ---------------------------------------------------------------------------------------------- comparison
def _describe_row(item):
    if isinstance(item, Release):
        return f"{item.kb} of Windows Server {item.os} ({item.month})"
    return f"Windows Server {item.os} {item.month}"


def compare_row(item, catalog):
    """How an imported row stands against the catalog: status new, equal, different or replaces_planned."""
    if isinstance(item, Release):
        existing = catalog.by_kb(item.os, item.kb)
        compared = RELEASE_COMPARED
    else:
        existing = catalog.cycles.get((item.os, item.month))
        compared = CYCLE_COMPARED
    entry = {"kind": "release" if isinstance(item, Release) else "cycle", "row": _clean(item.row())}
    entry["what"] = _describe_row(item)
    if existing is None:
        if isinstance(item, Cycle) and (item.type, item.unplanned) == catalog.cycle_type(item.os, item.month):
            entry["status"] = "equal"  # the planned pattern already says so
        else:
            entry["status"] = "new"
        return entry
    fields = []
    for name in compared:
        imported = getattr(item, name)
        if imported is None and name in ("build", "released", "baseline"):
            continue  # the document does not say: not a disagreement
        if name == "baseline":
            current = catalog.is_baseline(existing)
            imported = bool(imported)
        else:
            current = getattr(existing, name)
        if current != imported:
            fields.append({"field": name, "catalog": current, "imported": imported})
    entry["catalog_origin"] = "shipped" if existing.origin == "shipped" else "file"
    entry["catalog_source"] = existing.source
    if not fields:
        entry["status"] = "equal"
    elif isinstance(item, Cycle) and catalog.cycle_release(item.os, item.month) is None:
        entry["status"] = "replaces_planned"
        entry["fields"] = fields
    else:
        entry["status"] = "different"
        entry["fields"] = fields
    return entry


# ---------------------------------------------------------------------------------------------- the file
def _clean(row):
    return {key: value for key, value in row.items() if value is not None and (key, value) != ("oob", False)}


class _Dumper(yaml.SafeDumper):
    """Quotes every string that looks like a month, a date or a number, as the shipped catalog does."""


def _represent_text(dumper, text):
    style = "'" if re.match(r"^[0-9][0-9.:T-]*$", text) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def _flow(row):
    return yaml.dump(row, Dumper=_Dumper, default_flow_style=True, sort_keys=False, width=1000).strip()


def render(items, sources):
    """The YAML text of an output catalog file: sources, then programmes, cycles and releases, sorted."""
    programmes = sorted(
        (item for item in items if not isinstance(item, (Release, Cycle))), key=lambda item: item.os
    )
    cycles = sorted(
        (item for item in items if isinstance(item, Cycle)), key=lambda item: (item.os, item.month)
    )
    releases = sorted(
        (item for item in items if isinstance(item, Release)),
        key=lambda item: (item.os, item.month, item.released or "", item.kb),
    )
    lines = [
        "---",
        "# Written by hotpatch.windows.catalog_update: release catalog rows read from Microsoft's security",
        "# update documents (MSRC CVRF), kept with any row added by hand. Use it as hotpatch_catalog; see",
        "# docs/calendar.md. Rows here replace the shipped rows with the same key (os and KB; os and month;",
        "# os for a programme).",
    ]
    listed = dict(sorted(sources.items()))
    lines.append(yaml.safe_dump({"sources": listed}, sort_keys=False, width=110).rstrip())
    for name, group in (("programmes", programmes), ("cycles", cycles), ("releases", releases)):
        if not group and name != "releases":
            continue
        lines.append(f"{name}:" + ("" if group else " []"))
        lines += [f"  - {_flow(_clean(item.row()))}" for item in group]
    return "\n".join(lines) + "\n"


def read_catalog_file(path):
    """(rows, sources, text) of an existing output file; ([], {}, None) when it does not exist."""
    path = Path(path)
    if not path.exists():
        return [], {}, None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HotpatchError(f"the catalog file {str(path)!r} cannot be read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise HotpatchError(
            f"the catalog file {str(path)!r} is not valid YAML ({exc}): fix or move it; it was left as it is"
        ) from None
    try:
        rows = read_rows(data, f"file {str(path)!r}")
    except HotpatchError as exc:
        raise HotpatchError(f"{exc}; the file was left as it is") from None
    sources = data.get("sources") if isinstance(data, dict) else None
    return rows, dict(sources) if isinstance(sources, dict) else {}, text


def write_atomic(path, text):
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with _os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            _os.fsync(stream.fileno())
        if path.exists():
            mode = stat.S_IMODE(path.stat().st_mode)
        else:
            umask = _os.umask(0)
            _os.umask(umask)
            mode = 0o666 & ~umask
        _os.chmod(temporary, mode)
        _os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            _os.unlink(temporary)
        raise


# ---------------------------------------------------------------------------------------------- loaders
def directory_loader(directory):
    """A loader reading '<dir>/2026-Jun.json' or '.xml' (any case) and the months it holds."""
    root = Path(directory).expanduser()
    if not root.is_dir():
        raise HotpatchError(f"the source directory {str(root)!r} does not exist or is not a directory")
    files = {}
    for path in root.iterdir():
        if path.is_file() and path.suffix.lower() in DOCUMENT_SUFFIXES:
            month = month_of_id(path.stem)
            if month is not None:
                files.setdefault(month, path)

    def load(month):
        path = files.get(month)
        if path is None:
            raise CvrfError(
                month, f"no file {cvrf_id(month)}.json or {cvrf_id(month)}.xml in the directory {str(root)!r}"
            )
        try:
            return path.read_bytes(), {"file": path.name}
        except OSError as exc:
            raise CvrfError(month, f"the file {str(path)!r} cannot be read: {exc.strerror}") from None

    return load, sorted(files)


# ---------------------------------------------------------------------------------------------- update
@dataclass
class Update:
    """What an update found and would write: ``result`` (the module's return values), the new file text."""

    result: dict
    text: str
    before: str | None

    @property
    def changed(self):
        return self.text != self.before


def _source_entry(document, origin, today):
    entry = {
        "title": f"MSRC security updates API v3.0, CVRF document {cvrf_id(document.month)}"
        + (f" ({document.title})" if document.title else ""),
        "url": origin.get("url") or MSRC_URL.format(month=cvrf_id(document.month)),
    }
    copy = [f"revision {document.revision}"] if document.revision else []
    if origin.get("file"):
        copy.append(f"read from the file {origin['file']}")
    if copy:
        entry["copy"] = ", ".join(copy)
    entry["retrieved"] = today.isoformat()
    entry["confidence"] = "primary"
    return entry


def update_catalog(months, load, dest, prefer="catalog", today=None, shipped=None, write=False):
    """Import the documents of ``months`` into the catalog file ``dest``; an Update (written when ``write``).

    ``load(month)`` returns ``(bytes, origin)`` (``origin``: ``{'url': ...}`` or ``{'file': ...}``) or raises
    CvrfError. Any error raises before anything is written: the file is left exactly as it was.
    """
    if prefer not in PREFER:
        raise HotpatchError(f"prefer must be one of {', '.join(PREFER)}, got {prefer!r}")
    today = today or datetime.date.today()
    dest = Path(dest).expanduser()
    file_items, file_sources, before = read_catalog_file(dest)
    shipped_items, shipped_sources, ga_builds = shipped or _shipped()
    catalog = Catalog([*shipped_items, *file_items], {**shipped_sources, **file_sources}, ga_builds)

    documents, reads, origins = [], {}, {}
    for month in months:
        data, origin = load(month)
        document = parse_document(data, month)
        found = evidence(document)
        if not any(found.get(os) for os in OS_BUILDS):
            listed = sorted({name for name in document.products.values() if os_of_product(name)})
            where = (
                f"its ProductTree has {', '.join(listed)} but no Vendor Fix lists them"
                if listed
                else "its ProductTree has no Windows Server 2025 or Windows Server 2022 product"
            )
            raise CvrfError(
                month,
                f"lists no update for Windows Server 2025 or 2022 ({where}): not released yet (an early "
                "document before Patch Tuesday?) or not a monthly security update document",
            )
        documents.append(document)
        origins[month] = origin
        for os in OS_BUILDS:
            if found.get(os):
                reads[(os, month)] = read_month(document, os, found[os], catalog)

    imported = import_rows(reads, catalog)
    changes = [compare_row(item, catalog) for item in [*imported.cycles, *imported.releases]]
    rows_by_key = {}
    for item, change in zip([*imported.cycles, *imported.releases], changes, strict=True):
        write_it = change["status"] in ("new", "replaces_planned") or (
            change["status"] == "different" and prefer == "import"
        )
        if change["status"] == "different":
            change["action"] = "written" if write_it else "kept the catalog's row"
            fields = ", ".join(entry["field"] for entry in change["fields"])
            change["reason"] = (
                f"the catalog's row ({change['catalog_origin']}, source {change['catalog_source']}) "
                f"disagrees with the MSRC document {cvrf_id(item.month)} on {fields}: "
                + (
                    "prefer=import takes the document's"
                    if write_it
                    else "the catalog's is kept (prefer=import takes the document's)"
                )
            )
        elif change["status"] == "replaces_planned":
            change["action"] = "written"
            change["reason"] = (
                f"the catalog only plans {item.month} (no release published for it); the MSRC document "
                f"{cvrf_id(item.month)} shows what the month is"
            )
        else:
            change["action"] = "written" if write_it else "none"
        if write_it:
            rows_by_key[_item_key(item)] = item

    # The file: its own rows, with the rows written now replacing theirs; rows the collection now ships
    # identically are dropped.
    shipped_rows = {_item_key(item): item.row() for item in shipped_items}
    kept, pruned = {}, []
    for item in file_items:
        key = _item_key(item)
        if key in rows_by_key:
            continue
        if shipped_rows.get(key) == item.row():
            pruned.append(_describe_row(item) if key[0] != "programme" else f"programme of {item.os}")
            continue
        kept[key] = item
    kept.update(rows_by_key)
    used = {item.source for item in kept.values()}
    sources = {
        name: value
        for name, value in file_sources.items()
        if name in used or not name.startswith("msrc-cvrf-")
    }
    for document in documents:
        name = source_id(document.month)
        if name in used and any(item.source == name for item in rows_by_key.values()):
            sources[name] = _source_entry(document, origins[document.month], today)
    text = render(list(kept.values()), sources)
    read_rows(yaml.safe_load(text), "the new catalog file")  # never write a file the collection cannot read

    result = {
        "dest": str(dest),
        "months": [document.month for document in documents],
        "documents": [
            {
                "month": document.month,
                "id": document.id,
                "title": document.title,
                "released": document.released,
                "revision": document.revision,
                **origins[document.month],
            }
            for document in documents
        ],
        "rows": [change["row"] for change in changes],
        "new": [change for change in changes if change["status"] == "new"],
        "different": [change for change in changes if change["status"] == "different"],
        "replaced_planned": [change for change in changes if change["status"] == "replaces_planned"],
        "equal": [change["what"] for change in changes if change["status"] == "equal"],
        "pruned": pruned,
        "not_imported": imported.not_imported,
        "skipped": imported.skipped,
        "warnings": imported.warnings,
    }
    update = Update(result, text, before)
    result["changed"] = update.changed
    result["msg"] = _summary(result, update.changed, write)
    if write and update.changed:
        write_atomic(dest, text)
    return update


def _item_key(item):
    if isinstance(item, Release):
        return ("release", item.os, item.kb)
    if isinstance(item, Cycle):
        return ("cycle", item.os, item.month)
    return ("programme", item.os)


def _summary(result, changed, write):
    months = result["months"]
    span = f"{months[0]}..{months[-1]}" if len(months) > 1 else (months[0] if months else "no month")
    parts = [
        f"{len(result['new'])} new",
        f"{len(result['replaced_planned'])} planned replaced",
        f"{len(result['different'])} different",
        f"{len(result['equal'])} equal",
    ]
    verb = "written to" if write else "would be written to"
    state = f"{verb} {result['dest']}" if changed else f"{result['dest']} unchanged"
    return f"imported {span}: {', '.join(parts)} rows; {state}"
