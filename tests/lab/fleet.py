"""Fleet files: load, validate (clear errors naming the host and the key) and fill in Windows' defaults."""

import datetime
import re
from pathlib import Path

import yaml

from . import catalog

FLEET_KEYS = {"date", "hosts", "https", "credentials", "boot_seconds"}
HOST_KEYS = {
    "os",
    "platform",
    "image",
    "edition_id",
    "installation_type",
    "build",
    "architecture",
    "chpe",
    "vbs",
    "vmss_orchestration",
    "arc",
    "hotpatch_enrolled",
    "hotfixes",
    "reboot_pending",
    "updates",
    "vars",
    "timezone",
    "boot_seconds",
    "faults",
    "last_boot",
}
PLATFORMS = ("azure", "azure_local", "arc", "on_premises")
REBOOT_REASONS = ("cbs", "windows_update", "file_rename", "computer_rename")
SIMPLE_FAULTS = {
    "unreachable",
    "bad_credentials",
    "drop_mid_command",
    "no_return_after_reboot",
    "hotpatch_needs_reboot",
    "probe_garbage",
    "imds_timeout",
    "http_500",
}
SUPPORTED_IMAGES = {
    ("MicrosoftWindowsServer", "WindowsServer", sku)
    for sku in (
        "2022-Datacenter-Azure-Edition-Core",
        "2022-Datacenter-Azure-Edition-Core-smalldisk",
        "2022-Datacenter-Azure-Edition-Hotpatch",
        "2022-Datacenter-Azure-Edition-Hotpatch-smalldisk",
        "2025-Datacenter-Azure-Edition",
        "2025-Datacenter-Azure-Edition-smalldisk",
        "2025-Datacenter-Azure-Edition-Core",
        "2025-Datacenter-Azure-Edition-Core-smalldisk",
    )
}
DEFAULT_USER = "Administrator"
DEFAULT_PASSWORD = "Lab-Passw0rd!"


class FleetError(Exception):
    """A fleet file that cannot be simulated; the message names the host and what was wrong."""


def parse_time(value, where: str) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime(value.year, value.month, value.day)
    else:
        try:
            moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise FleetError(f"{where}: {value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)


def load_fleet(fleet) -> dict:
    """`fleet`: a path or a dict. Returns the normalised fleet {date, https, credentials, hosts}.

    A build must be a quoted string: YAML reads 26100.32230 unquoted as a number, losing the trailing 0."""
    if isinstance(fleet, str | Path):
        try:
            data = yaml.safe_load(Path(fleet).read_text())
        except OSError as exc:
            raise FleetError(f"cannot read fleet file {fleet}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise FleetError(f"fleet file {fleet} is not valid YAML: {exc}") from None
    else:
        data = fleet
    if not isinstance(data, dict):
        raise FleetError("a fleet must be a mapping with keys 'date' and 'hosts'")
    unknown = set(data) - FLEET_KEYS
    if unknown:
        raise FleetError(f"fleet: unknown keys {sorted(unknown)}; allowed: {sorted(FLEET_KEYS)}")
    if "date" not in data:
        raise FleetError("fleet: 'date' is required (lab clock at start, e.g. '2026-02-12T02:00:00Z')")
    date = parse_time(data["date"], "fleet date")
    hosts = data.get("hosts")
    if not isinstance(hosts, dict) or not hosts:
        raise FleetError("fleet: 'hosts' must be a non-empty mapping of host name to host description")
    creds = data.get("credentials") or {}
    if not isinstance(creds, dict) or set(creds) - {"user", "password"}:
        raise FleetError("fleet: 'credentials' must be a mapping with 'user' and/or 'password'")
    default_boot = data.get("boot_seconds", 3)
    normalised = {}
    for name, spec in hosts.items():
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", str(name)):
            raise FleetError(f"host {name!r}: invalid host name")
        normalised[str(name)] = normalise_host(str(name), spec or {}, date, default_boot)
    return {
        "date": date,
        "https": bool(data.get("https", False)),
        "credentials": {
            "user": str(creds.get("user", DEFAULT_USER)),
            "password": str(creds.get("password", DEFAULT_PASSWORD)),
        },
        "hosts": normalised,
    }


def _choice(name, spec, key, choices, default):
    value = spec.get(key, default)
    if value not in choices:
        raise FleetError(f"host {name}: {key} {value!r} is not one of {list(choices)}")
    return value


def _parse_faults(name: str, faults) -> dict:
    if not isinstance(faults, list):
        raise FleetError(f"host {name}: faults must be a list")
    parsed = {}
    for fault in faults:
        text = str(fault)
        if text.startswith("slow:"):
            try:
                parsed["slow"] = float(text.split(":", 1)[1])
            except ValueError:
                raise FleetError(f"host {name}: fault {text!r}: slow needs seconds, e.g. slow:5") from None
        elif text in SIMPLE_FAULTS:
            parsed[text] = True
        else:
            raise FleetError(
                f"host {name}: unknown fault {text!r}; known: {sorted(SIMPLE_FAULTS)} and slow:SECONDS"
            )
    return parsed


def default_edition(os_name, platform, image, installation_type) -> str:
    sku = (image or {}).get("sku", "")
    if platform in ("azure", "azure_local") and "Azure-Edition" in sku:
        return "ServerTurbineCor" if installation_type == "Server Core" else "ServerTurbine"
    return "ServerDatacenter"


def hotpatch_capable(host: dict) -> bool:
    """Microsoft's rules (hotpatch-facts.md): can Windows Update keep this host on the hotpatch line?"""
    if host["os"] not in ("2022", "2025") or host["vbs"] != "running":
        return False
    if host["architecture"] == "ARM64" and host["chpe"]:
        return False
    edition = host["edition_id"]
    if host["platform"] in ("azure", "azure_local"):
        image = host["image"] or {}
        key = (image.get("publisher"), image.get("offer"), image.get("sku"))
        if key not in SUPPORTED_IMAGES or not image.get("sku", "").startswith(host["os"]):
            return False
        if host["platform"] == "azure" and host["vmss_orchestration"] == "Uniform":
            return False
        return edition in ("ServerTurbine", "ServerTurbineCor")
    if host["platform"] == "arc":
        arc = host["arc"]
        return (
            host["os"] == "2025"
            and edition.startswith(("ServerDatacenter", "ServerStandard", "ServerTurbine"))
            and host["ubr"] >= 1742
            and arc["agent"] == "running"
            and arc["hotpatch_license"] == "enabled"
        )
    return False


def normalise_host(name: str, spec: dict, date: datetime.datetime, default_boot) -> dict:
    if not isinstance(spec, dict):
        raise FleetError(f"host {name}: must be a mapping")
    unknown = set(spec) - HOST_KEYS
    if unknown:
        raise FleetError(f"host {name}: unknown keys {sorted(unknown)}; allowed: {sorted(HOST_KEYS)}")
    host = {"name": name}
    host["os"] = _choice(
        name,
        {k: str(v) for k, v in spec.items() if k == "os"},
        "os",
        ("2016", "2019", "2022", "2025"),
        "2025",
    )
    host["platform"] = _choice(name, spec, "platform", PLATFORMS, "azure")
    image = spec.get("image")
    if image is None and host["platform"] in ("azure", "azure_local"):
        image = {
            "publisher": "MicrosoftWindowsServer",
            "offer": "WindowsServer",
            "sku": f"{host['os']}-Datacenter"
            + ("-Azure-Edition-Core" if host["os"] in ("2022", "2025") else ""),
        }
    if image is not None:
        if not isinstance(image, dict) or set(image) - {"publisher", "offer", "sku", "id", "version"}:
            raise FleetError(
                f"host {name}: image must be a mapping of publisher, offer, sku (or id for a custom image)"
            )
        image = {k: str(v) for k, v in image.items()}
    host["image"] = image
    default_install = "Server Core" if "Core" in (image or {}).get("sku", "Core") else "Server"
    host["installation_type"] = _choice(
        name, spec, "installation_type", ("Server", "Server Core"), default_install
    )
    host["edition_id"] = str(
        spec.get("edition_id")
        or default_edition(host["os"], host["platform"], image, host["installation_type"])
    )
    host["architecture"] = _choice(name, spec, "architecture", ("AMD64", "ARM64"), "AMD64")
    host["chpe"] = bool(spec.get("chpe", False))
    host["vbs"] = _choice(name, spec, "vbs", ("running", "enabled", "off"), "running")
    host["vmss_orchestration"] = _choice(
        name, spec, "vmss_orchestration", ("Uniform", "Flexible", None), None
    )
    arc = spec.get("arc") or {}
    if not isinstance(arc, dict) or set(arc) - {"agent", "hotpatch_license"}:
        raise FleetError(f"host {name}: arc must be a mapping with agent and hotpatch_license")
    default_agent = "running" if host["platform"] in ("arc", "azure_local") else "absent"
    host["arc"] = {
        "agent": _choice(
            name,
            {"arc.agent": arc.get("agent", default_agent)},
            "arc.agent",
            ("running", "stopped", "absent"),
            default_agent,
        ),
        "hotpatch_license": _choice(
            name,
            {"arc.hotpatch_license": arc.get("hotpatch_license", "disabled")},
            "arc.hotpatch_license",
            ("enabled", "disabled"),
            "disabled",
        ),
    }
    host["timezone"] = str(spec.get("timezone", "UTC"))
    host["boot_seconds"] = float(spec.get("boot_seconds", default_boot))
    host["faults"] = _parse_faults(name, spec.get("faults") or [])
    host["vars"] = spec.get("vars") or {}
    if not isinstance(host["vars"], dict):
        raise FleetError(f"host {name}: vars must be a mapping")
    pending = spec.get("reboot_pending") or []
    if not isinstance(pending, list) or set(pending) - set(REBOOT_REASONS):
        raise FleetError(f"host {name}: reboot_pending must be a list of {list(REBOOT_REASONS)}")
    host["reboot_pending"] = sorted(set(pending))
    hotfixes = spec.get("hotfixes") or []
    if not isinstance(hotfixes, list) or not all(re.fullmatch(r"KB\d+", str(kb)) for kb in hotfixes):
        raise FleetError(f"host {name}: hotfixes must be a list of KB ids like KB5073379")
    host["hotfixes"] = [str(kb) for kb in hotfixes]
    host["updates"] = _parse_updates(name, spec.get("updates") or [])
    # the build: given, or the release before the date's cycle on the line this host would be on
    major = catalog.MAJOR[host["os"]]
    if "build" in spec:
        if isinstance(spec["build"], float):
            raise FleetError(f"host {name}: build {spec['build']!r} must be quoted, e.g. '{major}.32230'")
        match = re.fullmatch(r"(\d+)\.(\d+)", str(spec["build"]))
        if not match or int(match.group(1)) != major:
            raise FleetError(
                f"host {name}: build {spec['build']!r} must look like '{major}.NNNN' for os {host['os']}"
            )
        host["ubr"] = int(match.group(2))
    else:
        host["ubr"] = 10**9  # provisional: eligibility below only needs "new enough"
    capable = hotpatch_capable(host)
    enrolled = spec.get("hotpatch_enrolled", capable)
    if not isinstance(enrolled, bool):
        raise FleetError(f"host {name}: hotpatch_enrolled must be true or false")
    host["hotpatch_enrolled"] = enrolled
    if "build" not in spec:
        previous = catalog.release(host["os"], catalog.add_months(catalog.cycle_month(date), -1))
        on_line = capable and enrolled and previous["hotpatch"] is not None
        host["ubr"] = previous["hotpatch"]["ubr"] if on_line else previous["lcu"]["ubr"]
    if "last_boot" in spec:
        host["last_boot"] = parse_time(spec["last_boot"], f"host {name}: last_boot")
    else:
        host["last_boot"] = date - datetime.timedelta(days=3, minutes=len(name))
    return host


def _parse_updates(name: str, updates) -> list:
    if not isinstance(updates, list):
        raise FleetError(f"host {name}: updates must be a list")
    parsed = []
    for item in updates:
        if not isinstance(item, dict) or not re.fullmatch(r"KB\d+", str(item.get("kb", ""))):
            raise FleetError(f"host {name}: each update needs kb: KBnnnnnnn (got {item!r})")
        unknown = set(item) - {"kb", "title", "classification", "reboot"}
        if unknown:
            raise FleetError(f"host {name}: update {item['kb']}: unknown keys {sorted(unknown)}")
        parsed.append(
            {
                "kb": str(item["kb"]),
                "title": str(item.get("title") or f"Update for Windows Server ({item['kb']})"),
                "classification": str(item.get("classification", "Updates")),
                "reboot": bool(item.get("reboot", True)),
            }
        )
    return parsed
