"""One simulated Windows Server: its state, Windows Update's offer, installs, uninstalls and restarts."""

import datetime
import uuid

from . import catalog
from .fleet import hotpatch_capable

UPDATE_NS = uuid.UUID("6f1d3a52-8c1e-4d55-9d0b-2b1b6a3d7e10")
EPOCH_1601 = datetime.datetime(1601, 1, 1, tzinfo=datetime.UTC)


class LabClock:
    """Lab time: the fleet's date at start, then forward in real time."""

    def __init__(self, start: datetime.datetime, started_at: float):
        self.start = start
        self.started_at = started_at

    def now(self) -> datetime.datetime:
        import time

        return self.start + datetime.timedelta(seconds=time.time() - self.started_at)


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def filetime(moment: datetime.datetime) -> int:
    delta = moment - EPOCH_1601
    return (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


class SimHost:
    def __init__(self, spec: dict, clock: LabClock, record):
        self.spec = spec
        self.name = spec["name"]
        self.clock = clock
        self.record = record  # record(host, event, **fields): appends to the ledger
        self.os = spec["os"]
        self.ubr = spec["ubr"]
        self.staged_ubr = None  # build applied by the next restart
        self.hotfixes = list(spec["hotfixes"])
        self.reboot_pending = set(spec["reboot_pending"])
        self.last_boot = spec["last_boot"]
        self.history = []  # [(kb, ubr before)] of monthly releases installed in the lab
        self.installed_extra = set()
        self.faults = spec["faults"]
        self.group = spec["vars"].get("hotpatch_availability_group")
        self.logon_ready = True
        self.update_tasks = {}

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
        if self.spec["architecture"] != "ARM64" or self.spec["chpe"]:
            return None
        return 1

    def azure_metadata(self):
        if self.spec["platform"] != "azure" or self.faults.get("imds_timeout"):
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
        return bool(self.reboot_pending & {"cbs", "windows_update"})

    def probe_facts(self) -> dict:
        agent = self.spec["arc"]["agent"]
        return {
            "os": {
                "product_name": self.product_name(),
                "edition_id": self.spec["edition_id"],
                "installation_type": self.spec["installation_type"],
                "build": catalog.MAJOR[self.os],
                "ubr": self.ubr,
                "architecture": self.spec["architecture"],
            },
            "vbs_status": self.vbs_status(),
            "hotpatch_restrictions": self.hotpatch_restrictions(),
            "secure_boot": self.spec["vbs"] != "off",
            "azure": self.azure_metadata(),
            "arc": {"agent_installed": agent != "absent", "agent_running": agent == "running"},
            "hotfixes": sorted(set(self.hotfixes)),
            "reboot_pending": self.pending_flags(),
            "last_boot": iso(self.last_boot),
            "now": iso(self.clock.now()),
            "timezone": self.spec["timezone"],
        }

    # ---------------------------------------------------------------- Windows Update
    def _state_for_capability(self) -> dict:
        return dict(self.spec, ubr=self.ubr)

    def offered_updates(self) -> list:
        """Updates a search for 'IsInstalled = 0' returns now."""
        month = catalog.cycle_month(self.clock.now())
        rel = catalog.release(self.os, month)
        arch = self.spec["architecture"]
        offers = []
        installed = set(self.hotfixes)
        current = self.staged_ubr if self.staged_ubr is not None else self.ubr
        hotpatch = rel["hotpatch"]
        on_line = current in catalog.hotpatch_line(self.os, month)
        if (
            hotpatch
            and self.spec["hotpatch_enrolled"]
            and hotpatch_capable(self._state_for_capability())
            and (on_line or current == hotpatch["ubr"])
        ):
            if current != hotpatch["ubr"] and hotpatch["kb"] not in installed:
                offers.append(self._monthly(month, "hotpatch", hotpatch, arch))
        elif current < rel["lcu"]["ubr"] and rel["lcu"]["kb"] not in installed:
            offers.append(self._monthly(month, "lcu", rel["lcu"], arch))
        for extra in self.spec["updates"]:
            if extra["kb"] not in installed:
                offers.append(
                    {
                        "id": str(uuid.uuid5(UPDATE_NS, f"{self.name}/{extra['kb']}")),
                        "kb": extra["kb"],
                        "title": extra["title"],
                        "categories": [extra["classification"]],
                        "reboot": extra["reboot"],
                        "kind": "extra",
                        "ubr": None,
                    }
                )
        return offers

    def _monthly(self, month, kind, release, arch) -> dict:
        return {
            "id": str(uuid.uuid5(UPDATE_NS, f"{self.os}/{arch}/{release['kb']}")),
            "kb": release["kb"],
            "title": catalog.update_title(self.os, month, kind, release["kb"], release["simulated"], arch),
            "categories": ["Security Updates"],
            "reboot": kind != "hotpatch",
            "kind": kind,
            "ubr": release["ubr"],
        }

    def install(self, update: dict) -> bool:
        """Install one offered update; returns whether it requires a restart."""
        needs_restart = update["reboot"]
        if update["kind"] == "hotpatch" and self.faults.get("hotpatch_needs_reboot"):
            needs_restart = True
        self.hotfixes.append(update["kb"])
        if update["ubr"] is not None:
            self.history.append((update["kb"], self.ubr if self.staged_ubr is None else self.staged_ubr))
            if needs_restart:
                self.staged_ubr = update["ubr"]
            else:
                self.ubr = update["ubr"]
        if needs_restart:
            self.reboot_pending.add("windows_update")
        self.record(
            self.name,
            "install",
            kb=update["kb"],
            title=update["title"],
            restart=needs_restart,
            build=f"{catalog.MAJOR[self.os]}.{update['ubr']}" if update["ubr"] else None,
        )
        return needs_restart

    def uninstall(self, kb: str) -> bool:
        """Remove an installed KB (win_hotfix state=absent); returns whether anything was removed."""
        if kb not in self.hotfixes:
            return False
        self.hotfixes = [k for k in self.hotfixes if k != kb]
        for index, (hist_kb, before) in enumerate(self.history):
            if hist_kb == kb:
                self.staged_ubr = before
                del self.history[index:]
                break
        else:
            before = catalog.build_before(self.os, kb, catalog.cycle_month(self.clock.now()))
            current = self.ubr if self.staged_ubr is None else self.staged_ubr
            if before is not None and before < current:
                self.staged_ubr = before
        self.reboot_pending.add("cbs")
        self.record(self.name, "uninstall", kb=kb)
        return True

    # ---------------------------------------------------------------- restarts
    def go_down(self):
        self.logon_ready = False
        self.update_tasks.clear()
        self.record(self.name, "restart_down")

    def come_up(self):
        if self.staged_ubr is not None:
            self.ubr = self.staged_ubr
            self.staged_ubr = None
        self.reboot_pending.clear()
        self.last_boot = self.clock.now()
        self.logon_ready = True
        self.record(self.name, "restart_up", build=self.build)
