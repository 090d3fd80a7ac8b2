"""The GAN playground page headlessly (AppTest): it draws, a D-step button moves exactly one D step, Start trains."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "playground.py")


def steps(at) -> str:
    return next(m.value for m in at.markdown if "D steps" in m.value)


def test_the_page_steps_exactly_once_and_trains_after_start():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert "D steps: 0 · G steps: 0" in steps(at)
    at.button(key="playground_d").click().run()
    assert not at.exception and "D steps: 1 · G steps: 0" in steps(at)
    at.button(key="playground_g").click().run()
    assert not at.exception and "D steps: 1 · G steps: 1" in steps(at)
    at.button(key="playground_start").click().run()
    at.run()
    assert not at.exception and "G steps: 1**" not in steps(at)
    assert any("Modes covered" in m.value for m in at.markdown)


def test_slow_motion_trains_exactly_one_round_per_redraw():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.segmented_control(key="playground_speed").set_value("slow motion").run()
    at.button(key="playground_start").click().run()       # the click's run draws once: one round
    assert "D steps: 1 · G steps: 1" in steps(at)
    at.run()
    assert "D steps: 2 · G steps: 2" in steps(at)


def test_settings_change_while_it_runs_and_a_new_size_restarts_only_that_network():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.button(key="playground_d").click().run()
    at.selectbox(key="pg_loss_playground").set_value("hinge").run()
    pg = at.session_state["playground_run"]["pg"]
    assert pg.cfg.loss == "hinge" and pg.d_step == 1            # the same game, a new rule
    at.number_input(key="pg_g_width_playground").set_value(16).run()
    assert pg.cfg.g_width == 16 and any("G started afresh" in t.value for t in at.toast)
    at.number_input(key="pg_pack_playground").set_value(3).run()   # 256 points do not split into packs of 3
    assert any("must be a multiple of pack" in e.value for e in at.error) and pg.cfg.pack == 1


def test_the_address_reproduces_the_game_and_a_lesson_can_leave_only_the_loss():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update({"data": "grid25", "loss": "minimax", "lr_g": "0.002", "seed": "3", "only": "loss"})
    at.run()
    assert not at.exception
    pg = at.session_state["playground_run"]["pg"]
    assert pg.cfg.loss == "minimax" and pg.cfg.lr_g == 0.002 and pg.seed == 3
    assert at.session_state["playground_run"]["data"] == "grid25"
    assert [s.key for s in at.selectbox] == ["pg_loss_playground"]  # every other control is hidden
    again = dict(at.query_params)
    assert again["data"] == "grid25" and again["only"] == "loss"


def test_the_redrawn_picture_travels_in_the_page_not_as_a_media_file():
    """Redrawn five times a second: a media file would be dropped before a late browser fetched it (a 404)."""
    import base64
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.button(key="playground_start").click().run()
    urls = [url for img in at.image for url in img.value]
    assert urls and all(u.startswith("data:image/png;base64,") for u in urls), urls[:1]
    assert base64.b64decode(urls[0].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
