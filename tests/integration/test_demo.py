"""`python -m tests.demo` (what `make demo` runs) from start to end, on a small fleet.

What the patch playbook does in a hotpatch month and a baseline month, restarts and waves included, is
proven by the molecule scenarios (extensions/molecule/hotpatch_month, baseline_month) and the report's
content by test_report.py. What only this test proves is the demo script itself: both of its runs on
fresh labs, its summary (hosts per action, the restarts the lab counted, the waves) and a report per run.
One host of the demo fleet keeps it short (every restart is a wave of its own, and restarts take the
time): it takes the hotpatch with no restart in February and the baseline with one restart in April;
`make demo` runs all 18.
"""

import subprocess
import sys
import textwrap

import yaml

from tests.conftest import REPO

DEMO = yaml.safe_load((REPO / "tests" / "lab" / "fleets" / "demo.yml").read_text())
HOSTS = ("az-web01",)


def test_the_demo_script_runs_both_months_and_summarises_them(tmp_path):
    fleet = tmp_path / "fleet.yml"
    fleet.write_text(yaml.safe_dump({"date": DEMO["date"], "hosts": {h: DEMO["hosts"][h] for h in HOSTS}}))
    result = subprocess.run(
        [sys.executable, "-m", "tests.demo", "--workdir", str(tmp_path / "demo"), "--fleet", str(fleet)],
        cwd=REPO,
        text=True,
        capture_output=True,
        timeout=1200,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output, textwrap.shorten(output, 2000)
    for label in ("hotpatch-month", "baseline-month"):
        html = tmp_path / "demo" / label / "report" / "latest" / "fleet.html"
        assert f"HTML report: {html}" in output
        assert html.is_file()
    assert output.count("Restarts done (counted by the lab)") == 2
    assert output.count("Hosts per action") == 2
    assert output.count("(1 hosts)") == 2
    assert "Restart waves: none" in output  # February: hotpatched, no restart
    assert "wave 1: az-web01 (web)" in output  # April: the baseline restarts it
    assert "Done: the lab is stopped." in output
