"""Training jobs on both backends: start latency, images/s per job and in total with 1, 2, 4, 8 jobs at
once, and memory per job — threads in one process (imgai.jobs.threads) against actors on a local Ray (imgai.jobs.ray_registry).

    PYTHONPATH=. nice -n 5 python bench/bench_jobs.py [--seconds 6] [--counts 1 2 4 8] [--dry-run]

Every job is the fast CNN preset on the bundled digits, trained for a fixed time budget, so both backends
do the same work. "Total" is all images trained by all jobs divided by the wall time from the first
submit to the last job's end: on Ray, jobs beyond the CPUs wait in line, so their waiting counts.
Start latency: submit → first metric row (Ray: process start, imports, building the run), for the first
job of a fresh registry (cold) and in the rounds. On Ray also side by side, one job at a time on an idle
Ray: a fresh worker process per job (warm=0) against a warm spare (warm=1, the app's default: a worker
started and warmed up while a CPU was free, imgai.jobs.ray_registry.RayJobRegistry).
Memory per job: the actor process's proportional set size (Ray; its resident size is recorded too, but it
counts torch's shared libraries in full for every process); the growth of this process per job (threads).
"""
import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from record import add_dry_run, load_note, record  # noqa: E402

from imgai.data.datasets import load_dataset  # noqa: E402
from imgai.jobs.threads import JobRegistry  # noqa: E402
from imgai.training.runs import RunSpec, default_train_config, prepare_run  # noqa: E402

TINY = {"stages": [[4], [4]], "hidden": 8}


def rss_mb(pid="self") -> float:
    """Resident memory of a process."""
    return _proc_kb(f"/proc/{pid}/status", "VmRSS:")


def pss_mb(pid) -> float:
    """A process's proportional share of memory: libraries shared with other processes (torch's, Ray's)
    count once across them, not once per process as in its resident size."""
    return _proc_kb(f"/proc/{pid}/smaps_rollup", "Pss:")


def _proc_kb(path: str, key: str) -> float:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def make_run(data, seconds: float, tiny: bool):
    cfg = replace(default_train_config("cnn", "fast"), epochs=None, seconds=seconds)
    return prepare_run(RunSpec("cnn", "fast", train=cfg, model_overrides=TINY if tiny else {}), data=data, device="cpu")


def submit(backend, reg, run):
    if backend == "ray":
        return reg.submit(run, owner="bench")
    return reg.submit(run.loop, run.meta, owner="bench")


def one_round(backend, reg, data, n: int, seconds: float, tiny: bool) -> dict:
    runs = [make_run(data, seconds, tiny) for _ in range(n)]
    base_rss = rss_mb()
    t0 = time.monotonic()
    jobs = [(submit(backend, reg, r), time.monotonic()) for r in runs]
    first_row, mem, rss = {}, [], []
    while any(j.active for j, _ in jobs):
        for j, t in jobs:
            if j.id not in first_row and j.status in ("running", "paused", "done") and j.summary()["step"] > 0:
                first_row[j.id] = time.monotonic() - t
                if backend == "ray":
                    where = j.where()
                    if where:
                        rss.append(rss_mb(where["pid"]))
                        mem.append(pss_mb(where["pid"]))
        if backend == "threads" and len(first_row) == n and not mem:
            mem.append((rss_mb() - base_rss) / n)
        time.sleep(0.05)
    wall = time.monotonic() - t0
    errors = [j.error for j, _ in jobs if j.status not in ("done", "stopped")]
    if errors:
        raise SystemExit(f"a job failed: {errors[0]}")
    summaries = [j.summary() for j, _ in jobs]
    images = sum(s["images_per_s"] * s["seconds"] for s in summaries)
    return {"jobs": n, "wall_s": round(wall, 2),
            "start_s": [round(first_row.get(j.id, float("nan")), 2) for j, _ in jobs],
            "images_per_s_per_job": [round(s["images_per_s"], 1) for s in summaries],
            "total_images_per_s": round(images / wall, 1),
            "memory_mb_per_job": round(statistics.median(mem), 1) if mem else None,
            "resident_mb_per_job": round(statistics.median(rss), 1) if rss else None}


def start_latency(reg, data, n: int, tiny: bool) -> list:
    """Submit → first step of n short jobs, one at a time (each after the last has ended); a registry with
    warm spares gets the time to warm the next one first, as a user pressing Start on an idle server would."""
    out = []
    for _ in range(n):
        if reg.warm and not reg.wait_warm(120):
            raise SystemExit("no warm spare within 120 s")
        run = make_run(data, 1.0, tiny)
        t = time.monotonic()
        job = reg.submit(run, owner="bench")
        while not (job.status in ("running", "done") and job.summary()["step"] > 0):
            if job.status in ("error", "stopped"):
                raise SystemExit(f"a job failed: {job.error}")
            time.sleep(0.02)
        out.append(round(time.monotonic() - t, 2))
        job.wait(60)
    return out


def readme_rows(figures) -> list:
    """README rows, formatted from the measured figures. "Total" includes start-up and waiting in line."""
    rows = []
    if "ray_start_s" in figures:
        cold, warm = figures["ray_start_s"]["fresh worker"], figures["ray_start_s"]["warm spare"]
        rows.append(("jobs (ray): start latency one job at a time, submit → first step, fresh worker process / "
                     "warm spare (median of each)",
                     f"{statistics.median(cold):.1f} s / {statistics.median(warm):.1f} s"))
    for backend, rounds in figures["backends"].items():
        rows.append((f"jobs ({backend}): start latency, submit → first step (first job / in the 1-job round)",
                     f"{figures['first_job_start_s'][backend]:.1f} s / {rounds[0]['start_s'][0]:.1f} s"))
        for r in rounds:
            rows.append((f"jobs ({backend}): {r['jobs']} at once, images/s per job while training (median) / "
                         f"total over the wall time", f"{statistics.median(r['images_per_s_per_job']):,.0f} / "
                                                      f"{r['total_images_per_s']:,.0f}"))
        mem = [r["memory_mb_per_job"] for r in rounds if r["memory_mb_per_job"] is not None]
        if mem:   # threads: this process's growth per job; Ray: each actor process's proportional set size
            rows.append((f"jobs ({backend}): memory per job ({'own process' if backend == 'ray' else 'in the server'})",
                         f"{statistics.median(mem):,.0f} MB"))
    return rows


def main():
    p = add_dry_run(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    p.add_argument("--seconds", type=float, default=6.0, help="training time of each job")
    p.add_argument("--counts", type=int, nargs="+", default=[1, 2, 4, 8])
    p.add_argument("--backends", nargs="+", default=["threads", "ray"])
    p.add_argument("--starts", type=int, default=4, help="Ray: jobs started one at a time, each way")
    a = p.parse_args()
    torch.set_num_threads(1)   # one thread per job on both backends (the Ray actor sets the same)
    seconds, counts, tiny = a.seconds, a.counts, False
    if a.dry_run:
        seconds, counts, tiny = 1.0, [1, 2], True
    data = load_dataset("digits")
    figures = {"seconds_per_job": seconds, "cores": os.cpu_count(), "backends": {}}
    for backend in a.backends:
        if backend == "ray":
            import ray
            from imgai.jobs.ray_registry import RayJobRegistry
            t = time.monotonic()
            reg = RayJobRegistry(num_cpus=os.cpu_count())      # warm=0: a fresh worker process per job
            figures["ray_init_s"] = round(time.monotonic() - t, 2)
            cold_first = one_round(backend, reg, data, 1, 1.0, True)["start_s"][0]
            n = 2 if a.dry_run else a.starts
            fresh = start_latency(reg, data, n, tiny)
            reg.close()
            reg = RayJobRegistry(num_cpus=os.cpu_count(), warm=1)   # the app's default
            figures["ray_start_s"] = {"fresh worker": fresh, "warm spare": start_latency(reg, data, n, tiny)}
            print("ray start latency", figures["ray_start_s"], flush=True)
        else:
            reg = JobRegistry(max_active=max(counts))
        if backend == "ray":
            first = cold_first
        else:   # the first job of a fresh server: not in the rounds
            first = one_round(backend, reg, data, 1, 1.0, True)["start_s"][0]
        figures.setdefault("first_job_start_s", {})[backend] = first
        rounds = []
        for n in (counts[:1] if a.dry_run and backend == "ray" else counts):
            r = one_round(backend, reg, data, n, seconds, tiny)
            print(backend, r, flush=True)
            rounds.append(r)
        figures["backends"][backend] = rounds
        if backend == "ray":
            reg.close()
            ray.shutdown()
    rows = readme_rows(figures)
    record("jobs", figures, readme=rows, dry_run=a.dry_run,
           note=f"{load_note()}; both backends were measured in the same run")


if __name__ == "__main__":
    main()
