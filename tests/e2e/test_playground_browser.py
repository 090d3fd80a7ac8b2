"""The GAN playground in Chromium as a student uses it: Start and the picture moves, a step button moves exactly
one step, a CSV of their own points becomes the real data, and a bad CSV is one line."""
import re

from app_server import settle, shot


def _steps(page) -> tuple[int, int]:
    text = page.get_by_text(re.compile(r"D steps: [\d,]+ · G steps: [\d,]+")).first.inner_text()
    d, g = re.search(r"D steps: ([\d,]+) · G steps: ([\d,]+)", text).groups()
    return int(d.replace(",", "")), int(g.replace(",", ""))


def _picture(page) -> str:
    return page.locator('[data-testid="stImage"] img').first.get_attribute("src")


def test_start_moves_the_game_and_a_step_is_exactly_one_step(serve, browser, user_folders, tmp_path):
    url = serve(user_folders)
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/playground")
    settle(page)
    assert _steps(page) == (0, 0)
    first = _picture(page)
    page.get_by_role("button", name="One D step").click()
    settle(page)
    assert _steps(page) == (1, 0)
    page.get_by_role("button", name="One G step").click()
    settle(page)
    assert _steps(page) == (1, 1) and _picture(page) != first
    page.get_by_role("button", name="Start").click()
    page.wait_for_timeout(3000)
    moved = _steps(page)
    assert moved[1] > 10, moved                         # several redraws' worth of rounds in 3 s
    page.get_by_role("button", name="Stop").click()
    settle(page)
    shot(page, "playground", "1-running")
    assert page.get_by_text(re.compile(r"Modes covered: \d+ of 8")).count() == 1

    # their own points: a CSV of two clusters
    csv = tmp_path / "two-clusters.csv"
    csv.write_text("x,y\n" + "".join(f"{-2 + 0.01 * (i % 7)},{1 + 0.01 * (i % 5)}\n{2 - 0.01 * (i % 3)},{-1}\n"
                                     for i in range(50)))
    page.get_by_role("combobox", name="Real data").click()
    page.get_by_role("option", name="a CSV of points").click()
    settle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(csv))
    settle(page)
    assert _steps(page) == (0, 0)                        # a new game on the new data
    page.get_by_role("button", name="One D step").click()
    settle(page)
    assert _steps(page) == (1, 0)
    shot(page, "playground", "2-csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n=SUM(A1),3\n")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(bad))
    settle(page)
    assert page.get_by_text("looks like a spreadsheet formula").count() == 1
    assert errors == []


def test_points_drawn_with_the_mouse_become_the_real_data(serve, browser, user_folders):
    url = serve(user_folders)
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(url + "/playground")
    settle(page)
    page.get_by_role("combobox", name="Real data").click()
    page.get_by_role("option", name="draw your own points").click()
    settle(page)
    assert page.get_by_text("at least").count() >= 1          # no points yet: it says how many are needed
    canvas = page.locator('[data-testid="stMainBlockContainer"] canvas').last
    canvas.wait_for(timeout=30_000)
    box = canvas.bounding_box()
    for fx, fy in [(0.2, 0.2), (0.25, 0.22), (0.22, 0.27), (0.8, 0.8), (0.78, 0.75), (0.75, 0.8)]:
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        page.wait_for_timeout(300)
    settle(page)
    page.get_by_text(re.compile(r"D steps: 0 · G steps: 0")).wait_for(timeout=30_000)
    page.get_by_role("button", name="One D step").click()
    settle(page)
    assert _steps(page) == (1, 0)
    shot(page, "playground", "3-drawn")


def test_a_slow_browser_gets_no_404_while_the_picture_is_redrawn(serve, browser, user_folders):
    """A picture redrawn five times a second, in a browser that fetches files 2 s late (a busy laptop): every
    picture it is sent can still be shown (before, a redraw could drop the media file a late browser was
    still to fetch: a 404 seen in the console during live runs)."""
    url = serve(user_folders)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    missing = []
    # (the frontend also probes /playground/_stcore/health before the root one: a 404 by design, not a picture)
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 and "/media/" in r.url else None)
    page.goto(url + "/playground")
    settle(page)
    page.route("**/media/**", lambda route: (page.wait_for_timeout(2000), route.continue_()))
    page.get_by_role("button", name="Start").click()
    page.wait_for_timeout(6000)
    assert _steps(page)[1] > 10                          # it played: many redraws
    page.get_by_role("button", name="Stop").click()
    settle(page)
    assert not missing, missing[:3]
    assert _picture(page).startswith("data:image/png")
