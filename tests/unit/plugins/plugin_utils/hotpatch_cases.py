"""Loading the data-driven YAML cases of the decision-layer tests (cases/*.yml beside this file)."""

import copy
import functools
from pathlib import Path

import pytest
import yaml

CASES = Path(__file__).resolve().parent / "cases"


def load(name):
    """The parsed cases/<name>.yml (a fresh copy each time)."""
    return copy.deepcopy(_parsed(name))


@functools.cache
def _parsed(name):
    with (CASES / f"{name}.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def params(cases):
    """pytest parameters, one per case, named by its id."""
    return [pytest.param(case, id=case["id"]) for case in cases]


def host_facts(base, patch=None, remove=()):
    """The facts of a base host from cases/hosts.yml, with dotted-path values replaced or removed.

    ``patch`` maps 'os.edition_id' style paths to values; ``remove`` lists paths to delete.
    """
    facts = copy.deepcopy(load("hosts")["hosts"][base])
    for path, value in (patch or {}).items():
        target, key = _parent(facts, path)
        target[key] = value
    for path in remove:
        target, key = _parent(facts, path)
        del target[key]
    return facts


def _parent(facts, path):
    *parents, key = path.split(".")
    target = facts
    for part in parents:
        target = target[part]
    return target, key


def case_facts(case):
    """The facts a case describes: a literal `facts`, or `base` with `patch` and `remove`."""
    if "facts" in case:
        return copy.deepcopy(case["facts"])
    return host_facts(case["base"], case.get("patch"), case.get("remove", ()))
