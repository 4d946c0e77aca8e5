"""Action plugin of hotpatch.windows.catalog_update: Microsoft's security update documents into a catalog.

Runs on the controller only. The documents come from the MSRC API (a URL template, fetched with Ansible's
``open_url``, which honours ``https_proxy`` / ``no_proxy``) or from a directory of documents saved elsewhere;
``plugin_utils/_cvrf.py`` reads them, compares the rows with the catalog and writes the file atomically.
"""

import datetime
from pathlib import Path
from urllib.error import HTTPError, URLError

from ansible.module_utils.urls import ConnectionError as UrlConnectionError
from ansible.module_utils.urls import SSLValidationError, open_url
from ansible.plugins.action import ActionBase

from ansible_collections.hotpatch.windows.plugins.plugin_utils._catalog import (
    Catalog,
    _shipped,
    cycle_month,
    month_text,
    to_date,
)
from ansible_collections.hotpatch.windows.plugins.plugin_utils._cvrf import (
    MSRC_URL,
    PREFER,
    CvrfError,
    check_month,
    cvrf_id,
    default_months,
    directory_loader,
    month_range,
    read_catalog_file,
    update_catalog,
)
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

ARGUMENT_SPEC = {
    "months": {"type": "dict", "options": {"from": {"type": "str"}, "to": {"type": "str"}}},
    "source": {"type": "str", "default": MSRC_URL},
    "dest": {"type": "path", "required": True},
    "prefer": {"type": "str", "default": "catalog", "choices": list(PREFER)},
    "date": {"type": "str"},
    "timeout": {"type": "int", "default": 60},
    "validate_certs": {"type": "bool", "default": True},
}
USER_AGENT = "hotpatch.windows catalog_update"
# The list results, empty when there is nothing to import.
EMPTY_LISTS = (
    "months",
    "documents",
    "rows",
    "new",
    "different",
    "replaced_planned",
    "equal",
    "pruned",
    "not_imported",
    "skipped",
)


def url_loader(template, timeout=60, validate_certs=True):
    """A loader fetching each month's document from ``template`` (``{month}`` becomes '2026-Jun')."""
    if "{month}" not in template:
        raise HotpatchError(f"the source URL {template!r} has no {{month}} for the document id (2026-Jun)")

    def load(month):
        url = template.format(month=cvrf_id(month))
        try:
            response = open_url(
                url,
                headers={"Accept": "application/json"},
                timeout=timeout,
                validate_certs=validate_certs,
                http_agent=USER_AGENT,
            )
            data = response.read()
        except HTTPError as exc:
            hint = ": not published yet, or a wrong source URL" if exc.code == 404 else ""
            raise CvrfError(month, f"HTTP {exc.code} {exc.reason} from {url}{hint}") from None
        except SSLValidationError as exc:
            raise CvrfError(month, f"the TLS certificate of {url} could not be validated: {exc}") from None
        except TimeoutError:
            raise CvrfError(month, f"no answer from {url} within {timeout} seconds") from None
        except (URLError, UrlConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise CvrfError(month, f"cannot fetch {url}: {reason}") from None
        return data, {"url": url}

    return load


def _today(value):
    if value in (None, ""):
        return datetime.datetime.now(datetime.UTC).date()
    return to_date(value)


def plan_months(args, dest, today):
    """(months, load, warnings) from the options: the range, and where the documents come from."""
    source = str(args["source"] or "").strip()
    asked = args.get("months") or {}
    first = check_month(asked["from"], "months.from") if asked.get("from") else None
    last = check_month(asked["to"], "months.to") if asked.get("to") else None
    if first is None or last is None:
        items, sources, ga_builds = _shipped()
        file_items = read_catalog_file(dest)[0]
        catalog = Catalog([*items, *file_items], sources, ga_builds)
        default_first, default_last = default_months(catalog, today)
        first, last = first or default_first, last or default_last
    if last < first:
        if asked.get("from") or asked.get("to"):
            raise HotpatchError(f"months.from {first} is after months.to {last}")
        return [], None, [f"nothing to import: the catalog is current (its newest month is before {first})"]
    warnings = []
    if source.startswith(("http://", "https://")):
        load = url_loader(source, args["timeout"], args["validate_certs"])
        return month_range(first, last), load, warnings
    directory = source.removeprefix("file://")
    load, available = directory_loader(directory)
    months = month_range(first, last)
    if not asked.get("from") and not asked.get("to"):
        # A directory and no range: every saved document from the month after the catalog's newest on.
        missing = [month for month in months if month not in available]
        months = [month for month in months if month in available]
        if not months:
            warnings.append(
                f"nothing imported: the directory {directory!r} holds no document for {first}..{last} (the "
                f"months after the catalog's newest; save them as {cvrf_id(first)}.json or "
                f"{cvrf_id(first)}.xml, or give months.from and months.to)"
            )
        elif missing:
            warnings.append(
                f"no document for {', '.join(missing)} in {directory!r}: those months were not imported"
            )
    return months, load, warnings


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        dest = Path(args["dest"]).expanduser()
        result.update(changed=False, dest=str(dest))
        try:
            today = _today(args["date"])
            months, load, warnings = plan_months(args, dest, today)
            if not months:
                result.update({key: [] for key in EMPTY_LISTS}, msg=warnings[-1], warnings=warnings)
                result["current_cycle"] = month_text(*cycle_month(today))
                return result
            update = update_catalog(
                months, load, dest, prefer=args["prefer"], today=today, write=not self._task.check_mode
            )
        except HotpatchError as exc:
            result.update(failed=True, msg=f"{exc} (the catalog file {str(dest)!r} was not changed)")
            return result
        result.update(update.result)
        result["current_cycle"] = month_text(*cycle_month(today))
        all_warnings = warnings + list(update.result["warnings"])
        if all_warnings:
            result["warnings"] = all_warnings
        if self._task.diff and update.changed:
            result["diff"] = {
                "before": update.before or "",
                "after": update.text,
                "before_header": str(dest),
                "after_header": str(dest),
            }
        return result
