"""Raw facts checks (plugins/plugin_utils/_facts.py), from cases/facts.yml."""

import pytest
from hotpatch_cases import case_facts, load, params

from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError
from ansible_collections.hotpatch.windows.plugins.plugin_utils._facts import (
    FACT_KEYS,
    OPTIONAL_KEYS,
    os_release,
    read_error,
    validate_facts,
)

CASES = load("facts")


def _value(facts, path):
    for part in path.split("."):
        facts = facts[part]
    return facts


@pytest.mark.parametrize("case", params(CASES["cases"]))
def test_validate_facts(case):
    facts = case_facts(case)
    if "error" in case:
        with pytest.raises(HotpatchError) as info:
            validate_facts(facts)
        for fragment in case["error"]:
            assert fragment in str(info.value)
        return
    result = validate_facts(facts)
    assert set(result) == set(FACT_KEYS) | set(OPTIONAL_KEYS)
    for path, expected in case["normalised"].items():
        assert _value(result, path) == expected, path


@pytest.mark.parametrize("facts", [None, "facts", ["os"], 3])
def test_facts_must_be_a_mapping(facts):
    with pytest.raises(HotpatchError, match="mapping"):
        validate_facts(facts)


@pytest.mark.parametrize("case", params(CASES["releases"]))
def test_os_release(case):
    assert os_release({"os": {"build": case["build"]}}) == case["release"]


@pytest.mark.parametrize("facts", [None, {}, {"os": None}, {"os": "2025"}, {"os": {"build": True}}])
def test_os_release_of_unusable_facts(facts):
    assert os_release(facts) is None


@pytest.mark.parametrize("case", params(CASES["read_errors"]))
def test_read_error(case):
    assert read_error(case_facts(case), case["fact"]) == case["reason"]
