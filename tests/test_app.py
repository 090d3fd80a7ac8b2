"""The app's frame (app.py): drawn before anything heavy is imported, and every heavy module imported once, at
start-up, before any page runs (two sessions importing pandas at once made one fail)."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A fresh interpreter (nothing imported yet) runs app.py with AppTest and notes what was imported when the
# navigation was declared and when the first page began.
PROBE = r"""
import json, sys
import streamlit as st
HEAVY = ("torch", "pandas", "imgai")
seen = {}
navigation = st.navigation
def noting_navigation(*a, **k):
    seen["at_navigation"] = [m for m in HEAVY if m in sys.modules]
    page = navigation(*a, **k)
    run = page.run
    def noting_run():
        seen["at_page"] = [m for m in HEAVY if m in sys.modules]
        seen["pages_modules"] = [m for m in ("ui.classify.teach", "ui.latent.widgets", "ui.train.live")
                                 if m in sys.modules]
        return run()
    page.run = noting_run
    return page
st.navigation = noting_navigation
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=120).run()
seen["exception"] = [e.value for e in at.exception]
seen["title"] = [t.value for t in at.title]
print("PROBE" + json.dumps(seen))
"""


def test_the_frame_comes_first_and_heavy_modules_are_imported_once_before_any_page():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300)
    line = next((l for l in out.stdout.splitlines() if l.startswith("PROBE")), None)
    assert line, out.stderr[-2000:]
    seen = json.loads(line[len("PROBE"):])
    assert not seen["exception"], seen["exception"]
    assert seen["title"] == ["Train a network"]
    assert seen["at_navigation"] == []                       # nothing heavy before the frame is drawn
    assert seen["at_page"] == ["torch", "pandas", "imgai"]   # all of it before the first page runs ...
    assert seen["pages_modules"] == ["ui.classify.teach", "ui.latent.widgets", "ui.train.live"]  # ... every page's
