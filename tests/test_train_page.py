"""The Train page driven headlessly with AppTest: set up, start a tiny run, poll it to the end, save it;
pause/resume/step/stop; the job outlives page switches and reloads; clear messages for every refusal.

`run_every` fragments do not fire in AppTest, so each at.run() is one poll.
"""
import io
import json
import threading
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from imgai.models.checkpoint import WEIGHTS_DIR, list_checkpoints, load_checkpoint, models_dir
from imgai.training.runs import LIMITS, RunSpec, SettingsError, default_train_config, prepare_run
from ui.jobs import NO_BROWSER, registry

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "app_pages" / "train.py")
APP = str(ROOT / "app.py")


@pytest.fixture(autouse=True)
def no_leftover_jobs():
    """Every test ends with no job of its own still training (the server-wide cap is shared)."""
    yield
    for job in registry().jobs():
        job.stop()
        job.wait(10)


def page(query=None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    if query:
        at.query_params.update(query)
    return at.run()


def start(at: AppTest, model="cnn", epochs=None, seconds=None, preset="fast", **knobs) -> AppTest:
    at.radio(key="train_model").set_value(model)
    at.radio(key="train_preset").set_value(preset)
    at.run()
    k = f"_{model}_{preset}"
    if seconds is not None:
        at.radio(key="knob_length" + k).set_value("seconds").run()
        at.number_input(key="knob_seconds" + k).set_value(seconds)
    else:
        at.number_input(key="knob_epochs" + k).set_value(epochs or 0.05)
    for name, value in knobs.items():
        widget = {"lr": at.select_slider, "batch": at.select_slider, "opt": at.selectbox}[name]
        widget(key=f"knob_{name}{k}").set_value(value)
    at.run()
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    return at


def the_job(at: AppTest):
    return registry().get(at.session_state["imgai_job_id"])


def poll_until(at: AppTest, cond, timeout=45.0) -> AppTest:
    t0 = time.monotonic()
    while True:
        at.run()
        assert not at.exception, at.exception
        if cond(at):
            return at
        assert time.monotonic() - t0 < timeout, "timed out polling the page"
        time.sleep(0.3)


def chart_titles(at: AppTest) -> list:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def texts(elements) -> str:
    return " | ".join(str(e.value) for e in elements)


def test_setup_shows_knobs_with_help_and_a_preview_of_the_data():
    at = page()
    assert not at.exception
    assert at.button(key="train_start").disabled is False
    captions = [c for img in at.image for c in img.captions]
    assert any("first training images" in c for c in captions) and any("unbalanced" in c for c in captions)
    assert "4,500 training and 500 validation images" in texts(at.markdown)
    for w in [*at.radio, *at.selectbox, *at.select_slider, *at.slider, *at.number_input, *at.toggle]:
        assert w.help, f"{w.label} has no help text"
    # the GAN has its own knobs: dropout in the discriminator, no augmentation switch
    at.radio(key="train_model").set_value("dcgan").run()
    assert [s.label for s in at.slider] == ["Dropout in D"] and "Augmentation" not in [t.label for t in at.toggle]
    preset = default_train_config("dcgan", "fast")                   # the preset's own settings
    assert at.select_slider(key="knob_lr_dcgan_fast").value == preset.lr
    assert at.select_slider(key="knob_batch_dcgan_fast").value == preset.batch_size


def test_the_page_says_which_settings_the_run_will_use_within_the_librarys_limits():
    at = page()
    base = default_train_config("cnn", "fast")
    will_use = lambda: next(c.value for c in at.caption if c.value.startswith("This run will use"))
    assert will_use().startswith(f"This run will use: {base.epochs:g} epochs · batch {base.batch_size} · "
                                 f"learning rate {base.lr:g}")
    epochs = at.number_input(key="knob_epochs_cnn_fast")
    assert (epochs.proto.min, epochs.proto.max) == LIMITS["epochs"]     # the box's own bounds are the library's
    epochs.set_value(1e9).run()       # the browser keeps showing what was typed; the run would not get it
    assert not at.error and will_use().startswith(f"This run will use: {base.epochs:g} epochs")
    epochs.set_value(12).run()
    assert will_use().startswith("This run will use: 12 epochs")
    at.radio(key="knob_length_cnn_fast").set_value("seconds").run()
    seconds = at.number_input(key="knob_seconds_cnn_fast")
    assert (seconds.proto.min, seconds.proto.max) == LIMITS["seconds"]
    assert will_use().startswith("This run will use: 60 s of training")


def test_a_setting_the_library_refuses_is_one_line_and_start_is_off(monkeypatch):
    monkeypatch.setitem(LIMITS, "lr", (1e-6, 1e-3))     # the fast preset's own rate is now out of range
    at = page()
    line = f"learning rate must be between 1e-06 and 0.001, not {default_train_config('cnn', 'fast').lr:g}"
    assert line in texts(at.error) and len(at.error) == 1
    assert at.button(key="train_start").disabled
    assert not [c for c in at.caption if c.value.startswith("This run will use")]
    with pytest.raises(SettingsError, match=line):   # the very line Start would meet in the library
        prepare_run(RunSpec("cnn", "fast"))


def test_tiny_cnn_run_to_the_end_then_save_and_download():
    at = start(page(), "cnn", epochs=0.05)
    job = the_job(at)
    assert at.query_params["job"] == [job.id] or at.query_params["job"] == job.id
    assert at.button(key="train_start").disabled          # one run at a time per user
    poll_until(at, lambda a: any("finished" in s.value for s in a.success))
    assert job.status == "done"
    summary = texts(at.success)
    assert "Validation accuracy" in summary and "images/s" in summary
    assert {"Training loss (lower is better)", "Accuracy (higher is better)"} <= set(chart_titles(at))
    assert any(t.startswith("Confusion matrix (validation) at step") for t in chart_titles(at))
    assert any("Validation images at step" in c for img in at.image for c in img.captions)
    assert [m.label for m in at.metric] == ["Images / second", "Training time", "Time left", "Validation accuracy"]
    assert at.button(key="train_start").disabled is False   # free to start another

    # a bad name is refused with one line; a good one is saved where the other pages look for models
    at.text_input(key=f"train_save_name_{job.id}").set_value("../evil name")
    at.button(key=f"train_save_{job.id}").click().run()
    assert "letters, digits, - and _" in texts(at.error)
    if (WEIGHTS_DIR / "digits-cnn.json").exists():                      # shipped models keep their names
        at.text_input(key=f"train_save_name_{job.id}").set_value("digits-cnn")
        at.button(key=f"train_save_{job.id}").click().run()
        assert "comes with the app" in texts(at.error)
    at.text_input(key=f"train_save_name_{job.id}").set_value("my-digits_1")
    at.button(key=f"train_save_{job.id}").click().run()
    assert not at.error and "Saved as **my-digits_1**" in texts(at.success)
    mine = models_dir() / NO_BROWSER                         # this browser's own folder (AppTest has no cookie)
    assert (mine / "my-digits_1.safetensors").exists()
    listed = {c["name"]: c for c in list_checkpoints([mine])}
    assert listed["my-digits_1"]["kind"] == "cnn" and "val_acc" in listed["my-digits_1"]["metrics"]
    load_checkpoint(mine / "my-digits_1")
    download = at.download_button(key=f"train_download_{job.id}")
    assert download.label == "Download"


def test_tiny_gan_run_shows_losses_verdicts_and_sample_grids_with_look_back():
    at = start(page(), "dcgan", seconds=2)
    poll_until(at, lambda a: any("finished" in s.value for s in a.success))
    titles = set(chart_titles(at))
    assert {"Losses: D and G pull against each other", "Discriminator's verdict (1 = real, 0 = fake)"} <= titles
    job = the_job(at)
    steps = [g[0] for g in job.grid_history()]
    assert len(steps) >= 2 and steps[0] == 0
    slider = at.select_slider(key=f"train_grid_step_{job.id}")
    assert slider.value == steps[-1]                         # follows the newest grid
    assert any(f"at step {steps[-1]:,}" in c for img in at.image for c in img.captions)
    # the grid travels inside the page (a data: URL): a media file would be dropped at the next grid, and a
    # browser that asked for it late would get a 404
    grids = [url for img in at.image if any("at step" in c for c in img.captions) for url in img.value]
    assert grids and all(url.startswith("data:image/png;base64,") for url in grids)
    slider.set_value(steps[0]).run()                         # look back to the first grid
    assert any("at step 0 " in c for img in at.image for c in img.captions)
    assert "D(x)" in texts(at.success) and "images/s" in texts(at.success)
    # judged at its end on 1,000 new samples: the page shows the figures the class board will rank it by
    s = job.summary()
    assert f"Fréchet distance of **{s['frechet']:.0f}**" in texts(at.success) and s["frechet"] > s["frechet_real"]
    assert [m.value for m in at.metric if m.label == "Learning rate now"] == [f"{job.lr:.2g}"]   # not the judge's row


def test_pause_step_resume_and_stop():
    at = start(page(), "cnn", seconds=60, preset="textbook")
    job = the_job(at)
    poll_until(at, lambda a: len(job.metrics()) >= 2)
    at.button(key="train_pause").click().run()
    assert job.status == "paused" and "paused at step" in texts(at.info)
    assert at.button(key="train_resume").label == "Resume"
    n = len(job.metrics())
    time.sleep(0.3)
    at.button(key="train_step").click().run()                # one batch more, still paused
    poll_until(at, lambda a: len(job.metrics()) > n, timeout=15)
    assert job.status == "paused"
    at.select_slider(key=f"train_lr_now_{job.id}").set_value(1e-4).run()   # learning rate changed mid-run
    poll_until(at, lambda a: job.lr == pytest.approx(1e-4), timeout=5)      # applied by the job's own thread
    assert any("Paused: 0.0001 is used from the next batch" in c.value for c in at.caption)   # and said so
    at.button(key="train_resume").click().run()
    assert job.status == "running"
    at.button(key="train_stop").click().run()
    assert job.status == "stopped"
    poll_until(at, lambda a: "stopped at step" in texts(a.warning))
    assert not at.button(key="train_start").disabled


def test_exploding_loss_is_a_clear_message_that_says_what_to_change():
    at = start(page(), "cnn", epochs=0.5, preset="textbook", lr=3.0, opt="sgd")
    poll_until(at, lambda a: bool(a.error))
    message = texts(at.error)
    assert "Training broke down" in message and "lower the learning rate" in message
    assert the_job(at).status == "error"
    assert "Save" not in [b.label for b in at.button]                   # nothing worth saving


def test_a_run_that_stalls_at_chance_says_so_on_the_page_and_in_the_sidebar():
    # Adam at 0.03 on the textbook net: every picture gets the same answer after one epoch (8 steps of 512)
    at = start(page(), "cnn", epochs=1, preset="textbook", lr=0.03, opt="adam", batch=512)
    job = the_job(at)
    poll_until(at, lambda a: not job.active, timeout=120)
    at.run()   # the poll's last render may have started while the job was still on its final step
    assert job.status == "done", job.error
    warning = texts(at.warning).replace("\\", "")  # markdown escapes
    assert "Not learning" in warning and "learning rate 0.03 is too high; try 0.003" in warning
    assert not at.success and "Validation accuracy 10.0%" in texts(at.info)   # finished, but no success
    panel = AppTest.from_function(_panel_app, default_timeout=30)
    panel.query_params["job"] = job.id
    panel.run()
    assert "Not learning" in texts(panel.sidebar.warning) and "too high" in texts(panel.sidebar.warning)


def test_a_diverged_run_says_so_in_the_sidebar_too():
    at = start(page(), "cnn", epochs=0.5, preset="textbook", lr=3.0, opt="sgd")
    job = the_job(at)
    poll_until(at, lambda a: not job.active)
    assert job.status == "error"
    panel = AppTest.from_function(_panel_app, default_timeout=30)
    panel.query_params["job"] = job.id
    panel.run()
    assert "Training broke down" in texts(panel.sidebar.error) and "lower the learning rate" in texts(panel.sidebar.error)


def test_a_reload_reattaches_through_the_url_and_a_new_tab_is_a_new_user():
    first = start(page(), "cnn", seconds=30, preset="textbook")
    job = the_job(first)
    reloaded = page(query={"job": job.id})                   # a reload: new session, same URL
    assert reloaded.session_state["imgai_job_id"] == job.id
    assert "Watch it learn" in texts(reloaded.subheader)
    assert reloaded.button(key="train_start").disabled
    assert sum(j.active for j in registry().jobs()) == 1     # re-attached, not duplicated
    other = page()                                           # another tab, no ?job=
    assert "imgai_job_id" not in other.session_state
    assert "Your data" in texts(other.subheader) and not other.button(key="train_start").disabled
    gone = page(query={"job": "000000000000"})               # a job the server no longer has
    assert "Your data" in texts(gone.subheader) and "job" not in gone.query_params


def test_a_shared_link_does_not_hand_over_the_job(monkeypatch):
    """A link copied from the address bar carries ?job=ID; another browser opening it gets a fresh page."""
    first = start(page(), "cnn", seconds=30, preset="textbook")
    job = the_job(first)
    monkeypatch.setattr("ui.jobs.owner_id", lambda: "another-browser")
    friend = page(query={"job": job.id})
    assert "imgai_job_id" not in friend.session_state and "job" not in friend.query_params
    assert job.active                                        # the sender's run goes on untouched


def test_the_server_wide_cap_answers_with_a_clear_message():
    reg = registry()
    blockers = []
    try:
        while sum(j.active for j in reg.jobs()) < reg.max_active:
            blockers.append(reg.submit(_forever, {"kind": "cnn", "dataset": "digits"}, owner="someone-else"))
        at = start(page(), "cnn", epochs=0.05)
        assert "Cannot start now: the server is already training" in texts(at.error)
        assert "imgai_job_id" not in at.session_state
    finally:
        for j in blockers:
            j.stop()
            j.wait(5)


def _forever(state):
    step = 0
    while True:
        step += 1
        time.sleep(0.01)
        yield {"step": step, "progress": 0.0, "seconds": 0.0, "images_per_s": 0.0, "loss": 1.0}


def test_a_data_set_that_cannot_be_downloaded_is_one_line_and_start_is_off(monkeypatch):
    import imgai.data.datasets
    from imgai.data.datasets import DatasetError

    def offline(name):
        raise DatasetError(f"could not download the '{name}' data set (no network); use the bundled 'digits' data set")
    monkeypatch.setattr(imgai.data.datasets, "_torchvision", offline)
    at = page()
    at.selectbox(key="train_dataset").set_value("fashion-mnist").run()
    assert not at.exception
    assert "could not download the 'fashion-mnist' data set" in texts(at.error)
    assert at.button(key="train_start").disabled


def _zip_of_class_folders(n=12) -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for cls, tint in (("cats", (200, 120, 60)), ("dogs", (60, 120, 200))):
            for i in range(n):
                img = (rng.random((20, 20, 3)) * 60 + np.array(tint) - 30).clip(0, 255).astype(np.uint8)
                png = io.BytesIO()
                Image.fromarray(img).save(png, format="PNG")
                z.writestr(f"pets/{cls}/{i}.png", png.getvalue())
        z.writestr("pets/cats/notes.txt", "not an image")
    return buf.getvalue()


def test_an_uploaded_zip_of_class_folders_is_previewed_and_trains():
    at = page()
    at.selectbox(key="train_dataset").set_value("zip").run()
    assert at.button(key="train_start").disabled             # nothing uploaded yet
    at.file_uploader(key="train_zip").upload("my pets.zip", _zip_of_class_folders(), "application/zip").run()
    assert not at.exception and not at.error, texts(at.error)
    assert "2 classes" in texts(at.markdown) and "32×32 colour" in texts(at.markdown)
    assert "1 file in the zip was not a usable image" in texts(at.warning)
    at.button(key="train_start").click().run()
    job = the_job(at)
    assert job.meta["dataset"] == "folder:my_pets.zip" and job.meta["class_names"] == ["cats", "dogs"]
    job.stop()
    assert job.wait(30)


def test_an_unreadable_zip_is_one_line():
    at = page()
    at.selectbox(key="train_dataset").set_value("zip").run()
    at.file_uploader(key="train_zip").upload("broken.zip", b"this is not a zip", "application/zip").run()
    assert not at.exception and len(at.error) == 1 and "\n" not in at.error[0].value
    assert at.button(key="train_start").disabled


def test_the_job_survives_switching_pages():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "No training run yet" in texts(at.sidebar.caption)
    at.switch_page("app_pages/train.py").run()
    start(at, "cnn", seconds=30, preset="textbook")
    job = the_job(at)
    at.switch_page("app_pages/classify.py").run()
    assert job.active and at.session_state["imgai_job_id"] == job.id
    assert at.query_params["job"] in (job.id, [job.id])      # put back in the URL on every page
    at.switch_page("app_pages/train.py").run()
    assert not at.exception and job.active
    assert "Watch it learn" in texts(at.subheader) and at.button(key="train_stop")
    assert at.radio(key="train_preset").value == "textbook"                 # the setup is kept, too
    assert at.number_input(key="knob_seconds_cnn_textbook").value == 30
    assert sum(j.active for j in registry().jobs()) == 1     # switching pages did not start another


def _panel_app():
    import streamlit as st

    from ui.job_panel import job_panel
    with st.sidebar:
        job_panel()


def test_the_sidebar_panel_shows_the_job_and_controls_it():
    # (AppTest drops sidebar elements on reruns of st.navigation apps, so the panel is tested on its own)
    run = _tiny_textbook_run()
    job = registry().submit(run.loop, run.meta, owner=NO_BROWSER)  # AppTest sends no browser cookie
    at = AppTest.from_function(_panel_app, default_timeout=30)
    at.query_params["job"] = job.id                         # re-attached as after a reload
    at.run()
    assert "**CNN** on **digits**" in texts(at.sidebar.markdown) and len(at.sidebar.get("progress")) == 1
    at.sidebar.button(key="panel_pause").click().run()
    assert job.status == "paused" and "paused" in texts(at.sidebar.markdown)
    at.sidebar.button(key="panel_resume").click().run()
    assert job.status == "running"
    at.sidebar.button(key="panel_stop").click().run()
    assert job.status == "stopped"
    assert "stopped" in texts(at.sidebar.markdown) and not [b for b in at.sidebar.button]


def _tiny_textbook_run():
    cfg = replace(default_train_config("cnn", "textbook"), epochs=None, seconds=30)
    return prepare_run(RunSpec("cnn", "textbook", train=cfg), device="cpu")


def _scripted_gan(release: threading.Semaphore):
    """A stand-in GAN loop that yields one metric row and one sample grid each time the test releases it:
    the test decides exactly when a new grid exists."""
    def loop(state):
        step = 0
        while True:
            release.acquire()
            yield {"step": step, "progress": 0.0, "seconds": 0.0, "images_per_s": 0.0, "lr": 2e-4,
                   "loss_d": 1.0, "loss_g": 1.0, "d_x": 0.5, "d_g_z": 0.5}
            yield {"event": "samples", "step": step, "images": np.full((4, 8, 8, 1), step % 256, np.uint8)}
            step += 20
    return loop


def _grid_captions(at: AppTest) -> str:
    return " | ".join(c for img in at.image for c in img.captions)


def _publish(release: threading.Semaphore, job, k: int = 1):
    """Let the scripted loop publish k more grids, and wait until the job holds them."""
    n = len(job.grid_history()) + k
    for _ in range(k):
        release.release()
    t0 = time.monotonic()
    while len(job.grid_history()) < n:
        assert time.monotonic() - t0 < 10, "the scripted loop did not publish its grid"
        time.sleep(0.02)


def test_a_running_gans_grid_keeps_advancing_after_a_page_switch():
    release = threading.Semaphore(0)
    job = registry().submit(_scripted_gan(release), {"kind": "dcgan", "dataset": "digits", "preset": "fast",
                                                     "train": {"seconds": 600}}, owner=NO_BROWSER)
    try:
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params["job"] = job.id                        # this session's run (as after a reload)
        at.run()
        at.switch_page("app_pages/train.py")
        _publish(release, job)
        at.run()                                               # one grid: the disabled placeholder slider
        assert "at step 0 " in _grid_captions(at)
        _publish(release, job, 2)
        at.run()                                               # the real slider follows the newest grid
        assert "at step 40 " in _grid_captions(at)
        assert at.select_slider(key=f"train_grid_step_{job.id}").value == 40
        at.switch_page("app_pages/classify.py").run()          # look at another page while it trains
        _publish(release, job, 2)
        at.switch_page("app_pages/train.py").run()             # back: the newest grid, not a stale one
        assert not at.exception, at.exception
        assert "at step 80 " in _grid_captions(at)
        _publish(release, job)
        at.run()
        assert "at step 100 " in _grid_captions(at)
        # looking back stays put while new grids arrive; moving the slider to the newest follows again
        at.select_slider(key=f"train_grid_step_{job.id}").set_value(20).run()
        assert "at step 20 " in _grid_captions(at)
        _publish(release, job)
        at.run()
        assert "at step 20 " in _grid_captions(at)
        at.select_slider(key=f"train_grid_step_{job.id}").set_value(120).run()
        _publish(release, job)
        at.run()
        assert "at step 140 " in _grid_captions(at)
    finally:
        job.stop()
        for _ in range(3):
            release.release()
        job.wait(5)


def test_the_class_count_picture_has_a_bar_and_a_label_per_class_and_thins_labels_only_when_crowded():
    from xml.etree import ElementTree

    from ui.train.class_counts import class_counts_svg
    ns = "{http://www.w3.org/2000/svg}"

    def drawn(counts):
        root = ElementTree.fromstring(class_counts_svg(counts))
        return [r for r in root.iter(ns + "rect")], [t.text for t in root.iter(ns + "text")]

    bars, texts = drawn({str(i): 400 + i for i in range(10)})
    assert len(bars) == 10 and all(str(i) in texts for i in range(10)) and "409" in texts
    heights = [float(b.get("height")) for b in bars]
    assert heights == sorted(heights) and heights[0] > 0
    bars, texts = drawn({f"class number {i}": 5 for i in range(60)})   # crowded: every bar, not every name
    assert len(bars) == 60 and 0 < sum(t.startswith("class") for t in texts) < 60


def _tiny_sweep_job():
    from imgai.experiments.sweep import SweepSpec, prepare_sweep
    sweep = prepare_sweep(SweepSpec(knobs={"batch_size": [128, 256]}, folds=1, epochs=0.1), device="cpu")
    return registry().submit(sweep.loop, sweep.meta, owner=NO_BROWSER)


def test_an_experiments_job_does_not_take_over_the_train_page_even_after_a_reload():
    job = _tiny_sweep_job()
    at = page({"job": job.id})                                # a reload: the URL names the sweep's job
    assert not at.exception, at.exception
    assert "Watch it learn" not in texts(at.subheader) and "Your data" in texts(at.subheader)
    assert "Save this model" not in texts(at.subheader) + texts(at.markdown)   # no Save panel for it
    if job.active:                                            # one run at a time per user, and it says why
        assert at.button(key="train_start").disabled
        assert "sweep is running on the **Experiments** page" in texts(at.caption)
    job.wait(120)
    at.run()
    assert not at.exception and not at.button(key="train_start").disabled
    assert "Watch it learn" not in texts(at.subheader)
    shown = texts(at.markdown) + texts(at.caption)
    assert "images/s" not in shown and "finished 0.0 epochs" not in shown


def test_the_sidebar_names_an_experiment_as_what_it_is():
    job = _tiny_sweep_job()
    at = AppTest.from_function(_panel_app, default_timeout=30)
    at.query_params["job"] = job.id
    at.run()
    shown = texts(at.sidebar.markdown) + texts(at.sidebar.caption)
    assert "**Sweep** on **digits**" in shown and "Experiments" in shown
    assert "images/s" not in shown and "validation accuracy" not in shown


def test_the_chosen_training_length_stays_when_switching_model():
    at = page()
    at.number_input(key="knob_epochs_cnn_fast").set_value(3.0).run()
    at.radio(key="train_model").set_value("dcgan").run()
    assert at.number_input(key="knob_epochs_dcgan_fast").value == 3.0
    at.radio(key="knob_length_dcgan_fast").set_value("seconds").run()
    at.number_input(key="knob_seconds_dcgan_fast").set_value(120).run()
    at.radio(key="train_preset").set_value("textbook").run()
    assert at.radio(key="knob_length_dcgan_textbook").value == "seconds"
    assert at.number_input(key="knob_seconds_dcgan_textbook").value == 120
    assert "120 s of training" in next(c.value for c in at.caption if c.value.startswith("This run will use"))
