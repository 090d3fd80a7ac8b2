"""Jobs: a training loop running in a background thread that a user interface can watch and steer.

    job = Job(run.loop, run.meta, run.model); job.start(); ...; job.pause(); job.step(); job.save("mine")

The thread is the only one touching the model being trained. Everything others read — metric history,
sample grids, the latest weights — is copied out under a lock, so a page can redraw at any time.
Pause, step, stop and learning-rate changes are requests the thread applies between two batches.
"""
import threading
import time
import uuid

import torch

from .checkpoint import save_checkpoint
from .models import build_model, model_config
from .train import TrainingDiverged, TrainState

ACTIVE = ("running", "paused")


class JobLimitError(RuntimeError):
    """Too many jobs on this server; str(e) is one line for the user."""


class Job:
    def __init__(self, loop_factory, meta: dict, *, owner: str = "", snapshot_every_s: float = 2.0,
                 abandon_after_s: float | None = None, max_grids: int = 120):
        self.id = uuid.uuid4().hex[:12]
        self.owner, self.meta = owner, dict(meta)
        self._factory = loop_factory
        self._state = TrainState()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread = None
        self.status, self.error = "created", None
        self.history, self.grids, self.confusion = [], [], None   # grids: [(step, uint8 images, extra dict)]
        self.last = {}                  # the latest metrics, merged (so val_acc stays visible between epochs)
        self.started_at = self.finished_at = None
        self._pause = self._stop = False
        self._step_until = None         # while paused: run until this step, then pause again
        self._lr_request = None
        self._snapshot, self._snapshot_step, self._snapshot_t = None, -1, 0.0
        self._snapshot_every = snapshot_every_s
        self._abandon_after, self._seen = abandon_after_s, time.monotonic()
        self._max_grids = max_grids

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
        if not (lr > 0 and lr < 10):
            raise ValueError(f"learning rate must be between 0 and 10, not {lr}")
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
        with self._lock:
            return self.history[since:]

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
        model = build_model(self.meta["kind"], self.meta["config"])
        model.load_state_dict(weights)
        return model.eval()

    def save(self, path):
        """Write the latest weights as a checkpoint (during or after the run)."""
        model = self.model()
        if model is None:
            raise RuntimeError("nothing to save yet: the job has not finished a step")
        _, step = self.snapshot()
        metrics = {k: v for k, v in self.last.items() if isinstance(v, float)}
        return save_checkpoint(path, model, {**self.meta, "step": step, "metrics": metrics})

    def summary(self) -> dict:
        last = dict(self.last)
        return {"id": self.id, "status": self.status, "error": self.error, "kind": self.meta.get("kind"),
                "dataset": self.meta.get("dataset"), "step": int(last.get("step", 0)),
                "progress": float(last.get("progress", 0.0)), "seconds": float(last.get("seconds", 0.0)),
                "images_per_s": float(last.get("images_per_s", 0.0)),
                **{k: last[k] for k in ("loss", "acc", "val_acc", "loss_d", "loss_g", "d_x", "d_g_z") if k in last}}

    # ---- the training thread ----
    def _run(self):
        try:
            loop = self._factory(self._state)
            for item in loop:
                self._record(item)
                self._publish_weights()
                if not self._between_steps():
                    break
            else:
                self._finish("done")
        except TrainingDiverged as e:
            self._finish("error", str(e))
        except Exception as e:  # an error in a background thread must reach the user, not vanish
            first = (str(e).strip().splitlines() or [""])[0][:200]
            self._finish("error", f"training failed: {type(e).__name__}: {first}")
        finally:
            self._publish_weights(force=True)

    def _record(self, item: dict):
        with self._lock:
            if "event" not in item:
                self.history.append(item)
                self.last.update(item)
            elif item["event"] == "samples":
                extra = {k: v for k, v in item.items() if k not in ("event", "step", "images")}
                self.grids.append((int(item["step"]), item["images"], extra))
                if len(self.grids) > self._max_grids:  # keep the first and last grids, thin out the middle
                    self.grids = self.grids[:1] + [g for i, g in enumerate(self.grids[1:-1]) if i % 2] + self.grids[-1:]
            elif item["event"] == "confusion":
                self.confusion = item

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
            self._snapshot, self._snapshot_step, self._snapshot_t = weights, int(self.last.get("step", 0)), now

    def _between_steps(self) -> bool:
        """Apply requests; block while paused. False means: stop now."""
        with self._lock:
            while True:
                if self._lr_request is not None:
                    self._state.base_lr, self._lr_request = self._lr_request, None
                if self._stop:
                    self._finish_locked("stopped")
                    return False
                if self._abandon_after and time.monotonic() - self._seen > self._abandon_after:
                    self._finish_locked("stopped", f"stopped after {self._abandon_after / 60:.0f} minutes "
                                                   "with nobody watching (the browser tab was closed)")
                    return False
                if not self._pause:
                    return True
                if self._step_until is not None and self.last.get("step", 0) < self._step_until:
                    return True     # single-stepping: keep going until that batch is done
                self._step_until = None
                self._wake.wait(timeout=1.0)

    def _finish(self, status, error=None):
        with self._lock:
            self._finish_locked(status, error)

    def _finish_locked(self, status, error=None):
        self.status, self.error, self.finished_at = status, error, time.time()


class JobRegistry:
    """All jobs of one server process. The cap keeps a classroom from starting 30 trainings on 2 cores."""
    def __init__(self, max_active: int = 2):
        self.max_active = max_active
        self._jobs, self._lock = {}, threading.Lock()

    def submit(self, loop_factory, meta: dict, owner: str = "", **job_kw) -> Job:
        with self._lock:
            active = [j for j in self._jobs.values() if j.active]
            if len(active) >= self.max_active:
                raise JobLimitError(f"the server is already training {len(active)} models (its limit is "
                                    f"{self.max_active}); wait for one to finish, or stop one")
            job = Job(loop_factory, meta, owner=owner, **job_kw)
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
