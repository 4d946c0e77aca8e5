"""The raw facts a host's probe returns: checking and normalising them.

The contract (design.md): ``os``, ``vbs_status``, ``hotpatch_restrictions``, ``secure_boot``, ``azure``,
``arc``, ``hotfixes``, ``reboot_pending``, ``last_boot``, ``now``, ``timezone``. A piece the probe cannot read
is null. ``inspect_facts`` collects every problem; ``validate_facts`` raises them all at once.

Optional keys (``OPTIONAL_KEYS``; probes before them lack them, and cached facts of such probes stay valid):
``vbs_config``, ``enrolment``, ``azure_vm_agent``, ``azcmagent``, ``windows_update_policy`` and
``read_errors`` (fact -> why it could not be read: a timeout or an error, as opposed to "not there").
docs/probe.md lists each with its source.
"""

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

FACT_KEYS = (
    "os",
    "vbs_status",
    "hotpatch_restrictions",
    "secure_boot",
    "azure",
    "arc",
    "hotfixes",
    "reboot_pending",
    "last_boot",
    "now",
    "timezone",
)
OS_KEYS = ("product_name", "edition_id", "installation_type", "build", "ubr", "architecture")
AZURE_KEYS = ("publisher", "offer", "sku", "image_id", "location", "vm_scale_set_name")
ARC_KEYS = ("agent_installed", "agent_running")
REBOOT_KEYS = ("cbs", "windows_update", "file_rename", "computer_rename")
OPTIONAL_KEYS = (
    "vbs_config",
    "enrolment",
    "azure_vm_agent",
    "azcmagent",
    "windows_update_policy",
    "read_errors",
)
VBS_CONFIG_KEYS = ("enable_virtualization_based_security", "require_platform_security_features")
ENROLMENT_KEYS = ("hotpatch_table_size", "package_name", "package_version")
AZURE_VM_AGENT_KEYS = ("installed", "running")
AZCMAGENT_KEYS = (
    "status",
    "last_heartbeat",
    "resource_name",
    "resource_group",
    "subscription_id",
    "tenant_id",
    "location",
    "agent_version",
)
WU_POLICY_KEYS = (
    "wu_server",
    "use_wu_server",
    "no_auto_update",
    "au_options",
    "scheduled_install_day",
    "scheduled_install_time",
)
# Facts a read error can name (read_errors keys); others are kept as they come.
READ_ERROR_FACTS = (
    "os",
    "vbs",
    "vbs_config",
    "hotpatch_restrictions",
    "enrolment",
    "azure_vm_agent",
    "imds",
    "arc",
    "azcmagent",
    "hotfixes",
    "windows_update_policy",
    "last_boot",
)
ARCHITECTURES = {"AMD64": "AMD64", "X64": "AMD64", "ARM64": "ARM64", "X86": "X86"}

# Major build number -> Windows Server release.
RELEASES = {14393: "2016", 17763: "2019", 20348: "2022", 26100: "2025"}


def _integer(value, name, problems):
    """An int from an int or a string of digits; None (and a problem) otherwise."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    problems.append(f"{name} must be an integer, got {value!r}")
    return None


def _boolean(value, name, problems):
    if value is None or isinstance(value, bool):
        return value
    problems.append(f"{name} must be true, false or null, got {value!r}")
    return None


def _text(value, name, problems):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    problems.append(f"{name} must be a string, got {value!r}")
    return None


def _mapping(value, name, keys, problems, convert):
    """A dict with every key of ``keys`` converted; missing keys are problems (and None)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append(f"{name} must be a mapping, got {type(value).__name__}")
        return None
    result = {}
    for key in keys:
        if key not in value:
            problems.append(f"{name}.{key} is missing")
            result[key] = convert(None, f"{name}.{key}", problems)
        else:
            result[key] = convert(value[key], f"{name}.{key}", problems)
    return result


def _os(value, problems):
    def convert(item, name, problems):
        if name.endswith((".build", ".ubr")):
            return _integer(item, name, problems)
        if name.endswith(".architecture"):
            text = _text(item, name, problems)
            if text is None:
                return None
            if text.strip().upper() not in ARCHITECTURES:
                problems.append(f"{name} must be AMD64 or ARM64, got {item!r}")
                return None
            return ARCHITECTURES[text.strip().upper()]
        return _text(item, name, problems)

    return _mapping(value, "os", OS_KEYS, problems, convert)


def _hotfixes(value, problems):
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        problems.append(f"hotfixes must be a list of KB ids, got {type(value).__name__}")
        return None
    result = []
    for item in value:
        if not isinstance(item, (str, int)) or isinstance(item, bool):
            problems.append(f"hotfixes holds {item!r}, which is not a KB id")
            continue
        text = str(item).strip().upper()
        result.append(text if text.startswith("KB") else f"KB{text}")
    return result


def _optional_mapping(value, name, keys, problems, convert):
    """An optional block: None when absent or null; missing inner keys are None (older probes)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append(f"{name} must be a mapping or null, got {type(value).__name__}")
        return None
    return {key: convert(value.get(key), f"{name}.{key}", problems) for key in keys}


def _read_errors(value, problems):
    """read_errors: {fact: reason}; absent or null is no error at all."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"read_errors must be a mapping of fact to reason, got {type(value).__name__}")
        return {}
    return {str(key): "" if reason is None else str(reason) for key, reason in value.items()}


def inspect_facts(facts):
    """(normalised facts, problems): every key present (missing ones None), problems as sentences.

    HotpatchError only when ``facts`` is not a mapping at all.
    """
    if not isinstance(facts, dict):
        raise HotpatchError(
            f"facts must be a mapping (the probe's JSON document), got {type(facts).__name__}"
        )
    problems = []
    for key in FACT_KEYS:
        if key not in facts:
            problems.append(f"{key} is missing")
    normalised = {
        "os": _os(facts.get("os"), problems),
        "vbs_status": _integer(facts.get("vbs_status"), "vbs_status", problems),
        "hotpatch_restrictions": _integer(
            facts.get("hotpatch_restrictions"), "hotpatch_restrictions", problems
        ),
        "secure_boot": _boolean(facts.get("secure_boot"), "secure_boot", problems),
        "azure": _mapping(facts.get("azure"), "azure", AZURE_KEYS, [], _text_or_empty),
        "arc": _mapping(facts.get("arc"), "arc", ARC_KEYS, problems, _boolean),
        "hotfixes": _hotfixes(facts.get("hotfixes"), problems),
        "reboot_pending": _mapping(
            facts.get("reboot_pending"), "reboot_pending", REBOOT_KEYS, problems, _boolean
        ),
        "last_boot": _text(facts.get("last_boot"), "last_boot", problems),
        "now": _text(facts.get("now"), "now", problems),
        "timezone": _text(facts.get("timezone"), "timezone", problems),
        "vbs_config": _optional_mapping(
            facts.get("vbs_config"), "vbs_config", VBS_CONFIG_KEYS, problems, _integer
        ),
        "enrolment": _optional_mapping(
            facts.get("enrolment"), "enrolment", ENROLMENT_KEYS, problems, _enrolment_value
        ),
        "azure_vm_agent": _optional_mapping(
            facts.get("azure_vm_agent"), "azure_vm_agent", AZURE_VM_AGENT_KEYS, problems, _boolean
        ),
        "azcmagent": _optional_mapping(facts.get("azcmagent"), "azcmagent", AZCMAGENT_KEYS, problems, _text),
        "windows_update_policy": _optional_mapping(
            facts.get("windows_update_policy"),
            "windows_update_policy",
            WU_POLICY_KEYS,
            problems,
            _policy_value,
        ),
        "read_errors": _read_errors(facts.get("read_errors"), problems),
    }
    azure = facts.get("azure")
    if azure is not None and not isinstance(azure, dict):
        problems.append(f"azure must be a mapping or null, got {type(azure).__name__}")
    return normalised, problems


def _enrolment_value(value, name, problems):
    if name.endswith(".hotpatch_table_size"):
        return _integer(value, name, problems)
    return _text(value, name, problems)


def _policy_value(value, name, problems):
    if name.endswith(".wu_server"):
        return _text(value, name, problems)
    return _integer(value, name, problems)


def read_error(facts, fact):
    """Why the probe could not read ``fact`` (a read_errors entry), or None (read, or not there)."""
    if not isinstance(facts, dict):
        return None
    errors = facts.get("read_errors")
    if not isinstance(errors, dict):
        return None
    reason = errors.get(fact)
    return None if reason is None else str(reason) or "could not be read"


def _text_or_empty(value, name, problems):
    """Azure image fields: IMDS gives '' for what does not apply; null and missing become ''."""
    text = _text(value, name, problems)
    return "" if text is None else text


def validate_facts(facts):
    """Normalised raw facts; HotpatchError naming each missing or malformed field."""
    normalised, problems = inspect_facts(facts)
    if problems:
        raise HotpatchError("the raw facts are incomplete or malformed: " + "; ".join(problems))
    return normalised


def os_release(facts):
    """'2016', '2019', '2022', '2025' or None, from ``facts['os']['build']``."""
    if not isinstance(facts, dict):
        return None
    os = facts.get("os")
    if not isinstance(os, dict):
        return None
    build = os.get("build")
    if isinstance(build, str) and build.strip().isdigit():
        build = int(build.strip())
    if not isinstance(build, int) or isinstance(build, bool):
        return None
    return RELEASES.get(build)
