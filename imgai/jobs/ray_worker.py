"""The Ray side of imgai's training jobs: what runs in the worker processes (see imgai.jobs.ray_registry).

    ray.remote(JobWorker).options(name="imgai-job-<id>", num_cpus=1).remote(job_id, owner, spec, data, "cpu", {})

JobWorker is one job's actor: it builds the run from a picklable spec (imgai.training.runs.RunSpec) and the data
(a bundled set's name, or arrays from the object store), trains it in an ordinary imgai.jobs.threads.Job thread,
answers controls and polls from other threads, and when the job ends hands its final state (checkpoint
bytes included) to the JobDirectory and exits, so its CPU goes to the next job in line. JobDirectory (one
per cluster, no CPU) knows every job's owner and description, the waiting order, and the ended jobs.
"""
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import ray
import torch

from imgai.data.datasets import ImageData, load_dataset
from imgai.device import JOB_NICE, configure_threads
from imgai.jobs.threads import Job

NAMESPACE = "imgai"
DIRECTORY = "imgai-directory"
PREFIX = "imgai-job-"              # one actor per worker process: imgai-job-<id of its first job>
BUNDLED = ("digits",)              # data sets inside the package: the worker reads them itself


def warm_worker():
    """Ray's worker_process_setup_hook: every worker imports torch and the training code, and pays PyTorch's
    one-time costs, before its job (imgai.jobs.warm). It runs when the process starts, which for an actor is when
    the actor is created; a warm spare JobWorker, started before anyone asks for a job, is what saves a
    job the wait."""
    from imgai.jobs.warm import warm_up
    warm_up()


_configured = False


def _ray_cpus() -> int:
    """The CPUs Ray gave this actor (its num_cpus; 1 where Ray cannot say)."""
    try:
        return max(1, int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1)))
    except Exception:  # noqa: BLE001 — outside an actor, or an older Ray: one CPU, as the actors ask for
        return 1


def _configure_process():
    """torch's threads by the app's rule (imgai.device.configure_threads: the cores free now, never more),
    capped at the CPUs Ray gave the actor (Ray's CPUs are logical: it does not stop a job using every core),
    and a lower priority."""
    global _configured
    if not _configured:
        configure_threads(limit=_ray_cpus())
        try:
            os.nice(JOB_NICE)   # jobs run at a lower priority than the web server
        except OSError:
            pass
        _configured = True


def pack_data(data: ImageData):
    """What goes to the worker: a bundled set's name, or the arrays (through the object store)."""
    if data.name in BUNDLED:
        return data.name
    return {"name": data.name, "train_x": data.train_x.numpy(), "train_y": data.train_y.numpy(),
            "val_x": data.val_x.numpy(), "val_y": data.val_y.numpy(), "class_names": list(data.class_names),
            "mean": tuple(data.mean), "std": tuple(data.std), "intake": data.intake, "skipped": data.skipped}


_bundled = {}   # name -> ImageData: a bundled set read ahead by a warm spare (training never writes to it)


def bundled_dataset(name: str) -> ImageData:
    if name not in _bundled:
        _bundled[name] = load_dataset(name)
    return _bundled[name]


def unpack_data(packed) -> ImageData:
    if isinstance(packed, ray.ObjectRef):   # a queued job's arrays, handed on by the directory
        packed = ray.get(packed)
    if isinstance(packed, str):
        return bundled_dataset(packed)
    t = {k: torch.from_numpy(np.array(packed[k])) for k in ("train_x", "train_y", "val_x", "val_y")}  # own copies
    return ImageData(packed["name"], t["train_x"], t["train_y"], t["val_x"], t["val_y"], list(packed["class_names"]),
                     tuple(packed["mean"]), tuple(packed["std"]), packed["intake"], int(packed["skipped"]))


def _one_line(e: BaseException) -> str:
    first = (str(e).strip().splitlines() or [""])[0][:200]
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


def _checkpoint_bytes(job: Job) -> dict | None:
    """The job's latest weights as checkpoint files' bytes ({"safetensors": b, "json": b, "step": n}), or None."""
    with tempfile.TemporaryDirectory(prefix="imgai-ckpt-") as tmp:
        try:
            base = job.save(Path(tmp) / "job")
        except RuntimeError:   # nothing to save yet
            return None
        return {"safetensors": base.with_suffix(".safetensors").read_bytes(),
                "json": base.with_suffix(".json").read_bytes(), "step": int(job.snapshot()[1])}


class JobWorker:
    """The actor: builds the run from a picklable spec here, in its own process, and trains it in a Job.

    Made without a spec it is a warm spare: a worker process that has started and imported torch and the
    training code (and holds its CPU) before anyone asked for a job, so that assign() starts one at once.
    A spare nobody assigns within spare_s exits, giving its CPU back."""

    def __init__(self, job_id: str, owner: str | None = None, spec=None, data=None, device: str = "cpu",
                 job_kw: dict | None = None, spare_s: float = 300.0):
        self.id, self.node_id, self.pid = job_id, ray.get_runtime_context().get_node_id(), os.getpid()
        self.name, self.device = PREFIX + job_id, device   # the actor's name: its first job's
        self._directory = ray.get_actor(DIRECTORY, namespace=NAMESPACE)
        self.job, self.error = None, None
        self.done_ids = set()    # jobs this process trained and handed to the directory (their handles ask there)
        self._lock, self._state = threading.Lock(), "spare"    # spare -> assigned | expired
        _configure_process()
        if spec is None:
            from imgai.jobs.warm import warm_up
            warm_up()   # cheap when the setup hook ran; else (a cluster joined by address) done here
            bundled_dataset(BUNDLED[0])   # read ahead: the job that gets this spare starts without reading it
            threading.Timer(spare_s, self._expire).start()
            return
        self.assign(owner, spec, data, device, job_kw or {})

    def assign(self, owner: str, spec, data, device: str, job_kw: dict) -> bool:
        """Start this spare's job (False: it expired meanwhile and is exiting; make a fresh worker)."""
        with self._lock:
            if self._state != "spare":
                return False
            self._state = "assigned"
        self._directory.started.remote(self.id, self.node_id, self.pid, self.name)
        try:
            from imgai.training.runs import prepare_run
            run = prepare_run(spec, data=unpack_data(data), device=device)
            kw = dict(job_kw)
            judge_for = kw.pop("judge_for", None)   # the web server's choice of judge, built here on this run
            self.job = Job(run.loop, run.meta, owner=owner, judge=judge_for(run) if judge_for else None, **kw)
            self.job.id = self.id
            self.job.start()
        except Exception as e:  # a run that cannot be built ends as an error the user can read
            self.error = f"could not start the run: {_one_line(e)}"
        threading.Thread(target=self._report_end, name="imgai-report-end", daemon=True).start()
        return True

    def _take(self, job_id: str, owner: str, spec, data, device: str, job_kw: dict):
        """Train the next job in line in this same process (torch imported, the training code warm)."""
        self.done_ids.add(self.id)       # first: from now on the last job's handle is sent to the directory
        self.id, self.job, self.error = job_id, None, None
        with self._lock:
            self._state = "spare"
        self.assign(owner, spec, data, device, job_kw)

    def _mine(self, job_id: str | None) -> str | None:
        """None when a call about job_id is this process's current job (or names none); else why not:
        "moved" (it ended here and the directory has its final state) or "created" (not begun here yet)."""
        if job_id is None or job_id == self.id:
            return None
        return "moved" if job_id in self.done_ids else "created"

    def _expire(self):
        with self._lock:
            if self._state != "spare":
                return
            self._state = "expired"
        ray.kill(ray.get_runtime_context().current_actor, no_restart=True)

    def where(self) -> dict:
        return {"node_id": self.node_id, "pid": self.pid}

    def poll(self, grid_steps: list, beat: bool = False, job_id: str | None = None) -> dict:
        """The job's state and the grids whose steps are not in grid_steps (metric rows: see metrics).
        {"status": "moved"} when job_id ended in this process, which now trains another."""
        other = self._mine(job_id)
        if other is not None:
            return {"status": other, "error": None, "grid_steps": [], "grids": []}
        job = self.job
        if job is None:   # a spare whose job is still being built (assign runs in another thread), or a failure
            return {"status": "error" if self.error else "created", "error": self.error, "grid_steps": [],
                    "grids": []}
        if beat:
            job.heartbeat()
        known = set(grid_steps)
        grids = job.grid_history()
        return {"status": job.status, "error": job.error, "summary": job.summary(), "lr": job.lr,
                "confusion": job.confusion, "config": job.meta.get("config"),
                "grid_steps": [g[0] for g in grids], "grids": [g for g in grids if g[0] not in known],
                "started_at": job.started_at, "finished_at": job.finished_at}

    def metrics(self, since: int = 0, job_id: str | None = None) -> list | None:
        if self._mine(job_id) == "moved":
            return None      # the caller reads the ended job's rows from the directory
        return self.job.metrics(since) if self.job and self._mine(job_id) is None else []

    def control(self, action: str, *args, job_id: str | None = None):
        other = self._mine(job_id)
        if other is not None:
            return other
        if self.job is not None and action in ("pause", "resume", "step", "stop", "set_lr", "heartbeat"):
            getattr(self.job, action)(*args)
        return self.job.status if self.job else "error"

    def checkpoint(self, job_id: str | None = None) -> dict | None:
        return _checkpoint_bytes(self.job) if self.job and self._mine(job_id) is None else None

    def _report_end(self):
        """When the job has ended: hand its final state to the directory and take the next job in line, if one
        waits; else exit (freeing the CPU). Taking it here saves each waiting job a fresh worker process
        (importing torch and the training code: ~6 CPU-s each, which for a class of 30 on 2 cores was most of
        the work; bench/results/classroom-30-ray.json is the class measured with this)."""
        job = self.job
        if job is not None:
            while not job.wait(timeout=1.0):
                pass
            final = {"status": job.status, "error": job.error, "summary": job.summary(), "rows": job.metrics(0),
                     "lr": job.lr, "confusion": job.confusion, "config": job.meta.get("config"),
                     "grids": job.grid_history(), "started_at": job.started_at, "finished_at": job.finished_at}
            try:
                final["checkpoint"] = _checkpoint_bytes(job)
            except Exception as e:
                final["checkpoint"], final["checkpoint_error"] = None, _one_line(e)
        else:
            final = {"status": "error", "error": self.error, "summary": None, "rows": [], "grids": [],
                     "finished_at": time.time(), "checkpoint": None}
        nxt = None
        try:
            nxt = ray.get(self._directory.finished_and_next.remote(self.id, final, self.name,
                                                                   self.device == "cpu"), timeout=60)
        finally:
            if nxt is None:
                ray.kill(ray.get_runtime_context().current_actor, no_restart=True)
        self._take(*nxt)


class JobDirectory:
    """Every job of this Ray cluster (actor imgai-directory, no CPU): who owns it, what it is, whether it waits,
    and the final state of ended ones. Web servers (restarted or replicated) all ask this one.

    It is also the line of jobs waiting for a CPU: admit() gives a job a CPU slot (the web server then starts
    a worker for it) or keeps it, with what its worker needs, until a worker that ends its job takes it
    (finished_and_next). One actor answers one call at a time, so a slot is never given twice."""

    def __init__(self):
        self.jobs, self.final = {}, {}
        self.waiting = {}     # job id -> (owner, spec, data, device, job_kw) of a job that has no worker yet

    def register(self, job_id: str, info: dict, state: str = "queued"):
        self.jobs[job_id] = {**info, "state": state, "submitted": time.time()}

    def _busy(self) -> int:
        return sum(1 for j in self.jobs.values() if j["state"] in ("starting", "running"))

    def admit(self, job_id: str, info: dict, payload: tuple, capacity: int) -> bool:
        """Register a job; True: a CPU slot is its now (start a worker for it), False: it waits in line."""
        free = self._busy() < capacity and not self.waiting   # nobody may jump the line
        self.register(job_id, info, "starting" if free else "queued")
        if not free:
            self.waiting[job_id] = payload
        return free

    def claim_waiting(self, capacity: int) -> list:
        """[(job id, payload)] of the jobs first in line that free slots can take: the web server starts a
        worker for each (the watcher's call: a slot freed by a worker that found nobody waiting, or was lost)."""
        out = []
        while self.waiting and self._busy() < capacity:
            out.append(self._pop_next(PREFIX + next(iter(self.waiting))))
        return out

    def busy_actors(self) -> set:
        """Names of the workers training (or about to train) a job."""
        return {j.get("actor") or PREFIX + job_id for job_id, j in self.jobs.items()
                if j["state"] in ("starting", "running")}

    def waiting_count(self) -> int:
        return len(self.waiting)

    def _pop_next(self, actor: str):
        job_id = next(iter(self.waiting))     # dicts keep insertion order: the first submitted
        payload = self.waiting.pop(job_id)
        self.jobs[job_id].update(state="starting", actor=actor)
        return (job_id, *payload)

    def started(self, job_id: str, node_id: str, pid: int, actor: str | None = None):
        if job_id in self.jobs and self.jobs[job_id]["state"] in ("queued", "starting"):
            self.jobs[job_id].update(state="running", node_id=node_id, pid=pid, started=time.time())
            if actor:
                self.jobs[job_id]["actor"] = actor

    def finished(self, job_id: str, final: dict):
        self.waiting.pop(job_id, None)    # a job cancelled while it waited never starts
        if job_id in self.jobs:
            own = {**final, "grids": [(s, np.array(img), dict(extra)) for s, img, extra in final.get("grids", [])]}
            self.final[job_id] = own
            self.jobs[job_id].update(state="ended", ended=time.time())

    def finished_and_next(self, job_id: str, final: dict, actor: str, take: bool):
        """A worker's job ended: keep its final state, and hand that worker the first waiting job (None: nobody
        waits, or take is False, and the worker exits)."""
        self.finished(job_id, final)
        if not take or not self.waiting:
            return None
        return self._pop_next(actor)

    def info(self, job_id: str) -> dict | None:
        info = self.jobs.get(job_id)
        if info is None:
            return None
        return {**info, "position": self._position(job_id)}

    def states(self, job_ids: list) -> dict:
        return {j: self.info(j) for j in job_ids}

    def get_final(self, job_id: str) -> dict | None:
        """An ended job's final state, less its checkpoint bytes (a few MB that only a save needs:
        get_checkpoint); "has_checkpoint" says whether there are any."""
        final = self.final.get(job_id)
        if final is None:
            return None
        return {**{k: v for k, v in final.items() if k != "checkpoint"}, "has_checkpoint": bool(final.get("checkpoint"))}

    def get_checkpoint(self, job_id: str) -> dict | None:
        """An ended job's checkpoint bytes ({"safetensors", "json", "step"}), or None."""
        return (self.final.get(job_id) or {}).get("checkpoint")

    def _position(self, job_id: str) -> int | None:
        """1 for the next job to start, 2 for the one after it, ... None when not waiting."""
        me = self.jobs[job_id]
        if me["state"] != "queued":
            return None
        return 1 + sum(1 for j in self.jobs.values() if j["state"] == "queued" and j["submitted"] < me["submitted"])

    def list(self, owner: str | None = None) -> list:
        return [j for j, info in self.jobs.items() if owner is None or info.get("owner") == owner]

    def forget(self, job_id: str):
        self.jobs.pop(job_id, None)
        self.final.pop(job_id, None)

    def forget_finished(self, older_than_s: float) -> list:
        now = time.time()
        gone = [j for j, info in self.jobs.items() if info["state"] == "ended" and now - info["ended"] > older_than_s]
        for j in gone:
            self.forget(j)
        return gone
