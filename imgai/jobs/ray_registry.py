"""Training jobs on Ray, the web server's side: one actor per worker process (imgai.jobs.ray_worker), one job
at a time each; while every CPU is busy a job waits in the directory's line, and the next worker to end its
job takes it in the same process (no new process, torch already imported).

    reg = RayJobRegistry()                    # a local Ray on this machine (IMGAI_JOBS=ray)
    reg = RayJobRegistry(address="auto")      # or join a running cluster: the jobs are then detached
    job = reg.submit(run, owner=who)          # a prepared imgai.training.runs.Run; a RayJob handle, at once
    job.status                                # "queued" until a worker is free, then as imgai.jobs.threads.Job

Inside the actor (JobWorker) an ordinary imgai.jobs.threads.Job trains in its own thread, so the job logic lives in
one place. The actor is threaded: controls and poll() answer while it trains. The web server's RayJob
polls for small increments (the job's state; metric rows since a row; grids it has not seen yet) and keeps
them, so a page redraw costs one or two round trips of a few milliseconds.

Data reaches the worker from the package (bundled sets, by name) or as arrays through Ray's object store
(uploaded zips and downloaded sets: no shared disk needed). Checkpoints come back as bytes and the web
server writes them. A small directory actor (imgai-directory, no CPU) knows every job: its owner and
description (so a restarted web server re-attaches a ?job= link), the line of waiting jobs (the queue
position shown to users, and what each one's worker needs) and the final state of ended jobs, so an ended
job's handle reads it there while its worker trains the next job or exits.
"""
import os
import threading
import time
import uuid
from pathlib import Path

import ray
import torch

from imgai.jobs.ray_job import CALL_TIMEOUT_S, PREFIX, RayJob
from imgai.jobs.ray_worker import DIRECTORY, NAMESPACE, JobDirectory, JobWorker, pack_data

ROOT = Path(__file__).resolve().parents[2]   # the checkout: Ray's workers import imgai from here
START_TIMEOUT_S = 180.0            # a cold worker process (the directory's, the first time) on a busy machine


# ---- on the web server ----

_init_lock = threading.Lock()


def connect(address: str | None = None, num_cpus: int | None = None):
    """ray.init once per process (it is not thread-safe): a local Ray, or the cluster at `address`.

    Off the main thread (a Streamlit script run), ray.init runs in a thread kept alive for good: the local
    Ray's processes are started with Linux's parent-death signal, which fires when the *thread* that
    started them ends — a script-run thread would take the whole local Ray down with it when the run ends."""
    with _init_lock:
        if ray.is_initialized():
            return
        if threading.current_thread() is threading.main_thread():
            _init(address, num_cpus)
            return
        done, box = threading.Event(), {}

        def keeper():
            try:
                _init(address, num_cpus)
            except BaseException as e:  # handed to the caller below
                box["error"] = e
            done.set()
            if "error" not in box:
                threading.Event().wait()   # never ends: Ray's processes live as long as this thread

        threading.Thread(target=keeper, name="imgai-ray-keeper", daemon=True).start()
        done.wait()
        if "error" in box:
            raise box["error"]


def _init(address, num_cpus):
    env = {"PYTHONPATH": f"{ROOT}:${{PYTHONPATH}}" if os.environ.get("PYTHONPATH") else str(ROOT)}
    kw = {"namespace": NAMESPACE, "ignore_reinit_error": True, "log_to_driver": False,
          "runtime_env": {"worker_process_setup_hook": "imgai.jobs.ray_worker.warm_worker", "env_vars": env}}
    if address:
        ray.init(address=address, **kw)
    else:
        ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, **kw)


class RayJobRegistry:
    """All jobs, as Ray actors. Nothing is refused: a job that finds no free CPU waits and starts by itself.

    on_end(job), if given, is called once for every job this registry knows of when it has ended, from a
    watcher thread that asks the directory every WATCH_EVERY_S seconds: the web server records runs in its
    run store that way, whether or not a page is still watching them (a closed tab, a page left open)."""
    backend = "ray"
    WATCH_EVERY_S = 3.0

    SPARE_S = 300.0          # a warm spare nobody takes within this time exits (its CPU was idle anyway)

    def __init__(self, address: str | None = None, num_cpus: int | None = None, on_end=None, warm: int = 0):
        connect(address, num_cpus)
        self.address = address
        self.persistent = bool(address)    # detached actors on a cluster outlive this web server
        # the directory is detached even on the local Ray (which ends with this process anyway): it must not
        # die with the first registry that happened to create it
        lifetime = {"lifetime": "detached"} if self.persistent else {}
        self._directory = (ray.remote(JobDirectory).options(name=DIRECTORY, namespace=NAMESPACE, num_cpus=0,
                                                              get_if_exists=True, lifetime="detached").remote())
        ray.get(self._directory.list.remote(None), timeout=START_TIMEOUT_S)   # started (or found) and answering
        self._worker = ray.remote(JobWorker)
        self._lifetime = lifetime
        self._jobs, self._lock = {}, threading.Lock()
        self._workers = {}     # actor name -> handle, for every worker this registry started that may still train
        self._on_end, self._reported = on_end, set()
        # warm spares: worker processes started (torch imported, bundled data read) before a job asks for one
        self.warm, self._spares, self._closed = max(0, int(warm)), [], False   # spares: [(job id, actor, made at)]
        self._spare_up()
        threading.Thread(target=self._watch, name="imgai-ray-watch", daemon=True).start()

    def _spare_up(self):
        """Start a warm spare while fewer than `warm` are ready, a CPU is free and nobody waits in line, so a
        spare never takes a place in line: it only uses a CPU that would idle."""
        with self._lock:
            now = time.monotonic()
            for old in [s for s in self._spares if now - s[2] > self.SPARE_S - 60]:   # about to expire: not
                self._spares.remove(old)                                              # handed out any more
                ray.kill(old[1], no_restart=True)
            if self._closed or len(self._spares) >= self.warm or ray.available_resources().get("CPU", 0) < 1:
                return
            if ray.get(self._directory.waiting_count.remote(), timeout=CALL_TIMEOUT_S):
                return     # a CPU about to be taken by a job in line (its worker is starting)
            job_id = uuid.uuid4().hex[:12]
            actor = self._worker.options(name=PREFIX + job_id, namespace=NAMESPACE, num_cpus=1, max_concurrency=8,
                                         max_restarts=0, **self._lifetime).remote(job_id, spare_s=self.SPARE_S)
            self._spares.append((job_id, actor, now))

    def submit(self, run, owner: str = "", **job_kw) -> RayJob:
        """Queue a prepared imgai.training.runs.Run on a worker process; returns its handle at once."""
        cuda = torch.device(run.device).type == "cuda"
        data = pack_data(run.data)
        data = data if isinstance(data, str) else ray.put(data)
        meta = dict(run.meta)
        spare = None
        with self._lock:
            if self._spares and not cuda:     # spares hold a CPU, not a GPU
                spare = self._spares.pop(0)
        job_id = spare[0] if spare else uuid.uuid4().hex[:12]
        info = {"owner": owner, "meta": meta}
        actor = None
        if spare is not None:
            ray.get(self._directory.register.remote(job_id, info, "starting"), timeout=CALL_TIMEOUT_S)
            actor = spare[1]
            with self._lock:
                self._workers[PREFIX + job_id] = actor   # held while it trains (see _start_worker)
            actor.assign.remote(owner, run.spec, data, "cpu", job_kw)   # it answers polls as soon as it starts
        elif cuda:   # a GPU job waits in Ray's own line for a GPU
            ray.get(self._directory.register.remote(job_id, info), timeout=CALL_TIMEOUT_S)
            actor = self._start_worker(job_id, owner, run.spec, data, "cuda", job_kw)
        elif ray.get(self._directory.admit.remote(job_id, info, (owner, run.spec, data, "cpu", job_kw),
                                                  self._capacity()), timeout=CALL_TIMEOUT_S):
            actor = self._start_worker(job_id, owner, run.spec, data, "cpu", job_kw)
        # else it waits in the directory's line: the next worker to end its job takes it
        job = RayJob(job_id, owner, meta, self._directory, actor, submitted_at=time.time())
        job.warm = spare is not None
        if job.warm:   # its worker is up: never show it "waiting for a free worker", even for a moment
            job._state["status"] = "created"
        with self._lock:
            self._jobs[job_id] = job
        try:
            self._spare_up()                  # the next one, if a CPU is still free
        except Exception:  # noqa: BLE001 — a spare is an optimisation: never fail a submit over it
            pass
        return job

    def _capacity(self) -> int:
        """How many jobs train at once: the cluster's CPUs (each job's worker asks for one)."""
        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def _start_worker(self, job_id: str, owner: str, spec, data, device: str, job_kw: dict):
        actor = self._worker.options(name=PREFIX + job_id, namespace=NAMESPACE, num_cpus=1,
                                     num_gpus=1 if device == "cuda" else 0, max_concurrency=8, max_restarts=0,
                                     **self._lifetime).remote(job_id, owner, spec, data, device, job_kw)
        with self._lock:
            # Ray ends an actor once its creator holds no handle to it, even a named one: a worker goes on to
            # the next job in line after its first job's handle let go, so the registry holds one for it
            self._workers[PREFIX + job_id] = actor
        return actor

    def _let_go_of_idle_workers(self):
        """Drop the handles of workers that train no job any more (they exited when nobody waited)."""
        busy = ray.get(self._directory.busy_actors.remote(), timeout=CALL_TIMEOUT_S)
        with self._lock:
            for name in [n for n in self._workers if n not in busy]:
                del self._workers[name]

    def serve_line(self) -> list:
        """Start a worker for each waiting job that a free CPU slot can take (a worker that ended its job when
        nobody waited has exited; one was lost). Returns their job ids. The watcher calls this."""
        claimed = ray.get(self._directory.claim_waiting.remote(self._capacity()), timeout=CALL_TIMEOUT_S)
        for job_id, *payload in claimed:
            self._start_worker(job_id, *payload)
        return [c[0] for c in claimed]

    def get(self, job_id) -> RayJob | None:
        """This server's handle on a job, or a new one on a job started elsewhere (another replica, or this
        server before a restart) that the directory knows."""
        if not job_id:
            return None
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            return job
        info = ray.get(self._directory.info.remote(str(job_id)), timeout=CALL_TIMEOUT_S)
        if info is None:
            return None
        job = RayJob(str(job_id), info.get("owner", ""), info.get("meta") or {}, self._directory,
                     submitted_at=info.get("submitted", 0.0))
        with self._lock:
            return self._jobs.setdefault(job.id, job)

    def report_ended(self, job: RayJob) -> bool:
        """Hand an ended job to on_end, once (the watcher and a page that saw it end may both call this).
        Returns whether it was handed over now."""
        if self._on_end is None or job.active:
            return False
        with self._lock:
            if job.id in self._reported:
                return False
            self._reported.add(job.id)
        try:
            self._on_end(job)
        except Exception as e:  # noqa: BLE001 — a store that cannot be written loses this record, not the server
            print(f"imgai: could not record the ended job {job.id}: {type(e).__name__}: {e}", flush=True)
        return True

    def sweep(self) -> list:
        """Report every known job that has ended since the last sweep (one directory call); returns their ids."""
        with self._lock:
            watched = [j for j in self._jobs.values() if j.id not in self._reported]
        if not watched:
            return []
        states = ray.get(self._directory.states.remote([j.id for j in watched]), timeout=CALL_TIMEOUT_S)
        done = []
        for job in watched:
            info = states.get(job.id)
            if info is None or info["state"] == "ended":   # ended, or forgotten by the directory (lost)
                job._sync(force=True)
                if self.report_ended(job):
                    done.append(job.id)
        return done

    def wait_warm(self, timeout: float = 60.0) -> bool:
        """Wait until a warm spare has started and warmed up (False: none within timeout, or warm=0)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            with self._lock:
                spare = self._spares[0] if self._spares else None
            if spare is not None:
                try:
                    ray.get(spare[1].where.remote(), timeout=max(0.1, timeout - (time.monotonic() - t0)))
                    return True
                except (ray.exceptions.GetTimeoutError, ray.exceptions.RayActorError):
                    return False
            if not self.warm:
                return False
            self._spare_up()
            time.sleep(0.2)
        return False

    def close(self):
        """Stop the watcher and end the idle spares (jobs go on: they belong to their users)."""
        self._closed = True
        with self._lock:
            spares, self._spares = self._spares, []
        for _, actor, _ in spares:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:  # noqa: BLE001 — already gone
                pass

    def _watch(self):
        while ray.is_initialized() and not self._closed:
            time.sleep(self.WATCH_EVERY_S)
            if self._closed or not ray.is_initialized():
                return    # a Ray call now would start a new local Ray (Ray's auto-init) behind everyone's back
            try:
                self.serve_line()
                self._let_go_of_idle_workers()
                if self._on_end is not None:
                    self.sweep()
                if self.warm:
                    self._spare_up()          # a CPU freed up and nobody waits for it: warm the next worker
            except Exception:  # noqa: BLE001 — Ray busy or shutting down: try again next round
                pass

    def jobs(self, owner=None) -> list:
        ids = ray.get(self._directory.list.remote(owner), timeout=CALL_TIMEOUT_S)
        return [j for j in (self.get(i) for i in ids) if j is not None]

    def forget_finished(self, older_than_s: float = 3600):
        gone = ray.get(self._directory.forget_finished.remote(older_than_s), timeout=CALL_TIMEOUT_S)
        with self._lock:
            for j in gone:
                self._jobs.pop(j, None)
