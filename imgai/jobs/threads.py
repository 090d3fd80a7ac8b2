"""Jobs: a training loop running in a background thread that a user interface can watch and steer.

    job = Job(run.loop, run.meta, evaluate=run.evaluate); job.start(); ...; job.pause(); job.step(); job.save("mine")

The thread is the only one touching the model being trained. Everything others read — metric history,
sample grids, the latest weights — is copied out under a lock, so a page can redraw at any time.
Pause, step, stop and learning-rate changes are requests the thread applies between two batches.
The final weights are published before the status leaves running/paused, so whoever sees "done" or
"stopped" can save exactly the last step. A finished job lets go of its model, optimiser and data; it keeps
the CPU copy of the weights (and the evaluate function's validation split) so it can still be saved.
"""
import bisect
import sys
import threading
import time
import uuid

import torch

from imgai.models.checkpoint import checkpoint_zip, save_checkpoint
from imgai.device import lower_thread_priority
from imgai.models import model_config, model_from_weights
from imgai.training.history import thin_indices
from imgai.training.runs import LIMITS
from imgai.training.config import TrainState, TrainingDiverged

ACTIVE = ("running", "paused")
VAL_KEYS = ("val_acc", "val_loss", "train_loss")  # measured at epoch ends, on the weights of that step


JUDGED = ("frechet", "frechet_real", "readable", "classes_drawn")  # a GAN's final judgement (inference.quality)


class JobLimitError(RuntimeError):
    """Too many jobs on this server; str(e) is one line for the user."""


def _duration(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} minutes"


class Job:
    def __init__(self, loop_factory, meta: dict, *, owner: str = "", snapshot_every_s: float = 2.0,
                 abandon_after_s: float | None = None, max_grids: int = 120, max_history: int = 4000,
                 evaluate=None, nice: int = 0, judge=None, on_end=None):
        """loop_factory(state) → the training generator (e.g. imgai.training.runs.Run.loop). evaluate(model) → dict of
        validation figures for save(); None takes the loop's run's own (Run.evaluate) when there is one.
        nice > 0 runs the training thread at that much lower priority (imgai.device.lower_thread_priority).
        judge(model) → dict of figures about the final model (a GAN's Fréchet distance:
        imgai.inference.quality.judge_for), computed in the training thread when the loop has ended, unless by
        an error, and kept as the last metric row. on_end(job) is called once the job has ended (the run
        store records it), from the training thread."""
        self.id = uuid.uuid4().hex[:12]
        self.owner, self.meta = owner, dict(meta)
        self._factory = loop_factory
        if evaluate is None:
            evaluate = getattr(getattr(loop_factory, "__self__", None), "evaluate", None)
        self._evaluate, self._scored = evaluate, None   # _scored: (snapshot it scored, its figures)
        self._state = TrainState()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread = None
        self.status, self.error, self.hint = "created", None, None
        self.history, self.grids, self.confusion = [], [], None   # grids: [(step, uint8 images, extra dict)]
        self._seq, self.recorded = [], 0  # history[i] was the seq[i]-th row recorded; rows recorded in all
        self.last = {}                  # the latest metrics, merged (so val_acc stays visible between epochs)
        self._val_step = None           # the step whose weights the val_* figures in `last` measured
        self.started_at = self.finished_at = None
        self._pause = self._stop = False
        self._step_until = None         # while paused: run until this step, then pause again
        self._lr_request = None
        self._snapshot, self._snapshot_step, self._snapshot_metrics, self._snapshot_t = None, -1, {}, 0.0
        self._snapshot_every = snapshot_every_s
        self._abandon_after, self._seen = abandon_after_s, time.monotonic()
        self._max_grids, self._max_history = max_grids, max(8, int(max_history))
        self._nice = nice
        self._judge, self._on_end = judge, on_end

    # ---- control (any thread) ----
    def start(self):
        self.started_at = time.time()
        self.status = "running"
        self._thread = threading.Thread(target=self._run, name=f"imgai-job-{self.id}", daemon=True)
        self._thread.start()
        return self

    def pause(self):
        with self._lock:
            if self.status == "running":
                self._pause, self.status = True, "paused"

    def resume(self):
        with self._lock:
            if self.status == "paused":
                self._pause, self._step_until, self.status = False, None, "running"
                self._wake.notify_all()

    def step(self):
        """One batch more, then pause again (from running, this just pauses first)."""
        with self._lock:
            if self.status == "running":
                self._pause, self.status = True, "paused"
            elif self.status == "paused":
                self._step_until = int(self.last.get("step", 0)) + 1
                self._wake.notify_all()

    def stop(self):
        with self._lock:
            if self.status in ACTIVE:
                self._stop = True
                self._wake.notify_all()

    def set_lr(self, lr: float):
        low, high = LIMITS["lr"]
        if not (low <= lr <= high):  # NaN fails too
            raise ValueError(f"learning rate must be between {low:g} and {high:g}, not {lr:g}")
        with self._lock:
            self._lr_request = float(lr)
            self._wake.notify_all()  # a paused job shows the new rate at once

    def heartbeat(self):
        """Called by whoever is watching; without it for abandon_after_s, the job stops itself."""
        self._seen = time.monotonic()

    def wait(self, timeout=None) -> bool:
        if self._thread:
            self._thread.join(timeout)
        return self.status not in ACTIVE

    # ---- reading (any thread) ----
    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def lr(self) -> float:
        return self._state.base_lr

    def metrics(self, since: int = 0) -> list:
        """The metric rows recorded since the `since`-th (rows are numbered 0, 1, ... as recorded; `recorded`
        is the next number). Recent rows are all kept; older ones are thinned (epoch-end rows first kept),
        so a caller that fetches from 0 gets a bounded, evenly thinned history."""
        with self._lock:
            return self.history[bisect.bisect_left(self._seq, since):] if since > 0 else list(self.history)

    def latest_grid(self):
        with self._lock:
            return self.grids[-1] if self.grids else None

    def grid_history(self) -> list:
        with self._lock:
            return list(self.grids)

    def snapshot(self):
        """(state_dict on the CPU, step) of the latest published weights, or (None, -1)."""
        with self._lock:
            return self._snapshot, self._snapshot_step

    def model(self) -> torch.nn.Module | None:
        """A fresh model with the latest published weights, for inference while training goes on."""
        weights, _ = self.snapshot()
        if weights is None:
            return None
        return model_from_weights(self.meta["kind"], self.meta["config"], {k: v.clone() for k, v in weights.items()}).eval()

    def checkpoint(self):
        """(model, meta) for the latest published weights, from ONE snapshot: weights, step and the metrics
        recorded with them. Classifiers are scored on their validation split now, so meta["metrics"]
        ["val_acc"] (and "val_images", how many images) is the accuracy of exactly these weights."""
        with self._lock:
            weights, step, metrics = self._snapshot, self._snapshot_step, dict(self._snapshot_metrics)
        if weights is None:
            raise RuntimeError("nothing to save yet: the job has not finished a step")
        model = model_from_weights(self.meta["kind"], self.meta["config"],
                                   {k: v.clone() for k, v in weights.items()}).eval()
        if self._evaluate is not None:
            scored = self._scored
            if scored is None or scored[0] is not weights:  # a save and a download of one snapshot: score once
                scored = self._scored = (weights, self._evaluate(model))
            metrics.update(scored[1])
        return model, {**self.meta, "step": step, "metrics": metrics}

    def save(self, path):
        """Write the latest weights as a checkpoint (during or after the run). CheckpointError (one line)
        when the folder cannot take it; the job is unchanged and can be saved again or downloaded."""
        model, meta = self.checkpoint()
        return save_checkpoint(path, model, meta)

    def zip_bytes(self, name: str) -> bytes:
        """The checkpoint of the latest weights as a zip in memory (NAME.safetensors + NAME.json): a download
        that works when no folder can be written."""
        model, meta = self.checkpoint()
        return checkpoint_zip(name, model, meta)

    def summary(self) -> dict:
        with self._lock:
            last, status, error, hint = dict(self.last), self.status, self.error, self.hint
        out = {"id": self.id, "status": status, "error": error, "kind": self.meta.get("kind"),
               "dataset": self.meta.get("dataset"), "step": int(last.get("step", 0)),
               "progress": float(last.get("progress", 0.0)), "seconds": float(last.get("seconds", 0.0)),
               "images_per_s": float(last.get("images_per_s", 0.0)),
               **{k: last[k] for k in ("loss", "acc", "val_acc", "loss_d", "loss_g", "d_x", "d_g_z", *JUDGED)
                  if k in last}}
        if hint:
            out["hint"] = hint
        return out

    # ---- the training thread ----
    def _run(self):
        end, loop = ("error", "training failed: the job ended unexpectedly"), None
        lower_thread_priority(self._nice)   # does nothing for 0
        try:
            loop = self._factory(self._state)
            for item in loop:
                self._record(item)
                self._publish_weights()
                end = self._between_steps()
                if end:
                    break
            else:
                end = ("done", None)
        except TrainingDiverged as e:
            end = ("error", str(e))
        except Exception as e:  # an error in a background thread must reach the user, not vanish
            first = (str(e).strip().splitlines() or [""])[0][:200]
            end = ("error", f"training failed: {type(e).__name__}: {first}")
        finally:
            try:
                if loop is not None:
                    loop.close()  # a loop left at a yield holds its model and data until closed
                self._publish_weights(force=True)  # the final weights, before anyone sees the job end
            except Exception:
                pass  # keep the last snapshot that did publish
            if end[0] != "error":
                self._judge_final_model()
            self._release()
            self._finish(*end)
            if self._on_end is not None:
                try:
                    self._on_end(self)
                except Exception as e:  # a full disk or a locked store must not turn a good run into an error
                    print(f"imgai: job {self.id} ended, but recording it failed: {e}", file=sys.stderr)

    def _judge_final_model(self):
        """The judge's figures for the final model, as the last metric row (they travel wherever rows go: the
        run store, a Ray worker's final state). A judge that fails costs the figures, not the run."""
        model = self._state.model
        if self._judge is None or model is None:
            return
        try:
            figures = self._judge(model)
        except Exception as e:
            print(f"imgai: job {self.id}: could not judge the final model: {e}", file=sys.stderr)
            return
        with self._lock:
            step, epoch = self.last.get("step", 0), self.last.get("epoch")
        self._record({"step": step, **({"epoch": epoch} if epoch is not None else {}), **figures})

    def _record(self, item: dict):
        with self._lock:
            if "event" not in item:
                self.history.append(item)
                self._seq.append(self.recorded)
                self.recorded += 1
                self.last.update(item)
                if "val_acc" in item:
                    self._val_step = item.get("step")
                if len(self.history) > self._max_history:
                    self._thin_history()
            elif item["event"] == "samples":
                extra = {k: v for k, v in item.items() if k not in ("event", "step", "images")}
                self.grids.append((int(item["step"]), item["images"], extra))
                if len(self.grids) > self._max_grids:  # keep the first and last grids, thin out the middle
                    self.grids = self.grids[:1] + [g for i, g in enumerate(self.grids[1:-1]) if i % 2] + self.grids[-1:]
            elif item["event"] == "confusion":
                self.confusion = item
            elif item["event"] == "hint":
                self.hint = str(item.get("text", ""))[:300] or None

    def _thin_history(self):
        """Keep the newest half of max_history at full resolution; of the older rows keep the epoch ends and
        an even spread of the others (imgai.training.history), a quarter of max_history in all. Total stays
        below max_history, and the work is amortised: the next thinning is max_history/4 rows away."""
        n = self._max_history
        cut = len(self.history) - n // 2
        keep = thin_indices(cut, n // 8, keep=lambda i: "val_acc" in self.history[i])
        if len(keep) > n // 4:   # more epoch ends than fit: spread those too
            keep = [keep[i] for i in thin_indices(len(keep), n // 4 - 1)]
        self.history = [self.history[i] for i in keep] + self.history[cut:]
        self._seq = [self._seq[i] for i in keep] + self._seq[cut:]

    def _publish_weights(self, force=False):
        model, now = self._state.model, time.monotonic()
        if model is None:
            return
        if self.meta.get("config") is None:
            self.meta["config"] = model_config(model)  # what model() and save() rebuild the weights into
        if not force and now - self._snapshot_t < self._snapshot_every:
            return
        weights = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        with self._lock:
            step = int(self.last.get("step", 0))
            metrics = {k: v for k, v in self.last.items() if isinstance(v, float)}
            if self._val_step != step:  # epoch-end figures of earlier weights do not describe these
                metrics = {k: v for k, v in metrics.items() if k not in VAL_KEYS}
            self._snapshot, self._snapshot_step, self._snapshot_metrics = weights, step, metrics
            self._snapshot_t = now

    def _between_steps(self):
        """Apply requests; block while paused. Returns None to go on, or (status, error) to end now."""
        with self._lock:
            while True:
                if self._lr_request is not None:
                    self._state.base_lr, self._lr_request = self._lr_request, None
                if self._stop:
                    return "stopped", None
                if self._abandon_after and time.monotonic() - self._seen > self._abandon_after:
                    return "stopped", (f"stopped after {_duration(self._abandon_after)} with nobody watching (the "
                                       "browser tab was closed); the weights so far can still be saved")
                if not self._pause:
                    return None
                if self._step_until is not None and self.last.get("step", 0) < self._step_until:
                    return None     # single-stepping: keep going until that batch is done
                self._step_until = None
                self._wake.wait(timeout=1.0)

    def _release(self):
        """Let go of what only training needed: the model on its device, the optimiser and its moments,
        the loop and the run (its training data). The snapshot stays, so the job can still be saved."""
        with self._lock:
            self._state = TrainState(base_lr=self._state.base_lr)
            self._factory = None

    def _finish(self, status, error=None):
        with self._lock:
            self.status, self.error, self.finished_at = status, error, time.time()


class JobRegistry:
    """All jobs of one server process. The cap keeps a classroom from starting 30 trainings on 2 cores."""
    def __init__(self, max_active: int = 2, nice: int = 0):
        """nice: how much lower than the server's the training threads' priority is (0: the same)."""
        self.max_active, self.nice = max_active, nice
        self._jobs, self._lock = {}, threading.Lock()

    def submit(self, loop_factory, meta: dict, owner: str = "", **job_kw) -> Job:
        with self._lock:
            active = [j for j in self._jobs.values() if j.active]
            if len(active) >= self.max_active:
                raise JobLimitError(f"the server is already training {len(active)} models (its limit is "
                                    f"{self.max_active}); wait for one to finish, or stop one")
            job = Job(loop_factory, meta, owner=owner, **{"nice": self.nice, **job_kw})
            self._jobs[job.id] = job
            return job.start()  # started inside the lock: two sessions at once cannot both pass the cap

    def get(self, job_id) -> Job | None:
        return self._jobs.get(job_id)

    def jobs(self, owner=None) -> list:
        return [j for j in self._jobs.values() if owner is None or j.owner == owner]

    def forget_finished(self, older_than_s: float = 3600):
        now = time.time()
        with self._lock:
            for jid in [jid for jid, j in self._jobs.items()
                        if not j.active and j.finished_at and now - j.finished_at > older_than_s]:
                del self._jobs[jid]
