"""A teacher's lesson link in Chromium, as a student opens it: only the learning rate shows, a run starts with
the link's other settings, and 'Show every control' brings the rest back with the link's values."""
from app_server import settle, shot


def test_a_lesson_link_leaves_only_the_learning_rate(serve, browser, user_folders):
    url = serve(user_folders)
    page = browser.new_page(viewport={"width": 1300, "height": 1300})
    page.goto(url + "/?model=cnn&epochs=3&batch=128&lr=0.001&aug=0&only=lr")
    settle(page)
    main = page.get_by_test_id("stMainBlockContainer")
    assert main.get_by_text("A lesson link set this page up").count() == 1
    assert main.get_by_text("Learning rate", exact=True).count() == 1
    for hidden in ("Batch size", "Epochs", "Optimiser", "Seed", "Model"):
        assert main.get_by_text(hidden, exact=True).count() == 0, hidden
    assert main.get_by_text("This run will use: 3 epochs · batch 128 · learning rate 0.001").count() == 1
    shot(page, "lesson", "student")
    assert "only=lr" in page.url                                    # the lesson stays in the address
    main.get_by_role("button", name="Show every control").click()
    settle(page)
    assert main.get_by_text("Batch size", exact=True).count() == 1
    assert main.get_by_text("This run will use: 3 epochs · batch 128 · learning rate 0.001").count() == 1
