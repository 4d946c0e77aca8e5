"""Who else patches a host (plugins/plugin_utils/_orchestration.py), from cases/orchestration.yml."""

import pytest
from hotpatch_cases import case_facts, load, params

from ansible_collections.hotpatch.windows.plugins.plugin_utils._baseline import baseline_state
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._orchestration import (
    orchestration,
    warnings_of,
)

CASES = load("orchestration")


@pytest.mark.parametrize("case", params(CASES["cases"]))
def test_orchestration(case):
    result = orchestration(case_facts(case), case.get("platform"), case.get("mode"))
    for key, expected in case.get("expected", {}).items():
        assert result[key] == expected, key
    if "codes" in case:
        assert [finding["code"] for finding in result["findings"]] == case["codes"]
    text = " | ".join(finding["message"] for finding in result["findings"])
    for fragment in case.get("messages", []):
        assert fragment in text
    if "warnings" in case:
        warnings = warnings_of(result)
        if case["warnings"] == []:
            assert warnings == []
        for fragment in case["warnings"]:
            assert fragment in " | ".join(warnings)


@pytest.mark.parametrize("case", params(CASES["errors"]))
def test_errors(case):
    with pytest.raises(HotpatchError) as info:
        orchestration(case_facts(case), case.get("platform"), case.get("mode"))
    for fragment in case["error"]:
        assert fragment in str(info.value)


def test_baseline_state_carries_orchestration_enrolment_and_read_errors():
    facts = case_facts({"base": "arc_2025_probe2", "patch": {"windows_update_policy.au_options": 4}})
    state = baseline_state(facts, hotpatch_arc_license="enabled")
    assert state["orchestration"]["update_source"] == "wsus"
    assert state["orchestration"]["automatic_updates"] == "scheduled_install"
    assert any("AUOptions=4" in warning for warning in state["warnings"])
    assert state["enrolment"]["complete"] is False
    assert state["read_errors"] == {"imds": "unreachable (ConnectFailure)"}


def test_baseline_state_takes_the_azure_patch_mode():
    facts = case_facts({"base": "azure_2025_probe2"})
    state = baseline_state(facts, azure_patch_mode="AutomaticByPlatform")
    assert state["orchestration"]["azure_platform_patching"] is True
    state = baseline_state(facts, hotpatch_azure_patch_mode="Manual")
    assert state["orchestration"]["azure_platform_patching"] is False


def test_older_facts_still_give_a_baseline_state():
    state = baseline_state(case_facts({"base": "azure_2025"}))
    assert state["orchestration"]["update_source"] == "unknown"
    assert state["enrolment"]["complete"] is None and state["read_errors"] == {}
