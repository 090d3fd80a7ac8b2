"""Classify's map of what it learned, in Chromium: hovering a dot shows that validation image's picture and
class (TensorBoard's projector), clicking it lists its neighbours."""
from app_server import settle, shot


def test_hover_shows_the_picture_and_click_shows_its_neighbours(serve, browser, user_folders):
    url = serve(user_folders)
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/classify")
    settle(page)
    page.get_by_role("tab", name="Map of what it learned").click()
    settle(page)
    canvas = page.locator('canvas[data-testid="imgai-map"]')
    canvas.wait_for(timeout=60_000)
    box = canvas.bounding_box()
    hovered = None
    for fy in (0.5, 0.3, 0.7, 0.2, 0.8):            # sweep the mouse until it is over a dot
        for fx in [k / 40 for k in range(4, 37)]:
            page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
            hovered = canvas.get_attribute("data-hovered")
            if hovered:
                break
        if hovered:
            break
    assert hovered is not None, "no dot under the mouse anywhere on the sweep"
    tip = page.locator(".fm .tip")
    assert tip.is_visible()
    text = tip.inner_text()
    assert f"validation image {hovered}" in text or "read as" in text
    # the thumbnail is drawn (not blank): some of its pixels are bright
    lit = page.evaluate("""() => { const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot &&
        e.shadowRoot.querySelector('.fm')); const root = host ? host.shadowRoot : document;
        const c = root.querySelector('.fm .tip canvas'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 300) n++; return n; }""")
    assert lit > 10
    shot(page, "classify", "map-hover", full_page=False)
    page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    page.get_by_text("The picked point and its nearest validation images").wait_for(timeout=30_000)
    settle(page)
    shot(page, "classify", "map-picked")
    page.get_by_text("t-SNE", exact=True).click()       # the slower projection: progress, then the map
    page.get_by_text("placed by the mean map position").wait_for(timeout=120_000)
    canvas.wait_for()
    settle(page)
    shot(page, "classify", "map-tsne", full_page=False)
    assert errors == []
