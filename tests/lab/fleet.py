"""Fleet files: load, validate (clear errors naming the host and the key) and fill in Windows' defaults."""

import datetime
import re
from pathlib import Path

import yaml

from . import catalog

FLEET_KEYS = {
    "date",
    "hosts",
    "https",
    "credentials",
    "boot_seconds",
    "windows_update",
    "timing",
    "azure_resource_manager",
}
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
    "security_agent",
    "pending_rename",
    "lose_enrolment_after",
    "drivers",
    "dotnet",
    "hotpatch_title",
    "uefi",
    "secure_boot",
    "azure_vm_agent",
    "enrolment_signals",
    "windows_update_policy",
    "wsus_approved",
}
# The Windows Update policy values (HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate and its AU key)
WU_POLICY_KEYS = {
    "wu_server": str,
    "use_wu_server": int,
    "no_auto_update": int,
    "au_options": int,
    "scheduled_install_day": int,
    "scheduled_install_time": int,
}
ARC_KEYS = {"agent", "hotpatch_license", "hotpatch_license_expires", "status", "resource"}
ARC_RESOURCE_KEYS = {"subscription_id", "resource_group", "name", "location"}
# The subscription the lab's Arc machines are connected to (azcmagent show, the fake Resource Manager)
LAB_SUBSCRIPTION = "00000000-0000-0000-0000-00000000a11b"
LAB_TENANT = "00000000-0000-0000-0000-00000000c0de"
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
    "imds_timeout_once",
    "imds_throttled_once",
    "wmi_timeout",
    "wmi_timeout_once",
}
# Azure matches publisher, offer and SKU without regard to case (an image reference keeps its typed case)
SUPPORTED_IMAGES = {
    ("microsoftwindowsserver", "windowsserver", sku.lower())
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
    timing = parse_timing(data.get("timing"))
    default_boot = data.get("boot_seconds")
    if default_boot is None:
        default_boot = 3 if timing is None else timing["boot"] * timing["scale"]
    windows_update = parse_windows_update(data.get("windows_update"))
    arm = parse_resource_manager(data.get("azure_resource_manager"))
    try:
        table = catalog.Catalog(windows_update["releases"] if windows_update else None)
        table.known_rows("2025")  # validates the fleet's release rows now
    except ValueError as exc:
        raise FleetError(f"fleet: {exc}") from None
    normalised = {}
    for name, spec in hosts.items():
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", str(name)):
            raise FleetError(f"host {name!r}: invalid host name")
        host = normalise_host(str(name), spec or {}, date, default_boot, table, windows_update)
        host["timing"] = timing
        normalised[str(name)] = host
    return {
        "date": date,
        "https": bool(data.get("https", False)),
        "credentials": {
            "user": str(creds.get("user", DEFAULT_USER)),
            "password": str(creds.get("password", DEFAULT_PASSWORD)),
        },
        "hosts": normalised,
        "windows_update": windows_update,
        "timing": timing,
        "catalog": table,
        "azure_resource_manager": arm,
    }


def parse_resource_manager(raw):
    """None (no fake Azure Resource Manager) or {token, enable_seconds}: the lab serves the Arc machines'
    license profiles on loopback (Microsoft.HybridCompute machines/licenseProfiles, REST API 2024-07-10)."""
    if raw is None:
        return None
    if raw is True:
        raw = {}
    if not isinstance(raw, dict) or set(raw) - {"token", "enable_seconds"}:
        raise FleetError(
            "fleet: azure_resource_manager must be true or a mapping with token and enable_seconds"
        )
    token = str(raw.get("token", "lab-arm-token"))
    if not token or any(char.isspace() for char in token):
        raise FleetError("fleet: azure_resource_manager.token must be a non-empty word")
    seconds = _seconds(raw.get("enable_seconds", 0), "azure_resource_manager.enable_seconds")
    return {"token": token, "enable_seconds": seconds}


# The timing model (lab seconds). Each default is a public figure where one was found, else an assumption
# (docs/lab.md, "Time", lists which is which). `scale` is real seconds per lab second: 0.01 runs the lab a
# hundred times faster than a real fleet.
TIMING_DEFAULTS = {
    "scale": 1.0,
    "powershell": 1.0,  # starting powershell.exe for one command over WinRM
    "search": 60.0,  # a Windows Update search (IUpdateSearcher.Search 'IsInstalled = 0')
    "download": {"hotpatch": 60.0, "lcu": 300.0, "dotnet": 60.0, "definitions": 10.0, "other": 30.0},
    "install": {"hotpatch": 120.0, "lcu": 900.0, "dotnet": 300.0, "definitions": 20.0, "other": 60.0},
    "shutdown": 60.0,  # from the restart order to the host dropping off the network
    "boot": 180.0,  # from power-on to WinRM answering again
    "driver_outage": 30.0,  # the network adapter resets while a driver installs
}


def parse_timing(raw):
    """None (no `timing` block: commands answer at once, as in the first lab version) or the model."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise FleetError("fleet: timing must be a mapping (e.g. {scale: 0.01})")
    unknown = set(raw) - set(TIMING_DEFAULTS)
    if unknown:
        raise FleetError(f"fleet: timing: unknown keys {sorted(unknown)}; allowed: {sorted(TIMING_DEFAULTS)}")
    timing = {}
    for key, default in TIMING_DEFAULTS.items():
        value = raw.get(key, default)
        if isinstance(default, dict):
            if not isinstance(value, dict) or set(value) - set(default):
                raise FleetError(f"fleet: timing.{key} must be a mapping of {sorted(default)} to seconds")
            merged = dict(default)
            for kind, seconds in value.items():
                merged[kind] = _seconds(seconds, f"timing.{key}.{kind}")
            timing[key] = merged
        else:
            timing[key] = _seconds(value, f"timing.{key}")
    if timing["scale"] <= 0:
        raise FleetError("fleet: timing.scale must be above 0 (real seconds per lab second)")
    return timing


def _seconds(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FleetError(f"fleet: {where} must be a number of seconds >= 0, got {value!r}")
    return float(value)


WINDOWS_UPDATE_KEYS = {"defender", "defender_every_hours", "msrt", "dotnet", "preview", "titles", "releases"}


def parse_windows_update(raw):
    """None (no `windows_update` block: the first lab version's offers) or the realistic model's settings."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise FleetError("fleet: windows_update must be a mapping (an empty one {} turns the model on)")
    unknown = set(raw) - WINDOWS_UPDATE_KEYS
    if unknown:
        raise FleetError(
            f"fleet: windows_update: unknown keys {sorted(unknown)}; allowed: {sorted(WINDOWS_UPDATE_KEYS)}"
        )
    dotnet = raw.get("dotnet", True)
    if dotnet is True:
        dotnet = {"months": [1, 4, 7, 10]}
    elif dotnet is False:
        dotnet = {"months": []}
    if not isinstance(dotnet, dict) or set(dotnet) - {"months", "extra"}:
        raise FleetError(
            "fleet: windows_update.dotnet must be true, false or {months: [1, 4, 7, 10], extra: [...]}"
        )
    months = dotnet.get("months", [1, 4, 7, 10])
    extra = dotnet.get("extra", [])
    if not all(isinstance(m, int) and 1 <= m <= 12 for m in months) or not all(
        re.fullmatch(r"\d{4}-\d{2}", str(m)) for m in extra
    ):
        raise FleetError("fleet: windows_update.dotnet.months are month numbers, extra are 'YYYY-MM' months")
    titles = raw.get("titles", "realistic")
    if titles not in ("realistic", "catalog"):
        raise FleetError(f"fleet: windows_update.titles {titles!r} is not realistic or catalog")
    releases = raw.get("releases") or []
    if not isinstance(releases, list) or not all(isinstance(r, dict) for r in releases):
        raise FleetError("fleet: windows_update.releases must be a list of release rows")
    every = raw.get("defender_every_hours", 24)
    if isinstance(every, bool) or not isinstance(every, int | float) or every <= 0:
        raise FleetError("fleet: windows_update.defender_every_hours must be a number of hours above 0")
    return {
        "defender": bool(raw.get("defender", True)),
        "defender_every_hours": float(every),
        "msrt": bool(raw.get("msrt", True)),
        "dotnet": {"months": sorted(set(months)), "extra": sorted({str(m) for m in extra})},
        "preview": bool(raw.get("preview", True)),
        "titles": titles,
        "releases": releases,
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
    sku = (image or {}).get("sku", "").lower()
    if platform in ("azure", "azure_local") and "azure-edition" in sku:
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
        key = tuple(str(image.get(part, "")).lower() for part in ("publisher", "offer", "sku"))
        if key not in SUPPORTED_IMAGES or not key[2].startswith(host["os"]):
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


def normalise_host(
    name: str, spec: dict, date: datetime.datetime, default_boot, table=None, windows_update=None
) -> dict:
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
    default_install = "Server Core" if "core" in (image or {}).get("sku", "Core").lower() else "Server"
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
    table = table or catalog.default_catalog()
    arc = spec.get("arc") or {}
    if not isinstance(arc, dict) or set(arc) - ARC_KEYS:
        raise FleetError(f"host {name}: arc must be a mapping with keys among {sorted(ARC_KEYS)}")
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
        "hotpatch_license_expires": (
            parse_time(arc["hotpatch_license_expires"], f"host {name}: arc.hotpatch_license_expires")
            if arc.get("hotpatch_license_expires")
            else None
        ),
    }
    agent_state = host["arc"]["agent"]
    host["arc"]["status"] = _choice(
        name,
        {"arc.status": arc.get("status", {"running": "Connected"}.get(agent_state, "Disconnected"))},
        "arc.status",
        ("Connected", "Disconnected", "Expired"),
        "Connected",
    )
    resource = arc.get("resource") or {}
    if not isinstance(resource, dict) or set(resource) - ARC_RESOURCE_KEYS:
        raise FleetError(f"host {name}: arc.resource must be a mapping of {sorted(ARC_RESOURCE_KEYS)}")
    host["arc"]["resource"] = {
        "subscription_id": str(resource.get("subscription_id", LAB_SUBSCRIPTION)),
        "resource_group": str(resource.get("resource_group", "rg-lab-arc")),
        "name": str(resource.get("name", name)),
        "location": str(resource.get("location", "westeurope")),
    }
    host["uefi"] = bool(spec.get("uefi", True))
    secure = spec.get("secure_boot", host["uefi"])
    if not isinstance(secure, bool):
        raise FleetError(f"host {name}: secure_boot must be true or false")
    if secure and not host["uefi"]:
        raise FleetError(f"host {name}: secure_boot needs uefi (BIOS firmware has no Secure Boot)")
    host["secure_boot"] = secure
    if host["vbs"] == "running" and not secure:
        raise FleetError(
            f"host {name}: vbs running needs UEFI with Secure Boot (Microsoft: at bare minimum); set vbs to "
            "enabled (configured, not running) or off"
        )
    default_vm_agent = "running" if host["platform"] == "azure" else "absent"
    host["azure_vm_agent"] = _choice(
        name, spec, "azure_vm_agent", ("running", "stopped", "absent"), default_vm_agent
    )
    host["enrolment_signals"] = _choice(
        name, spec, "enrolment_signals", ("auto", "present", "absent"), "auto"
    )
    policy = spec.get("windows_update_policy") or {}
    if not isinstance(policy, dict) or set(policy) - set(WU_POLICY_KEYS):
        raise FleetError(f"host {name}: windows_update_policy must be a mapping of {sorted(WU_POLICY_KEYS)}")
    for key, value in policy.items():
        kind = WU_POLICY_KEYS[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
            raise FleetError(f"host {name}: windows_update_policy.{key} must be a {kind.__name__}")
    host["windows_update_policy"] = {key: policy.get(key) for key in WU_POLICY_KEYS}
    approved = spec.get("wsus_approved", "all")
    if approved != "all" and (
        not isinstance(approved, list) or not all(re.fullmatch(r"KB\d+", str(kb)) for kb in approved)
    ):
        raise FleetError(f"host {name}: wsus_approved must be 'all' or a list of KB ids")
    host["wsus_approved"] = approved if approved == "all" else [str(kb) for kb in approved]
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
    host["windows_update"] = windows_update
    host["catalog"] = table
    host["security_agent"] = bool(spec.get("security_agent", False))
    rename = spec.get("pending_rename")
    if rename is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,15}", str(rename)):
        raise FleetError(
            f"host {name}: pending_rename must be a computer name (letters, digits, -; 15 at most)"
        )
    host["pending_rename"] = str(rename).upper() if rename else None
    if host["pending_rename"] and "computer_rename" not in host["reboot_pending"]:
        host["reboot_pending"] = sorted({*host["reboot_pending"], "computer_rename"})
    lose = spec.get("lose_enrolment_after") or []
    if isinstance(lose, str):
        lose = [lose]
    if not isinstance(lose, list) or not all(re.fullmatch(r"KB\d+", str(kb)) for kb in lose):
        raise FleetError(f"host {name}: lose_enrolment_after must be a KB id or a list of them")
    host["lose_enrolment_after"] = [str(kb).upper() for kb in lose]
    host["drivers"] = _parse_drivers(name, spec.get("drivers") or [])
    host["dotnet"] = bool(spec.get("dotnet", True))
    form = spec.get("hotpatch_title")
    if form is not None and form not in ("msrc", "simplified", "hotpatch"):
        raise FleetError(f"host {name}: hotpatch_title {form!r} is not one of msrc, simplified, hotpatch")
    host["hotpatch_title"] = form
    # the build: given, or the release before the date's cycle on the line this host would be on
    major = catalog.MAJOR[host["os"]]
    latest = spec.get("build") == "latest"
    if "build" in spec and not latest:
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
    # not pinned by the fleet: enrolment follows Microsoft's rules as the host changes (VBS turned on,
    # CHPE turned off, the Arc licence enabled)
    host["hotpatch_enrolled_pinned"] = "hotpatch_enrolled" in spec
    if latest:
        # already has what Windows Update offers it now: the date's cycle, on the line this host is on
        month = catalog.cycle_month(date)
        kind = table.month_type(host["os"], month)
        if kind == "hotpatch" and not (capable and enrolled):
            kind = "lcu"
        row = table.monthly(host["os"], month, kind)
        host["ubr"] = row["build"]
        if row["kb"] not in host["hotfixes"]:
            host["hotfixes"].append(row["kb"])
    elif "build" not in spec:
        previous = table.release(host["os"], catalog.add_months(catalog.cycle_month(date), -1))
        on_line = capable and enrolled and previous["hotpatch"] is not None
        host["ubr"] = previous["hotpatch"]["ubr"] if on_line else previous["lcu"]["ubr"]
    if "last_boot" in spec:
        host["last_boot"] = parse_time(spec["last_boot"], f"host {name}: last_boot")
    else:
        host["last_boot"] = date - datetime.timedelta(days=3, minutes=len(name))
    return host


def _parse_drivers(name: str, drivers) -> list:
    """Driver updates Windows Update offers this host (classification Drivers)."""
    if not isinstance(drivers, list):
        raise FleetError(f"host {name}: drivers must be a list")
    parsed = []
    for index, item in enumerate(drivers):
        if not isinstance(item, dict) or not item.get("title"):
            raise FleetError(
                f"host {name}: drivers[{index}] needs a title, e.g. 'VMware, Inc. - Net - 1.9.2.0'"
            )
        unknown = set(item) - {"title", "kb", "reboot", "outage_seconds", "released"}
        if unknown:
            raise FleetError(f"host {name}: drivers[{index}]: unknown keys {sorted(unknown)}")
        kb = str(item.get("kb", ""))
        if kb and not re.fullmatch(r"KB\d+", kb):
            raise FleetError(f"host {name}: drivers[{index}]: kb {kb!r} must look like KB5000000")
        outage = item.get("outage_seconds")
        if outage is not None and (
            isinstance(outage, bool) or not isinstance(outage, int | float) or outage < 0
        ):
            raise FleetError(f"host {name}: drivers[{index}]: outage_seconds must be a number >= 0")
        parsed.append(
            {
                "title": str(item["title"]),
                "kb": kb,
                "reboot": bool(item.get("reboot", False)),
                "outage_seconds": None if outage is None else float(outage),
                "released": parse_time(item["released"], f"host {name}: drivers[{index}].released")
                if item.get("released")
                else None,
            }
        )
    return parsed


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
