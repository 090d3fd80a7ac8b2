"""The web server's handle on one training job running in a Ray actor (imgai.jobs.ray_worker.JobWorker).

    job = registry.submit(run, owner=who)     # a RayJob, from imgai.jobs.ray_registry.RayJobRegistry
    job.status; job.metrics(since=120); job.pause(); job.save(path)

It answers as imgai.jobs.threads.Job does (both satisfy imgai.jobs.handle.JobHandle), polling its actor for
small increments (the job's state; metric rows since a row; grids it has not seen yet) and keeping them, so
a page redraw costs one or two round trips of a few milliseconds — and never waits long on a busy worker.
"""
import json
import threading
import time
from pathlib import Path

import ray

from imgai.models.checkpoint import write_files, zip_files
from imgai.jobs.ray_worker import NAMESPACE, PREFIX
ACTIVE = ("queued", "created", "running", "paused")
POLL_EVERY_S = 0.3                 # a handle asks its actor at most this often for the job's state
FRESH_WAIT_S = 0.25                # and waits at most this long for the answer before a page goes on
NOT_YET = object()                 # a question to Ray whose answer has not come yet
CALL_TIMEOUT_S = 10.0
LOST = "the worker running this job was lost (its process or machine stopped) — start the run again"



class RayJob:
    """The web server's handle on one job's actor: the same interface as imgai.jobs.threads.Job."""

    def __init__(self, job_id: str, owner: str, meta: dict, directory, actor=None, submitted_at: float = 0.0):
        self.id, self.owner, self.meta = job_id, owner, dict(meta)
        self._directory, self._actor = directory, actor
        self._actor_name = PREFIX + job_id   # a worker that took this job after another's: the directory says
        self._lock = threading.RLock()
        self._state = {"status": "queued", "error": None, "summary": None, "lr": (meta.get("train") or {}).get("lr"),
                       "confusion": None, "grid_steps": [], "started_at": None, "finished_at": None}
        self._grids = {}              # step -> (step, images, extra): a grid never changes once made
        self._final = None            # the ended job's state, from the directory
        self._polled_at = 0.0
        self._asked = {}              # question ("poll", "info", ("metrics", since)) -> its ref while on its way
        self._position = None          # place in the queue while waiting (1 = next)
        self.node_id = None
        self.warm = False             # started on a warm spare worker (RayJobRegistry.submit)
        self.submitted_at = submitted_at

    # ---- state ----
    def _actor_handle(self):
        if self._actor is None:
            try:
                self._actor = ray.get_actor(self._actor_name, namespace=NAMESPACE)
            except ValueError:
                return None
        return self._actor

    def _answer(self, key, ask, force: bool = False):
        """The answer to a question put to Ray (ask() → an object ref) without holding up the page: a question
        just sent is waited for FRESH_WAIT_S at most (5 s when forced: after a control, or in wait()), one an
        earlier call sent is only looked at. NOT_YET until it is answered; the caller keeps its last state (a
        page reads status, summary, grids... in one run, and a busy or still-starting worker would otherwise
        make each of them wait). Raises what ray.get raises for the answer (a dead actor)."""
        ref = None if force else self._asked.get(key)
        fresh = ref is None
        if fresh:
            ref = self._asked[key] = ask()
        ready, _ = ray.wait([ref], timeout=5.0 if force else FRESH_WAIT_S if fresh else 0)
        if not ready:
            return NOT_YET
        del self._asked[key]
        return ray.get(ref)

    def _sync(self, force: bool = False, beat: bool = False):
        with self._lock:
            if self._final is not None or (not force and time.monotonic() - self._polled_at < POLL_EVERY_S):
                return
            self._polled_at = time.monotonic()
            if self._state["status"] == "queued":
                info = self._answer("info", lambda: self._directory.info.remote(self.id), force)
                if info is NOT_YET:
                    return
                if info is None:
                    self._lose("this job is no longer known to the cluster")
                    return
                self._position, self.node_id = info.get("position"), info.get("node_id")
                if info.get("actor") and info["actor"] != self._actor_name:
                    self._actor_name, self._actor = info["actor"], None
                if info["state"] == "queued":
                    return
                if info["state"] == "ended":
                    self._load_final()
                    return
                self._state["status"] = "created"
            actor = self._actor_handle()
            if actor is None:
                self._load_final()
                return
            try:
                p = self._answer("poll", lambda: actor.poll.remote(list(self._grids), beat, job_id=self.id), force)
            except ray.exceptions.RayActorError:
                self._load_final()
                return
            if p is NOT_YET:
                return
            if p["status"] == "moved":   # it ended, and its worker took the next job in line
                self._load_final()
            else:
                self._apply(p)

    def _apply(self, p: dict):
        steps = p.get("grid_steps", [])
        for g in p.get("grids", []):
            self._grids[g[0]] = g
        if steps:
            self._grids = {s: self._grids[s] for s in steps if s in self._grids}
        if p.get("config") and self.meta.get("config") is None:
            self.meta["config"] = p["config"]
        self._state.update({k: p[k] for k in ("status", "error", "summary", "lr", "confusion", "started_at",
                                              "finished_at") if k in p})
        self._position = None

    def _load_final(self):
        final = ray.get(self._directory.get_final.remote(self.id), timeout=CALL_TIMEOUT_S)
        if final is None:
            self._lose(LOST)
            self._directory.finished.remote(self.id, self._final)   # its CPU slot is free for the next in line
            return
        self._final = final
        self._grids = {g[0]: g for g in final.get("grids", [])}
        self._apply({**final, "grid_steps": list(self._grids)})
        self._actor = None

    def _lose(self, why: str):
        self._final = {"status": "error", "error": why, "rows": [], "grids": [], "checkpoint": None}
        self._state.update(status="error", error=why)
        self._position = None

    @property
    def status(self) -> str:
        self._sync()
        return self._state["status"]

    @property
    def error(self) -> str | None:
        self._sync()
        return self._state["error"]

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def position(self) -> int | None:
        """Place in the line of waiting jobs (1 = next to start), or None when not waiting."""
        self._sync()
        return self._position

    @property
    def queued(self) -> bool:
        return self.status == "queued"

    @property
    def lr(self) -> float:
        self._sync()
        return self._state["lr"]

    @property
    def confusion(self):
        self._sync()
        return self._state["confusion"]

    @property
    def started_at(self):
        return self._state["started_at"]

    @property
    def finished_at(self):
        return self._state["finished_at"]

    def summary(self) -> dict:
        self._sync()
        s = self._state["summary"]
        if s is None:
            s = {"id": self.id, "status": self._state["status"], "error": self._state["error"],
                 "kind": self.meta.get("kind"), "dataset": self.meta.get("dataset"), "step": 0, "progress": 0.0,
                 "seconds": 0.0, "images_per_s": 0.0}
        return {**s, "status": self._state["status"], "error": self._state["error"]}

    def metrics(self, since: int = 0) -> list:
        self._sync()
        if self._final is not None:
            return list(self._final.get("rows", [])[since:])
        actor = self._actor_handle() if self._state["status"] != "queued" else None
        if actor is None:
            return []
        try:
            with self._lock:
                rows = self._answer(("metrics", since), lambda: actor.metrics.remote(since, job_id=self.id))
                for key in [k for k in self._asked if isinstance(k, tuple) and k != ("metrics", since)]:
                    del self._asked[key]    # a page that moved on will not ask for those rows again
            if rows is None:            # it ended and its worker moved on: the rows are the directory's now
                self._sync(force=True)
                return list(self._final.get("rows", [])[since:]) if self._final else []
            return [] if rows is NOT_YET else rows
        except ray.exceptions.RayActorError:
            self._sync(force=True)
            return list(self._final.get("rows", [])[since:]) if self._final else []

    def latest_grid(self):
        self._sync()
        return self._grids[max(self._grids)] if self._grids else None

    def grid_history(self) -> list:
        self._sync()
        return [self._grids[s] for s in sorted(self._grids)]

    # ---- control ----
    def _control(self, action: str, *args):
        with self._lock:
            if self._final is None and self._state["status"] == "queued":
                self._sync(force=True)      # a new handle (another server's) learns first whether it runs
            if self._final is not None:
                return
            actor = self._actor_handle()
            if actor is not None and self._state["status"] != "queued":
                try:
                    ray.get(actor.control.remote(action, *args, job_id=self.id), timeout=CALL_TIMEOUT_S)
                except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
                    pass
            self._sync(force=True)

    def pause(self):
        self._control("pause")

    def resume(self):
        self._control("resume")

    def step(self):
        self._control("step")

    def set_lr(self, lr: float):
        if not (lr > 0 and lr < 10):
            raise ValueError(f"learning rate must be between 0 and 10, not {lr}")
        self._control("set_lr", float(lr))

    def stop(self):
        """Stop a running job; a job still waiting for a worker is cancelled (it never starts)."""
        with self._lock:
            self._sync(force=True)
            if self._state["status"] == "queued":
                self.cancel()
            else:
                self._control("stop")

    def cancel(self):
        with self._lock:
            actor = self._actor_handle()
            if actor is not None:
                ray.kill(actor, no_restart=True)
            final = {"status": "stopped", "error": "was cancelled before a worker was free", "summary": None,
                     "rows": [], "grids": [], "finished_at": time.time(), "checkpoint": None}
            ray.get(self._directory.finished.remote(self.id, final), timeout=CALL_TIMEOUT_S)
            self._final = final
            self._state.update(status="stopped", error=final["error"], finished_at=final["finished_at"])
            self._position, self._actor = None, None

    def heartbeat(self):
        self._sync()
        if self._state["status"] in ("running", "paused", "created"):
            actor = self._actor_handle()
            if actor is not None:
                actor.control.remote("heartbeat", job_id=self.id)   # fire and forget: costs the page nothing

    def wait(self, timeout=None) -> bool:
        t0 = time.monotonic()
        while True:
            self._sync(force=True)
            if self._state["status"] not in ACTIVE:
                return True
            if timeout is not None and time.monotonic() - t0 >= timeout:
                return False
            time.sleep(0.1)

    # ---- weights ----
    def _checkpoint(self) -> dict | None:
        self._sync(force=True)
        if self._final is None:
            actor = self._actor_handle()
            try:
                if actor is not None and self._state["status"] != "queued":
                    ckpt = ray.get(actor.checkpoint.remote(job_id=self.id), timeout=60)
                    if ckpt is not None:
                        return ckpt
                    self._sync(force=True)   # nothing yet, or it ended and its worker moved on
            except ray.exceptions.RayActorError:
                self._sync(force=True)
        if not self._final:
            return None
        if not self._final.get("has_checkpoint"):   # it ended before a step, was cancelled, or was lost
            return self._final.get("checkpoint")
        # the directory keeps an ended job's weights; a handle fetches them only for a save, a download or an
        # export, so the web server does not hold a few MB per ended run of the class for an hour
        ckpt = ray.get(self._directory.get_checkpoint.remote(self.id), timeout=60)
        if ckpt is None:
            raise RuntimeError("this run's weights are no longer kept: ended runs are cleared an hour after they end")
        return ckpt

    def save(self, path) -> Path:
        """Fetch the latest weights as checkpoint bytes and write them here (weights first, description last)."""
        ckpt = self._checkpoint()
        if ckpt is None:
            raise RuntimeError("nothing to save yet: the job has not finished a step")
        base = write_files(path, ckpt["safetensors"], json.loads(ckpt["json"]))  # CheckpointError: one line
        self._saved_step = ckpt["step"]
        return base

    def zip_bytes(self, name: str) -> bytes:
        """The latest weights as a zip in memory (NAME.safetensors + NAME.json), as Job.zip_bytes."""
        ckpt = self._checkpoint()
        if ckpt is None:
            raise RuntimeError("nothing to save yet: the job has not finished a step")
        return zip_files(name, ckpt["safetensors"], json.loads(ckpt["json"]))

    def snapshot(self):
        """(state_dict on the CPU, step) of the latest weights, or (None, -1): fetched from the worker."""
        from safetensors.torch import load as load_tensors
        ckpt = self._checkpoint()
        if ckpt is None:
            return None, -1
        return load_tensors(ckpt["safetensors"]), int(ckpt["step"])

    def where(self) -> dict | None:
        """{"node_id", "pid"} of the worker process training this job (None while it waits or after it ended)."""
        actor = self._actor_handle()
        if actor is None:
            return None
        try:
            return ray.get(actor.where.remote(), timeout=CALL_TIMEOUT_S)
        except ray.exceptions.RayActorError:
            return None
