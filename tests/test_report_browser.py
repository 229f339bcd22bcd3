"""The HTML report in a real headless Chromium (Debian's package, driven by Playwright).

Checks what a product manager would see: no console errors, no network requests
(the machine is offline and the report must not need one), the charts drawn, Chinese
rendered with a CJK font, and the product filter hiding rows and switching chart traces.
A screenshot is saved in the test's temp dir for a human to look at.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading

import pytest

from tests.test_report import HOSTILE_PRODUCT, report_tables
from voc.report import render_report

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = [
    "--no-sandbox",  # the tests may run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # the closed network refuses these connections
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: run `make system-deps` (apt package chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def served(tmp_path):
    """tmp_path over HTTP on 127.0.0.1, as a report shared on an intranet is read.

    (Opened as a file:// URL, Chromium logs a security warning for plotly's SVG clip
    paths, which would hide real console errors.)
    """
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_report_draws_charts_without_errors_and_filters_by_product(
    browser, taxonomy, tmp_path, served
):
    report = tmp_path / "report.html"
    report.write_text(render_report(report_tables(), taxonomy, "run-1"), encoding="utf-8")
    url = f"{served}/report.html"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems, requests = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("request", lambda r: requests.append(r.url))

    page.goto(url)
    page.wait_for_selector(".js-plotly-plot .main-svg")
    assert problems == []
    assert requests == [url]  # everything is inline: no script, font or image fetched

    charts = page.locator(".js-plotly-plot")
    assert charts.count() == 2  # daily units by category, top product-quality topics
    lines = page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot')].map("
        "c => c.querySelectorAll('.scatterlayer .trace').length)"
    )
    assert lines == [1, 2]  # only the all-products traces are drawn at first
    assert "左耳没声音" in page.inner_text("body")
    assert HOSTILE_PRODUCT in page.inner_text("#alerts")  # shown as text ...
    assert page.locator("img").count() == 0  # ... not markup
    assert page.evaluate("[...document.scripts].filter(s => s.text.includes('xss')).length") == 0
    assert "<script>alert('xss')</script>" in page.inner_text("#alerts")
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000

    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    heading = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": heading})["fonts"]
    cjk = [
        f["familyName"] for f in fonts if f["familyName"] not in ("DejaVu Sans", "Liberation Sans")
    ]
    assert cjk, f"the Chinese heading is drawn without a CJK font: {fonts}"

    page.select_option("#product-filter", "充电宝")
    visible = page.evaluate(
        "[...document.querySelectorAll('tr[data-product]')]"
        ".filter(r => r.style.display !== 'none').length"
    )
    assert visible == 0  # the alert and the scorecard row are about other products
    metas = page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot')].map("
        "c => [...new Set(c.data.filter(t => t.visible === true).map(t => t.meta))])"
    )
    assert metas == [["充电宝"], ["充电宝"]]
    page.select_option("#product-filter", HOSTILE_PRODUCT)
    assert page.locator("#alerts tr[data-product]").first.is_visible()
    assert problems == []
    page.screenshot(path=str(tmp_path / "report-filtered.png"), full_page=True)
