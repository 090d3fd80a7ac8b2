"""The Latent space page, driven headlessly with AppTest: interpolate, slide, steer, share by URL.

Images are checked pixel for pixel: the page sends PNGs, which a recording media store hands back here.
"""
import io
import statistics
import time
from pathlib import Path

import numpy as np
import torch
import pytest
from PIL import Image, ImageSequence
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from imgai.models.checkpoint import WEIGHTS_DIR, load_checkpoint
from imgai.inference.classify import load_classifier
from imgai.grids import upscale
from imgai.inference.latent import class_probabilities, edit_latents, seed_latent
from imgai.models.sampling import sample_images
from test_latent import tiny_models

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "app_pages" / "latent.py")
TAB = {"interpolate": ":material/animation: Interpolate", "directions": ":material/tune: Directions",
       "classifier": ":material/psychology: Classifier in the loop"}


class RecordingStorage(MemoryMediaFileStorage):
    """The media store AppTest creates for each run; remembers the latest so tests can read images back."""
    latest = None

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        RecordingStorage.latest = self


def media_bytes(url: str) -> bytes:
    return RecordingStorage.latest.get_file(url.rsplit("/", 1)[-1]).content


def pixels(url: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(media_bytes(url))))


@pytest.fixture
def models(monkeypatch):
    """(generator path, classifier path), listed by the app: shipped, or tiny ones in the user folder."""
    gan, cnn = tiny_models()
    if Path(gan).parent != WEIGHTS_DIR:
        monkeypatch.setenv("IMGAI_MODELS", str(Path(gan).parent))
    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", RecordingStorage)
    return gan, cnn


def page(params: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.query_params.update(params or {})
    return at.run()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def images(at: AppTest) -> list:
    """(caption, pixels) of every st.image on the page, in order."""
    return [(cap, pixels(url)) for im in at.image for url, cap in zip(im.value, im.captions)]


def own_sample(gan_path: str, seed: int, scale: int = 4, offsets=None, psi: float = 1.0, dirs=None) -> np.ndarray:
    gan, _ = load_checkpoint(gan_path)
    z = edit_latents(seed_latent(seed, gan.config.nz)[None], dirs, offsets, psi)
    return upscale(sample_images(gan.generator, z)[0, ..., 0], scale)


def switch_tab(at: AppTest, name: str) -> AppTest:
    at.session_state["latent_tab"] = TAB[name]
    return ok(at.run())


# --- interpolation -------------------------------------------------------------------------------------------

def test_default_page_interpolates_between_the_seeds_own_samples(models):
    at = ok(page())
    gan_name, clf_name = Path(models[0]).name, Path(models[1]).name
    assert at.query_params == {"gen": gan_name, "clf": clf_name, "a": "7", "b": "42"}
    shown = images(at)
    strip = shown[:8]                              # 8 frames, then the GIF preview, then 16 picker samples
    assert strip[0][0].startswith("A: ") and strip[-1][0].startswith("B: ")
    assert np.array_equal(strip[0][1], own_sample(models[0], 7))
    assert np.array_equal(strip[-1][1], own_sample(models[0], 42))
    assert len(shown) == 8 + 1 + 16
    # every sample is labelled by the classifier: "label (confidence%)"
    clf = load_classifier(models[1])
    assert all(cap.split(": ")[-1].split(" (")[0] in clf.class_names for cap, _ in strip)


def test_frames_and_path_change_the_strip_and_the_gif_has_k_frames(models):
    at = ok(page())
    before = [p for _, p in images(at)[:8]]
    at.slider(key="latent_w_k").set_value(5)
    at.segmented_control(key="latent_w_method").set_value("lerp")
    ok(at.run())
    after = [p for _, p in images(at)[:5]]
    assert np.array_equal(after[0], before[0]) and np.array_equal(after[-1], before[-1])  # same ends
    assert not np.array_equal(after[2], before[3])                                        # a new middle
    gif = media_bytes(at.get("download_button")[0].proto.url)
    frames = [np.asarray(f.convert("L")) for f in ImageSequence.Iterator(Image.open(io.BytesIO(gif)))]
    assert len(frames) == 5
    assert np.array_equal(frames[0], own_sample(models[0], 7)) and np.array_equal(frames[-1], own_sample(models[0], 42))
    assert at.query_params["k"] == "5" and at.query_params["method"] == "lerp"


def test_clicking_samples_picks_seed_a_then_b_and_the_dice_randomises(models, monkeypatch):
    at = ok(page())
    at.button(key="latent_grid_3").click()
    ok(at.run())
    at.button(key="latent_grid_5").click()
    ok(at.run())
    assert at.number_input(key="latent_w_a").value == 3 and at.number_input(key="latent_w_b").value == 5
    assert (at.query_params["a"], at.query_params["b"]) == ("3", "5")
    strip = images(at)[:8]
    assert np.array_equal(strip[0][1], own_sample(models[0], 3))
    assert np.array_equal(strip[-1][1], own_sample(models[0], 5))
    assert at.button(key="latent_grid_3").label == "3 · A"
    import ui.latent.widgets
    monkeypatch.setattr(ui.latent.widgets.random, "randrange", lambda n: 12345)
    at.button(key="latent_dice_a").click()
    ok(at.run())
    assert at.number_input(key="latent_w_a").value == 12345 and at.query_params["a"] == "12345"
    at.number_input(key="latent_w_b").set_value(11)
    ok(at.run())
    assert at.query_params["b"] == "11"
    at.button(key="latent_grid_next").click()
    ok(at.run())
    assert at.button(key="latent_grid_0").label == "seed 16"


# --- sliders -------------------------------------------------------------------------------------------------

def test_sliders_move_the_pictures_and_truncation_zero_gives_the_mean_image(models):
    at = switch_tab(ok(page()), "directions")
    row = lambda: [p for _, p in images(at)[:8]]   # seeds A..A+7, then one strip per direction
    start = row()
    assert np.array_equal(start[0], own_sample(models[0], 7))
    assert len(at.image) == 8 + 6
    times = []
    for value in (2.0, -1.5, 3.0):
        at.slider(key="latent_w_d1").set_value(value)
        t = time.perf_counter()
        ok(at.run())
        times.append((time.perf_counter() - t) * 1000)
    moved = row()
    assert all(not np.array_equal(m, s) for m, s in zip(moved, start))
    assert at.query_params["d1"] == "3"
    print(f"\nslider redraw: whole script {statistics.median(times):.0f} ms (median of 3), page's own timer: "
          f"{at.caption[-1].value}")
    at.slider(key="latent_w_d1").set_value(0.0)
    ok(at.run())
    assert all(np.array_equal(m, s) for m, s in zip(row(), start))
    at.slider(key="latent_w_psi").set_value(0.0)
    ok(at.run())
    mean = row()
    assert all(np.array_equal(m, mean[0]) for m in mean)
    assert np.array_equal(mean[0], own_sample(models[0], 0, psi=0.0))
    at.button(key="latent_reset").click()
    ok(at.run())
    assert all(np.array_equal(m, s) for m, s in zip(row(), start))
    assert "psi" not in at.query_params and "d1" not in at.query_params


def test_direction_strips_show_each_slider_around_the_current_picture(models):
    from imgai.inference.latent import principal_directions
    at = switch_tab(ok(page({"d2": "1.5"})), "directions")
    strips = [p for _, p in images(at)[8:]]
    assert len(strips) == 6
    gan, _ = load_checkpoint(models[0])
    dirs = principal_directions(gan.generator, gan.config.nz, k=6)
    current = own_sample(models[0], 7, scale=3, offsets=[0, 1.5, 0, 0, 0, 0], dirs=dirs)
    tile = lambda strip, j: strip[3:3 + 84, (1 + 29 * j) * 3:(1 + 29 * j) * 3 + 84]   # 28 px + 1 px frame, x3
    # stops are -3, -1.5, 0, +1.5, +3: slider 1 at 0 (3rd tile) and slider 2 at +1.5 (4th) are the picture now
    assert np.array_equal(tile(strips[0], 2), current)
    assert np.array_equal(tile(strips[1], 3), current)
    assert not np.array_equal(tile(strips[0], 0), current)


# --- the classifier in the loop ------------------------------------------------------------------------------

def test_steering_raises_the_chosen_class_and_shows_the_path(models):
    clf = load_classifier(models[1])
    gan, _ = load_checkpoint(models[0])
    p0 = class_probabilities(gan.generator, clf, seed_latent(7, gan.config.nz)[None])[0]
    target = int(p0.topk(2).indices[1])
    at = switch_tab(ok(page({"target": str(target)})), "classifier")
    assert at.selectbox(key="latent_w_target").value == target
    charts = at.get("plotly_chart")
    assert len(charts) == 2                                    # the histogram and the probability curve
    summary = [m.value for m in at.markdown if "went from" in m.value][0]
    start, end = (int(v.rstrip("%")) for v in summary.split("**")[1::2][:2])
    assert end > start + 30, summary
    frames = images(at)
    assert frames[0][0].startswith("start: ")
    assert np.array_equal(frames[0][1], own_sample(models[0], 7))
    assert not np.array_equal(frames[-1][1], frames[0][1])
    assert frames[-1][0].split(": ")[1].startswith(clf.class_names[target])
    # a different class gives a different walk
    at.selectbox(key="latent_w_target").set_value(int(p0.argmax()))
    ok(at.run())
    from ui.latent.url_state import FIELDS  # the address leaves out a target at its default
    assert at.query_params.get("target", str(FIELDS["target"].default)) == str(int(p0.argmax()))
    hist = [m.value for m in at.markdown if "mode collapse" in m.value.lower() or "every class" in m.value.lower()]
    assert hist


def test_without_a_classifier_nothing_is_labelled(models):
    at = ok(page({"clf": "none"}))
    assert all(":" not in cap or cap in ("A", "B") for cap, _ in images(at)[:8])
    assert [cap for cap, _ in images(at)[:8]] == ["A"] + [""] * 6 + ["B"]
    at = switch_tab(at, "classifier")
    assert "Choose a **classifier in the loop**" in at.info[0].value


# --- sharing -------------------------------------------------------------------------------------------------

def test_the_url_round_trips_the_state(models):
    link = {"gen": Path(models[0]).name, "clf": Path(models[1]).name, "a": "3", "b": "9", "k": "6",
            "method": "lerp", "psi": "0.7", "d1": "2", "d3": "-1.5", "target": "2", "steps": "12",
            "tab": "directions"}
    at = ok(page(link))
    assert at.query_params == link                      # read back exactly as written
    assert at.number_input(key="latent_w_a").value == 3 and at.slider(key="latent_w_psi").value == 0.7
    assert at.slider(key="latent_w_d3").value == -1.5 and at.slider(key="latent_w_d2").value == 0.0
    shown = [p for _, p in images(at)]
    # a second visitor opening the same link sees the same pictures
    again = ok(page(dict(at.query_params)))
    assert all(np.array_equal(p, q) for p, q in zip(shown, [p for _, p in images(again)]))
    # a change is written back to the URL, and that URL reproduces it
    again.slider(key="latent_w_d3").set_value(0.5)
    ok(again.run())
    assert again.query_params["d3"] == "0.5"
    third = ok(page(dict(again.query_params)))
    assert third.slider(key="latent_w_d3").value == 0.5
    assert all(np.array_equal(p, q) for p, q in zip([p for _, p in images(again)], [p for _, p in images(third)]))
    # the interpolation tab from the same link: K and method come back too
    third = switch_tab(third, "interpolate")
    assert third.slider(key="latent_w_k").value == 6 and third.segmented_control(key="latent_w_method").value == "lerp"
    assert "tab" not in third.query_params        # the first tab is the default: the link leaves it out


def test_other_parameters_in_the_url_are_left_alone(models):
    at = ok(page({"job": "abc123", "a": "4"}))
    assert at.query_params["job"] == "abc123" and at.query_params["a"] == "4"
    at.number_input(key="latent_w_a").set_value(6)
    ok(at.run())
    assert at.query_params["job"] == "abc123" and at.query_params["a"] == "6"


def test_a_bad_link_warns_in_one_line_and_falls_back(models):
    at = ok(page({"gen": "nope", "a": "abc", "psi": "5", "k": "1", "method": "cubic"}))
    assert len(at.warning) == 1
    text = at.warning[0].value
    assert text.startswith("Ignored from the link:") and "\n" not in text
    assert all(w in text for w in ("gen='nope'", "a='abc'", "psi='5'", "k='1'", "method='cubic'"))
    assert at.query_params["a"] == "7" and at.query_params["gen"] == Path(models[0]).name
    assert len(images(at)) == 8 + 1 + 16


def test_no_generator_explains_where_to_get_one(models, monkeypatch, tmp_path):
    import imgai.models.checkpoint
    monkeypatch.setattr(imgai.models.checkpoint, "WEIGHTS_DIR", tmp_path / "none")
    monkeypatch.setenv("IMGAI_MODELS", str(tmp_path / "empty"))
    at = ok(page())
    assert "No image generator yet" in at.info[0].value


def test_a_slider_keeps_its_value_after_its_tab_or_the_page_was_left(models):
    """A widget key written while its widget is not drawn would outlive the widget as plain state and win
    over the page's own state when the widget comes back."""
    at = switch_tab(ok(page()), "directions")
    at.slider(key="latent_w_d1").set_value(2.0)
    ok(at.run())
    at = switch_tab(at, "interpolate")                  # the slider is not drawn now
    at = switch_tab(at, "directions")
    assert at.slider(key="latent_w_d1").value == 2.0 and at.query_params["d1"] == "2"
    at.slider(key="latent_w_d1").set_value(-1.0)
    ok(at.run())
    at = switch_tab(at, "interpolate")
    at = switch_tab(at, "directions")
    assert at.slider(key="latent_w_d1").value == -1.0 and at.query_params["d1"] == "-1"
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    app.switch_page("app_pages/latent.py").run()
    app.session_state["latent_tab"] = TAB["directions"]
    ok(app.run())
    app.slider(key="latent_w_d1").set_value(1.5)
    ok(app.run())
    ok(app.switch_page("app_pages/train.py").run())     # another page: no latent widget is drawn
    ok(app.switch_page("app_pages/latent.py").run())
    assert app.slider(key="latent_w_d1").value == 1.5
    app.slider(key="latent_w_d1").set_value(0.5)
    ok(app.run())
    ok(app.switch_page("app_pages/train.py").run())
    ok(app.switch_page("app_pages/latent.py").run())
    assert app.slider(key="latent_w_d1").value == 0.5


def test_steering_that_rises_then_falls_back_keeps_its_best_frame_and_says_when_it_failed(models, monkeypatch):
    import ui.latent.widgets as V
    from imgai.inference.latent import SteerPath
    clf = load_classifier(models[1])
    gan, _ = load_checkpoint(models[0])
    nz = gan.config.nz
    walks = {}

    def scripted(G, classifier, z0, target, steps=20, step_size=1.0, stop_at=None):
        prob = walks[steps]
        return SteerPath(torch.stack([z0.reshape(-1) * (1 + 0.1 * i) for i in range(len(prob))]), prob,
                         [clf.class_names[0]] * len(prob), [0.5] * len(prob), int(target))
    monkeypatch.setattr(V, "steer", scripted)
    walks[7] = [0.01, 0.2, 0.9, 0.6, 0.3, 0.2, 0.1, 0.05]       # up to 90%, then back down to 5%
    walks[9] = [0.01, 0.1, 0.36, 0.2, 0.1, 0.05, 0.04, 0.03, 0.02, 0.04]   # never above 36%
    at = switch_tab(ok(page({"steps": "7"})), "classifier")
    summary = next(m.value for m in at.markdown if "went from" in m.value)
    assert "went from **1%** to **90%** in 2 steps" in summary and "fell back" in summary, summary
    assert "failed" not in summary
    assert len([c for c, _ in images(at) if c.startswith(("start", "1:", "2:", "3:"))]) == 3   # frames to the best
    at = switch_tab(ok(page({"steps": "9"})), "classifier")
    summary = next(m.value for m in at.markdown if "went from" in m.value)
    assert "**Steering failed**" in summary and "to **36%**" in summary, summary


def test_the_steering_summary_says_when_the_walk_waited_and_then_jumped():
    from ui.latent.widgets import steer_summary
    prob = [0.0] * 13 + [1.0]
    labels = ["3", "3", "5", "5", "8", "8", "8", "3", "3", "5", "5", "8", "8", "7"]
    text = steer_summary({"prob": prob, "labels": labels}, "7")
    assert "went from **0%** to **100%** in 13 steps" in text
    assert "stayed under 50% for the first 13 steps, then jumped to 100% at step 13" in text
    assert "read as '3', '5', '8'" in text
    steady = steer_summary({"prob": [0.1, 0.3, 0.6, 0.9, 1.0], "labels": ["3", "3", "7", "7", "7"]}, "7")
    assert "stayed under" not in steady
