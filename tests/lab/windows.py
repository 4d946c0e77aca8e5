"""One simulated Windows Server: its state, Windows Update's offer, installs, uninstalls and restarts.

What Windows Update offers is computed from the host's state (build, installed KBs, the line it is on, VBS,
enrolment, Arc licence) and the lab clock, from the lab's release table (catalog.py). A fleet without a
`windows_update` block gets the first lab version's offers (the month's hotpatch or cumulative update and its
hand-listed `updates`, titles in the old form); with the block, the realistic model adds out-of-band releases,
Defender definitions, the MSRT, .NET cumulative updates, optional previews and drivers, real title forms,
servicing packages (DISM) and the CBS restart flag.
"""

import datetime
import time
import uuid

from . import catalog, titles
from .fleet import LAB_TENANT, hotpatch_capable

UPDATE_NS = uuid.UUID("6f1d3a52-8c1e-4d55-9d0b-2b1b6a3d7e10")
EPOCH_1601 = datetime.datetime(1601, 1, 1, tzinfo=datetime.UTC)
DEFENDER_EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
NEVER_REBOOTS, ALWAYS_REQUIRES, CAN_REQUEST = 0, 1, 2
HOTPATCH_KINDS = ("hotpatch", "oob_hotpatch")
MONTHLY_KINDS = ("baseline", "hotpatch", "lcu")
PUBLIC_KEY_TOKEN = "31bf3856ad364e35"
DEFENDER_DESCRIPTION = (
    "Install this update to revise the files that are used to detect viruses, spyware, and other potentially "
    "unwanted software. Once you have installed this item, it cannot be removed."
)


class LabClock:
    """Lab time: the fleet's date at start, then forward at 1/scale the speed of real time (real seconds
    per lab second), plus whatever `advance_to` added."""

    def __init__(self, start: datetime.datetime, started_at: float, scale: float = 1.0, offset: float = 0.0):
        self.start = start
        self.started_at = started_at
        self.scale = scale
        self.offset = offset

    def now(self) -> datetime.datetime:
        return self.start + datetime.timedelta(
            seconds=(time.time() - self.started_at) / self.scale + self.offset
        )

    def advance_to(self, moment: datetime.datetime) -> float:
        """Moves the clock forward to `moment` (never back); returns the lab seconds skipped."""
        delta = (moment - self.now()).total_seconds()
        if delta < 0:
            raise ValueError(f"the lab clock is already at {iso(self.now())}, after {iso(moment)}")
        self.offset += delta
        return delta

    def real(self, lab_seconds: float) -> float:
        """Real seconds that `lab_seconds` of lab time take."""
        return lab_seconds * self.scale


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def filetime(moment: datetime.datetime) -> int:
    delta = moment - EPOCH_1601
    return (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def _day(moment) -> datetime.date:
    return moment.date() if isinstance(moment, datetime.datetime) else moment


class SimHost:
    def __init__(self, spec: dict, clock: LabClock, record):
        self.spec = spec
        self.name = spec["name"]
        self.clock = clock
        self.record = record  # record(host, event, **fields): appends to the ledger
        self.os = spec["os"]
        self.catalog = spec.get("catalog") or catalog.default_catalog()
        self.wu = spec.get("windows_update")
        self.realistic = self.wu is not None
        self.style = self.wu["titles"] if self.realistic else "catalog"
        self.timing = spec.get("timing")
        self.ubr = spec["ubr"]
        self.staged_ubr = None  # build applied by the next restart
        self.hotfixes = list(spec["hotfixes"])  # what Win32_QuickFixEngineering lists
        self.reboot_pending = set(spec["reboot_pending"])
        if spec.get("security_agent"):
            self.reboot_pending.add("file_rename")
        self.last_boot = spec["last_boot"]
        self.history = []  # [(kb, build before, line before)] of OS releases installed in the lab
        self.installed_extra = set()
        self.faults = spec["faults"]
        self.faults_used = set()
        self.group = spec["vars"].get("hotpatch_availability_group")
        self.logon_ready = True
        self.update_tasks = {}
        self.async_files = {}  # lower-case path -> the async results file's record (survives restarts)
        self.async_jobs = []  # async module processes (modules.AsyncJob): a restart kills them
        self._enrolled = spec["hotpatch_enrolled"]
        self.enrolled_pinned = spec.get("hotpatch_enrolled_pinned", True)
        self.enrolment_lost = False
        # Registry values the probe reads and the enable role writes: DeviceGuard's VBS configuration and
        # Memory Management's HotPatchRestrictions (what the next boot applies); other values written by
        # win_regedit go to `registry`
        self.vbs_config = 1 if spec["vbs"] in ("enabled", "running") else None
        self.platform_security_features = 1 if spec["vbs"] in ("enabled", "running") else None
        arm64 = spec["architecture"] == "ARM64"
        self.hotpatch_restrictions_reg = 1 if arm64 and not spec["chpe"] else None
        self.registry = {}
        self.pending_boot = {}  # what -> the change that takes effect at the next boot
        # The Arc machine's license profile (the fake Azure Resource Manager): None = not created (HTTP 404)
        self.licence_profile = None
        if spec["arc"].get("hotpatch_license") == "enabled":
            self.licence_profile = {"Hotpatch": {"status": "Enabled", "since": clock.now()}}
        self.licence_enable_seconds = 0.0
        self.defender_index = None  # the Defender definition index installed in the lab
        self.msrt_month = None
        self.dotnet_installed = set()  # months
        self.drivers_installed = set()
        self.previews_installed = set()
        self.packages = []  # servicing packages DISM lists (realistic model)
        self.pending_uninstall = None  # (kb, build after restart, line after restart)
        self.schedule = lambda delay, callback: callback()  # replaced by the server: runs after real seconds
        self.outage = lambda seconds: None  # replaced by the server: drops WinRM for real seconds
        self.restart_hook = None  # replaced by the server: begins a restart after real seconds
        self._init_line()
        if self.realistic:
            self._init_noise()

    def _init_noise(self):
        """A host starts as patched as its build says: last month's MSRT and .NET update, the definitions of a
        day ago."""
        now = self.clock.now()
        month = catalog.cycle_month(now)
        self.msrt_month = catalog.add_months(month, -1)
        previous = self.dotnet_due(catalog.add_months(month, -1)) if self.spec.get("dotnet", True) else None
        if previous:
            self.dotnet_installed.add(previous)
            self._qfe_add(f"KB9{catalog.OS_DIGIT[self.os]}4{previous[2:4]}{previous[5:7]}")
            self.packages.append(self._dotnet_package(previous, "Installed"))
        if self.wu["defender"]:
            self.defender_index = self.defender_latest(now)[0] - 1

    # ---------------------------------------------------------------- the host's release line
    def _init_line(self):
        """Where the fleet's build puts the host: which release it runs, and whether that keeps it on the
        hotpatch line (Microsoft documents the line by installed KB, not by build: 26100.6905 is both)."""
        self.line_ok = False
        self.line_baseline = None
        self.current_row = None
        around = catalog.cycle_month(self.clock.now())
        rows = self.catalog.find(self.os, build=self.ubr, around=around)
        if not rows:
            return
        listed = [r for r in rows if r["kb"] in self.hotfixes]
        wanted = "hotpatch" if self.enrolled and hotpatch_capable(self._state()) else "lcu"
        ordered = sorted(rows, key=lambda r: (r["line_after"] != wanted, r["kind"] != "baseline"))
        row = (listed or ordered)[0]
        self.current_row = row
        if row["line_after"] == "hotpatch" and self.os in catalog.HOTPATCH_OSES:
            baseline = (
                row if row["kind"] == "baseline" else self.catalog.current_baseline(self.os, row["month"])
            )
            self.line_ok = baseline is not None
            self.line_baseline = baseline["month"] if baseline else None
            if self.realistic and baseline is not None and baseline is not row:
                self._qfe_add(baseline["kb"])
                self.packages.append(self._package(baseline, "Superseded"))
        if self.realistic:
            self._qfe_add(row["kb"])
            self.packages.append(self._package(row, "Installed"))
            self.packages.insert(0, self._ssu_package())
            for package in self.packages:
                package["installed"] = self.last_boot

    def _state(self) -> dict:
        return dict(self.spec, ubr=self.ubr)

    @property
    def enrolled(self) -> bool:
        """Enrolled in hotpatch: as the fleet pinned it, else as Microsoft's rules say now (a host whose VBS
        was turned on, whose CHPE was turned off or whose Arc licence was enabled becomes enrolled)."""
        if self.enrolment_lost:
            return False
        if self.enrolled_pinned:
            return self._enrolled
        return hotpatch_capable(self._state())

    @enrolled.setter
    def enrolled(self, value: bool):
        self._enrolled = value
        if not value:
            self.enrolment_lost = True

    def licence_valid(self, now=None) -> bool:
        expires = self.spec["arc"].get("hotpatch_license_expires")
        return expires is None or (now or self.clock.now()) < expires

    def refresh_licence(self, now=None):
        """The Hotpatch feature of the license profile: Enabling becomes Enabled after enable_seconds
        (Microsoft: about 10 minutes; the fleet's azure_resource_manager.enable_seconds); licensed then."""
        feature = (self.licence_profile or {}).get("Hotpatch")
        if not feature:
            return
        now = now or self.clock.now()
        due = (now - feature["since"]).total_seconds() >= self.licence_enable_seconds
        if feature["status"] == "Enabling" and due:
            feature.update(status="Enabled", since=now)
        licence = "enabled" if feature["status"] == "Enabled" else "disabled"
        if self.spec["arc"]["hotpatch_license"] != licence:
            self.spec = dict(self.spec, arc=dict(self.spec["arc"], hotpatch_license=licence))

    def hotpatch_eligible(self, now=None) -> bool:
        """Microsoft's rules, now: capable (image, edition, VBS, CHPE, Arc agent and licence), enrolled, and
        an
        Arc licence that has not lapsed."""
        self.refresh_licence(now)
        if not (self.enrolled and hotpatch_capable(self._state())):
            return False
        return self.spec["platform"] != "arc" or self.licence_valid(now)

    def on_hotpatch_line(self, month: str) -> bool:
        baseline = self.catalog.current_baseline(self.os, month)
        return bool(self.line_ok and baseline and self.line_baseline == baseline["month"])

    # ---------------------------------------------------------------- what the host shows
    @property
    def build(self) -> str:
        return f"{catalog.MAJOR[self.os]}.{self.ubr}"

    def product_name(self) -> str:
        edition = self.spec["edition_id"]
        if edition.startswith("ServerTurbine"):
            return f"Windows Server {self.os} Datacenter: Azure Edition"
        if edition.startswith("ServerDatacenter"):
            return f"Windows Server {self.os} Datacenter"
        if edition.startswith("ServerStandard"):
            return f"Windows Server {self.os} Standard"
        return f"Windows Server {self.os} {edition}"

    def vbs_status(self) -> int:
        return {"off": 0, "enabled": 1, "running": 2}[self.spec["vbs"]]

    def hotpatch_restrictions(self):
        """Memory Management\\HotPatchRestrictions as the registry holds it (CHPE follows at next boot)."""
        return self.hotpatch_restrictions_reg

    # ---------------------------------------------------------------- registry the enable role writes
    DEVICE_GUARD = r"hklm:\system\currentcontrolset\control\deviceguard"
    MEMORY_MANAGEMENT = r"hklm:\system\currentcontrolset\control\session manager\memory management"

    def registry_value(self, path: str, name: str):
        key, value = path.lower().rstrip("\\"), name.lower()
        if key == self.DEVICE_GUARD and value == "enablevirtualizationbasedsecurity":
            return self.vbs_config
        if key == self.DEVICE_GUARD and value == "requireplatformsecurityfeatures":
            return self.platform_security_features
        if key == self.MEMORY_MANAGEMENT and value == "hotpatchrestrictions":
            return self.hotpatch_restrictions_reg
        return self.registry.get((key, value))

    def set_registry(self, path: str, name: str, data) -> bool:
        """win_regedit state=present: writes a value; returns whether it changed. A change that Windows
        applies at the next boot (VBS, CHPE) and that differs from the running state is a `pending` event."""
        key, value = path.lower().rstrip("\\"), name.lower()
        if self.registry_value(path, name) == data:
            return False
        if key == self.DEVICE_GUARD and value == "enablevirtualizationbasedsecurity":
            self.vbs_config = data
        elif key == self.DEVICE_GUARD and value == "requireplatformsecurityfeatures":
            self.platform_security_features = data
        elif key == self.MEMORY_MANAGEMENT and value == "hotpatchrestrictions":
            self.hotpatch_restrictions_reg = data
        else:
            self.registry[(key, value)] = data
        self.record(self.name, "registry_set", path=path, value=name, data=data)
        if key == self.DEVICE_GUARD and value == "enablevirtualizationbasedsecurity":
            running = self.spec["vbs"] == "running"
            if (data == 1) != running:
                self.pending_boot["vbs"] = f"EnableVirtualizationBasedSecurity={data}"
                self.record(self.name, "pending", what="vbs", detail=self.pending_boot["vbs"])
        if key == self.MEMORY_MANAGEMENT and value == "hotpatchrestrictions":
            chpe_off = not self.spec["chpe"]
            if self.spec["architecture"] == "ARM64" and (data == 1) != chpe_off:
                self.pending_boot["chpe"] = f"HotPatchRestrictions={data}"
                self.record(self.name, "pending", what="chpe", detail=self.pending_boot["chpe"])
        return True

    def _apply_boot_changes(self):
        """What the next boot applies: VBS runs when configured and the firmware is UEFI with Secure
        Boot (Microsoft: at bare minimum), else it stays enabled, not running; CHPE follows
        HotPatchRestrictions."""
        if "vbs" in self.pending_boot:
            if self.vbs_config == 1:
                vbs = "running" if self.spec["uefi"] and self.spec["secure_boot"] else "enabled"
            else:
                vbs = "off"
            self.spec = dict(self.spec, vbs=vbs)
        if "chpe" in self.pending_boot:
            self.spec = dict(self.spec, chpe=self.hotpatch_restrictions_reg != 1)
        self.pending_boot.clear()

    # ---------------------------------------------------------------- enrolment signals, azcmagent
    def enrolment_registry(self) -> dict:
        """The local enrolment signals Microsoft's ISO page sets: present while the host is enrolled (fleet
        key enrolment_signals: auto), or as the fleet pins them."""
        mode = self.spec.get("enrolment_signals", "auto")
        present = mode == "present" or (mode == "auto" and self.enrolled)
        if not present:
            return {"hotpatch_table_size": None, "package_name": None, "package_version": None}
        return {
            "hotpatch_table_size": 0x1000,
            "package_name": "Hotpatch Enrollment Package",
            "package_version": "10.0.20348.1129",
        }

    def azcmagent_show(self):
        """`azcmagent show -j` as the Azure Connected Machine agent prints it (keys: Microsoft's azcmagent
        show page and public scripts, tests/windows_samples/README.md), or None without the agent."""
        arc = self.spec["arc"]
        if arc["agent"] == "absent":
            return None
        status = arc["status"] if arc["agent"] == "running" else "Disconnected"
        now = self.clock.now()
        beat = now - datetime.timedelta(minutes=2 if status == "Connected" else 60 * 24 * 3)
        resource = arc["resource"]
        return {
            "resourceName": resource["name"],
            "resourceGroup": resource["resource_group"],
            "subscriptionId": resource["subscription_id"],
            "tenantId": LAB_TENANT,
            "vmId": str(uuid.uuid5(UPDATE_NS, f"vm/{self.name}")),
            "location": resource["location"],
            "agentVersion": "1.50.03000.2",
            "status": status,
            "lastHeartbeat": beat.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "cloud": "AzureCloud",
        }

    def _fault_once(self, name: str) -> bool:
        if self.faults.get(name) and name not in self.faults_used:
            self.faults_used.add(name)
            return True
        return False

    def imds_answer(self) -> str:
        """What the Instance Metadata request of the next probe gets: ok, timeout or throttled (HTTP 429)."""
        if self.spec["platform"] != "azure":
            return "absent"
        if self.faults.get("imds_timeout") or self._fault_once("imds_timeout_once"):
            return "timeout"
        if self._fault_once("imds_throttled_once"):
            return "throttled"
        return "ok"

    def wmi_answer(self) -> str:
        if self.faults.get("wmi_timeout") or self._fault_once("wmi_timeout_once"):
            return "timeout"
        return "ok"

    def azure_metadata(self, answer: str = "ok"):
        if self.spec["platform"] != "azure" or answer != "ok" or self.faults.get("imds_timeout"):
            return None
        image = self.spec["image"] or {}
        vmss = f"vmss-{self.name}" if self.spec["vmss_orchestration"] else ""
        return {
            "publisher": image.get("publisher", ""),
            "offer": image.get("offer", ""),
            "sku": image.get("sku", ""),
            "image_id": image.get("id", ""),
            "location": "westcentralus",
            "vm_scale_set_name": vmss,
        }

    def pending_flags(self) -> dict:
        return {
            reason: reason in self.reboot_pending
            for reason in ("cbs", "windows_update", "file_rename", "computer_rename")
        }

    def wu_reboot_required(self) -> bool:
        """Microsoft.Update.SystemInfo.RebootRequired, as win_updates reads it."""
        return bool(self.reboot_pending & {"cbs", "windows_update"})

    def pending_computer_name(self) -> str:
        if "computer_rename" not in self.reboot_pending:
            return self.name.upper()[:15]
        return self.spec.get("pending_rename") or (self.name.upper()[:14] + "2")

    def probe_facts(self, imds: str = "ok", wmi: str = "ok", imds_error=None) -> dict:
        """What the probe prints. `imds`: the answer of its last Instance Metadata request; `imds_error`:
        what it records when that request failed (docs/probe.md); `wmi`: the DeviceGuard query's answer."""
        agent = self.spec["arc"]["agent"]
        read_errors = {}
        if imds_error:
            read_errors["imds"] = imds_error
        if wmi != "ok":
            read_errors["vbs"] = "wmi timeout"
        vm_agent = self.spec.get("azure_vm_agent", "absent")
        show = self.azcmagent_show()
        azcmagent = None
        if show is not None:
            azcmagent = {
                "status": show["status"],
                "last_heartbeat": show["lastHeartbeat"],
                "resource_name": show["resourceName"],
                "resource_group": show["resourceGroup"],
                "subscription_id": show["subscriptionId"],
                "tenant_id": show["tenantId"],
                "location": show["location"],
                "agent_version": show["agentVersion"],
            }
        policy = self.spec.get("windows_update_policy") or {}
        return {
            "os": {
                "product_name": self.product_name(),
                "edition_id": self.spec["edition_id"],
                "installation_type": self.spec["installation_type"],
                "build": catalog.MAJOR[self.os],
                "ubr": self.ubr,
                "architecture": self.spec["architecture"],
            },
            "vbs_status": self.vbs_status() if wmi == "ok" else None,
            "hotpatch_restrictions": self.hotpatch_restrictions(),
            "secure_boot": self.spec["secure_boot"] if self.spec.get("uefi", True) else None,
            "azure": self.azure_metadata(imds),
            "arc": {"agent_installed": agent != "absent", "agent_running": agent == "running"},
            "hotfixes": sorted({kb.upper() for kb in self.hotfixes}),
            "reboot_pending": self.pending_flags(),
            "last_boot": iso(self.last_boot),
            "now": iso(self.clock.now()),
            "timezone": self.spec["timezone"],
            "vbs_config": {
                "enable_virtualization_based_security": self.vbs_config,
                "require_platform_security_features": self.platform_security_features,
            },
            "enrolment": self.enrolment_registry(),
            "azure_vm_agent": {"installed": vm_agent != "absent", "running": vm_agent == "running"},
            "azcmagent": azcmagent,
            "windows_update_policy": {
                key: policy.get(key)
                for key in (
                    "wu_server",
                    "use_wu_server",
                    "no_auto_update",
                    "au_options",
                    "scheduled_install_day",
                    "scheduled_install_time",
                )
            },
            "read_errors": read_errors,
        }

    def _qfe_add(self, kb: str):
        if kb and kb not in self.hotfixes:
            self.hotfixes.append(kb)

    # ---------------------------------------------------------------- Windows Update: the offer
    def _effective_ubr(self) -> int:
        return self.staged_ubr if self.staged_ubr is not None else self.ubr

    def os_offer(self, now=None) -> list:
        """The release rows Windows Update offers now (at most one per line)."""
        now = now or self.clock.now()
        month = catalog.cycle_month(now)
        effective = self._effective_ubr()
        today = now.date()
        installed = set(self.hotfixes)
        rows = [
            r
            for r in self.catalog.month_rows(self.os, month)
            if r["date"] <= today and r["kb"] not in installed and r["build"] > effective
        ]
        if not self.realistic:
            rows = [r for r in rows if r["kind"] in MONTHLY_KINDS]
        eligible = self.hotpatch_eligible(now) and self.os in catalog.HOTPATCH_OSES
        on_line = eligible and self.on_hotpatch_line(month)

        def audience(row) -> bool:
            if row["all_until"] and today < row["all_until"]:
                return True
            return {
                "all": True,
                "none": False,
                "hotpatch_line": on_line,
                "lcu_line": not on_line,
                "not_enrolled": not eligible,
            }[row["audience"]]

        hot = [r for r in rows if audience(r) and r["kind"] in HOTPATCH_KINDS]
        other = [r for r in rows if audience(r) and r["kind"] not in HOTPATCH_KINDS]
        offer = []
        if hot:
            offer.append(max(hot, key=lambda r: r["build"]))
        if other:
            best = max(other, key=lambda r: r["build"])
            if not hot or best["audience"] == "all" or (best["all_until"] and today < best["all_until"]):
                offer.append(best)
        return offer

    def offered_updates(self) -> list:
        """Updates a search for 'IsInstalled = 0' returns now: on a WSUS-managed host (UseWUServer=1 and a
        WUServer) only what the WSUS server approved (fleet key wsus_approved: all or a list of KBs)."""
        offers = self._offered_updates()
        policy = self.spec.get("windows_update_policy") or {}
        approved = self.spec.get("wsus_approved", "all")
        if policy.get("use_wu_server") == 1 and policy.get("wu_server") and approved != "all":
            offers = [offer for offer in offers if offer.get("kb") in approved]
        return offers

    def _offered_updates(self) -> list:
        now = self.clock.now()
        arch = self.spec["architecture"]
        offers = [self._monthly(row, arch) for row in self.os_offer(now)]
        if self.realistic:
            offers.extend(self._noise_offers(now, arch))
        installed = set(self.hotfixes)
        for extra in self.spec["updates"]:
            if extra["kb"] not in installed:
                offers.append(
                    {
                        "id": str(uuid.uuid5(UPDATE_NS, f"{self.name}/{extra['kb']}")),
                        "kb": extra["kb"],
                        "title": extra["title"],
                        "categories": [extra["classification"]],
                        "classification": extra["classification"],
                        "reboot": extra["reboot"],
                        "reboot_behaviour": CAN_REQUEST,
                        "kind": "extra",
                        "ubr": None,
                        "released": None,
                    }
                )
        return offers

    def _monthly(self, row, arch) -> dict:
        form = titles.hotpatch_form(self.name, self.spec.get("hotpatch_title"))
        restart = row["restart"]
        return {
            "id": str(uuid.uuid5(UPDATE_NS, f"{self.os}/{arch}/{row['kb']}")),
            "kb": row["kb"],
            "title": titles.monthly(self.os, row, arch, self.style, form),
            "categories": titles.categories(self.os, row["kind"], row["classification"], self.style),
            "classification": row["classification"],
            "reboot": restart,
            "reboot_behaviour": CAN_REQUEST
            if self.realistic
            else (ALWAYS_REQUIRES if restart else NEVER_REBOOTS),
            "kind": row["kind"],
            "ubr": row["build"],
            "row": row,
            "released": row["date"].isoformat(),
            "is_uninstallable": False,
            "simulated": row["simulated"],
        }

    def _noise_offers(self, now, arch) -> list:
        wu = self.wu
        month = catalog.cycle_month(now)
        offers = []
        if wu["defender"]:
            index, released = self.defender_latest(now)
            if self.defender_index is None or self.defender_index < index:
                version = self.defender_version(index)
                offers.append(
                    {
                        "id": str(uuid.uuid5(UPDATE_NS, f"defender/{version}")),
                        "kb": "KB2267602",
                        "title": titles.defender(version, month),
                        "categories": titles.categories(
                            self.os, "defender", "Definition Updates", "realistic"
                        ),
                        "classification": "Definition Updates",
                        "reboot": False,
                        "reboot_behaviour": NEVER_REBOOTS,
                        "kind": "defender",
                        "ubr": None,
                        "index": index,
                        "released": released.date().isoformat(),
                        "impact": "Minor",
                        "description": DEFENDER_DESCRIPTION,
                    }
                )
        if wu["msrt"] and self.msrt_month != month:
            offers.append(
                {
                    "id": str(uuid.uuid5(UPDATE_NS, f"msrt/{month}/{arch}")),
                    "kb": "KB890830",
                    "title": titles.msrt(month, arch),
                    "categories": titles.categories(self.os, "msrt", "Update Rollups", "realistic"),
                    "classification": "Update Rollups",
                    "reboot": False,
                    "reboot_behaviour": CAN_REQUEST,
                    "kind": "msrt",
                    "ubr": None,
                    "month": month,
                    "released": catalog.release_day_of(month).isoformat(),
                }
            )
        dotnet = self.dotnet_due(month)
        if dotnet:
            kb = f"KB9{catalog.OS_DIGIT[self.os]}4{dotnet[2:4]}{dotnet[5:7]}"
            offers.append(
                {
                    "id": str(uuid.uuid5(UPDATE_NS, f"{self.os}/dotnet/{dotnet}/{arch}")),
                    "kb": kb,
                    "title": titles.dotnet(self.os, dotnet, kb, arch),
                    "categories": titles.categories(self.os, "dotnet", "Security Updates", "realistic"),
                    "classification": "Security Updates",
                    "reboot": True,
                    "reboot_behaviour": CAN_REQUEST,
                    "kind": "dotnet",
                    "ubr": None,
                    "month": dotnet,
                    "released": catalog.release_day_of(dotnet).isoformat(),
                    "simulated": True,
                }
            )
        preview = self.preview_due(now)
        if preview:
            offers.append(preview)
        for index, driver in enumerate(self.spec.get("drivers") or []):
            if index in self.drivers_installed or (driver["released"] and driver["released"] > now):
                continue
            offers.append(
                {
                    "id": str(uuid.uuid5(UPDATE_NS, f"{self.name}/driver/{index}/{driver['title']}")),
                    "kb": driver["kb"],
                    "title": driver["title"],
                    "categories": titles.categories(self.os, "driver", "Drivers", "realistic"),
                    "classification": "Drivers",
                    "reboot": driver["reboot"],
                    "reboot_behaviour": CAN_REQUEST,
                    "kind": "driver",
                    "type": "Driver",
                    "ubr": None,
                    "driver": index,
                    "released": (driver["released"] or self.clock.start).date().isoformat(),
                }
            )
        return offers

    def defender_latest(self, now) -> tuple:
        every = self.wu["defender_every_hours"] * 3600
        index = int((now - DEFENDER_EPOCH).total_seconds() // every)
        return index, DEFENDER_EPOCH + datetime.timedelta(seconds=index * every)

    @staticmethod
    def defender_version(index: int) -> str:
        return f"1.{400 + index // 64}.{(index % 64) * 15 + 1}.0"

    def dotnet_due(self, month: str):
        """The newest .NET cumulative update month released by `month`, when not installed yet."""
        if not self.spec.get("dotnet", True):
            return None
        settings = self.wu["dotnet"]
        for back in range(12):
            candidate = catalog.add_months(month, -back)
            if int(candidate[5:7]) in settings["months"] or candidate in settings["extra"]:
                if any(m >= candidate for m in self.dotnet_installed):
                    return None
                return candidate
        return None

    def preview_due(self, now):
        """The optional cumulative update preview of the month (fourth Tuesday until the next release day)."""
        if not self.wu["preview"]:
            return None
        month = catalog.cycle_month(now)
        start = catalog.release_day_of(month) + datetime.timedelta(days=14)
        if now.date() < start or month in self.previews_installed:
            return None
        lcu = self.catalog.monthly(self.os, month, "lcu") or self.catalog.monthly(self.os, month, "baseline")
        if lcu is None:
            return None
        build = lcu["build"] + 25
        builds = {r["build"] for r in self.catalog.known_rows(self.os)}
        while build in builds:
            build += 1
        if build <= self._effective_ubr():
            return None
        kb = f"KB9{catalog.OS_DIGIT[self.os]}3{month[2:4]}{month[5:7]}"
        arch = self.spec["architecture"]
        row = catalog.make_row(
            self.os,
            {
                "kb": kb,
                "build": build,
                "date": start.isoformat(),
                "month": month,
                "kind": "oob",
                "classification": "Updates",
                "audience": "all",
            },
            "preview",
            simulated=True,
        )
        return {
            "id": str(uuid.uuid5(UPDATE_NS, f"{self.os}/{arch}/{kb}")),
            "kb": kb,
            "title": titles.preview(self.os, month, kb, arch),
            "categories": titles.categories(self.os, "preview", "Updates", "realistic"),
            "classification": "Updates",
            "reboot": True,
            "reboot_behaviour": CAN_REQUEST,
            "kind": "preview",
            "ubr": build,
            "row": row,
            "month": month,
            "browse_only": True,
            "released": start.isoformat(),
            "simulated": True,
        }

    # ---------------------------------------------------------------- installs
    def install(self, update: dict) -> bool:
        """Install one offered update; returns whether it requires a restart."""
        kind = update["kind"]
        needs_restart = update["reboot"]
        if kind in HOTPATCH_KINDS and self.faults.get("hotpatch_needs_reboot"):
            needs_restart = True
        row = update.get("row")
        if kind in ("defender",):
            self.defender_index = max(self.defender_index or -1, update["index"])
        elif kind == "msrt":
            self.msrt_month = update["month"]
        elif kind == "dotnet":
            self.dotnet_installed.add(update["month"])
            self._qfe_add(update["kb"])
            self.packages.append(self._dotnet_package(update["month"], "Install Pending"))
        elif kind == "driver":
            self.drivers_installed.add(update["driver"])
        elif kind == "preview":
            self.previews_installed.add(update["month"])
        if kind != "driver" and kind not in ("defender", "msrt"):
            self._qfe_add(update["kb"])
        if update["ubr"] is not None:
            before = self._effective_ubr()
            self.history.append((update["kb"], before, (self.line_ok, self.line_baseline, self.current_row)))
            if needs_restart:
                self.staged_ubr = update["ubr"]
            else:
                self.ubr = update["ubr"]
            if row is not None:
                self._move_line(row)
                if self.realistic:
                    self._supersede()
                    self.packages.append(
                        self._package(row, "Install Pending" if needs_restart else "Installed")
                    )
        if needs_restart:
            self.reboot_pending.add("windows_update")
            if self.realistic and (row is not None or kind == "dotnet"):
                self.reboot_pending.add("cbs")  # a servicing (CBS) package waits for the restart
        if update["kb"] in self.spec.get("lose_enrolment_after", []) and self.enrolled:
            self.enrolled = False
            self.record(self.name, "enrolment_lost", kb=update["kb"])
        self.record(
            self.name,
            "install",
            kb=update["kb"],
            title=update["title"],
            restart=needs_restart,
            build=f"{catalog.MAJOR[self.os]}.{update['ubr']}" if update["ubr"] else None,
            kind=kind,
            classification=update.get("classification"),
            released=update.get("released"),
            simulated=True if update.get("simulated") else None,
        )
        return needs_restart

    def _move_line(self, row):
        self.current_row = row
        if row["line_after"] == "lcu":
            self.line_ok = False
        elif row["kind"] == "baseline":
            self.line_ok = True
            self.line_baseline = row["month"]
        # a hotpatch keeps the host where it was (it is offered on the line only)

    def _supersede(self):
        for package in self.packages:
            if package["family"] == "rollup" and package["state"] == "Installed":
                package["state"] = "Superseded"

    # ---------------------------------------------------------------- servicing packages (DISM)
    def _arch_token(self) -> str:
        return "arm64" if self.spec["architecture"] == "ARM64" else "amd64"

    def _package(self, row, state) -> dict:
        major = catalog.MAJOR[self.os]
        revision = 1 + int(row["month"][5:7])
        return {
            "name": f"Package_for_RollupFix~{PUBLIC_KEY_TOKEN}~{self._arch_token()}~~"
            f"{major}.{row['build']}.1.{revision}",
            "kb": row["kb"],
            "family": "rollup",
            "state": state,
            "release_type": "Security Update" if row["classification"] == "Security Updates" else "Update",
            "installed": self.clock.now(),
            "row": row,
            "permanent": False,
        }

    def _ssu_package(self) -> dict:
        major = catalog.MAJOR[self.os]
        ssu = max(1, self.ubr - 40)
        return {
            "name": f"Package_for_ServicingStack_{ssu}~{PUBLIC_KEY_TOKEN}~{self._arch_token()}~~"
            f"{major}.{ssu}.1.3",
            "kb": None,
            "family": "ssu",
            "state": "Installed",
            "release_type": "Update",
            "installed": self.last_boot,
            "row": None,
            "permanent": True,
        }

    def _dotnet_package(self, month, state) -> dict:
        index = 9000 + catalog.months_between("2024-01", month) * 7
        kb = f"KB9{catalog.OS_DIGIT[self.os]}4{month[2:4]}{month[5:7]}"
        return {
            "name": f"Package_for_DotNetRollup_481~{PUBLIC_KEY_TOKEN}~{self._arch_token()}~~10.0.{index}.1",
            "kb": kb,
            "family": "dotnet",
            "state": state,
            "release_type": "Security Update",
            "installed": self.clock.now(),
            "row": None,
            "permanent": False,
        }

    def package_list(self) -> list:
        return [p for p in self.packages if p["state"] != "Removed"]

    def find_package(self, name: str):
        for package in self.package_list():
            if package["name"].lower() == name.lower():
                return package
        return None

    def remove_package(self, package) -> bool:
        """DISM /Remove-Package (or Remove-WindowsPackage): returns whether a restart is needed. Raises
        PermissionError for a permanent package (the servicing stack)."""
        if package["permanent"]:
            raise PermissionError(package["name"])
        if package["state"] == "Uninstall Pending":
            return True
        if package["family"] == "rollup" and package["state"] in ("Installed", "Install Pending"):
            kb = package["kb"]
            target = self._build_before(kb)
            package["state"] = "Uninstall Pending"
            self.pending_uninstall = (kb, target)
            if target is not None:
                self.staged_ubr = target[0]
        else:
            package["state"] = "Uninstall Pending"
            self.pending_uninstall = (package["kb"], None)
        self.reboot_pending.add("cbs")
        self.record(self.name, "uninstall", kb=package["kb"], package=package["name"])
        return True

    def _build_before(self, kb: str):
        """(build, line state) a host returns to when `kb` is removed: the previous release it ran here, else
        the previous release on the same line in the release table."""
        for hist_kb, before, line in reversed(self.history):
            if hist_kb == kb:
                return before, line
        current = self.current_row
        if current is None:
            return None
        month = current["month"]
        if current["kind"] in HOTPATCH_KINDS:
            candidates = [
                r
                for back in range(0, 4)
                for r in self.catalog.month_rows(self.os, catalog.add_months(month, -back))
                if r["kind"] in ("baseline", "hotpatch") and r["build"] < current["build"]
            ]
        else:
            candidates = [
                r
                for back in range(1, 3)
                for r in self.catalog.month_rows(self.os, catalog.add_months(month, -back))
                if r["kind"] in ("baseline", "lcu") and r["build"] < current["build"]
            ]
        if not candidates:
            return None
        previous = max(candidates, key=lambda r: r["build"])
        baseline = (
            previous
            if previous["kind"] == "baseline"
            else self.catalog.current_baseline(self.os, previous["month"])
        )
        line = (previous["line_after"] == "hotpatch", baseline["month"] if baseline else None, previous)
        return previous["build"], line

    def uninstall(self, kb: str) -> bool:
        """Remove an installed KB the way the first lab version's win_hotfix did (state=absent by KB)."""
        if kb not in self.hotfixes:
            return False
        self.hotfixes = [k for k in self.hotfixes if k != kb]
        for index, (hist_kb, before, _line) in enumerate(self.history):
            if hist_kb == kb:
                self.staged_ubr = before
                del self.history[index:]
                break
        else:
            target = self._build_before(kb)
            current = self._effective_ubr()
            if target is not None and target[0] < current:
                self.staged_ubr = target[0]
        self.reboot_pending.add("cbs")
        self.record(self.name, "uninstall", kb=kb)
        return True

    # ---------------------------------------------------------------- restarts
    def go_down(self):
        self.logon_ready = False
        self.update_tasks.clear()
        for job in self.async_jobs:
            job.kill()  # the process is gone: its results file keeps the start record
        self.async_jobs = []
        self.record(self.name, "restart_down")

    def come_up(self):
        self._apply_boot_changes()
        if self.staged_ubr is not None:
            self.ubr = self.staged_ubr
            self.staged_ubr = None
        if self.pending_uninstall is not None:
            kb, target = self.pending_uninstall
            self.pending_uninstall = None
            self.hotfixes = [k for k in self.hotfixes if k != kb]
            for package in self.packages:
                if package["state"] == "Uninstall Pending":
                    package["state"] = "Removed"
            if target is not None:
                self.line_ok, self.line_baseline, self.current_row = target[1]
                self.history = [h for h in self.history if h[0] != kb]
                previous = target[1][2]
                for package in self.packages:
                    if package["family"] == "rollup" and package["row"] is previous:
                        package["state"] = "Installed"
        for package in self.packages:
            if package["state"] == "Install Pending":
                package["state"] = "Installed"
        superseded = {p["kb"] for p in self.packages if p["state"] == "Superseded" and p["kb"]}
        current_baseline = None
        if self.current_row is not None and self.current_row["kind"] in HOTPATCH_KINDS:
            baseline = self.catalog.current_baseline(self.os, self.current_row["month"])
            current_baseline = baseline["kb"] if baseline else None
        self.hotfixes = [k for k in self.hotfixes if k not in superseded or k == current_baseline]
        self.reboot_pending.clear()
        if self.spec.get("security_agent"):
            self.reboot_pending.add("file_rename")  # the agent writes PendingFileRenameOperations again
        if self.spec.get("pending_rename"):
            self.spec = dict(self.spec, pending_rename=None)
        self.last_boot = self.clock.now()
        self.logon_ready = True
        self.record(self.name, "restart_up", build=self.build)

    # ---------------------------------------------------------------- the lab's own view
    def state(self) -> dict:
        """What the lab knows about the host (for tests and benchmarks, never sent over WinRM)."""
        now = self.clock.now()
        month = catalog.cycle_month(now)
        return {
            "build": self.build,
            "staged_build": f"{catalog.MAJOR[self.os]}.{self.staged_ubr}" if self.staged_ubr else None,
            "line": "hotpatch" if self.on_hotpatch_line(month) else "lcu",
            "hotpatch_eligible": self.hotpatch_eligible(now),
            "enrolled": self.enrolled,
            "licence_valid": self.licence_valid(now),
            "vbs": self.spec["vbs"],
            "chpe": self.spec["chpe"] if self.spec["architecture"] == "ARM64" else None,
            "hotpatch_license": self.spec["arc"]["hotpatch_license"],
            "pending_boot": sorted(self.pending_boot),
            "hotfixes": sorted(self.hotfixes),
            "reboot_pending": sorted(self.reboot_pending),
            "cycle": month,
            "offered": [
                {
                    k: v
                    for k, v in u.items()
                    if k in ("kb", "title", "classification", "kind", "reboot", "released", "simulated")
                }
                for u in self.offered_updates()
            ],
        }
