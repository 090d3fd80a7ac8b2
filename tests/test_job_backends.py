"""The same job behaviour on both backends: threads in this process (imgai.jobs.threads) and actors on a local Ray
(imgai.jobs.ray_registry), submitted the way the app submits (ui.jobs._submit), so neither drifts from the other.

Ray-only behaviour follows: jobs beyond the CPUs wait in line and start by themselves, a waiting job can be
cancelled, uploaded data travels through the object store, another registry (a restarted or second web
server) finds a job by its id. One local Ray (num_cpus=2) is shared by the whole session; tiny models.
"""
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from imgai.models.checkpoint import load_checkpoint, models_dir
from imgai.data.datasets import ImageData
from imgai.jobs.threads import JobRegistry
from imgai.training.runs import RunSpec, default_train_config, prepare_run

ray = pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parent.parent
TINY = {"cnn": {"stages": [[4], [4]], "hidden": 8}, "dcgan": {"g_widths": [16, 8, 4], "d_widths": [4, 8], "nz": 8}}


def tiny_run(model="cnn", data=None, **train):
    cfg = replace(default_train_config(model, "fast"), seed=0, **{"epochs": 0.05, **train})
    return prepare_run(RunSpec(model=model, preset="fast", train=cfg, model_overrides=TINY[model]), data=data,
                       device="cpu")


def long_run(model="cnn", **train):
    return tiny_run(model, epochs=None, seconds=300, **train)


def wait_for(cond, timeout=120.0):
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def settled(job, quiet=0.3):
    """Wait until a paused job has stopped producing rows; returns how many it has."""
    n = -1
    while n != len(job.metrics()):
        n = len(job.metrics())
        time.sleep(quiet)
    return n


@pytest.fixture(scope="session")
def local_ray():
    from imgai.jobs.ray_registry import connect
    if ray.is_initialized():
        ray.shutdown()
    connect(num_cpus=2)
    yield
    ray.shutdown()


class Backend:
    def __init__(self, name, registry):
        self.name, self.registry = name, registry

    def submit(self, run, owner="me", **kw):
        from ui.jobs import _submit
        return _submit(self.registry, run, owner=owner, **kw)


@pytest.fixture(params=["threads", "ray"])
def backend(request):
    if request.param == "threads":
        yield Backend("threads", JobRegistry(max_active=4))
        return
    request.getfixturevalue("local_ray")
    from imgai.jobs.ray_registry import RayJobRegistry, connect
    connect(num_cpus=2)       # again, if a test on a cluster disconnected this process meanwhile
    reg = RayJobRegistry()
    yield Backend("ray", reg)
    for job in reg.jobs():
        if job.active:
            job.stop()


# ---- the same on both ----

def test_both_backends_hand_out_what_the_pages_may_use(backend):
    """The pages use a job only through imgai.jobs.handle.JobHandle: both backends' jobs must have all of it."""
    from imgai.jobs.handle import JobHandle
    job = backend.submit(tiny_run("cnn"), owner="handle-check")   # one Ray directory serves the whole session
    assert isinstance(job, JobHandle)
    wanted = [n for n in vars(JobHandle) if not n.startswith("_")] + list(JobHandle.__annotations__)
    assert "zip_bytes" in wanted and not [n for n in wanted if not hasattr(job, n)]
    assert job.wait(120)


def test_a_run_trains_to_the_end_and_its_last_weights_can_be_saved(backend, tmp_path):
    run = tiny_run("cnn")
    job = backend.submit(run, owner="ann")
    assert job.wait(120) and job.status == "done", job.error
    rows = job.metrics()
    assert rows[0]["step"] == 1 and any("val_acc" in r for r in rows)
    assert job.metrics(since=len(rows) - 1) == rows[-1:]
    step, images, extra = job.latest_grid()
    assert images.dtype.name == "uint8" and images.shape[1:] == (28, 28, 1) and len(extra["pred"]) == len(images)
    assert len(job.confusion["matrix"]) == 10
    s = job.summary()
    assert s["status"] == "done" and s["progress"] == pytest.approx(1.0) and s["images_per_s"] > 0 and "val_acc" in s
    assert job.meta["config"]["num_classes"] == 10 and job.meta["class_names"] == run.meta["class_names"]
    base = job.save(tmp_path / "end")
    model, meta = load_checkpoint(base)
    assert meta["kind"] == "cnn" and meta["step"] == s["step"] == rows[-1]["step"]
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    weights, wstep = job.snapshot()
    assert wstep == s["step"] and all(torch.equal(model.state_dict()[k], weights[k]) for k in weights)
    reg = backend.registry
    assert reg.get(job.id) is job and reg.get("nope") is None
    assert [j.id for j in reg.jobs(owner="ann")] == [job.id] and reg.jobs(owner="bob") == []
    reg.forget_finished(older_than_s=0)
    assert reg.get(job.id) is None


def test_pause_step_learning_rate_save_resume_and_stop_while_it_trains(backend):
    job = backend.submit(long_run("cnn", schedule="constant"))
    wait_for(lambda: job.status == "running" and len(job.metrics()) >= 2)
    job.pause()
    assert job.status == "paused" and job.active
    n = settled(job)
    time.sleep(0.3)
    assert len(job.metrics()) == n                   # nothing happens while paused
    job.set_lr(0.0123)
    last = job.metrics()[-1]["step"]
    for k in (1, 2):
        job.step()                                   # exactly one batch per press, then paused again
        wait_for(lambda: len(job.metrics()) == n + k)
        time.sleep(0.2)
        assert len(job.metrics()) == n + k and job.metrics()[-1]["step"] == last + k and job.status == "paused"
    assert job.metrics()[-1]["lr"] == pytest.approx(0.0123) and job.lr == pytest.approx(0.0123)
    base = job.save(models_dir() / "mid-run")       # saving while it trains
    assert 1 <= load_checkpoint(base)[1]["step"] <= last + 2   # the latest published weights
    with pytest.raises(ValueError):
        job.set_lr(100)
    job.resume()
    assert job.status == "running"
    wait_for(lambda: len(job.metrics()) > n + 5)
    job.stop()
    assert job.wait(30) and job.status == "stopped" and job.error is None and not job.active
    job.pause(), job.resume(), job.step(), job.stop()   # controls on an ended job are harmless no-ops
    assert job.status == "stopped"


def test_a_gan_run_publishes_sample_grids_from_step_zero(backend):
    job = backend.submit(tiny_run("dcgan", epochs=0.02, sample_every=5))
    assert job.wait(120) and job.status == "done", job.error
    steps = [g[0] for g in job.grid_history()]
    assert steps[0] == 0 and steps[-1] == job.summary()["step"] and steps == sorted(steps)
    assert job.latest_grid()[0] == steps[-1]
    assert {"loss_d", "loss_g", "d_x", "d_g_z"} <= set(job.summary())
    # judged where it trained, as its last row: what the run store keeps and the class board ranks by
    last = job.metrics()[-1]
    assert last["frechet"] > last["frechet_real"] > 0 and last["step"] == steps[-1]


def test_a_job_nobody_watches_stops_itself_but_a_watched_one_goes_on(backend):
    watched = backend.submit(long_run(), abandon_after_s=1.5)
    alone = backend.submit(long_run(), abandon_after_s=1.5)
    wait_for(lambda: watched.status == "running" and alone.status == "running")
    t0 = time.monotonic()
    while time.monotonic() - t0 < 4.0:
        watched.heartbeat()
        time.sleep(0.2)
    assert watched.status == "running"
    assert alone.wait(30) and alone.status == "stopped" and "nobody watching" in alone.error
    watched.stop()
    assert watched.wait(30)


# ---- Ray only ----

@pytest.fixture
def ray_registry(local_ray):
    from imgai.jobs.ray_registry import RayJobRegistry, connect
    connect(num_cpus=2)
    reg = RayJobRegistry()
    yield reg
    for job in reg.jobs():
        if job.active:
            job.stop()


def test_jobs_beyond_the_cpus_wait_in_line_show_it_start_by_themselves_and_can_be_cancelled(ray_registry,
                                                                                              monkeypatch):
    from streamlit.testing.v1 import AppTest

    import ui.jobs
    from ui.jobs import NO_BROWSER, _submit
    jobs = [_submit(ray_registry, long_run(), owner=NO_BROWSER) for i in range(4)]
    wait_for(lambda: sum(j.status == "running" for j in jobs) == 2)
    running = [j for j in jobs if j.status == "running"]
    waiting = [j for j in jobs if j.status == "queued"]
    assert len(waiting) == 2
    wait_for(lambda: sorted(j.position or 0 for j in waiting) == [1, 2])   # as soon as both others have started
    nxt, last = sorted(waiting, key=lambda j: j.position)
    # the pages poll a waiting run every few seconds, a training one at their own pace, an ended one not at all
    from ui.jobs import QUEUED_POLL_S, poll_every
    assert poll_every(last, 1.0) == QUEUED_POLL_S > 1.0 and poll_every(running[0], 1.0) == 1.0

    # the app, on this Ray, shows the waiting job's place in line; its Cancel takes it out of the line
    monkeypatch.setenv("IMGAI_JOBS", "ray")
    monkeypatch.setenv("IMGAI_RAY_WARM", "0")   # a spare would hold a CPU of the shared test Ray for minutes
    ui.jobs.registry.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.query_params["job"] = last.id
        at.run()
        assert not at.exception, at.exception
        assert any("waiting for a free worker — 2nd in line" in m.value for m in at.sidebar.markdown)
        assert any("2nd in line" in m.value for m in at.info)          # the Train page says it too
        at.sidebar.button(key="panel_cancel").click().run()
        assert not at.exception, at.exception
    finally:
        ui.jobs.registry.clear()
    wait_for(lambda: last.status == "stopped")
    assert "cancelled" in last.error and last.metrics() == [] and last.summary()["step"] == 0

    wait_for(lambda: nxt.position == 1)
    running[0].stop()
    assert running[0].wait(30)
    wait_for(lambda: nxt.status == "running")         # the freed worker takes the next in line
    assert poll_every(nxt, 2.0) == 2.0 and poll_every(running[0], 1.0) is None
    wait_for(lambda: len(nxt.metrics()) > 0)
    for j in (running[1], nxt):
        j.stop()
        assert j.wait(30) and j.status == "stopped"
    assert last.status == "stopped"


def test_a_worker_that_ends_its_job_takes_the_next_in_line_and_each_run_keeps_its_own_results(ray_registry,
                                                                                              tmp_path):
    """A class: more jobs than CPUs. The waiting ones are trained by the workers already up (one process per
    CPU, not per job), and every handle still reads its own run (its steps, its weights), never the next one's."""
    from ui.jobs import _submit
    wait_for(lambda: ray.available_resources().get("CPU", 0) >= 2)   # the workers of earlier tests have exited
    epochs = [0.03, 0.06, 0.09, 0.12, 0.03, 0.06]
    jobs = [_submit(ray_registry, tiny_run("cnn", epochs=e), owner=f"s{i}") for i, e in enumerate(epochs)]
    assert sum(j.status == "queued" for j in jobs) >= 3                  # two CPUs: the rest wait in line
    for j in jobs:
        assert j.wait(180) and j.status == "done", j.error
    steps = [j.summary()["step"] for j in jobs]
    assert len(set(steps)) == 4 and steps[0] == steps[4] and steps[1] == steps[5] and steps[0] < steps[1] < steps[2]
    for j, n in zip(jobs, steps):
        assert j.metrics()[-1]["step"] == n
        assert load_checkpoint(j.save(tmp_path / j.id))[1]["step"] == n
    infos = [ray.get(ray_registry._directory.info.remote(j.id)) for j in jobs]
    assert len({i["pid"] for i in infos}) <= 2                            # six runs, two processes


def test_uploaded_data_reaches_the_worker_through_the_object_store(ray_registry, digits):
    from ui.jobs import _submit
    keep = digits.train_y < 3
    vkeep = digits.val_y < 3
    data = ImageData("folder:three.zip", digits.train_x[keep][:300], digits.train_y[keep][:300],
                     digits.val_x[vkeep][:60], digits.val_y[vkeep][:60], ["zero", "one", "two"], (0.5,), (0.25,))
    job = _submit(ray_registry, tiny_run("cnn", data=data, epochs=0.5), owner="me")
    assert job.wait(120) and job.status == "done", job.error
    assert job.meta["class_names"] == ["zero", "one", "two"] and len(job.confusion["matrix"]) == 3
    assert job.meta["config"]["num_classes"] == 3


def test_an_ended_runs_weights_stay_with_the_directory_until_a_save_asks_for_them(ray_registry, tmp_path):
    """A class's ended runs cost the web server little: its handle knows how the run ended (rows, grids,
    summary) without the checkpoint's megabytes, which come from the directory when a student saves."""
    import pickle

    from ui.jobs import _submit
    cfg = replace(default_train_config("cnn", "fast"), epochs=0.02)   # the real network: a few MB of weights
    job = _submit(ray_registry, prepare_run(RunSpec("cnn", "fast", train=cfg), device="cpu"), owner="ann")
    assert job.wait(120) and job.status == "done", job.error
    wait_for(lambda: job.metrics() and job._final is not None)  # the worker has handed the run to the directory
    model, _ = load_checkpoint(job.save(tmp_path / "saved"))
    assert model(torch.zeros(1, 1, 28, 28)).shape == (1, 10)
    # what the handle keeps is a small part of the weights it can fetch, before and after a save
    assert len(job.zip_bytes("again")) > 10 * len(pickle.dumps(job._final))
    ray_registry.forget_finished(older_than_s=0)                 # an hour later the cluster lets the run go
    with pytest.raises(RuntimeError, match="no longer kept"):
        job.save(tmp_path / "late")


def test_another_web_server_finds_the_job_by_its_id_with_its_owner(ray_registry):
    from imgai.jobs.ray_registry import RayJobRegistry
    from ui.jobs import _submit
    job = _submit(ray_registry, long_run(), owner="ann")
    wait_for(lambda: job.status == "running")
    other = RayJobRegistry()                     # a second replica, or this server after a restart
    again = other.get(job.id)
    assert again is not job and again.owner == "ann" and again.meta["kind"] == "cnn"
    again.pause()
    wait_for(lambda: job.status == "paused")      # the same job, seen from both (the first handle's state
    #                                               is at most POLL_EVERY_S old)
    again.stop()
    assert job.wait(30) and job.status == "stopped"
    assert other.get("0123456789ab") is None


def test_the_server_records_an_ended_run_even_when_no_page_watches_it(local_ray, tmp_path):
    """A tab closed before its run ended: nobody polls the job, yet the registry's watcher records it once."""
    from imgai.jobs.ray_registry import RayJobRegistry, connect
    from imgai.experiments.run_store import RunStore, record_job
    from ui.jobs import _submit
    connect(num_cpus=2)
    store, seen = RunStore(tmp_path / "runs.sqlite"), []

    def on_end(job):
        record_job(store, job)
        seen.append(job.id)      # after the write: the test reads the store as soon as it sees this

    reg = RayJobRegistry(on_end=on_end)
    reg.WATCH_EVERY_S = 0.5
    job = _submit(reg, tiny_run("cnn", epochs=0.02), owner="ann")   # and nobody looks at it again
    wait_for(lambda: seen == [job.id])
    run = store.get(job.id)
    assert run["owner"] == "ann" and run["status"] == "done" and run["kind"] == "cnn" and run["history"]
    assert not reg.report_ended(job) and reg.sweep() == [] and seen == [job.id]   # recorded once, not again


def test_a_warm_spare_takes_the_next_job_at_once_and_never_a_place_in_line(local_ray):
    from imgai.jobs.ray_registry import RayJobRegistry, connect
    from ui.jobs import _submit
    connect(num_cpus=2)
    wait_for(lambda: ray.available_resources().get("CPU", 0) >= 2)   # the workers of earlier tests have exited
    reg = RayJobRegistry(warm=1)
    try:
        assert reg.wait_warm(120)
        spare = ray.get(reg._spares[0][1].where.remote())
        first = _submit(reg, long_run(), owner="ann")
        assert first.status in ("created", "running")                  # never "waiting for a free worker"
        wait_for(lambda: first.status == "running" and len(first.metrics()) > 0)
        assert first.warm and first.where()["pid"] == spare["pid"]      # the spare's process trains it
        assert reg.wait_warm(120)                                       # the free CPU warms the next one
        second = _submit(reg, long_run(), owner="bob")
        wait_for(lambda: second.status == "running")
        third = _submit(reg, long_run(), owner="cy")                   # no CPU left: no spare holds one back
        assert not third.warm and reg._spares == []
        wait_for(lambda: third.position == 1)
        first.stop()
        wait_for(lambda: third.status == "running")                    # it starts by itself, as without spares
        for j in (first, second, third):
            j.stop()
            assert j.wait(30) and j.status == "stopped"
    finally:
        reg.close()


def test_a_link_to_a_run_this_server_does_not_know_says_plainly_that_it_was_lost():
    from streamlit.testing.v1 import AppTest

    import ui.jobs
    ui.jobs.registry.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["job"] = "0123456789ab"      # e.g. a run from before the server restarted
    at.run()
    assert not at.exception, at.exception
    assert any("was lost" in w.value for w in at.sidebar.warning)
    assert "job" not in at.query_params


def test_a_slow_worker_never_holds_up_the_page_and_its_answer_arrives_on_a_later_read(local_ray):
    """A worker still building its run (or starved of CPU) answers late: the page goes on with what it knew
    and picks the answer up on a later read, instead of every read of the run waiting for it."""
    import ray

    from imgai.jobs.ray_job import RayJob

    @ray.remote(num_cpus=0)
    class SlowWorker:
        def poll(self, grid_steps, beat=False, job_id=None):
            time.sleep(3)
            return {"status": "running", "error": None, "grid_steps": [], "grids": [], "lr": 0.5}

        def metrics(self, since=0, job_id=None):
            time.sleep(3)
            return [{"step": i} for i in range(since, 4)]

    job = RayJob("slowjob00001", "me", {"kind": "cnn", "train": {"lr": 0.1}}, directory=None,
                 actor=SlowWorker.remote())
    job._state["status"] = "created"            # the directory said it started (its worker is up)
    assert job.status == "created" and job.lr == 0.1 and job.metrics() == []   # not answered yet: as before
    wait_for(lambda: job.status == "running", timeout=60)
    assert job.lr == 0.5
    wait_for(lambda: job.metrics() == [{"step": i} for i in range(4)], timeout=60)
    wait_for(lambda: job.metrics(since=3) == [{"step": 3}], timeout=60)
