"""The job runner without Streamlit: a training loop in a thread that can be paused, stepped, steered,
stopped, snapshotted and saved, and that stops itself on divergence or when nobody watches any more.

Scripted loops (a tiny real CNN, no training) test the controls exactly and cheaply; a few tiny real runs
on the bundled digits test the real path.
"""
import time
from dataclasses import replace

import pytest
import torch

from imgai.checkpoint import list_checkpoints, load_checkpoint, models_dir
from imgai.jobs import Job, JobLimitError, JobRegistry
from imgai.models import CNN, CNN_PRESETS
from imgai.runs import RunSpec, default_train_config, prepare_run
from imgai.train import TrainingDiverged

TINY_CNN = CNN_PRESETS["textbook"](stages=[[4], [4]], hidden=8)
META = {"kind": "cnn", "dataset": "digits", "class_names": [str(i) for i in range(10)], "image_size": 28,
        "channels": 1, "mean": [0.1307], "std": [0.3081], "intake": "digit"}


def scripted(steps=None, delay=0.003, samples_every=None, fail_at=None):
    """A loop factory like Run.loop: a real tiny model, metrics from a counter, the lr it was told to use."""
    def factory(state):
        torch.manual_seed(0)
        state.model, state.base_lr = CNN(TINY_CNN), 0.01
        step = 0
        while steps is None or step < steps:
            step += 1
            if fail_at == step:
                raise TrainingDiverged(f"training stopped at step {step}: the loss became NaN (nan); lower the "
                                       "learning rate")
            if fail_at == -step:
                raise KeyError("boom\nsecond line")
            time.sleep(delay)
            yield {"step": step, "epoch": step / 10, "progress": step / (steps or 10**9), "seconds": step * delay,
                   "images_per_s": 100.0, "lr": state.base_lr, "loss": 1.0 / step, "acc": 0.5}
            if samples_every and step % samples_every == 0:
                yield {"event": "samples", "step": step, "images": torch.zeros(4, 28, 28, 1, dtype=torch.uint8).numpy()}
    return factory


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


def test_stop_while_paused_ends_the_thread_quickly():
    job = Job(scripted(), META).start()
    wait_for(lambda: len(job.metrics()) >= 1)
    job.pause()
    settled(job)
    t0 = time.monotonic()
    job.stop()
    assert job.wait(5) and time.monotonic() - t0 < 2
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


def test_abandoned_job_stops_itself_but_a_watched_one_keeps_going():
    watched = Job(scripted(), META, abandon_after_s=0.4).start()
    alone = Job(scripted(), META, abandon_after_s=0.4).start()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.0:
        watched.heartbeat()
        time.sleep(0.05)
    assert watched.status == "running"
    assert alone.wait(5) and alone.status == "stopped" and "nobody watching" in alone.error
    watched.stop()
    watched.wait(5)


def test_abandoned_job_stops_itself_while_paused_too():
    job = Job(scripted(), META, abandon_after_s=0.3).start()
    job.pause()
    assert job.wait(5) and job.status == "stopped" and "nobody watching" in job.error


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
    job = reg.submit(scripted(), META, owner="x", abandon_after_s=0.3)
    assert job.owner == "x"
    assert job.wait(5) and "nobody watching" in job.error
