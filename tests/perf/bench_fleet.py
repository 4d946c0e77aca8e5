"""The fleets the benchmarks run on: the demo fleet's hosts (every platform, eligibility verdict and plan
action) repeated to any size, written to the lab's fleet-file schema (tests/lab, docs/lab.md)."""

import copy
from pathlib import Path

import yaml
from _common import LAB_FLEETS

DEMO = LAB_FLEETS / "demo.yml"


def make_fleet(count: int, source: Path = DEMO, groups: int = 10) -> dict:
    """A fleet of `count` hosts cycling through the fault-free hosts of `source`, spread over `groups`
    availability groups; the same date as `source`."""
    if count < 1:
        raise ValueError(f"a fleet needs at least one host, got {count}")
    data = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    kinds = [(name, spec or {}) for name, spec in data["hosts"].items() if not (spec or {}).get("faults")]
    hosts = {}
    for index in range(count):
        name, spec = kinds[index % len(kinds)]
        host = copy.deepcopy(spec)
        host["vars"] = dict(host.get("vars") or {}, hotpatch_availability_group=f"group{index % groups:02d}")
        hosts[f"{name}-{index:04d}"] = host
    return {"date": data["date"], "hosts": hosts}


def write_fleet(count: int, directory: Path) -> Path:
    """Writes fleet-<count>.yml into `directory` and returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"fleet-{count}.yml"
    path.write_text(yaml.safe_dump(make_fleet(count), sort_keys=False), encoding="utf-8")
    return path
