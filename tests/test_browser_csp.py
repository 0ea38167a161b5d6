"""No page breaks its own Content-Security-Policy in Chromium (each violation is counted)."""

from __future__ import annotations

import pytest

# one worker's live server answers the planner pages' heavy questions, each computed once
pytestmark = pytest.mark.xdist_group("planner_pages")


def wait_until(page, js: str, timeout_s: float = 20.0) -> None:
    """Poll with page.evaluate (CDP, not subject to the page's CSP, unlike wait_for_function)."""
    import time

    deadline = time.time() + timeout_s
    while not page.evaluate(js):
        assert time.time() < deadline, f"timed out waiting for {js}"
        time.sleep(0.1)


WATCH = """window.__csp = []; document.addEventListener('securitypolicyviolation',
    e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.mark.parametrize("path", ["/?open_now=0&lat=31.2304&lng=121.4737", "/planner",
                                  "/check", "/embed/finder?lat=31.2304&lng=121.4737",
                                  "/embed/coverage", "/embed/station/relay-0001",
                                  "/no/such/page"])
def test_no_csp_violations(live_server, page_factory, path):
    base = live_server()
    w = page_factory(width=1280, height=800, bypass_csp=False)
    w.page.add_init_script(WATCH)
    w.page.goto(base + path)
    if "/no/such" not in path:
        wait_until(w.page, "document.body.dataset.ready === '1'")
    w.page.wait_for_timeout(300)
    assert w.page.evaluate("window.__csp") == []
    assert [p for p in w.problems if "404" not in p or "/no/such" not in path] == []


def test_an_injected_inline_script_would_be_blocked(live_server, page_factory):
    """The policy is really enforced: a script without the nonce does not run."""
    base = live_server()
    w = page_factory(width=800, height=600, bypass_csp=False)
    w.page.add_init_script(WATCH)
    w.page.goto(base + "/embed/station/relay-0001")
    wait_until(w.page, "document.body.dataset.ready === '1'")
    w.page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__ran = 1'; document.body.append(s); }""")
    w.page.wait_for_timeout(200)
    assert w.page.evaluate("window.__ran") is None
    assert any(v.startswith("script-src") for v in w.page.evaluate("window.__csp"))
