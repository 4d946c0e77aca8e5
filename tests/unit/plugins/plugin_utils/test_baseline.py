"""Baseline state (plugins/plugin_utils/_baseline.py), from cases/baseline.yml."""

import pytest
from hotpatch_cases import case_facts, load, params

from ansible_collections.hotpatch.windows.plugins.plugin_utils._baseline import evaluate_baseline
from ansible_collections.hotpatch.windows.plugins.plugin_utils._eligibility import evaluate_eligibility
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

CASES = load("baseline")
DESIGN_KEYS = {
    "facts",
    "eligibility",
    "cycle",
    "release_line",
    "current",
    "baseline",
    "on_current_baseline",
    "up_to_date",
    "reboot_pending",
}


def _eligibility(case):
    eligible = case.get("eligible", True)
    return {
        "eligible": eligible,
        "platform": "azure",
        "reasons": [] if eligible else [{"code": "x"}],
        "warnings": [],
    }


def _catalog(case, tmp_path):
    if "catalog_file" in case:
        path = tmp_path / "hotpatch_catalog.yml"
        path.write_text(case["catalog_file"], encoding="utf-8")
        return str(path)
    return case.get("catalog")


@pytest.mark.parametrize("case", params(CASES["cases"]))
def test_baseline(case, tmp_path):
    facts = case_facts(case)
    eligibility = _eligibility(case)
    result = evaluate_baseline(
        facts, eligibility, case.get("when"), _catalog(case, tmp_path), case.get("signals")
    )
    assert set(result) >= DESIGN_KEYS
    assert result["facts"] == facts
    assert result["eligibility"] == eligibility
    for key, expected in case["expected"].items():
        if key == "cycle" and expected is not None:
            assert {field: result["cycle"][field] for field in expected} == expected
        else:
            assert result[key] == expected, key
    if "warnings" in case:
        if case["warnings"] == []:
            assert result["warnings"] == []
        text = " | ".join(result["warnings"])
        for fragment in case["warnings"]:
            assert fragment in text


def test_eligibility_computed_when_not_given():
    facts = case_facts({"base": "azure_2025"})
    result = evaluate_baseline(facts, None)
    assert result["eligibility"] == evaluate_eligibility(facts)
    assert result["release_line"] == "hotpatch"


@pytest.mark.parametrize("case", params(CASES["errors"]))
def test_errors(case):
    facts = case["facts"] if "facts" in case else case_facts(case)
    eligibility = case.get(
        "eligibility", {"eligible": True, "platform": "azure", "reasons": [], "warnings": []}
    )
    with pytest.raises(HotpatchError) as info:
        evaluate_baseline(facts, eligibility, case.get("when"), case.get("catalog"))
    for fragment in case["error"]:
        assert fragment in str(info.value)
