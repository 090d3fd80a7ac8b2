"""The job runner without Streamlit: a training loop in a thread that can be paused, stepped, steered,
stopped, snapshotted and saved, and that stops itself on divergence or when nobody watches any more.

Scripted loops (a tiny real CNN, no training) test the controls exactly and cheaply; a few tiny real runs
on the bundled digits test the real path.
"""
import gc
import io
import time
import types
import weakref
import zipfile
from dataclasses import replace

import pytest
import torch

from imgai.models.checkpoint import CheckpointError, list_checkpoints, load_checkpoint, models_dir
from imgai.jobs.threads import Job, JobLimitError, JobRegistry
from imgai.models import CNN, CNN_PRESETS
from imgai.training.runs import RunSpec, default_train_config, prepare_run, score_classifier
from imgai.training.config import TrainingDiverged

TINY_CNN = CNN_PRESETS["textbook"](stages=[[4], [4]], hidden=8)
META = {"kind": "cnn", "dataset": "digits", "class_names": [str(i) for i in range(10)], "image_size": 28,
        "channels": 1, "mean": [0.1307], "std": [0.3081], "intake": "digit"}


def scripted(steps=None, delay=0.003, samples_every=None, fail_at=None, val_every=None, models=None):
    """A loop factory like Run.loop: a real tiny model, metrics from a counter, the lr it was told to use.
    Each step moves the weights (so every snapshot is a different model); val_every adds epoch-end rows."""
    def factory(state):
        model = CNN(TINY_CNN)
        with torch.no_grad():
            for p in model.parameters():
                p.zero_()
        if models is not None:
            models.append(weakref.ref(model))
        state.model, state.base_lr = model, 0.01
        step = 0
        while steps is None or step < steps:
            step += 1
            if fail_at == step:
                raise TrainingDiverged(f"training stopped at step {step}: the loss became NaN (nan); lower the "
                                       "learning rate")
            if fail_at == -step:
                raise KeyError("boom\nsecond line")
            with torch.no_grad():
                model.classifier[-1].bias += 1.0   # the weights of step s have bias s
            time.sleep(delay)
            yield {"step": step, "epoch": step / 10, "progress": step / (steps or 10**9), "seconds": step * delay,
                   "images_per_s": 100.0, "lr": state.base_lr, "loss": 1.0 / step, "acc": 0.5}
            if val_every and step % val_every == 0:
                yield {"step": step, "epoch": step / 10, "progress": step / (steps or 10**9), "val_acc": 0.95}
            if samples_every and step % samples_every == 0:
                yield {"event": "samples", "step": step, "images": torch.zeros(4, 28, 28, 1, dtype=torch.uint8).numpy()}
    return factory


def bias_of(model) -> float:
    """Which step's weights a scripted model holds."""
    return float(model.classifier[-1].bias[0].detach())


def wait_for(cond, timeout=10.0):
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


def settled(job, quiet=0.15):
    """Wait until a paused job has stopped producing rows."""
    n = -1
    while n != len(job.metrics()):
        n = len(job.metrics())
        time.sleep(quiet)
    return n


def tiny_run(model="cnn", seed=0, **train):
    cfg = replace(default_train_config(model, "fast"), seed=seed, **{"epochs": 0.05, **train})
    return prepare_run(RunSpec(model=model, preset="fast", train=cfg), device="cpu")


# ---- real runs ----

def test_real_cnn_job_runs_to_done_with_metrics_grid_confusion_and_summary():
    run = tiny_run("cnn")
    job = Job(run.loop, run.meta).start()
    assert job.wait(60) and job.status == "done", job.error
    rows = job.metrics()
    assert rows[0]["step"] == 1 and all("loss" in r or "val_acc" in r for r in rows)
    assert any("val_acc" in r for r in rows)
    step, images, extra = job.latest_grid()
    assert images.dtype.name == "uint8" and images.shape[1:] == (28, 28, 1) and len(extra["pred"]) == len(images)
    assert len(job.confusion["matrix"]) == 10
    s = job.summary()
    assert s["status"] == "done" and s["progress"] == pytest.approx(1.0) and s["images_per_s"] > 0 and "val_acc" in s
    assert job.meta["config"]["num_classes"] == 10   # filled in from the model, so save() can rebuild it


def test_real_gan_job_publishes_sample_grids_from_step_zero():
    run = tiny_run("dcgan", epochs=0.03)
    job = Job(run.loop, run.meta).start()
    assert job.wait(60) and job.status == "done", job.error
    steps = [g[0] for g in job.grid_history()]
    assert steps[0] == 0 and steps[-1] == job.summary()["step"]
    assert {"loss_d", "loss_g", "d_x", "d_g_z"} <= set(job.summary())


def test_exploding_loss_stops_the_job_with_a_message_that_says_what_to_change():
    run = prepare_run(RunSpec("cnn", "textbook", train=replace(default_train_config("cnn", "textbook"), epochs=0.3,
                                                                lr=3.0, optimizer="sgd")), device="cpu")
    job = Job(run.loop, run.meta).start()
    assert job.wait(60)
    assert job.status == "error" and not job.active
    assert "lower the learning rate" in job.error and "\n" not in job.error
    assert job.snapshot()[0] is not None   # the weights so far are still published (for a post-mortem)


def test_seeded_runs_are_reproducible_and_seeds_matter():
    def losses_and_weights(seed):
        job = Job(tiny_run("cnn", seed=seed).loop, META).start()
        assert job.wait(60) and job.status == "done", job.error
        return [r["loss"] for r in job.metrics() if "loss" in r], job.snapshot()[0]

    la, wa = losses_and_weights(3)
    lb, wb = losses_and_weights(3)
    lc, _ = losses_and_weights(4)
    assert la == lb
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert la != lc


def test_set_lr_reaches_the_real_optimizer_at_the_next_batch():
    run = prepare_run(RunSpec("cnn", "textbook", train=replace(default_train_config("cnn", "textbook"), epochs=None,
                                                                seconds=60)), device="cpu")
    job = Job(run.loop, run.meta).start()
    wait_for(lambda: len(job.metrics()) >= 2)
    job.pause()
    settled(job)
    job.set_lr(0.0123)
    n = len(job.metrics())
    job.step()
    wait_for(lambda: len(job.metrics()) > n)
    assert job.metrics()[-1]["lr"] == pytest.approx(0.0123)    # constant schedule: the rate in use is the base rate
    assert job.lr == pytest.approx(0.0123)
    job.stop()
    assert job.wait(10) and job.status == "stopped"


# ---- controls, with a scripted loop ----

def test_pause_holds_the_loop_and_resume_continues():
    job = Job(scripted(), META).start()
    wait_for(lambda: len(job.metrics()) >= 3)
    job.pause()
    assert job.status == "paused" and job.active
    n = settled(job)
    time.sleep(0.2)
    assert len(job.metrics()) == n            # nothing happens while paused
    job.resume()
    assert job.status == "running"
    wait_for(lambda: len(job.metrics()) > n + 3)
    job.stop()
    assert job.wait(5) and job.status == "stopped" and job.error is None


def test_step_trains_exactly_one_batch_and_pauses_again():
    job = Job(scripted(), META).start()
    wait_for(lambda: len(job.metrics()) >= 2)
    job.step()                                 # from running, step first pauses
    assert job.status == "paused"
    n = settled(job)
    last = job.metrics()[-1]["step"]
    for k in range(1, 4):
        job.step()
        wait_for(lambda: len(job.metrics()) == n + k)
        time.sleep(0.1)
        assert len(job.metrics()) == n + k and job.metrics()[-1]["step"] == last + k
        assert job.status == "paused"
    job.stop()
    assert job.wait(5) and job.status == "stopped"


def test_stop_while_paused_ends_the_thread():
    job = Job(scripted(), META).start()
    wait_for(lambda: len(job.metrics()) >= 1)
    job.pause()
    settled(job)
    job.stop()
    assert job.wait(10)
    assert job.status == "stopped" and not job.active
    job.pause(), job.resume(), job.step(), job.stop()   # controls on an ended job are harmless no-ops
    assert job.status == "stopped"


def test_set_lr_is_applied_between_steps_and_refuses_nonsense():
    job = Job(scripted(), META).start()
    wait_for(lambda: len(job.metrics()) >= 1)
    job.set_lr(0.5)
    wait_for(lambda: job.metrics()[-1]["lr"] == 0.5)
    for bad in (0, -1, float("nan"), 100):
        with pytest.raises(ValueError):
            job.set_lr(bad)
    job.stop()
    job.wait(5)


def test_an_error_in_the_loop_becomes_one_line_on_the_job():
    job = Job(scripted(fail_at=-3), META).start()
    assert job.wait(5) and job.status == "error"
    assert job.error.startswith("training failed: KeyError: ") and "boom" in job.error
    assert "\n" not in job.error
    job = Job(scripted(fail_at=3), META).start()
    assert job.wait(5) and job.status == "error" and job.error.startswith("training stopped at step 3")


def test_snapshot_model_and_save_during_and_after_the_run(tmp_path):
    job = Job(scripted(delay=0.01), META, snapshot_every_s=0.05).start()
    wait_for(lambda: job.snapshot()[0] is not None)
    weights, step = job.snapshot()
    assert step >= 1 and all(v.device.type == "cpu" for v in weights.values())
    model = job.model()
    assert not model.training and model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    mid = job.save(models_dir() / "mid-run")              # saving while it trains
    job.stop()
    job.wait(5)
    end = job.save(tmp_path / "end")
    loaded, meta = load_checkpoint(end)
    assert meta["kind"] == "cnn" and meta["class_names"] == META["class_names"]
    assert meta["step"] == job.snapshot()[1] == job.metrics()[-1]["step"]   # the final weights are published at the end
    assert meta["metrics"]["loss"] == pytest.approx(job.metrics()[-1]["loss"])
    final = job.snapshot()[0]
    assert all(torch.equal(loaded.state_dict()[k], final[k]) for k in final)
    assert "mid-run" in [c["name"] for c in list_checkpoints()] and load_checkpoint(mid)[1]["step"] >= 1


def test_save_before_the_first_step_says_so(tmp_path):
    def never(state):
        time.sleep(0.5)
        yield from ()
    job = Job(never, META).start()
    with pytest.raises(RuntimeError, match="nothing to save yet"):
        job.save(tmp_path / "x")
    job.wait(5)


def test_sample_grids_are_thinned_but_keep_first_and_latest():
    job = Job(scripted(steps=400, delay=0.0, samples_every=1), META, max_grids=20).start()
    assert job.wait(10) and job.status == "done"
    steps = [g[0] for g in job.grid_history()]
    assert len(steps) <= 20 and steps[0] == 1 and steps[-1] == 400 and steps == sorted(steps)
    assert job.latest_grid()[0] == 400


class FakeClock:
    """imgai.jobs.threads' view of time.monotonic, moved by the test: abandonment without timing assumptions."""
    def __init__(self, monkeypatch):
        import imgai.jobs.threads
        self.now = 1000.0
        monkeypatch.setattr(imgai.jobs.threads, "time", types.SimpleNamespace(monotonic=lambda: self.now, time=time.time))


def test_abandoned_job_stops_itself_but_a_watched_one_keeps_going(monkeypatch, tmp_path):
    clock = FakeClock(monkeypatch)
    watched = Job(scripted(), META, abandon_after_s=90).start()
    alone = Job(scripted(), META, abandon_after_s=90).start()
    wait_for(lambda: len(watched.metrics()) > 2 and len(alone.metrics()) > 2)
    clock.now += 60
    watched.heartbeat()
    clock.now += 60                     # 120 s since alone was last seen, 60 s since watched was
    assert alone.wait(10) and alone.status == "stopped"
    assert alone.error.startswith("stopped after 90 s with nobody watching") and "can still be saved" in alone.error
    n = len(watched.metrics())
    wait_for(lambda: len(watched.metrics()) > n + 3)
    assert watched.status == "running"
    watched.stop()
    watched.wait(10)
    loaded, meta = load_checkpoint(alone.save(tmp_path / "kept"))    # an abandoned run stays saveable
    assert meta["step"] == alone.metrics()[-1]["step"] and bias_of(loaded) == meta["step"]


def test_abandoned_job_stops_itself_while_paused_too(monkeypatch):
    clock = FakeClock(monkeypatch)
    job = Job(scripted(), META, abandon_after_s=90).start()
    job.pause()
    clock.now += 91
    assert job.wait(10) and job.status == "stopped" and "nobody watching" in job.error


def test_registry_caps_active_jobs_with_a_clear_message():
    reg = JobRegistry(max_active=1)
    first = reg.submit(scripted(), META, owner="a")
    with pytest.raises(JobLimitError, match="limit is 1"):
        reg.submit(scripted(), META, owner="b")
    first.stop()
    first.wait(5)
    second = reg.submit(scripted(steps=3), META, owner="b")
    assert second.wait(5) and second.status == "done"
    assert reg.get(first.id) is first and reg.get("nope") is None
    assert reg.jobs(owner="b") == [second] and len(reg.jobs()) == 2
    reg.forget_finished(older_than_s=0)
    assert reg.jobs() == []


def test_registry_passes_job_options_through():
    reg = JobRegistry(max_active=2)
    job = reg.submit(scripted(), META, owner="x", abandon_after_s=1e-9)
    assert job.owner == "x"
    assert job.wait(5) and "nobody watching" in job.error


@pytest.mark.skipif(__import__("platform").system() != "Linux", reason="per-thread nice values are Linux's")
def test_registry_trains_below_the_servers_priority_and_leaves_the_server_alone():
    """The training thread gets a higher nice value; the threads serving pages (this one) keep theirs."""
    import os
    import threading
    seen = []

    def factory(state):
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        yield from scripted(steps=2)(state)

    here = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    job = JobRegistry(max_active=1, nice=5).submit(factory, META, owner="a")
    assert job.wait(5) and job.status == "done"
    assert seen == [min(19, here + 5)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == here
    job = JobRegistry(max_active=1).submit(factory, META, owner="a")   # the default: the same priority
    assert job.wait(5) and seen[-1] == here


# ---- saving exactly what was published ----

def test_final_weights_are_published_before_the_job_says_it_ended():
    """Whoever sees done (or stopped) and saves gets the last step, not an older snapshot."""
    for end in ("done", "stopped"):
        job = Job(scripted(steps=None if end == "stopped" else 200, delay=0.0), META, snapshot_every_s=1e9).start()
        if end == "stopped":
            wait_for(lambda: len(job.metrics()) >= 50)
            job.stop()
        while job.active:
            pass                                   # spin: look at the very first moment the status changes
        weights, step = job.snapshot()
        assert job.status == end and step == job.metrics()[-1]["step"]
        assert float(weights["classifier.5.bias"][0]) == step


def test_save_takes_weights_step_and_metrics_from_one_snapshot(tmp_path):
    job = Job(scripted(delay=0.002), META, snapshot_every_s=0.0).start()
    wait_for(lambda: job.snapshot()[0] is not None)
    for i in range(5):                               # saving while it trains
        loaded, meta = load_checkpoint(job.save(tmp_path / f"mid{i}"))
        assert bias_of(loaded) == meta["step"] >= 1
        assert meta["metrics"]["loss"] == pytest.approx(1.0 / meta["step"])
    job.stop()
    job.wait(5)


def test_saved_val_acc_is_the_score_of_the_saved_weights(tmp_path):
    """The epoch-end figure (0.95 here) described older weights: saving scores the saved ones instead."""
    scored = []

    def evaluate(model):
        scored.append(bias_of(model))
        return {"val_acc": 0.5 + bias_of(model) / 1000, "val_images": 7}
    job = Job(scripted(steps=25, delay=0.0, val_every=10), META, evaluate=evaluate).start()
    assert job.wait(10) and job.status == "done"
    assert job.summary()["val_acc"] == 0.95       # what the live page shows: the last epoch end
    meta = load_checkpoint(job.save(tmp_path / "m"))[1]
    job.zip_bytes("m2")
    assert scored == [25] and meta["step"] == 25   # scored once per snapshot, however often it is saved
    assert meta["metrics"]["val_acc"] == pytest.approx(0.525) and meta["metrics"]["val_images"] == 7

    unscored = Job(scripted(steps=25, delay=0.0, val_every=10), META).start()
    assert unscored.wait(10)
    assert "val_acc" not in load_checkpoint(unscored.save(tmp_path / "u"))[1]["metrics"]   # never a stale figure


def test_a_real_run_saved_mid_run_after_a_learning_rate_change_records_its_own_accuracy(tmp_path, digits):
    data = replace(digits, train_x=digits.train_x[:640], train_y=digits.train_y[:640])
    cfg = replace(default_train_config("cnn", "fast"), epochs=3, batch_size=64, schedule="constant")
    run = prepare_run(RunSpec("cnn", train=cfg), data=data, device="cpu")
    job = Job(run.loop, run.meta, snapshot_every_s=0.0).start()     # evaluate comes with the run
    wait_for(lambda: any("val_acc" in r for r in job.metrics()), timeout=60)
    job.set_lr(0.5)                               # the page's own suggestion: watch a too-high rate
    wait_for(lambda: job.metrics()[-1]["step"] >= 13, timeout=60)
    job.pause()
    settled(job)
    model, meta = load_checkpoint(job.save(tmp_path / "m"))
    job.stop()
    job.wait(30)
    truth = score_classifier(model, digits.val_x, digits.val_y, digits.mean, digits.std)
    assert meta["step"] >= 13 and meta["metrics"]["val_acc"] == pytest.approx(truth["val_acc"])
    assert meta["metrics"]["val_images"] == len(digits.val_y)


def test_a_failed_save_leaves_the_job_saveable_and_downloadable(tmp_path, monkeypatch):
    import errno
    job = Job(scripted(steps=5, delay=0.0), META).start()
    assert job.wait(10)

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr("imgai.models.checkpoint.os.fsync", full)
    with pytest.raises(CheckpointError, match="no space left on device"):
        job.save(tmp_path / "m")
    with zipfile.ZipFile(io.BytesIO(job.zip_bytes("m"))) as z:     # the weights from memory
        assert sorted(z.namelist()) == ["m.json", "m.safetensors"]
    monkeypatch.undo()
    assert load_checkpoint(job.save(tmp_path / "m"))[1]["step"] == 5


# ---- shared state: seeds, memory, history ----

def test_same_seed_jobs_in_parallel_match_a_run_alone(digits):
    """Weights, shuffles, augmentation and dropout come from each job's own generators: two jobs with one
    seed running at once (and a third, other seed, beside them) give exactly the history of a run alone."""
    data = replace(digits, train_x=digits.train_x[:320], train_y=digits.train_y[:320])

    def job(seed):
        cfg = replace(default_train_config("cnn", "fast"), seed=seed, epochs=1, batch_size=32)
        run = prepare_run(RunSpec("cnn", train=cfg, model_overrides={"dropout": 0.5}), data=data, device="cpu")
        return Job(run.loop, run.meta, snapshot_every_s=1e9)

    def history(j):
        return [{k: v for k, v in r.items() if k not in ("seconds", "images_per_s")} for r in j.metrics()]
    alone = job(7).start()
    assert alone.wait(120) and alone.status == "done"
    together = [job(7), job(7), job(8)]
    for j in together:
        j.start()
    assert all(j.wait(120) and j.status == "done" for j in together)
    assert history(together[0]) == history(alone) == history(together[1])
    assert history(together[2]) != history(alone)
    assert all(torch.equal(alone.snapshot()[0][k], together[1].snapshot()[0][k]) for k in alone.snapshot()[0])


def test_a_finished_job_releases_its_model_but_stays_saveable(tmp_path):
    models = []
    job = Job(scripted(steps=5, delay=0.0, models=models), META).start()
    assert job.wait(10) and job.status == "done"
    gc.collect()
    assert models[0]() is None                       # the training model (and its optimiser, data) is gone
    assert bias_of(load_checkpoint(job.save(tmp_path / "m"))[0]) == 5


def test_history_is_bounded_recent_rows_full_older_thinned():
    job = Job(scripted(steps=3000, delay=0.0, val_every=100), META, max_history=400).start()
    assert job.wait(30) and job.status == "done"
    rows = job.metrics()
    assert len(rows) <= 400 and job.recorded == 3000 + 30
    steps = [r["step"] for r in rows if "loss" in r]
    assert steps[0] == 1 and steps[-1] == 3000 and steps == sorted(steps)
    assert steps[-150:] == list(range(2851, 3001))   # the newest rows at full resolution
    assert len({r["step"] for r in rows if "val_acc" in r}) >= 5   # epoch ends are kept longer than steps
    assert [r["step"] for r in job.metrics(since=job.recorded - 3)] == [2999, 3000, 3000]  # incremental reads
    assert job.metrics(since=job.recorded) == []
