"""Shared helpers of the benchmarks: paths, the installed collection on sys.path, the machine, verdicts."""

import argparse
import os
import platform
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
LAB_FLEETS = REPO / "tests" / "lab" / "fleets"


def collections_path() -> Path:
    """The installed collection tree: the first ANSIBLE_COLLECTIONS_PATH entry, else build/collections."""
    configured = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep)[0]
    return Path(configured or REPO / "build" / "collections").resolve()


def use_installed_collection() -> Path:
    """Makes the installed collection importable through Ansible's collection loader (as Ansible itself
    loads it, so Jinja finds its filters too) and the repository importable (tests.lab); exits if not built.
    """
    collections = collections_path()
    installed = collections / "ansible_collections" / "hotpatch" / "windows"
    if not installed.is_dir():
        sys.exit(f"bench: the collection is not installed at {installed}: run `make collection` first")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(collections))
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader([str(collections)])
    return collections


def machine() -> dict:
    """What the figures were measured on (no host name, no paths)."""
    memory = None
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def print_machine():
    info = machine()
    print(
        f"machine: {info['cores']} cores ({info['cpu']}), {info['memory_gib']} GiB memory, "
        f"{info['os']}, Python {info['python']}; load average now {load_average()}"
    )


def load_average() -> str:
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def verdict(name: str, passed: bool, detail: str) -> bool:
    print(f"{'PASS' if passed else 'FAIL'}  {name}: {detail}")
    return passed


def int_list(text: str) -> list:
    """'50,200' -> [50, 200] (argparse type)."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or any(value < 1 for value in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated integers >= 1, got {text!r}")
    return values
