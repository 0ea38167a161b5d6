"""axe-core (vendored in tests/vendor) in Chromium: no serious or critical accessibility
violations on the finder (before and after an answer), the planner and every embed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_browser_finder import tap_empty

# one worker's live server answers the planner pages' heavy questions, each computed once
pytestmark = pytest.mark.xdist_group("planner_pages")

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
BAD = ("serious", "critical")


def violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
        .violations.map(v => ({id: v.id, impact: v.impact,
          nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")
    return [f"{v['id']} ({v['impact']}): {v['nodes']}" for v in found if v["impact"] in BAD]


def both_statuses(page) -> None:
    """Put the other open/closed status beside each shown one, so contrast is checked for both
    whatever the time (the green of "open" failed only in CI runs during opening hours)."""
    page.evaluate("""() => document.querySelectorAll('.r-status').forEach((s) => {
        const twin = s.cloneNode(true);
        twin.className = s.classList.contains('open') ? 'r-status closed' : 'r-status open';
        s.after(twin); })""")


@pytest.mark.parametrize("path, size", [
    ("/", (360, 740)), ("/?lang=en", (1280, 800)), ("/planner", (1280, 800)),
    ("/planner?lang=en", (360, 740)),
    ("/embed/finder?lat=31.2304&lng=121.4737&open_now=0", (600, 500)),
    ("/embed/coverage?type=relay&lang=en", (600, 450)),
    ("/embed/station/relay-0001", (360, 480)), ("/no/such/page", (360, 740)),
    ("/check", (360, 740))])
def test_no_serious_or_critical_violations(live_server, page_factory, path, size):
    base = live_server()
    w = page_factory(width=size[0], height=size[1])
    w.page.goto(base + path)
    if "/no/such" not in path:
        w.page.wait_for_function("document.body.dataset.ready === '1'", timeout=20000)
    if path.startswith("/embed/finder"):
        w.page.wait_for_selector("#results li")
    both_statuses(w.page)
    found = violations(w.page)
    assert found == [], "\n".join(found)


def test_finder_with_an_answer_and_the_embed_dialog(live_server, page_factory):
    base = live_server()
    w = page_factory(width=360, height=740)
    w.page.goto(base + "/?open_now=0")
    w.page.wait_for_function("document.body.dataset.ready === '1'")
    tap_empty(w.page)
    w.page.click("#card .hours-box summary")
    both_statuses(w.page)
    found = violations(w.page)
    assert found == [], "\n".join(found)
    w.page.click("#sheet-toggle")
    w.page.click("#embed-open")
    found = violations(w.page)
    assert found == [], "\n".join(found)
