"""The server-wide job registry and the binding between a browser session and its training job.

    job = current_job()          # this session's job (re-attached after a reload through ?job=ID), or None

One registry per server process (st.cache_resource), so a job outlives the script run, the page and
the browser session that started it. Two backends behind the same job interface (imgai/jobs/handle.py):
threads in this process (the default), or Ray — IMGAI_JOBS=ray starts a local Ray from the app,
IMGAI_RAY_ADDRESS=host:port|auto joins a cluster, whose jobs then outlive a restart of this server.
A session remembers its job id in st.session_state and in the URL (?job=ID): a reload starts a new
session, which finds the job again through the URL; a new tab without the parameter is a new, independent
user. Only the browser that started a job can take it back that way, so a
link shared from the Latent page (whose URL is the shareable state) never hands over the sender's job.
Reading a job never touches its tensors: only Job's copied-out state.
"""
import hashlib
import os

import streamlit as st

from imgai.jobs.threads import Job, JobRegistry
from imgai.models import KIND_NAMES

PARAM = "job"              # the query parameter that carries the job id
_KEY = "imgai_job_id"      # session_state: this session's current job
_XSRF_COOKIE = "_streamlit_xsrf"  # set by Streamlit in every browser (XSRF protection is on in config.toml)
KIND = KIND_NAMES   # what a job trains, as the Train page and the sidebar name it
STATUS = {"running": "training", "paused": "paused", "done": "finished", "stopped": "stopped",
          "error": "stopped by an error", "created": "starting", "queued": "waiting for a free worker"}
NO_BROWSER = "no-browser"  # clients without that cookie (AppTest, XSRF off) are all one owner
_FULL_ACTIVE = "imgai_job_active_at_full_run"  # was the job active when the whole page was last drawn?
_FULL_QUEUED = "imgai_job_queued_at_full_run"  # ... and waiting in line (Ray) then?
# A run waiting in line changes only its place in line: its page and its sidebar ask every few seconds instead of
# every second or two (a class of 30 on Ray has 28 waiting: 40 fewer script runs a second on the server).
QUEUED_POLL_S = 3.0
_LOST = "imgai_job_lost"   # the ?job= link named a job this server does not know (any more)
_TRAIN_KEY = "imgai_train_job_id"  # session_state: this session's last Train-page run (kept while an experiment runs)
EXPERIMENTS = {"sweep": "Sweep", "experiment": "Generation → recognition experiment"}  # meta key -> its name


def abandon_after_s() -> float:
    """A job nobody has watched for this long stops itself (and stays saveable). The live view polls every
    2 s; Chrome throttles a tab hidden for 5 minutes to one timer wake-up per minute (intensive throttling),
    so a hidden but open tab still polls about once a minute. 90 s sits above that minute with margin and
    frees a closed tab's training slot within a minute and a half. IMGAI_ABANDON_S overrides."""
    return float(os.environ.get("IMGAI_ABANDON_S") or 90)


def max_jobs() -> int:
    """Trainings the server runs at once. IMGAI_MAX_JOBS overrides."""
    return int(os.environ.get("IMGAI_MAX_JOBS") or 2)


def warm_workers() -> int:
    """Ray: worker processes kept started and warm (torch imported, bundled data read) while a CPU is free,
    so the next Start begins training at once instead of after a new process's start-up; each holds its
    memory (a few hundred MB) while it waits. IMGAI_RAY_WARM overrides (0: none)."""
    return int(os.environ.get("IMGAI_RAY_WARM") or 1)


def ray_address() -> str | None:
    return (os.environ.get("IMGAI_RAY_ADDRESS") or "").strip() or None


def backend() -> str:
    """"ray" (IMGAI_JOBS=ray, or a cluster address) or "threads" (the default)."""
    return "ray" if ray_address() or (os.environ.get("IMGAI_JOBS") or "").strip().lower() == "ray" else "threads"


def make_registry():
    """A new registry for the backend the environment asks for (registry() keeps one per server)."""
    if backend() == "ray":
        from imgai.jobs.ray_registry import RayJobRegistry
        from imgai.experiments.run_store import record_job
        from ui.resources import run_store
        store = run_store()   # resolved here, in a script run: the watcher thread records without Streamlit
        # a job's loop runs in a worker, out of reach of the store: the registry's watcher records every run
        # it knows of when it ends, whether or not a page is still watching it (a tab closed before the end)
        return RayJobRegistry(address=ray_address(), num_cpus=int(os.environ.get("IMGAI_RAY_CPUS") or 0) or None,
                              on_end=lambda job: record_job(store, job), warm=warm_workers())
    # the training threads share the server's process: below its priority, so pages stay quick while they train
    from imgai.device import JOB_NICE
    return JobRegistry(max_active=max_jobs(), nice=JOB_NICE)   # each job is given its recorder (_submit)


@st.cache_resource(show_spinner="Starting the training workers…")
def registry():
    """One per server. Threads: the cap keeps a classroom on one small machine from starting 30 runs at
    once. Ray: nothing is refused; a job waits for a free worker and starts by itself."""
    return make_registry()


def lost_message() -> str:
    """The one wording for a run the server no longer has (the sidebar, the Train page and its live view)."""
    if backend() == "ray" and ray_address():
        return ("This training run was lost: it is no longer on the cluster (ended runs are cleared an hour after "
                "they end). Models you saved or downloaded are kept; start a new run on the Train page.")
    return ("This training run was lost: it is no longer on the server (the server restarted, or the run ended "
            "more than an hour ago; runs on this server, in its own threads or its own Ray, end with it). Models "
            "you saved or downloaded are kept; start a new run on the Train page.")


def link_was_lost() -> bool:
    """Did this tab come back through a ?job= link to a run the server does not have?"""
    return bool(st.session_state.get(_LOST))


def lost_notice() -> str | None:
    """Why the job in this session's ?job= link is gone, if it is (None otherwise)."""
    return lost_message() if link_was_lost() else None


def _xsrf_secret(cookie: str) -> bytes:
    """The browser's stable token inside Streamlit's XSRF cookie. Version 2 cookies ("2|mask|masked|time",
    Tornado's format) are re-masked with a fresh 4-byte mask on every page load, so the raw value changes;
    the token, XORed with the mask repeated, does not."""
    parts = cookie.split("|")
    if len(parts) == 4 and parts[0] == "2":
        try:
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
            return bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked)) if mask else masked
        except ValueError:
            pass
    return cookie.encode()


def owner_id() -> str:
    """This browser: a hash of the per-browser secret Streamlit keeps in its XSRF cookie. A reload or a
    second tab of the same browser has the same id; someone who was sent the link has another."""
    try:
        cookie = st.context.cookies.get(_XSRF_COOKIE)
    except Exception:  # no request context (bare script): no browser to tell apart
        cookie = None
    if not isinstance(cookie, str) or not cookie:
        return NO_BROWSER
    return hashlib.sha256(_xsrf_secret(cookie)).hexdigest()[:16]


def current_job(full_run: bool = True) -> Job | None:
    """This session's job, or None. In a full run (not a fragment rerun) it also keeps ?job=ID in the URL:
    Streamlit clears query parameters on a page switch, and the frame calls this on every page."""
    reg = registry()
    job_id = st.session_state.get(_KEY)
    if job_id is None and full_run:
        wanted = st.query_params.get(PARAM)
        found = reg.get(wanted) if wanted else None
        if found is not None and found.owner == owner_id():
            job_id = st.session_state[_KEY] = wanted   # a reload: take the job back
        elif wanted:
            del st.query_params[PARAM]  # another browser's job (a shared link), or one from before a restart
            if found is None:
                st.session_state[_LOST] = wanted
    job = reg.get(job_id) if job_id else None
    if full_run:
        if job is None:
            st.session_state.pop(_KEY, None)
            if PARAM in st.query_params:
                del st.query_params[PARAM]
        elif st.query_params.get(PARAM) != job.id:
            st.query_params[PARAM] = job.id
        _drawn(job)
    return job


def _drawn(job):
    """Remember what the whole page was drawn for: an active job, and one waiting in line (rerun_if_changed)."""
    st.session_state[_FULL_ACTIVE] = bool(job and job.active)
    st.session_state[_FULL_QUEUED] = bool(job and job.status == "queued")


def poll_every(job, seconds: float) -> float | None:
    """A live view's polling interval for this job: `seconds` while it trains, QUEUED_POLL_S while it waits
    in line, None (no polling) once it has ended."""
    if job is None or not job.active:
        return None
    return QUEUED_POLL_S if job.status == "queued" else seconds


def experiment_name(job) -> str | None:
    """"Sweep" or "Generation → recognition experiment" for a job the Experiments page started, else None
    (a Train-page run)."""
    return next((name for key, name in EXPERIMENTS.items() if key in (job.meta or {})), None)


def train_job(full_run: bool = True) -> Job | None:
    """This session's Train-page run, or None: the Train page and the sidebar show Train's runs, never an
    experiment (a sweep's or an experiment's job shows on the Experiments page)."""
    job = current_job(full_run)
    if job is not None and experiment_name(job) is None:
        return job
    kept = st.session_state.get(_TRAIN_KEY)
    return registry().get(kept) if kept else None


def attach(job: Job):
    st.session_state.pop(_LOST, None)
    if experiment_name(job) is None:
        st.session_state[_TRAIN_KEY] = job.id
    st.session_state[_KEY] = job.id
    st.query_params[PARAM] = job.id
    _drawn(job)


def submit(run, **job_kw) -> Job:
    """Start a prepared imgai.training.runs.Run in the background as this session's job. Raises JobLimitError (threads;
    on Ray a job that finds every worker busy waits in line instead)."""
    reg = registry()
    reg.forget_finished(older_than_s=3600)
    job = _submit(reg, run, owner=owner_id(), abandon_after_s=abandon_after_s(), **job_kw)
    attach(job)
    return job


def _submit(reg, run, **job_kw):
    """Both registries record the run in the run store when it ends (make_registry's on_end). A GAN run is
    judged first, where it trained (imgai.inference.quality.judge_for), so the class board can rank it."""
    from imgai.inference.quality import judge_for
    if getattr(reg, "backend", "threads") == "ray":
        # the worker builds the run again from its spec (scoring saves with it) and its judge on that run
        return reg.submit(run, judge_for=judge_for, **job_kw)
    from imgai.experiments.run_store import record_job
    from ui.resources import run_store
    store = run_store()   # resolved in this script run: the job's thread records without Streamlit
    return reg.submit(run.loop, run.meta, judge=judge_for(run), on_end=lambda job: record_job(store, job), **job_kw)


def rerun_if_changed(job: Job):
    """Call from a polling fragment: when the job ended since the whole page was drawn, redraw it all once
    (Start becomes available again, the summary and final charts appear, polling stops); when it left the
    line and started, too (the live views poll at the training pace again: poll_every)."""
    if st.session_state.get(_FULL_QUEUED) and job.status != "queued":
        st.session_state[_FULL_QUEUED] = False
        if job.active:
            st.rerun()
    if st.session_state.get(_FULL_ACTIVE) and not job.active:
        st.session_state[_FULL_ACTIVE] = False
        reg = registry()
        if getattr(reg, "backend", "threads") == "ray":  # recorded now, not at the watcher's next round
            reg.report_ended(job)
        st.rerun()


def control(job_id: str, action: str):
    """Button callback: pause | resume | step | stop (which cancels a waiting job). Stop waits briefly so the
    next draw shows the result."""
    job = registry().get(job_id)
    if job is None:
        return
    getattr(job, action)()
    if action == "stop":
        job.wait(timeout=3.0)
