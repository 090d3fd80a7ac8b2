"""The Train page's live view of a job: controls, progress, charts, sample grids (saving: ui/train/save_panel.py).

    live_view(job)

live_view polls the job once a second from a fragment (only that part of the page is redrawn) while the
job is running or paused, and draws it once, statically, when it has ended. It only reads what the Job
copies out under its lock (metrics, grids, the confusion matrix): never the tensors being trained.
"""

import streamlit as st
from PIL import Image

from ui import charts
from ui.inline_image import inline_png
from ui.job_panel import waiting_notice
from ui.jobs import KIND, STATUS, control, lost_message, poll_every, registry, rerun_if_changed
from ui.train.save_panel import rerun_when_weights_appear
from ui.safe_text import md, md_line
from ui.train.grids import prediction_grid, sample_grid, waiting_grid
from ui.train.setup_panel import LR_OPTIONS

POLL_S = 1.0


def live_view(job):
    st.fragment(_live, run_every=poll_every(job, POLL_S))(job.id)


def _history(job) -> list:
    """The job's metric rows. The job keeps them bounded (recent rows in full, older ones thinned), so each
    poll takes them all: a list of references, and no copy growing in the session for hour-long runs."""
    return job.metrics()


def _fmt_time(s: float) -> str:
    s = max(0, int(round(s)))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _eta(job, s: dict) -> str:
    if job.status == "paused":
        return "paused"
    if not job.active:
        return "—"
    p, secs = s["progress"], s["seconds"]
    budget = (job.meta.get("train") or {}).get("seconds")
    if budget:
        return _fmt_time(budget - secs)
    return _fmt_time(secs * (1 - p) / p) if p > 0.005 else "…"


def _progress_text(job, s: dict) -> str:
    train = job.meta.get("train") or {}
    epochs = s.get("epoch")
    if train.get("seconds"):
        where = f"{s['seconds']:.0f} s of {train['seconds']:g} s"
    else:
        where = f"epoch {epochs:.1f} of {train.get('epochs', 0):g}" if epochs is not None else "epoch 0"
    return f"{STATUS.get(job.status, job.status)} · {where} · step {s['step']:,} · {s['progress']:.0%}"


def _live(job_id: str):
    job = registry().get(job_id)
    if job is None:
        st.info(lost_message())
        return
    job.heartbeat()
    rerun_if_changed(job)
    rerun_when_weights_appear(job)
    if job.status == "queued":   # Ray: every worker is busy; it starts by itself
        waiting_notice(job, key="train")
        return
    rows = _history(job)
    s = job.summary()
    if rows:
        s["epoch"] = rows[-1].get("epoch")
    _status(job, s)
    if job.active:
        _controls(job)
    st.progress(min(1.0, s["progress"]), text=_progress_text(job, s))
    _numbers(job, s, rows)
    smoothing, log = _chart_options()
    a, b = st.columns(2)
    if job.meta["kind"] == "cnn":
        a.plotly_chart(charts.loss_figure(rows, smoothing, log), key="train_chart_loss", config=charts.CHART_CONFIG)
        b.plotly_chart(charts.accuracy_figure(rows), key="train_chart_acc", config=charts.CHART_CONFIG)
        _cnn_pictures(job)
    else:
        a.plotly_chart(charts.gan_loss_figure(rows, smoothing, log), key="train_chart_gan_loss",
                       config=charts.CHART_CONFIG)
        b.plotly_chart(charts.gan_d_figure(rows), key="train_chart_gan_d", config=charts.CHART_CONFIG)
        _gan_pictures(job)


def _chart_options() -> tuple[float, bool]:
    """TensorBoard's two loss-chart controls: how much to smooth, and a log axis."""
    a, b, _ = st.columns([1.2, 1, 2], vertical_alignment="bottom")
    smoothing = a.slider("Smoothing", 0.0, 0.99, 0.9, 0.01, key="train_chart_smoothing", persist_state="session",
                         help="How much the bold loss curve averages over past steps (an exponential moving "
                              "average, as TensorBoard's slider): 0 shows every batch as it came.")
    log = b.toggle("Log scale", key="train_chart_log", persist_state="session",
                   help="A logarithmic loss axis: a spike (too high a learning rate) no longer flattens the "
                        "rest of the curve, and slow late progress stays visible.")
    return smoothing, log


def _status(job, s: dict):
    kind, preset = KIND.get(job.meta["kind"], job.meta["kind"]), job.meta.get("preset", "")
    what = f"**{kind}** ({md(preset)}) on **{md(job.meta.get('dataset'))}**"
    if job.status == "error":
        st.error(f"Training broke down — {md_line(job.error)}", icon=":material/error:")
    elif job.status == "stopped":
        st.warning(f"{what}: stopped at step {s['step']:,}. " + (f"It {md_line(job.error)}." if job.error else
                   "You can still save what it learned so far, or start a new run.") + _judgement(s))
    elif job.status == "done":
        # finished, but a run that learned nothing is no success: the hint below says why
        (st.info if s.get("hint") else st.success)(f"{what}: {_summary_line(job, s)}")
    elif job.status == "paused":
        st.info(f"{what}: paused at step {s['step']:,}. Resume, or press Step to train on one batch at a time.")
    else:
        st.markdown(what + " — training in the background; you can switch pages or change settings meanwhile.")
    if s.get("hint"):  # a run that learned nothing: say why (the library's one line) rather than a bare 10%
        st.warning(f"**Not learning** — {md_line(s['hint'])}.", icon=":material/trending_flat:")


def _summary_line(job, s: dict) -> str:
    epochs = s.get("epoch") or 0.0
    head = (f"finished {epochs:.1f} epochs ({s['step']:,} steps) in {_fmt_time(s['seconds'])} of training, "
            f"{s['images_per_s']:,.0f} images/s")
    if job.meta["kind"] == "cnn" and "val_acc" in s:
        return f"{head}. Validation accuracy {s['val_acc']:.1%}, training loss {s.get('loss', float('nan')):.3f}."
    if "d_x" in s:
        return (f"{head}. Last D(x) {s['d_x']:.2f}, D(G(z)) {s['d_g_z']:.2f}; losses D {s['loss_d']:.2f}, "
                f"G {s['loss_g']:.2f}.{_judgement(s)}")
    return head + "."


def _judgement(s: dict) -> str:
    """A GAN run's figures from the judge at its end (imgai.inference.quality.board_judgement), if it had one."""
    if "frechet" not in s:
        return ""
    return (f" Judged on 1,000 new samples: a Fréchet distance of **{s['frechet']:.0f}** to the held-out images "
            f"(1,000 real training images: {s['frechet_real']:.0f}; lower is closer), {s['readable']:.0%} read "
            f"with 90% confidence by the digits CNN, {s['classes_drawn']} classes drawn. The class board ranks "
            "GANs by this distance.")


def _controls(job):
    a, b, c, d = st.columns([1, 1, 1, 2.4], vertical_alignment="bottom")
    if job.status == "paused":
        a.button("Resume", icon=":material/play_arrow:", key="train_resume", width="stretch", on_click=control,
                 args=(job.id, "resume"), help="Carry on training from where it paused.")
    else:
        a.button("Pause", icon=":material/pause:", key="train_pause", width="stretch", on_click=control,
                 args=(job.id, "pause"), help="Hold training between two batches; nothing is lost.")
    b.button("Step", icon=":material/skip_next:", key="train_step", width="stretch", on_click=control,
             args=(job.id, "step"),
             help="Pause, then train on exactly one more batch per click — watch single updates, as in GAN Lab.")
    c.button("Stop", icon=":material/stop:", key="train_stop", width="stretch", on_click=control,
             args=(job.id, "stop"), help="End the run now. What it learned so far can still be saved.")
    key = f"train_lr_now_{job.id}"
    options = sorted(set(LR_OPTIONS) | {job.lr})
    if key not in st.session_state or st.session_state[key] not in options:
        st.session_state[key] = job.lr
    d.select_slider("Learning rate (change it while it trains)", options, key=key, format_func="{:g}".format,
                    on_change=_set_lr, args=(job.id, key),
                    help="Takes effect at the next batch. Try a much larger one and watch the loss jump.")
    asked = float(st.session_state[key])
    if abs(asked - job.lr) > 1e-12 * asked:      # asked for, not yet applied: say so, and when it will be
        when = "Resume or Step to apply it" if job.status == "paused" else "from the next batch"
        d.caption(f":material/schedule: Pending: {asked:g} replaces {job.lr:g} {when}.")
    elif job.status == "paused" and st.session_state.get(f"train_lr_paused_{job.id}"):
        d.caption(f":material/schedule: Paused: {asked:g} is used from the next batch (Resume or Step).")
    if job.status != "paused":
        st.session_state.pop(f"train_lr_paused_{job.id}", None)


def _set_lr(job_id: str, key: str):
    job = registry().get(job_id)
    if job is not None:
        job.set_lr(float(st.session_state[key]))
        if job.status == "paused":      # changed during a pause: the caption says when it takes effect
            st.session_state[f"train_lr_paused_{job_id}"] = True


def _numbers(job, s: dict, rows: list):
    a, b, c, d = st.columns(4)
    a.metric("Images / second", f"{s['images_per_s']:,.0f}", help="Training speed: images looked at per second.")
    b.metric("Training time", _fmt_time(s["seconds"]), help="Time spent training (pauses do not count).")
    c.metric("Time left", _eta(job, s), help="Estimated from the speed so far.")
    if job.meta["kind"] == "cnn":
        val = s.get("val_acc")
        d.metric("Validation accuracy", f"{val:.1%}" if val is not None else "—",
                 help="Share of unseen validation images named correctly; measured at the end of each epoch.")
    else:
        lr = next((r["lr"] for r in reversed(rows) if "lr" in r), None)   # the last row may be the judge's
        d.metric("Learning rate now", f"{lr:.2g}" if lr is not None else "—",
                 help="The step size in use at this moment.")


def _png(key: tuple, draw) -> str:
    """A drawn picture as a PNG data: URL (ui.inline_image: no media file a late browser could miss), kept per
    session: a poll that finds no new grid re-encodes nothing."""
    cache = st.session_state.setdefault("train_pictures", {})
    if key not in cache:
        if len(cache) >= 16:
            cache.clear()
        img = draw()
        cache[key] = inline_png(img if isinstance(img, Image.Image) else Image.fromarray(img))
    return cache[key]


def _cnn_pictures(job):
    a, b = st.columns([1, 1.05], gap="medium")
    grid, names = job.latest_grid(), job.meta["class_names"]
    if grid is None and not job.active:
        st.caption("The run ended before its first epoch was over, so there are no validation results to show.")
        return
    if grid is None:  # stand-ins of the same size: nothing moves when the first epoch ends
        size, channels = job.meta["image_size"], job.meta["channels"]
        a.image(_png((job.id, "waiting"), lambda: waiting_grid(36, size, channels, names)),
                caption="Validation images with the network's answers appear at the end of the first epoch.")
    else:
        step, images, extra = grid
        a.image(_png((job.id, "pred", step), lambda: prediction_grid(images, extra["pred"], extra["true"], names)),
                caption=f"Validation images at step {step:,}: the network's answer below each; "
                        "red = wrong, the right answer in brackets.")
    conf = job.confusion
    b.plotly_chart(charts.confusion_figure(conf["matrix"] if conf else None, names, conf["step"] if conf else None),
                   key="train_chart_confusion", config=charts.CHART_CONFIG)


def _gan_pictures(job):
    grids = job.grid_history()
    a, b = st.columns([1, 1], gap="medium")
    if not grids:
        a.caption("Samples appear after the first steps.")
        return
    steps = [g[0] for g in grids]
    # The user's choice lives in a plain key (None: follow the newest grid). The slider's own key is written
    # only in a run that draws the slider: a value written while only the placeholder is drawn would outlive
    # the widget as plain state and pin the grid to an old step after a page switch.
    pick = st.session_state.get(_pick_key(job.id))
    shown = pick if pick in steps else steps[-1]
    with a:
        step, images, _ = grids[steps.index(shown)]
        st.image(_png((job.id, "gan", step), lambda: sample_grid(images, scale=2)),
                 caption=f"The generator's pictures at step {step:,} — always from the same random inputs, "
                         "so you can watch them sharpen.")
        if len(steps) > 1:
            key = f"train_grid_step_{job.id}"
            st.session_state[key] = shown
            st.select_slider("Look back", steps, key=key, format_func=lambda v: f"step {v:,}",
                             on_change=_pick_grid, args=(job.id, key, steps[-1]),
                             help="Slide left to see what the generator drew earlier in training; "
                                  "slide to the right end to follow the newest again.")
        else:  # the same place and height as the real slider, so nothing jumps when the second grid arrives
            st.select_slider("Look back", ["step 0", "later"], disabled=True, key=f"train_grid_wait_{job.id}",
                             help="Slide left to see what the generator drew earlier in training.")
    b.markdown(
        "**How to read this**\n\n"
        "- **D(x)** is how sure the discriminator is that *real* pictures are real; **D(G(z))** is how real it "
        "finds the *fakes*.\n"
        "- Early on D wins easily: D(x) near 1, D(G(z)) near 0, blobs in the grid.\n"
        "- As G improves, both drift towards the middle and strokes appear.\n"
        "- If D(G(z)) stays near 0 and the grid stops changing, G has given up: try a smaller learning rate "
        "or more discriminator dropout.")


def _pick_key(job_id: str) -> str:
    return f"train_grid_pick_{job_id}"


def _pick_grid(job_id: str, key: str, newest: int):
    """Slider callback: a step to keep looking at, or None (follow the newest) when moved to the right end."""
    value = st.session_state.get(key)
    st.session_state[_pick_key(job_id)] = None if value is None or value >= newest else value
