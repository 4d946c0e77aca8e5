"""Can this host take hotpatches? The rules of Microsoft's "Hotpatch for Windows Server" page.

``evaluate_eligibility`` returns ``{eligible, platform, reasons: [{code, message}], warnings}``; a host is
eligible when no reason applies. Every reason that applies is listed, so one run shows everything to fix.
docs/decisions.md explains each decision for users.
"""

from ansible_collections.hotpatch.windows.plugins.plugin_utils._catalog import ga_build
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._facts import (
    inspect_facts,
    os_release,
    read_error,
)

PLATFORMS = ("auto", "azure", "azure_local", "arc", "on_premises")
ARC_LICENSES = ("enabled", "disabled", "unknown")
VMSS_ORCHESTRATIONS = ("uniform", "flexible")

# The only Azure and Azure Local images hotpatch supports (publisher, offer, sku); Azure compares them
# without regard to case, and so does this check.
SUPPORTED_IMAGES = tuple(
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
)

# EditionID values (HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\EditionID). Sources: Microsoft Learn,
# "Upgrade and conversion options for Windows Server" (DISM /Get-CurrentEdition and /Set-Edition use
# ServerStandard, ServerDatacenter, ServerTurbine) and "Hotpatch for Windows Server" / Azure Edition docs
# (ServerTurbine, ServerTurbineCor = Datacenter: Azure Edition). The "Cor" suffix is the Server Core
# installation of the same edition.
AZURE_EDITIONS = ("ServerTurbine", "ServerTurbineCor")
ARC_EDITIONS = ("ServerDatacenter", "ServerDatacenterCor", "ServerStandard", "ServerStandardCor")

VBS_STATES = {0: "not enabled", 1: "enabled but not running", 2: "running"}
# KB of the hotpatch servicing package (Microsoft, "Enable Hotpatch for Azure Edition virtual machines built
# from ISO"), and the HotPatchTableSize that page sets (0x1000).
SERVICING_PACKAGE_KB = "KB5003508"
HOTPATCH_TABLE_SIZE = 0x1000
ENROLLMENT_PACKAGE = "Hotpatch Enrollment Package"
# Instance Metadata failures that say "there, but not answering now" (the probe retries them).
TRANSIENT_IMDS = ("timeout", "http 429", "http 410", "http 5")


def _vbs_setting(value):
    """hotpatch_vbs_status: None or 0, 1, 2 (VirtualizationBasedSecurityStatus the probe could not read)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or value not in (0, 1, 2):
        raise HotpatchError(
            f"hotpatch_vbs_status must be 0, 1 or 2 (VirtualizationBasedSecurityStatus), got {value!r}"
        )
    return value


def imds_unread(facts):
    """Why Instance Metadata could not be read on a host that looks like an Azure VM, else None.

    The probe records every failed request (read_errors.imds); off Azure a request to 169.254.169.254 fails
    as a rule. It counts as "could not be read" only where an answer was due: the Azure VM agent
    (WindowsAzureGuestAgent) is installed, or the host runs Datacenter: Azure Edition and the failure is one
    that passes (a timeout, HTTP 429, 410 or 5xx).
    """
    if facts.get("azure") is not None:
        return None
    reason = read_error(facts, "imds")
    if reason is None:
        return None
    agent = facts.get("azure_vm_agent") or {}
    if agent.get("installed") is True:
        return f"{reason}; the Azure VM agent (WindowsAzureGuestAgent) is installed"
    edition = ((facts.get("os") or {}).get("edition_id")) or ""
    if edition in AZURE_EDITIONS and reason.startswith(TRANSIENT_IMDS):
        return f"{reason}; the host runs Datacenter: Azure Edition ({edition})"
    return None


def _choice(value, name, choices, default):
    if value is None or value == "":
        return default
    if isinstance(value, bool) and name == "hotpatch_arc_license":
        return "enabled" if value else "disabled"
    if not isinstance(value, str) or value.strip().lower() not in choices:
        raise HotpatchError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value.strip().lower()


def _image(value):
    """hotpatch_image: None or {publisher, offer, sku} strings."""
    if value is None or value == {}:
        return None
    if not isinstance(value, dict):
        raise HotpatchError(f"hotpatch_image must be a mapping with publisher, offer and sku, got {value!r}")
    missing = [key for key in ("publisher", "offer", "sku") if not isinstance(value.get(key), str)]
    if missing:
        raise HotpatchError(
            f"hotpatch_image needs the string fields publisher, offer and sku; missing {missing}"
        )
    return {key: value[key].strip() for key in ("publisher", "offer", "sku")}


class _Verdict:
    def __init__(self):
        self.reasons = []
        self.warnings = []

    def reason(self, code, message):
        self.reasons.append({"code": code, "message": message})

    def warn(self, message):
        self.warnings.append(message)


def _detect_platform(facts):
    """auto: azure when IMDS answered, arc when the Arc agent is installed, else on_premises.

    Where Instance Metadata could not be read on a host that looks like an Azure VM, it is azure when the
    Azure VM agent is installed, else unknown.
    """
    if facts["azure"] is not None:
        return "azure"
    if imds_unread(facts):
        return "azure" if (facts.get("azure_vm_agent") or {}).get("installed") else "unknown"
    arc = facts["arc"]
    if arc is not None and arc["agent_installed"]:
        return "arc"
    if arc is None or arc["agent_installed"] is None:
        return "unknown"
    return "on_premises"


def _is_container(os):
    text = f"{os['installation_type'] or ''} {os['edition_id'] or ''} {os['product_name'] or ''}".lower()
    return "nano" in text or "container" in text


def _check_image(image, source, release, verdict):
    """The image rules of Azure and Azure Local: the eight exact publisher/offer/sku rows."""
    publisher, offer, sku = image["publisher"], image["offer"], image["sku"]
    found = f"{publisher or '(none)'}/{offer or '(none)'}/{sku or '(none)'}"
    if image.get("image_id") or not publisher:
        shown = image.get("image_id") or "an image without a marketplace publisher"
        verdict.reason(
            "custom_image",
            f"{source} shows a custom image ({shown}): hotpatch needs a marketplace image "
            "MicrosoftWindowsServer/WindowsServer/<a Datacenter Azure Edition sku listed in "
            "docs/decisions.md>",
        )
        return
    if "container" in f"{offer} {sku}".lower():
        verdict.reason(
            "image_not_supported",
            f"{source} shows the container image {found}: Windows Server container base images are not "
            "supported",
        )
        return
    if (publisher.lower(), offer.lower(), sku.lower()) not in SUPPORTED_IMAGES:
        verdict.reason(
            "image_not_supported",
            f"{source} shows the image {found}: hotpatch needs publisher MicrosoftWindowsServer, offer "
            "WindowsServer and one of the Datacenter Azure Edition skus listed in docs/decisions.md",
        )
        return
    if release is not None and not sku.lower().startswith(release):
        verdict.reason(
            "image_not_supported",
            f"{source} shows the Windows Server {sku[:4]} image {sku} but the OS is Windows Server {release} "
            "(upgraded in place): only the image's own release is supported",
        )


def _check_azure(facts, platform, image, vmss_orchestration, release, verdict):
    os = facts["os"]
    if platform == "azure":
        if facts["azure"] is not None:
            _check_image(facts["azure"], "the Azure Instance Metadata Service", release, verdict)
        elif image is not None:
            _check_image(image, "hotpatch_image", release, verdict)
        else:
            unread = imds_unread(facts) or read_error(facts, "imds")
            why = f" ({unread})" if unread else ""
            verdict.reason(
                "facts_incomplete",
                f"the Azure Instance Metadata Service could not be read{why} and hotpatch_image is not set: "
                "the VM's image cannot be checked; run again, or state what it could not read with "
                "hotpatch_platform=azure and hotpatch_image",
            )
    elif image is not None:
        _check_image(image, "hotpatch_image", release, verdict)
    else:
        verdict.reason(
            "facts_incomplete",
            "an Azure Local VM cannot see its own image: set hotpatch_image to the {publisher, offer, sku} "
            "it was created from",
        )
    if vmss_orchestration == "uniform":
        verdict.reason(
            "vmss_uniform",
            "hotpatch_vmss_orchestration is uniform: VM scale sets with Uniform orchestration cannot use "
            "hotpatch with Azure Edition images (Flexible orchestration can)",
        )
    elif vmss_orchestration is None and facts["azure"] is not None and facts["azure"]["vm_scale_set_name"]:
        verdict.warn(
            f"the VM belongs to scale set {facts['azure']['vm_scale_set_name']!r} whose orchestration mode "
            "is unknown: set hotpatch_vmss_orchestration (Uniform cannot use hotpatch)"
        )
    if os["edition_id"] not in AZURE_EDITIONS:
        verdict.reason(
            "edition_not_supported",
            f"EditionID is {os['edition_id']!r}: hotpatch on Azure and Azure Local needs Windows Server "
            "Datacenter: Azure Edition (ServerTurbine or ServerTurbineCor)",
        )


def _check_arc(facts, platform, arc_license, release, verdict):
    os = facts["os"]
    arc = facts["arc"]
    if platform == "on_premises":
        verdict.reason(
            "arc_agent_missing",
            "hotpatch_platform is on_premises: outside Azure and Azure Local, hotpatch needs the machine "
            "connected to Azure Arc (Azure Connected Machine agent, service himds) with the Hotpatch licence",
        )
    elif arc is None or arc["agent_installed"] is None:
        why = read_error(facts, "arc")
        verdict.reason(
            "facts_incomplete",
            "the Azure Arc agent state (service himds) could not be read from the host"
            + (f" ({why})" if why else ""),
        )
    elif not arc["agent_installed"]:
        verdict.reason(
            "arc_agent_missing",
            "the Azure Connected Machine agent (service himds) is not installed: hotpatch outside Azure "
            "needs the machine connected to Azure Arc",
        )
    elif arc["agent_running"] is False:
        verdict.warn(
            "the Azure Connected Machine agent (service himds) is installed but not running: the Hotpatch "
            "licence cannot be renewed while the machine is disconnected from Azure Arc"
        )
    if release == "2022":
        verdict.reason(
            "os_not_supported",
            f"the OS is Windows Server {release}: hotpatch through Azure Arc needs Windows Server 2025 "
            "Datacenter or Standard",
        )
    elif os["edition_id"] in AZURE_EDITIONS:
        verdict.reason(
            "edition_not_supported",
            f"EditionID is {os['edition_id']} (Datacenter: Azure Edition), which runs only on Azure and "
            "Azure Local, but the Azure Instance Metadata Service did not answer: on an Azure VM check that "
            "169.254.169.254 is reachable (or set hotpatch_platform=azure and hotpatch_image); for an Azure "
            "Local VM set hotpatch_platform=azure_local and hotpatch_image",
        )
    elif os["edition_id"] not in ARC_EDITIONS:
        verdict.reason(
            "edition_not_supported",
            f"EditionID is {os['edition_id']!r}: hotpatch through Azure Arc needs Windows Server 2025 "
            f"Datacenter or Standard ({', '.join(ARC_EDITIONS)})",
        )
    if release == "2025":
        minimum = ga_build("2025")
        major, ubr = (int(part) for part in minimum.split("."))
        if os["ubr"] is None:
            verdict.reason(
                "facts_incomplete", "os.ubr is unknown: the build cannot be compared with " + minimum
            )
        elif (os["build"], os["ubr"]) < (major, ubr):
            verdict.reason(
                "build_too_old",
                f"the build is {os['build']}.{os['ubr']}: hotpatch through Azure Arc needs {minimum} "
                "or later",
            )
    if arc_license == "disabled":
        verdict.reason(
            "arc_not_licensed",
            "hotpatch_arc_license is disabled: enable the Hotpatch licence feature on the Arc machine's "
            "license profile",
        )
    elif arc_license == "unknown" and platform == "arc":
        verdict.warn(
            "the Arc Hotpatch licence cannot be seen from the host (hotpatch_arc_license is unknown): "
            "eligible assumes it is enabled; set hotpatch_arc_license to enabled or disabled"
        )
    if platform == "arc" and arc is not None and arc["agent_installed"]:
        agent = facts.get("azcmagent")
        why = read_error(facts, "azcmagent")
        if agent is not None and agent.get("status") and agent["status"].lower() != "connected":
            verdict.warn(
                f"azcmagent show reports the agent {agent['status']} (last heartbeat "
                f"{agent.get('last_heartbeat') or 'unknown'}): the Hotpatch licence cannot be renewed while "
                "the machine is not connected to Azure Arc"
            )
        elif agent is None and why:
            verdict.warn(f"azcmagent show -j could not be read ({why}): the agent's connection is unknown")


def _check_host(facts, verdict, vbs_override=None):
    """Rules that apply on every platform: VBS running, CHPE off on Arm64, the installed updates read."""
    vbs = facts["vbs_status"]
    unread = read_error(facts, "vbs")
    if vbs is None and vbs_override is not None:
        vbs = vbs_override
        verdict.warn(
            "VirtualizationBasedSecurityStatus was not read from the host"
            + (f" ({unread})" if unread else "")
            + f": hotpatch_vbs_status {vbs_override} is used instead"
        )
    elif vbs is not None and vbs_override is not None and vbs != vbs_override:
        verdict.warn(
            f"hotpatch_vbs_status is {vbs_override} but the host reports VirtualizationBasedSecurityStatus "
            f"{vbs}: the host's value is used"
        )
    if vbs is None and unread:
        verdict.reason(
            "facts_incomplete",
            f"VirtualizationBasedSecurityStatus could not be read ({unread}): whether virtualization-based "
            "security runs is unknown; run again, or state it with hotpatch_vbs_status",
        )
    elif vbs is None:
        verdict.reason(
            "facts_incomplete",
            "vbs_status is unknown (Win32_DeviceGuard could not be read): hotpatch needs "
            "virtualization-based security running (VirtualizationBasedSecurityStatus 2)",
        )
    elif vbs != 2:
        state = VBS_STATES.get(vbs, "an unknown state")
        verdict.reason(
            "vbs_not_running",
            f"VirtualizationBasedSecurityStatus is {vbs} ({state}): hotpatch needs 2 (running); enable "
            "virtualization-based security (needs UEFI and Secure Boot) and restart",
        )
    architecture = facts["os"]["architecture"]
    restrictions = facts["hotpatch_restrictions"]
    if architecture is None:
        verdict.warn(
            "the processor architecture is unknown: the Arm64 CHPE check (HotPatchRestrictions) was skipped"
        )
    if architecture == "ARM64" and restrictions != 1:
        found = "not set (CHPE on by default)" if restrictions is None else f"{restrictions}"
        verdict.reason(
            "chpe_enabled",
            f"Arm64 host with HotPatchRestrictions {found}: set Memory Management\\HotPatchRestrictions=1 "
            "(turns CHPE off) and restart",
        )
    if facts["secure_boot"] is False:
        verdict.warn("Secure Boot is off: virtualization-based security, which hotpatch needs, requires it")
    hotfixes_unread = read_error(facts, "hotfixes")
    if facts["hotfixes"] is None and hotfixes_unread:
        verdict.reason(
            "facts_incomplete",
            f"the installed updates (Win32_QuickFixEngineering) could not be read ({hotfixes_unread}): the "
            "host's release line cannot be told; run again",
        )


def enrolment_signals(facts):
    """The local hotpatch enrolment signals Microsoft documents for Azure Edition built from ISO.

    ``{table_size, package, servicing_package, complete, missing}``: ``complete`` is true when all three are
    there, false when one is missing, None when the probe did not read them (an older probe, a read error).
    """
    enrolment = facts.get("enrolment")
    hotfixes = facts.get("hotfixes")
    if enrolment is None:
        return {
            "table_size": None,
            "package": None,
            "servicing_package": None,
            "complete": None,
            "missing": [],
        }
    servicing = None if hotfixes is None else SERVICING_PACKAGE_KB in {str(kb).upper() for kb in hotfixes}
    table = enrolment.get("hotpatch_table_size")
    package = enrolment.get("package_name")
    missing = []
    if table != HOTPATCH_TABLE_SIZE:
        missing.append(
            "Memory Management\\HotPatchTableSize is "
            + ("not set" if table is None else f"{table:#x}")
            + f" (Microsoft's steps set {HOTPATCH_TABLE_SIZE:#x})"
        )
    if package != ENROLLMENT_PACKAGE:
        missing.append(
            f"the {ENROLLMENT_PACKAGE!r} key (TargetingInfo\\DynamicInstalled\\Hotpatch.*) is missing"
        )
    if servicing is False:
        missing.append(f"the hotpatch servicing package {SERVICING_PACKAGE_KB} is not installed")
    unread = read_error(facts, "enrolment")
    complete = None if unread or servicing is None else not missing
    return {
        "table_size": table,
        "package": package,
        "servicing_package": servicing,
        "complete": complete,
        "missing": missing,
    }


def _os_problems(facts, raw_problems):
    """The problems that stop any decision: the OS block and the fields the rules read."""
    os = facts["os"]
    relevant = ("os ", "os.", "arc ", "arc.", "azure ", "azure.", "vbs_status", "hotpatch_restrictions")
    # Missing pieces that later rules handle as unknown (null) values.
    tolerated = (
        "vbs_status is missing",
        "arc is missing",
        "azure is missing",
        "hotpatch_restrictions is missing",
        "os.product_name is missing",
        "os.installation_type is missing",
        "os.ubr is missing",
        "os.architecture is missing",
    )
    problems = [p for p in raw_problems if p.startswith(relevant) and p not in tolerated]
    if os is None and "os is missing" not in problems:
        problems.append("os is null")
    elif os is not None:
        unread = read_error(facts, "os")
        for key in ("build", "edition_id"):
            if os[key] is None and not any(p.startswith(f"os.{key} ") for p in problems):
                problems.append(
                    f"os.{key} is unknown" + (f" (could not be read: {unread})" if unread else "")
                )
    return problems


def evaluate_eligibility(
    facts, platform="auto", image=None, arc_license="unknown", vmss_orchestration=None, vbs_status=None
):
    """The design's eligibility dict for one host's raw facts and host variables.

    ``vbs_status`` (hotpatch_vbs_status) states VirtualizationBasedSecurityStatus where the probe could not
    read it.
    """
    platform = _choice(platform, "hotpatch_platform", PLATFORMS, "auto")
    vbs_override = _vbs_setting(vbs_status)
    arc_license = _choice(arc_license, "hotpatch_arc_license", ARC_LICENSES, "unknown")
    vmss_orchestration = _choice(vmss_orchestration, "hotpatch_vmss_orchestration", VMSS_ORCHESTRATIONS, None)
    image = _image(image)
    normalised, raw_problems = inspect_facts(facts)
    verdict = _Verdict()
    detected = platform == "auto"
    if detected:
        platform = _detect_platform(normalised)
    problems = _os_problems(normalised, raw_problems)
    if problems:
        verdict.reason("facts_incomplete", "the host's facts are incomplete: " + "; ".join(problems))
        return _result(platform, verdict)
    os = normalised["os"]
    release = os_release(normalised)
    if (os["installation_type"] or "").lower() == "client":
        verdict.reason(
            "os_not_supported",
            f"the OS is {os['product_name'] or 'a client edition'} (installation type Client): hotpatch is "
            "for Windows Server 2022 Datacenter: Azure Edition and Windows Server 2025",
        )
    elif release not in ("2022", "2025"):
        found = f"Windows Server {release}" if release else "an unknown OS"
        found += f" (build {os['build']}.{os['ubr']})" if os["ubr"] is not None else f" (build {os['build']})"
        verdict.reason(
            "os_not_supported",
            f"the OS is {found}: hotpatch needs Windows Server 2022 Datacenter: Azure Edition (build 20348) "
            "or Windows Server 2025 (build 26100)",
        )
    if _is_container(os):
        verdict.reason(
            "image_not_supported",
            f"installation type {os['installation_type']!r} / EditionID {os['edition_id']!r} is a Windows "
            "Server container base image: containers are not supported",
        )
    if platform in ("azure", "azure_local"):
        _check_azure(normalised, platform, image, vmss_orchestration, release, verdict)
    elif platform in ("arc", "on_premises"):
        _check_arc(normalised, platform, arc_license, release, verdict)
    else:
        unread = imds_unread(normalised)
        if unread:
            verdict.reason(
                "facts_incomplete",
                f"the Azure Instance Metadata Service could not be read ({unread}): whether this is an Azure "
                "VM and from which image cannot be told; run again, or state it with hotpatch_platform (and "
                "hotpatch_image for azure or azure_local)",
            )
        else:
            verdict.reason(
                "facts_incomplete",
                "the platform cannot be told: no Azure Instance Metadata answer and the Arc agent state is "
                "unknown; set hotpatch_platform",
            )
    _check_host(normalised, verdict, vbs_override)
    _check_enrolment(normalised, platform, verdict)
    return _result(platform, verdict)


def _check_enrolment(facts, platform, verdict):
    """A warning where the local enrolment signals of an Azure Edition VM built from ISO are incomplete."""
    if platform != "azure_local":
        return
    signals = enrolment_signals(facts)
    if signals["complete"] is False:
        verdict.warn(
            "local hotpatch enrolment signals are missing ("
            + "; ".join(signals["missing"])
            + "): an Azure Edition VM built from ISO needs Microsoft's enrolment steps (Microsoft Learn, "
            "'Enable Hotpatch for Azure Edition virtual machines built from ISO')"
        )


def _result(platform, verdict):
    return {
        "eligible": not verdict.reasons,
        "platform": platform,
        "reasons": verdict.reasons,
        "warnings": verdict.warnings,
    }
