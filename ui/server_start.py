"""The server's one-time start-up, done when `streamlit run app.py` starts the server, not at the first visit.

    app = st.App(__file__, lifespan=warm_lifespan)   # in app.py; `streamlit run app.py` stays the command

Streamlit 1.67's `streamlit run` looks for an `st.App` assigned in the script (by reading its source) and,
when there is one, imports the script once as a module and serves that App with uvicorn; the App's lifespan
runs after Streamlit's runtime has started and before the server answers a request. Running ui.start_up.start_up
there (PyTorch, pandas, plotly, every page's modules, PyTorch's one-time warm-up, the thread split, and with
IMGAI_JOBS=ray Ray's own start: its processes, the job directory, a warm worker) means the
first visitor's session finds it all done, as the second visitor's always did. The server answers its health
check a few seconds later instead; nobody is waiting on it then.
"""
import asyncio
import logging
import sys
import time
from contextlib import asynccontextmanager

LOG = logging.getLogger("imgai.server_start")
READY_LINE = "imgai: start-up done at server start"   # tests and bench/bench_first_visit.py look for it


@asynccontextmanager
async def warm_lifespan(app):
    """st.App lifespan: ui.start_up.start_up() before the first request (its st.cache_resource keeps the answer
    for every session), in a worker thread so the event loop stays free; nothing to undo at shutdown."""
    from ui.start_up import start_up
    t0 = time.perf_counter()
    threads = await asyncio.to_thread(start_up)
    heavy = [m for m in ("torch", "pandas", "imgai.training.runs") if m in sys.modules]
    from ui.jobs import backend
    # uvloop when installed (requirements.txt): a class's deltas all cross this loop (docs/architecture.md)
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    print(f"{READY_LINE} in {time.perf_counter() - t0:.1f} s: {threads} thread(s) per job; jobs on {backend()}; "
          f"event loop {loop}; imported {', '.join(heavy)}", flush=True)
    yield
