"""Inside the network, step by step, in a real browser: click a cell of a feature map and check that the sum
shown is the one imgai.inference.arithmetic computes for that cell from the same picture; then the softmax
table, the sandbox and the map of what the network learned. Screenshots go to $IMGAI_SHOTS/arithmetic."""
import re

import pytest
from app_server import settle, shot

from imgai.inference.arithmetic import explain_cell, trace_forward


@pytest.fixture(scope="module")
def server():
    from app_server import start_app, stop
    from imgai.models.checkpoint import WEIGHTS_DIR
    if not (WEIGHTS_DIR / "digits-cnn.json").exists():
        pytest.skip("needs the shipped digits CNN")
    proc, url = start_app({})
    try:
        yield url
    finally:
        stop(proc)


def _expected(layer: int, channel: int, i: int, j: int) -> float:
    """The cell as the library computes it for the page's first example picture (a 0 from the digits data)."""
    from PIL import Image

    from imgai.data.datasets import load_dataset
    from imgai.inference.classify import load_classifier
    from imgai.models.checkpoint import WEIGHTS_DIR
    clf = load_classifier(str(WEIGHTS_DIR / "digits-cnn"))
    d = load_dataset("digits")
    zero = next(x for x, y in zip(d.val_x, d.val_y.tolist()) if d.class_names[y] == "0")
    x = clf.prepare(Image.fromarray(zero[0].numpy()).convert("RGB"))
    return explain_cell(trace_forward(clf.model, x), layer, channel, i, j)["sum"]


def test_click_a_cell_and_read_its_sum(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    page.goto(server + "/classify")
    settle(page)
    page.get_by_role("tab", name="Inside the network").click()
    settle(page)
    page.get_by_text("Step by step: the arithmetic").click()
    settle(page)
    channel = int(page.get_by_role("spinbutton", name="Feature map (channel)").input_value())
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    cells = chart.locator("path.point")
    assert cells.count() == 28 * 28
    i, j = 6, 9
    box = cells.nth(i * 28 + j).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    settle(page)
    page.get_by_text(f"Cell ({i}, {j}) of map {channel}").wait_for(timeout=30_000)
    formula = page.locator("div.formula").first.inner_text()
    shown = re.search(r"= (-?\d+\.\d+)\s+\(the forward pass computed (-?\d+\.\d+)\)", formula)
    assert shown, formula
    expected = _expected(0, channel, i, j)
    assert float(shown.group(1)) == pytest.approx(expected, abs=1e-4)
    assert float(shown.group(2)) == pytest.approx(expected, abs=1e-4)
    shot(page, "arithmetic", "1-cell")

    page.get_by_role("button", name="next ▶").click()                 # the kernel slides one step right
    settle(page)
    page.get_by_text(f"Cell ({i}, {j + 1}) of map {channel}").wait_for(timeout=30_000)

    page.get_by_text("slow motion").click()                            # the kernel slides on by itself
    page.get_by_text(re.compile(rf"Cell \({i}, {j + 3}\)|Cell \({i + 1}, \d+\)")).first.wait_for(timeout=30_000)
    page.get_by_text("slow motion").click()
    settle(page)

    page.get_by_text("The dense end").scroll_into_view_if_needed()
    assert "Σ p = 1.0000" in page.get_by_text("Σ p =").first.inner_text()
    shot(page, "arithmetic", "2-softmax-sandbox")

    page.get_by_role("tab", name="Map of what it learned").click()
    settle(page)
    page.get_by_text("validation images,").wait_for(timeout=60_000)
    page.locator('canvas[data-testid="imgai-map"]').wait_for(timeout=30_000)
    shot(page, "arithmetic", "3-map")
    page.close()
