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
