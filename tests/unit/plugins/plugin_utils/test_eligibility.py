"""Eligibility (plugins/plugin_utils/_eligibility.py), from cases/eligibility.yml."""

import json
from pathlib import Path

import pytest
from hotpatch_cases import case_facts, load, params

from ansible_collections.hotpatch.windows.plugins.plugin_utils._eligibility import evaluate_eligibility
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

CASES = load("eligibility")
RECORDED = Path(__file__).resolve().parents[3] / "windows_samples" / "probe_outputs"
DESIGN_CODES = {
    "os_not_supported",
    "edition_not_supported",
    "image_not_supported",
    "custom_image",
    "vmss_uniform",
    "vbs_not_running",
    "chpe_enabled",
    "arc_agent_missing",
    "arc_not_licensed",
    "build_too_old",
    "facts_incomplete",
}


@pytest.mark.parametrize("case", params(CASES["cases"]))
def test_eligibility(case):
    result = evaluate_eligibility(case_facts(case), **case.get("args", {}))
    expected = case["expected"]
    assert set(result) == {"eligible", "platform", "reasons", "warnings"}
    assert result["eligible"] is expected["eligible"]
    assert result["platform"] == expected["platform"]
    codes = [reason["code"] for reason in result["reasons"]]
    assert sorted(codes) == sorted(expected["codes"])
    assert set(codes) <= DESIGN_CODES
    messages = " | ".join(reason["message"] for reason in result["reasons"])
    for fragment in expected.get("messages", []):
        assert fragment in messages
    if "warnings" in expected:
        if expected["warnings"] == []:
            assert result["warnings"] == []
        text = " | ".join(result["warnings"])
        for fragment in expected["warnings"]:
            assert fragment in text


def test_every_design_code_is_covered():
    covered = {code for case in CASES["cases"] for code in case["expected"]["codes"]}
    assert covered == DESIGN_CODES


@pytest.mark.parametrize("case", params(CASES["errors"]))
def test_errors(case):
    facts = case["facts"] if "facts" in case else case_facts(case)
    with pytest.raises(HotpatchError) as info:
        evaluate_eligibility(facts, **case.get("args", {}))
    for fragment in case["error"]:
        assert fragment in str(info.value)


def test_input_facts_are_not_changed():
    facts = case_facts({"base": "azure_2025", "patch": {"os.build": "26100"}})
    before = json.dumps(facts, sort_keys=True)
    evaluate_eligibility(facts)
    assert json.dumps(facts, sort_keys=True) == before


@pytest.mark.skipif(not RECORDED.is_dir(), reason="no recorded probe outputs")
@pytest.mark.parametrize(
    "path", sorted(RECORDED.glob("*.json")) if RECORDED.is_dir() else [], ids=lambda p: p.stem
)
def test_recorded_probe_outputs_give_a_verdict(path):
    """Every recorded Windows probe output yields a well-formed verdict without an error."""
    result = evaluate_eligibility(json.loads(path.read_text(encoding="utf-8")))
    assert result["platform"] in {"azure", "azure_local", "arc", "on_premises", "unknown"}
    assert result["eligible"] is (not result["reasons"])
    assert all(reason["code"] in DESIGN_CODES and reason["message"] for reason in result["reasons"])


JUNK = [None, "", "x", -1, 1.5, True, [], ["x"], {}, {"x": 1}]
FIELDS = [
    "os",
    "os.build",
    "os.ubr",
    "os.edition_id",
    "os.architecture",
    "os.installation_type",
    "vbs_status",
    "hotpatch_restrictions",
    "secure_boot",
    "azure",
    "azure.sku",
    "azure.image_id",
    "arc",
    "arc.agent_installed",
    "reboot_pending",
    "hotfixes",
]


@pytest.mark.parametrize("field", FIELDS)
def test_junk_in_any_field_gives_a_verdict_or_hotpatch_error(field):
    """A malformed field never escapes as another exception: the whole chain decides or says why not."""
    from ansible_collections.hotpatch.windows.plugins.plugin_utils._baseline import evaluate_baseline
    from ansible_collections.hotpatch.windows.plugins.plugin_utils._plan import host_plan

    bases = ("azure_2025",) if field.startswith("azure.") else ("azure_2025", "arc_2025")
    for base in bases:
        for value in JUNK:
            facts = case_facts({"base": base, "patch": {field: value}})
            result = evaluate_eligibility(facts)
            assert result["eligible"] is (not result["reasons"])
            try:
                status = evaluate_baseline(facts, result)
                host_plan(status)
            except HotpatchError:
                pass
