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
