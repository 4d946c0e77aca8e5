"""The run journal and the report: cost of one host append (record + locked append) and of rendering the
report of 1,000 hosts. Prints the figures; exits 1 when a target is missed.

    python tests/perf/bench_report.py     (after `make collection`; imports the installed collection)
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = Path(os.environ.get("ANSIBLE_COLLECTIONS_PATH", REPO / "build" / "collections")).resolve()
sys.path[:0] = [str(COLLECTIONS), str(REPO / "tests" / "unit" / "plugins" / "plugin_utils")]

import synthetic_run  # noqa: E402

from ansible_collections.hotpatch.windows.plugins.plugin_utils import _journal, _report  # noqa: E402

APPEND_TARGET_MS = 2.0
RENDER_TARGET_S = 5.0


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-report-"))
    run, _ = _journal.open_run(work / "append", {"pid": os.getpid(), "start": None})
    status, plan, outcome = synthetic_run.hosts()["app01"]
    times = []
    for index in range(2000):
        started = time.perf_counter()
        record = _report.host_record(f"h{index:05d}", status, plan, outcome, {"stage": "wave"})
        line = _journal.event_line("host", {"host": record["host"], "record": record})
        _journal.append(run.journal, [line])
        times.append((time.perf_counter() - started) * 1000)
    append_ms = statistics.median(times)
    p95 = sorted(times)[int(len(times) * 0.95)]
    print(f"host append (record + locked append): median {append_ms:.3f} ms, p95 {p95:.3f} ms (2000 appends)")

    big = synthetic_run.write_run(work / "render", host_count=1000)
    renders = []
    for _ in range(3):
        started = time.perf_counter()
        _report.render_run(big)
        renders.append(time.perf_counter() - started)
    render_s = min(renders)
    size = sum(p.stat().st_size for p in big.dir.rglob("*") if p.is_file()) / 1e6
    print(
        f"render 1000 hosts (html, json, csv, hosts/*.json): best of 3 {render_s:.2f} s; folder {size:.1f} MB"
    )
    ok = append_ms <= APPEND_TARGET_MS and render_s <= RENDER_TARGET_S
    missed = f"MISSED (append <= {APPEND_TARGET_MS} ms, render <= {RENDER_TARGET_S} s)"
    print("targets:", "met" if ok else missed)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
