"""fleet.html as a person sees it: headless Chromium (Debian's `chromium`, installed by `make chromium`)
renders the report of a synthetic run (waves, restarts, reasons) at 1280 px; the test checks, on the PNG,
that the timeline and each host's reasons are drawn, and that nothing is wider than the window.

The page has no script. A copy of it with a short script that writes the element boxes into the DOM is read
with --dump-dom; the screenshot is of the page itself (the script only appends an element at the end, so the
boxes are the same)."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYNTHETIC = REPO / "tests" / "unit" / "plugins" / "plugin_utils"
WIDTH, HEIGHT = 1280, 2000
PROBE = """<script>
(function () {
  function box(el) { var r = el.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }
  var result = {
    timeline: box(document.querySelector('#timeline svg')),
    bars: Array.prototype.map.call(document.querySelectorAll('#timeline rect.down'), box),
    why: Array.prototype.map.call(document.querySelectorAll('td.why-cell'), box),
    hosts: Array.prototype.map.call(document.querySelectorAll('tr.host td:first-child .label'),
                                    function (el) { return el.textContent; }),
    page: [document.documentElement.scrollWidth, document.documentElement.scrollHeight]
  };
  var pre = document.createElement('pre');
  pre.id = 'boxes';
  pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
})();
</script>
"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "Debian's chromium is not installed and `make chromium` could not install it (apt-get as root)"
    )


def run_chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={WIDTH},{HEIGHT}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def shot(tmp_path_factory):
    image = pytest.importorskip("PIL.Image", reason="Pillow (requirements-dev.txt) is not installed")
    browser = chromium()
    # imported here, not at collection: a module-level import of the collection before the action tests'
    # conftest installs Ansible's collection loader breaks the imports of the tests collected after it
    if str(SYNTHETIC) not in sys.path:
        sys.path.insert(0, str(SYNTHETIC))
    import synthetic_run

    from ansible_collections.hotpatch.windows.plugins.plugin_utils import _report

    work = tmp_path_factory.mktemp("screenshot")
    run = synthetic_run.write_run(work / "report")
    _report.render_run(run)
    page = run.dir / "fleet.html"
    probe = work / "probe.html"
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = run_chromium(browser, work / "profile-dom", "--dump-dom", probe.as_uri())
    match = re.search(r'<pre id="boxes">(.*?)</pre>', dom.stdout, re.DOTALL)
    assert match, f"chromium --dump-dom gave no boxes: {dom.stderr[-2000:]}"
    boxes = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    png = work / "fleet.png"
    taken = run_chromium(browser, work / "profile-shot", f"--screenshot={png}", page.as_uri())
    assert png.is_file(), f"chromium took no screenshot: {taken.stderr[-2000:]}"
    picture = image.open(png).convert("RGB")
    return picture, boxes


def _crop(picture, box):
    left, top, width, height = (round(v) for v in box)
    assert width > 0 and height > 0, box
    assert top + height <= picture.height, f"{box} is below the first {picture.height} px of the page"
    return picture.crop((left, top, left + width, top + height))


def _ink(region) -> int:
    """Pixels that differ clearly from the region's most common colour (its background)."""
    colours = region.getcolors(region.width * region.height)
    background = max(colours)[1]
    return sum(
        count
        for count, colour in colours
        if sum(abs(a - b) for a, b in zip(colour, background, strict=True)) > 90
    )


def test_the_page_fits_1280_pixels(shot):
    picture, boxes = shot
    assert picture.size == (WIDTH, HEIGHT)
    assert boxes["page"][0] <= WIDTH, f"the page is {boxes['page'][0]} px wide: a column is off-screen"
    assert boxes["timeline"][0] >= 0 and boxes["timeline"][0] + boxes["timeline"][2] <= WIDTH


def test_the_timeline_is_drawn(shot):
    picture, boxes = shot
    timeline = _crop(picture, boxes["timeline"])
    assert _ink(timeline) > 0.02 * timeline.width * timeline.height, "the timeline is (nearly) blank"
    # one bar per restart (app01 restarted twice), each painted in its colour
    assert len(boxes["bars"]) == 5
    for bar in boxes["bars"]:
        region = _crop(picture, bar)
        pixels = region.width * region.height
        coloured = sum(
            count for count, (r, g, b) in region.getcolors(pixels) if max(r, g, b) - min(r, g, b) > 60
        )
        assert coloured > 0.5 * pixels, f"the bar at {bar} is not painted"


def test_each_hosts_reasons_are_drawn(shot):
    picture, boxes = shot
    assert len(boxes["why"]) == len(boxes["hosts"]) == 8  # the synthetic run's hosts
    drawn = 0
    for box in boxes["why"]:
        if box[1] + box[3] > picture.height:
            continue  # below the screenshot
        region = _crop(picture, box)
        assert _ink(region) > 150, f"no text drawn in the reasons cell at {box}"
        drawn += 1
    assert drawn >= 5, f"only {drawn} reasons cells are within the first {HEIGHT} px"
