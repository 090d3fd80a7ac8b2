"""The run store: runs saved and reloaded, many writers at once, publishing rules, and a job recorded when it
ends (done / stopped / error), a GAN run with its Fréchet distance."""
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from imgai.inference.quality import sample_quality
from imgai.jobs.threads import Job
from imgai.training.runs import RunSpec, default_train_config, prepare_run
from imgai.experiments.run_store import RunStore, RunStoreError, board_rank, clean_nickname, record_job, thin_history

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "runs.sqlite")


def _run(owner="me", val_acc=0.9, seconds=10.0, **kw):
    rows = [{"step": i, "loss": 1.0 / i, "progress": i / 10} for i in range(1, 11)] + [{"step": 10, "val_acc": val_acc}]
    return {"owner": owner, "kind": "cnn", "dataset": "digits", "status": "done", "settings": {"train": {"lr": 0.003}},
            "final": {"val_acc": val_acc, "seconds": seconds}, "history": rows, **kw}


def test_a_run_is_saved_and_reloaded_with_its_history(store, tmp_path):
    rid = store.save(_run())
    again = RunStore(tmp_path / "runs.sqlite").get(rid)     # a new store object: as after a server restart
    assert again["settings"] == {"train": {"lr": 0.003}} and again["final"]["val_acc"] == 0.9
    assert len(again["history"]) == 11 and again["history"][0] == {"step": 1, "loss": 1.0, "progress": 0.1}
    assert again["status"] == "done" and again["nickname"] is None
    with sqlite3.connect(tmp_path / "runs.sqlite") as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_nan_losses_are_stored_as_null_and_unknown_status_is_refused(store):
    rid = store.save(_run(final={"loss": float("nan")}, status="error", error="diverged"))
    assert store.get(rid)["final"]["loss"] is None
    with pytest.raises(RunStoreError):
        store.save(_run(status="running"))


def test_history_is_thinned_but_keeps_every_validation_row():
    rows = [{"step": i, "loss": 1.0} for i in range(5000)] + [{"step": i, "val_acc": 0.5} for i in range(0, 5000, 100)]
    kept = thin_history(rows, max_rows=100)
    assert sum("val_acc" in r for r in kept) == 50 and 100 <= len(kept) - 50 <= 101
    assert kept[-51]["step"] == 4999 or any(r["step"] == 4999 for r in kept)


def test_many_threads_write_at_once_and_nothing_is_lost(store):
    errors = []

    def writer(i):
        try:
            for j in range(10):
                store.save(_run(owner=f"u{i}", val_acc=j / 10))
        except Exception as e:  # pragma: no cover - the assertion below reports it
            errors.append(e)
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(store.runs(limit=1000)) == 80
    assert len(store.runs(owner="u3")) == 10


WRITER = """
import sys
from imgai.experiments.run_store import RunStore
s = RunStore(sys.argv[1])
for j in range(20):
    s.save({"owner": sys.argv[2], "kind": "cnn", "status": "done", "final": {"val_acc": j / 20}, "history": []})
"""


def test_several_processes_write_to_one_file(tmp_path):
    path = tmp_path / "shared.sqlite"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"p{i}"], cwd=ROOT) for i in range(3)]
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    assert len(RunStore(path).runs(limit=100)) == 60


def test_opening_a_new_file_waits_while_another_program_holds_its_write_lock(tmp_path):
    # what three processes creating one store at once can meet: the file exists, in SQLite's default journal
    # mode, and someone else is writing; the switch to WAL must wait for them, not fail with "locked"
    path = tmp_path / "new.sqlite"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE theirs (i)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO theirs VALUES (1)")
    threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
    store = RunStore(path, timeout_s=10)
    run_id = store.save(_run("ann", 0.9))
    assert store.get(run_id)["owner"] == "ann"
    other.close()


def test_only_published_runs_are_visible_to_others_and_only_the_owner_publishes(store):
    mine, theirs = store.save(_run("ann", 0.95)), store.save(_run("bob", 0.97, seconds=30))
    assert [r["id"] for r in store.visible("ann")] == [mine]
    with pytest.raises(RunStoreError, match="only the browser"):
        store.publish(theirs, "ann", "Ann")
    store.publish(theirs, "bob", "  Bob\n the <b>builder</b>  ")
    seen = store.visible("ann")
    assert {r["id"] for r in seen} == {mine, theirs}
    assert store.get(theirs)["nickname"] == "Bob the <b>builder</b>"   # kept as typed; pages escape it
    store.publish(mine, "ann", "Ann")
    assert [r["nickname"] for r in store.board()] == ["Bob the <b>builder</b>", "Ann"]  # ranked by accuracy
    assert store.unpublish(theirs, "bob") and [r["id"] for r in store.board()] == [mine]


def test_bad_nicknames_and_failed_runs_are_refused(store):
    with pytest.raises(RunStoreError, match="nickname"):
        clean_nickname(" \n\t ")
    assert len(clean_nickname("x" * 100)) == 24
    bad = store.save(_run(status="error", error="boom"))
    with pytest.raises(RunStoreError, match="error"):
        store.publish(bad, "me", "Me")


def test_a_job_is_recorded_when_it_ends_done_stopped_or_by_an_error(store):
    meta = {"kind": "cnn", "dataset": "digits", "preset": "fast", "train": {"lr": 0.1}}

    def loop(state=None, steps=5):
        for i in range(1, steps + 1):
            yield {"step": i, "loss": 1.0 / i, "progress": i / steps, "seconds": 0.1 * i}
        yield {"event": "samples", "step": steps, "images": np.zeros((2, 28, 28, 1), np.uint8)}
        yield {"step": steps, "val_acc": 0.5, "progress": 1.0, "seconds": 0.5}

    def failing(state=None):
        yield {"step": 1, "loss": 2.0}
        raise RuntimeError("out of memory\nmore detail")

    def endless(state=None):
        yield from loop(state, steps=10**9)

    ended = []
    on_end = lambda job: ended.append(record_job(store, job))   # noqa: E731 — what the registries are given
    Job(loop, meta, owner="me", on_end=on_end).start().wait(30)
    Job(failing, meta, owner="me", on_end=on_end).start().wait(30)
    running = Job(endless, meta, owner="me", on_end=on_end).start()
    while running.recorded < 3:
        running.wait(0.01)
    running.stop()                                     # what the Stop button does
    assert running.wait(30) and len(ended) == 3
    runs = {r["status"]: r for r in store.runs(owner="me")}
    assert set(runs) == {"done", "stopped", "error"}
    assert runs["done"]["final"]["val_acc"] == 0.5 and runs["done"]["settings"]["train"] == {"lr": 0.1}
    assert runs["stopped"]["final"]["step"] >= 3 and "out of memory" in runs["error"]["error"]


def test_a_real_job_is_recorded_when_it_ends(store, digits):
    from dataclasses import replace
    from imgai.jobs.threads import JobRegistry
    cfg = replace(default_train_config("cnn", "fast"), epochs=1)
    small = replace(digits, train_x=digits.train_x[:192], train_y=digits.train_y[:192], val_x=digits.val_x[:100],
                    val_y=digits.val_y[:100])
    reg = JobRegistry()
    for dropout in (0.25, 0.5):
        run = prepare_run(RunSpec("cnn", "fast", train=cfg, model_overrides={"dropout": dropout}), data=small,
                          device="cpu")
        job = reg.submit(run.loop, run.meta, owner=f"dropout {dropout}", on_end=lambda job: record_job(store, job))
        assert job.wait(60) and job.status == "done"
    (saved,) = store.runs(owner="dropout 0.25", history=True)
    assert saved["final"]["val_acc"] > 0.1 and saved["settings"]["model"]["dropout"] == 0.25
    assert any("val_acc" in r for r in saved["history"])
    assert store.runs(owner="dropout 0.5")[0]["settings"]["model"]["dropout"] == 0.5


def test_a_gan_run_is_kept_with_its_frechet_distance_and_the_board_ranks_by_it(store, digits):
    """The judge runs where the job trained, on the final generator; the stored figures are the real ones:
    recomputed here from the job's saved weights, they agree."""
    from dataclasses import replace
    from imgai.inference.quality import board_judgement, judge_for
    from imgai.jobs.threads import JobRegistry
    cfg = replace(default_train_config("dcgan", "fast"), epochs=None, seconds=3, sample_every=10**6)
    run = prepare_run(RunSpec("dcgan", "fast", train=cfg), data=digits, device="cpu")
    job = JobRegistry().submit(run.loop, run.meta, owner="me", judge=judge_for(run),
                               on_end=lambda job: record_job(store, job))
    assert job.wait(120) and job.status == "done"
    (saved,) = store.runs(owner="me")
    f = saved["final"]
    assert f["frechet"] > f["frechet_real"] > 0 and 0 <= f["readable"] <= 1 and 0 <= f["classes_drawn"] <= 10
    gan, _ = job.checkpoint()
    again = board_judgement(gan.generator, gan.config.nz, digits)
    assert again["frechet"] == pytest.approx(f["frechet"], rel=1e-6) and again["readable"] == f["readable"]
    # the board: lowest distance first; a run never judged (an older run) after the judged ones
    near, far, unjudged = ({"kind": "dcgan", "final": {"frechet": d, "quality": q, "seconds": 5}}
                           for d, q in ((60.0, 0.1), (300.0, 0.9), (None, 0.95)))
    assert sorted([unjudged, far, near], key=board_rank) == [near, far, unjudged]


def test_only_gans_on_data_the_digits_cnn_reads_are_judged(digits, tmp_path):
    from dataclasses import replace
    from imgai.inference.quality import judge_for
    assert judge_for(prepare_run(RunSpec("dcgan", "fast"), data=digits)) is not None
    assert judge_for(prepare_run(RunSpec("cdcgan", "fast"), data=digits)).keywords["n_classes"] == 10
    assert judge_for(prepare_run(RunSpec("cnn", "fast"), data=digits)) is None
    few = replace(digits, val_x=digits.val_x[:50], val_y=digits.val_y[:50])   # too few for a 128-d Gaussian
    assert judge_for(prepare_run(RunSpec("dcgan", "fast"), data=few)) is None


def test_sample_quality_judges_digits_and_ignores_other_images(digits):
    real = digits.val_x[:40].permute(0, 2, 3, 1).numpy()
    assert sample_quality(real) >= 0.8                        # 20 real digits: readable, all classes
    assert sample_quality(np.repeat(real[:1], 20, axis=0)) <= 0.1   # one digit twenty times: collapsed
    assert sample_quality(np.zeros((4, 32, 32, 3), np.uint8)) is None


def test_an_ended_job_can_be_recorded_from_the_side_that_watches_it(store):
    """For a backend whose loop runs where the store is out of reach: the web server writes the run."""
    def loop(state=None):
        for i in range(1, 4):
            yield {"step": i, "loss_d": 1.0, "loss_g": 2.0, "d_x": 0.6, "d_g_z": 0.4, "progress": i / 3}
        yield {"event": "samples", "step": 3, "images": np.zeros((4, 28, 28, 1), np.uint8)}
    job = Job(loop, {"kind": "dcgan", "dataset": "digits", "train": {"lr": 5e-4}}, owner="me")
    assert record_job(store, job) is None                     # not ended yet: nothing written
    job.start().wait(30)
    assert record_job(store, job) == job.id == record_job(store, job)   # idempotent: one run per job
    (run,) = store.runs(owner="me")
    assert run["status"] == "done" and run["final"]["d_x"] == 0.6 and run["final"]["quality"] <= 0.1   # blanks: one class at most


def test_only_the_owner_names_a_run_and_an_empty_name_removes_it(store):
    rid = store.save(_run())
    assert store.get(rid)["label"] is None
    assert store.rename(rid, "me", "  lr 0.1,\n no\taugment ")["label"] == "lr 0.1, no augment"   # one line
    with pytest.raises(RunStoreError, match="only the browser"):
        store.rename(rid, "someone-else", "mine now")
    assert store.get(rid, history=False)["label"] == "lr 0.1, no augment"
    assert len(store.rename(rid, "me", "x" * 500)["label"]) == 40
    assert store.rename(rid, "me", "   ")["label"] is None


def test_a_store_made_before_runs_had_names_gets_the_column_and_keeps_its_runs(tmp_path):
    import sqlite3
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript("CREATE TABLE runs (id TEXT PRIMARY KEY, owner TEXT NOT NULL, kind TEXT NOT NULL, dataset TEXT,"
                      " status TEXT NOT NULL, error TEXT, started REAL, finished REAL, settings TEXT NOT NULL,"
                      " final TEXT NOT NULL, history TEXT NOT NULL, nickname TEXT, published REAL);"
                      "INSERT INTO runs VALUES ('old1', 'me', 'cnn', 'digits', 'done', NULL, 1, 2, '{}', '{}', '[]',"
                      " NULL, NULL);")
    con.commit()
    con.close()
    s = RunStore(path)
    assert s.get("old1")["label"] is None
    assert s.rename("old1", "me", "from last term")["label"] == "from last term"
