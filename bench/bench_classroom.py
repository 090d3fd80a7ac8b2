"""A class at once: N students open the app, press Start together on a short run, switch pages while the
runs train, and wait for their run to end — on the threads backend and on Ray (IMGAI_JOBS=ray). Localhost
only, bounded by --timeout.

    PYTHONPATH=. nice -n 5 python bench/bench_classroom.py [--sessions 10] [--backends threads ray] [--dry-run]
    PYTHONPATH=. nice -n 5 python bench/bench_classroom.py --sessions 30 --backends ray --name classroom-30-ray

Three classes per backend, on the same (warmed) server, one after the other:
- headless students (bench/st_client.py: the app's websocket protocol, no browser): the server's own answer
  time per student — request sent → the server's "script finished" — for the first page, Start, a page
  switch (Train → Classify) and the live view's once-a-second poll while the class trains. This is what
  the server costs a class; in a classroom each browser draws the page on its student's own laptop.
- one student's Chromium page among N - 1 headless classmates who arrive and press Start with it: what a
  student sees on their own laptop while the server serves the class (the Start button usable, the whole
  page drawn, Start answered, a page switch), timed by the page itself (MARKS_JS), in --rounds classes one
  after the other. The browser still shares this machine's cores with the server and the runs.
- N headless Chromium pages on this same machine: what a user would see here, first page usable (the Train
  page with its data preview drawn), Start → the live view, a page switch. These times include N
  browsers parsing and drawing the Streamlit frontend on the cores the server and the runs also use; the CPU
  seconds each group of processes (browsers, web server, Ray) spent while the pages loaded are recorded
  to show whose work that time is.
Both record whether each run was accepted, refused or had to wait in line, and whether it finished. The web
server's resident memory is sampled throughout: warm (one page seen), its peak over the classes, and after every
tab has closed and Streamlit has dropped their sessions (LEFT_WAIT_S later).
With --old REF, that commit's server runs from a git worktree as it was installed: without a speed-up
package its requirements.txt did not list (bench/code_at_commit.py: uvloop, httptools). Each server's event loop
is recorded.
tests/e2e/test_classroom_browser.py runs the browser scenario and asserts the behaviour (queueing,
isolation); timings are only recorded here.
"""
import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.path.insert(0, str(ROOT))

from record import add_dry_run, load_note, record  # noqa: E402

READY = "The first training images of each class"   # the data preview's caption: the Train page is drawn
QUEUED = "waiting for a free worker"
REFUSED = "Cannot start now"


def _poll(pages, test, timeout: float, t0: dict) -> dict:
    """Seconds from t0[i] until test(page) first holds, for every page (None: not within timeout)."""
    done, end = {}, time.monotonic() + timeout
    while len(done) < len(pages) and time.monotonic() < end:
        for i, page in enumerate(pages):
            if i not in done:
                try:
                    if test(page):
                        done[i] = time.monotonic() - t0[i]
                except Exception:  # a page in the middle of a rerun: try again next round
                    pass
        time.sleep(0.1)
    return {i: done.get(i) for i in range(len(pages))}


def _visible(text, exact=False):
    return lambda page: page.get_by_text(text, exact=exact).first.is_visible()


def _job_id(page) -> str | None:
    from urllib.parse import parse_qs, urlparse
    return (parse_qs(urlparse(page.url).query).get("job") or [None])[0]


def classroom(url: str, sessions: int, epochs: float, timeout: float, browser) -> dict:
    """Drive `sessions` students through a short run; returns measurements and what each one saw."""
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(sessions)]
    for c in contexts:
        c.set_default_timeout(timeout * 1000)   # a crowded machine: every wait is bounded by --timeout
    pages = [c.new_page() for c in contexts]
    t0, cpu0 = {}, cpu_seconds()
    for i, page in enumerate(pages):
        t0[i] = time.monotonic()
        page.goto(url, wait_until="commit")
    ready = _poll(pages, _visible(READY), timeout, t0)
    load_cpu = cpu_spent(cpu0, cpu_seconds())    # whose work the first page load was
    for page in pages:
        box = page.get_by_role("spinbutton", name="Epochs")
        box.fill(f"{epochs:g}")
        box.press("Enter")
    time.sleep(2.0)
    for i, page in enumerate(pages):       # everybody presses Start at (nearly) the same moment
        t0[i] = time.monotonic()
        page.get_by_role("button", name="Start training").click(no_wait_after=True)
    answered = _poll(pages, lambda p: _visible("Watch it learn")(p) or _visible(REFUSED)(p), timeout, t0)
    refused = [i for i, p in enumerate(pages) if _visible(REFUSED)(p)]
    queued_seen = set()
    for i, p in enumerate(pages):
        if _visible(QUEUED)(p):
            queued_seen.add(i)
    # a page switch while the class trains (and waits): Train → Classify
    switch = {}
    for i, page in enumerate(pages):
        if _visible(QUEUED)(page):
            queued_seen.add(i)
        start = time.monotonic()
        page.get_by_role("link", name="Classify").first.click(no_wait_after=True)
        try:
            page.get_by_role("heading", name="Classify", exact=False).first.wait_for(timeout=timeout * 1000)
            switch[i] = time.monotonic() - start
        except Exception:
            switch[i] = None
        page.get_by_role("link", name="Train").first.click(no_wait_after=True)
    # every accepted run ends by itself (queued ones start when a worker is free)
    accepted = [i for i in range(sessions) if i not in refused]
    end = time.monotonic() + timeout
    finished = set()
    while time.monotonic() < end and len(finished) < len(accepted):
        for i in accepted:
            if i in finished:
                continue
            page = pages[i]
            try:
                if page.get_by_text(QUEUED).first.is_visible():
                    queued_seen.add(i)
                if page.get_by_text("finished", exact=False).first.is_visible():
                    finished.add(i)
            except Exception:
                pass
        time.sleep(0.25)
    # each page keeps its own job in its URL (?job=ID); read them once the pages have settled
    _poll(pages, lambda p: _job_id(p) is not None, 30, {i: time.monotonic() for i in range(sessions)})
    ids = {i: _job_id(p) for i, p in enumerate(pages)}
    for c in contexts:
        c.close()
    return {"sessions": sessions, "ready_s": ready, "start_s": answered, "switch_s": switch, "refused": refused,
            "queued": sorted(queued_seen), "finished": sorted(finished), "job_ids": ids,
            "page_load_cpu_s": load_cpu}


# ---- the web server's memory (from /proc: Linux) ----

LEFT_WAIT_S = 135    # Streamlit keeps a closed tab's session 2 minutes (MemorySessionStorage's TTL), then drops it


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class MemoryWatch:
    """The server's resident memory, sampled four times a second in a thread: peak() since the last mark."""

    def __init__(self, pid: int):
        import threading
        self.pid, self.samples, self._stop = pid, [], threading.Event()
        self._since = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            mb = rss_mb(self.pid)
            if mb is not None:
                self.samples.append(mb)
            self._stop.wait(0.25)

    def now(self) -> float:
        return round(rss_mb(self.pid) or 0.0, 1)

    def peak(self) -> float:
        """The highest sample since the last call."""
        part, self._since = self.samples[self._since:], len(self.samples)
        return round(max(part, default=self.now()), 1)

    def stop(self):
        self._stop.set()


# ---- CPU seconds per group of processes (from /proc: Linux) ----

def _group(cmdline: str) -> str | None:
    if "chromium" in cmdline or "chrome" in cmdline:
        return "browsers"
    if "streamlit" in cmdline and "app.py" in cmdline:
        return "web server"
    if "ray::" in cmdline or "raylet" in cmdline or "gcs_server" in cmdline or "/ray/" in cmdline:
        return "ray"
    return None


def cpu_seconds() -> dict:
    """CPU seconds (user + system) used so far by the live processes of each group; Linux only."""
    tick, out = os.sysconf("SC_CLK_TCK"), {"browsers": 0.0, "web server": 0.0, "ray": 0.0}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        g = _group(cmd)
        if g:
            out[g] += (int(fields[11]) + int(fields[12])) / tick     # utime, stime
    return out


def cpu_spent(before: dict, after: dict) -> dict:
    """Per group; a process that ended in between is missing from both (Ray workers whose run ended)."""
    return {g: round(max(0.0, after[g] - before.get(g, 0.0)), 1) for g in after}


# ---- headless students: the server's own answer times ----

async def _headless_student(url: str, epochs: float, timeout: float, arrived: list, go, sessions: int) -> dict:
    from st_client import StClient
    r = {"ready_s": None, "start_s": None, "switch_s": None, "back_s": None, "refused": False, "queued": False,
         "finished": False, "poll_s": []}
    async with StClient(url, timeout=timeout) as c:
        r["ready_s"] = await c.run()
        arrived.append(1)
        if len(arrived) == sessions:
            go.set()
        await asyncio.wait_for(go.wait(), timeout)   # everybody presses Start at the same moment
        r["start_s"] = await c.press("Start training", {"Epochs": epochs})
        r["refused"], r["queued"] = c.says(REFUSED), c.says(QUEUED)
        r["switch_s"] = await c.run(page="Classify")
        r["back_s"] = await c.run(page="Train")
        end = asyncio.get_running_loop().time() + timeout
        while not r["refused"] and asyncio.get_running_loop().time() < end:
            r["queued"] = r["queued"] or c.says(QUEUED)
            if c.says("finished"):
                r["finished"] = True
                break
            await asyncio.sleep(0.5)
        r["poll_s"] = c.fragment_s
    return r


def headless_class(url: str, sessions: int, epochs: float, timeout: float, alongside=None) -> dict:
    """`sessions` headless students at once; `alongside()`, if given, runs meanwhile in this thread (one real
    browser among them) and its result is returned under "alongside"."""
    async def main():
        go, arrived = asyncio.Event(), []
        return await asyncio.gather(*[_headless_student(url, epochs, timeout, arrived, go, sessions)
                                      for _ in range(sessions)])
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(1) as pool:   # its own event loop: Playwright's sync API holds this thread's
        future = pool.submit(asyncio.run, main())
        beside = alongside() if alongside else None
        rs = future.result()
    polls = [x for r in rs for x in r["poll_s"]]
    return {"sessions": sessions, **{k: {i: r[k] for i, r in enumerate(rs)} for k in
                                     ("ready_s", "start_s", "switch_s", "back_s")},
            "poll_s": polls, "refused": [i for i, r in enumerate(rs) if r["refused"]],
            "queued": [i for i, r in enumerate(rs) if r["queued"]],
            "finished": [i for i, r in enumerate(rs) if r["finished"]], "alongside": beside}


# What one student sees, timed by the page itself (epoch ms, from a MutationObserver and image load events): the
# Start button can be pressed; the whole page is drawn (the data preview's two pictures loaded); Start is
# answered; the Classify page's title is up after a switch. Polled from here instead, each Playwright query is a
# round trip into the busy page's main thread, and the harness added about a second to the same moments.
MARKS_JS = """
window.__seen = {};
const seen = (k) => { if (!(k in window.__seen)) window.__seen[k] = performance.timeOrigin + performance.now(); };
const text = (t) => document.body && document.body.innerText.includes(t);
const look = () => {
  for (const b of document.querySelectorAll('button'))
    if (b.innerText.includes('Start training') && !b.disabled) seen('start');
  const pics = [...document.querySelectorAll('img')];
  if (text(%(ready)s) && pics.length >= 2 && pics.every((i) => i.complete && i.naturalWidth > 0)) seen('ready');
  if (text('Watch it learn') || text(%(queued)s) || text(%(refused)s)) seen('answered');
  for (const h of document.querySelectorAll('h1')) if (h.innerText.startsWith('Classify')) seen('classify');
};
new MutationObserver(look).observe(document, {subtree: true, childList: true, attributes: true});
document.addEventListener('load', look, true);   // an image finishing changes no element
""" % {"ready": repr(READY), "queued": repr(QUEUED), "refused": repr(REFUSED)}


def _seen(page, key: str, since: float, timeout: float) -> float | None:
    """Seconds from `since` (time.time()) to the page's own mark `key`; None if it did not come in time."""
    try:
        page.wait_for_function(f"window.__seen && {key!r} in window.__seen", timeout=timeout * 1000, polling=250)
    except Exception:
        return None
    return page.evaluate(f"window.__seen[{key!r}]") / 1000 - since


def one_browser(url: str, epochs: float, timeout: float, browser) -> dict:
    """One student's own browser while the class works the server: page usable, Start answered, a page
    switch. Only this one Chromium draws pages on the machine, as in a classroom where each student's
    browser runs on their own laptop (the server, the runs and the headless classmates share these cores)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(timeout * 1000)
    ctx.add_init_script(MARKS_JS)
    page = ctx.new_page()
    t0 = time.time()
    page.goto(url, wait_until="commit")
    start_usable = _seen(page, "start", t0, timeout)
    ready = _seen(page, "ready", t0, timeout)
    box = page.get_by_role("spinbutton", name="Epochs")
    box.fill(f"{epochs:g}")
    box.press("Enter")
    time.sleep(1.0)
    t0 = time.time()
    page.get_by_role("button", name="Start training").click(no_wait_after=True)
    answered = _seen(page, "answered", t0, timeout)
    t0 = time.time()
    page.get_by_role("link", name="Classify").first.click(no_wait_after=True)
    switch = _seen(page, "classify", t0, timeout)
    ctx.close()
    return {"start_usable_s": start_usable, "ready_s": ready, "start_s": answered, "switch_s": switch}


def _stats(values) -> dict:
    v = [x for x in values if x is not None]
    return {"median": round(statistics.median(v), 2) if v else None, "max": round(max(v), 2) if v else None,
            "missing": sum(x is None for x in values)}


def summarise(r: dict) -> dict:
    """Medians and worst cases of one class (browsers or headless)."""
    s = {"sessions": r["sessions"], "page_ready_s": _stats(r["ready_s"].values()),
         "start_answer_s": _stats(r["start_s"].values()), "page_switch_s": _stats(r["switch_s"].values()),
         "refused": len(r["refused"]), "waited_in_line": len(r["queued"]), "finished": len(r["finished"])}
    if "poll_s" in r:
        s["live_poll_s"] = _stats(r["poll_s"])
        s["switch_back_s"] = _stats(r["back_s"].values())
    if "page_load_cpu_s" in r:
        s["page_load_cpu_s"] = r["page_load_cpu_s"]
    return s


def run_backend(backend: str, sessions: int, epochs: float, timeout: float, tmp: Path, rounds: int = 3,
                left_wait: float = LEFT_WAIT_S, root: Path | None = None) -> dict:
    """One server for this backend, warmed by one page; the headless class, then the browser class; the server's
    memory throughout, and once every student has left. With `root` (a checkout of an older commit), that
    checkout's server, and only the headless class and the classes with one browser (the comparison)."""
    from playwright.sync_api import sync_playwright

    from app_server import ARGS, CHROMIUM, start_app, stop
    env = {"IMGAI_MODELS": str(tmp / "models"), "IMGAI_DATA": str(tmp / "data")}
    if backend == "ray":
        env.update(IMGAI_JOBS="ray", IMGAI_RAY_CPUS=str(os.cpu_count()))
    if root is not None:   # the old commit as it was installed: without the speed-ups it did not require
        from code_at_commit import env_as_installed_at
        env.update(env_as_installed_at(root, tmp))
    log = open(tmp / f"server-{backend}{'-old' if root else ''}.log", "w")
    proc, url = start_app(env, log, cwd=root)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                warm = browser.new_page()       # the first page starts the registry (and Ray): not measured
                warm.goto(url)
                warm.get_by_text(READY).first.wait_for(timeout=timeout * 1000)
                warm.close()
                mem = MemoryWatch(proc.pid)
                memory = {"warm_mb": mem.now()}
                mem.peak()
                headless = headless_class(url, sessions, epochs, timeout)
                memory["headless_class_peak_mb"] = mem.peak()
                print(backend, "headless", summarise(headless), flush=True)
                # one student's browser among sessions - 1 headless classmates, all arriving together; a few
                # classes, one after the other, since one page load is one sample
                ones = []
                for _ in range(rounds):
                    mixed = headless_class(url, sessions - 1, epochs, timeout,
                                           alongside=lambda: one_browser(url, epochs, timeout, browser))
                    print(backend, "one browser in the class", mixed["alongside"], flush=True)
                    ones.append(mixed["alongside"])
                if root is not None:
                    return {"headless": headless, "one_browser": ones}
                browsers = classroom(url, sessions, epochs, timeout, browser)
                memory["peak_mb"] = round(max(mem.samples, default=mem.now()), 1)   # every sample of the classes
                memory["all_left_mb"] = mem.now()       # every tab closed, their sessions not yet dropped
                time.sleep(left_wait)
                last = browser.new_page()               # a new visitor: Streamlit drops expired sessions on access
                last.goto(url)
                last.get_by_text(READY).first.wait_for(timeout=timeout * 1000)
                last.close()
                time.sleep(5)
                memory["after_they_left_mb"] = mem.now()
                memory["left_wait_s"] = left_wait
                mem.stop()
                print(backend, "memory", memory, flush=True)
                return {"headless": headless, "one_browser": ones, "browsers": browsers, "memory": memory}
            finally:
                browser.close()
    finally:
        stop(proc)
        log.close()


def event_loop(tmp: Path, backend: str, old: bool = False) -> str:
    """Which event loop that server ran on, from its log (Streamlit names the loop's thread: uvloop_0, asyncio_0)."""
    text = (tmp / f"server-{backend}{'-old' if old else ''}.log").read_text(errors="replace")
    return "uvloop" if "uvloop_0" in text or "event loop uvloop" in text else "asyncio"


def compare_old(ref: str, backend: str, sessions: int, epochs: float, timeout: float, tmp: Path, rounds: int) -> dict:
    """The headless class and the classes with one browser on the server of commit `ref` (a git worktree)."""
    import subprocess
    tree = tmp / f"old-{ref}"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), ref], cwd=ROOT, capture_output=True, check=True)
    try:
        r = run_backend(backend, sessions, epochs, timeout, tmp, rounds, root=tree)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
    one = {"rounds": len(r["one_browser"]), **{k: _stats([o[k] for o in r["one_browser"]]) for k in r["one_browser"][0]}}
    return {"commit": ref, "event_loop": event_loop(tmp, backend, old=True), "headless": summarise(r["headless"]),
            "one_browser": one}


def old_rows(sessions: int, backend: str, ref: str, old: dict) -> list:
    h, one = old["headless"], old["one_browser"]

    def sec(x):
        return "no answer" if x["median"] is None else f"{x['median']:.1f} s ({x['max']:.1f} s)"
    loop = f", as installed then ({old['event_loop']} event loop)" if old.get("event_loop") else ""
    return [(f"class of {sessions} ({backend}) at {ref}{loop}, the same run: one Chromium's Start usable / server's "
             f"first page answer (median (worst))", f"{sec(one['start_usable_s'])} / {h['page_ready_s']['median']:.2f} s "
             f"({h['page_ready_s']['max']:.2f} s)")]


def readme_rows(sessions: int, backend: str, h: dict, b: dict, one: dict, m: dict) -> list:
    """README rows from one backend's classes (h: headless summary, b: browsers summary, one: the one browser
    among headless classmates, m: the server's memory)."""
    def ms(x):
        return "none" if x["median"] is None else f"{x['median']:.2f} s / {x['max']:.2f} s"

    def sec(x):
        return "no answer" if x["median"] is None else f"{x['median']:.1f} s ({x['max']:.1f} s)"
    cpu = b["page_load_cpu_s"]
    return [
        (f"class of {sessions} ({backend}): web server's memory, warm / peak / {m['left_wait_s']:.0f} s after "
         "every tab closed", f"{m['warm_mb']:.0f} MB / {m['peak_mb']:.0f} MB / {m['after_they_left_mb']:.0f} MB"),
        (f"class of {sessions} ({backend}): one student's Chromium among {sessions - 1} headless classmates, timed "
         f"by the page: Start button usable / whole page drawn / Start answered / page switch (median (worst) of "
         f"{one['rounds']} classes)",
         f"{sec(one['start_usable_s'])} / {sec(one['ready_s'])} / {sec(one['start_s'])} / {sec(one['switch_s'])}"),
        (f"class of {sessions} ({backend}): server's answer, first page / page switch / live-view poll while "
         f"training (median / worst each)",
         f"{ms(h['page_ready_s'])} · {ms(h['page_switch_s'])} · {ms(h['live_poll_s'])}"),
        (f"class of {sessions} ({backend}): {sessions} Chromium pages on the same 2 cores, page usable / switch "
         f"(median / worst each)", f"{b['page_ready_s']['median']:.1f} s / {b['page_ready_s']['max']:.1f} s · "
                                   f"{ms(b['page_switch_s'])}"),
        (f"class of {sessions} ({backend}): CPU seconds while the {sessions} pages loaded, browsers / web server",
         f"{cpu['browsers']:.0f} s / {cpu['web server']:.1f} s"),
        (f"class of {sessions} ({backend}): runs refused / waited in line / finished (headless; browsers)",
         f"{h['refused']} / {h['waited_in_line']} / {h['finished']}; "
         f"{b['refused']} / {b['waited_in_line']} / {b['finished']}"),
    ]


def main():
    import tempfile
    p = add_dry_run(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    p.add_argument("--sessions", type=int, default=10)
    p.add_argument("--epochs", type=float, default=0.05, help="length of each student's run")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds any one wait may take")
    p.add_argument("--backends", nargs="+", default=["threads", "ray"])
    p.add_argument("--rounds", type=int, default=3, help="classes with one student's browser among them")
    p.add_argument("--name", default="classroom", help="results file: bench/results/NAME.json "
                   "(classroom-30-ray for --sessions 30 --backends ray)")
    p.add_argument("--old", help="also measure this older commit's server (headless class and one browser "
                   "among them, each backend), in the same run, for the comparison")
    a = p.parse_args()
    if not Path("/usr/bin/chromium").exists():
        if a.dry_run:   # CI without a browser: nothing to prove here
            print("bench_classroom: no Chromium at /usr/bin/chromium; dry run skipped")
            return
        raise SystemExit("needs Chromium at /usr/bin/chromium")
    sessions, backends, timeout, rounds = a.sessions, a.backends, a.timeout, a.rounds
    if a.dry_run:   # a bounded smoke test for CI: a wait that does not end only shortens the figures
        sessions, backends, timeout, rounds = 2, ["threads"], min(timeout, 60.0), 1
    figures = {"sessions": sessions, "epochs": a.epochs, "cores": os.cpu_count(), "backends": {}}
    rows = []
    with tempfile.TemporaryDirectory(prefix="imgai-classroom-") as tmp:
        for backend in backends:
            r = run_backend(backend, sessions, a.epochs, timeout, Path(tmp), rounds, 0 if a.dry_run else LEFT_WAIT_S)
            h, b = summarise(r["headless"]), summarise(r["browsers"])
            one = {"rounds": len(r["one_browser"]),
                   **{k: _stats([o[k] for o in r["one_browser"]]) for k in r["one_browser"][0]}}
            figures["backends"][backend] = {
                "headless": {"summary": h, "raw": {k: v for k, v in r["headless"].items() if k != "poll_s"}},
                "one_browser": {"summary": one, "raw": r["one_browser"]},
                "browsers": {"summary": b, "raw": {k: v for k, v in r["browsers"].items() if k != "job_ids"}},
                "memory": r["memory"], "event_loop": event_loop(Path(tmp), backend)}
            print(backend, "browsers", b, flush=True)
            rows += readme_rows(sessions, backend, h, b, one, r["memory"])
            if a.old and not a.dry_run:
                figures["backends"][backend]["old"] = old = compare_old(a.old, backend, sessions, a.epochs, timeout,
                                                                         Path(tmp), rounds)
                rows += old_rows(sessions, backend, a.old, old)
    record(a.name, figures, readme=rows, dry_run=a.dry_run,
           note=f"one machine runs the server, all runs and the Chromium pages; {load_note()}")


if __name__ == "__main__":
    main()
