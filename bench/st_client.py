"""A headless Streamlit client for benchmarks: speaks the app's own websocket protocol (the protobuf messages
the browser frontend sends and receives), so the server's answer time can be measured without a browser
drawing the page on the same CPUs.

    async with StClient(url) as c:
        t = await c.run()                                  # the default page: seconds until its script finished
        await c.press("Start training", {"Epochs": 0.05})  # a button, with number inputs set by label
        t = await c.run(page="Classify")                   # a page switch

"Answer time" = from sending the request to the server's script_finished message: everything the server
does for that page (queueing, the script run, sending every element), nothing the browser does (parsing
the frontend, drawing, fetching images). Fragments that ask for periodic reruns (a live view polling its
job) are rerun on their interval, as the browser does, so the server's load is the same as with browsers.
Each client fetches the page once first, so it gets its own XSRF cookie: one client = one browser.
"""
import asyncio
import time
import urllib.request
from urllib.parse import urlparse

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR}
FRAGMENT_DONE = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY


def _cookie(url: str) -> str:
    """The XSRF cookie Streamlit sets on its page (its value is also the token the frontend sends)."""
    with urllib.request.urlopen(url, timeout=30) as r:
        for h in r.headers.get_all("Set-Cookie") or []:
            if h.startswith("_streamlit_xsrf="):
                return h.split(";", 1)[0].split("=", 1)[1]
    return ""


class StClient:
    def __init__(self, url: str, timeout: float = 300.0):
        self.url, self.timeout = url, timeout
        self.pages = {}              # page name -> script hash
        self.page_hash = ""          # "" = the default page
        self.widgets = {}            # label -> (kind, id) of the widgets on the last page drawn
        self.texts = []              # markdown / alert / heading bodies of the last full run, in order
        self.fragments = {}          # fragment id -> rerun interval (s)
        self._ws = self._reader = self._ticker = None
        self._waiting = None         # (future, fragment) for the run in flight
        self.fragment_s = []         # answer time of every periodic fragment rerun

    async def __aenter__(self):
        cookie = await asyncio.to_thread(_cookie, self.url)
        u = urlparse(self.url)
        self._ws = await websockets.connect(
            f"ws://{u.netloc}/_stcore/stream", subprotocols=["streamlit", cookie or "streamlit"],
            additional_headers={"Origin": f"http://{u.netloc}", "Cookie": f"_streamlit_xsrf={cookie}"},
            max_size=None, open_timeout=self.timeout)
        self._reader = asyncio.create_task(self._read())
        self._ticker = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, *exc):
        for t in (self._ticker, self._reader):
            t.cancel()
        await self._ws.close()

    # ---- requests ----
    async def run(self, page: str | None = None, widgets: list | None = None) -> float:
        """A full script run (page switch when `page` names another page); seconds until it finished."""
        if page is not None:
            self.page_hash = self.pages[page]
        self.fragments.clear()       # the frontend drops a page's periodic reruns when the page runs again
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string, cs.page_script_hash = "", self.page_hash
        for w in widgets or []:
            cs.widget_states.widgets.append(w)
        return await self._send(msg, fragment=False)

    async def press(self, label: str, numbers: dict | None = None) -> float:
        """Press the button with this label (number inputs set by label first); seconds until the page settled."""
        states = []
        for name, value in (numbers or {}).items():
            s = BackMsg().rerun_script.widget_states.widgets.add()
            s.id, s.double_value = self.widgets[name][1], float(value)
            states.append(s)
        t = BackMsg().rerun_script.widget_states.widgets.add()
        t.id, t.trigger_value = self.widgets[label][1], True
        return await self.run(widgets=states + [t])

    async def _send(self, msg, fragment: bool) -> float:
        while self._waiting is not None:   # one run at a time, as the frontend does
            await asyncio.sleep(0.01)
        fut = asyncio.get_running_loop().create_future()
        self._waiting = (fut, fragment)
        if not fragment:
            self.widgets, self.texts = {}, []
        t0 = time.monotonic()
        await self._ws.send(msg.SerializeToString())
        try:
            await asyncio.wait_for(fut, self.timeout)
        finally:
            self._waiting = None
        return time.monotonic() - t0

    async def _tick(self):
        """Rerun the page's periodic fragments on their interval (as the frontend's timers do)."""
        next_at = {}
        while True:
            await asyncio.sleep(0.1)
            now = time.monotonic()
            for fid, every in list(self.fragments.items()):
                if now >= next_at.setdefault(fid, now + every) and self._waiting is None:
                    next_at[fid] = now + every
                    msg = BackMsg()
                    cs = msg.rerun_script
                    cs.page_script_hash, cs.fragment_id, cs.is_auto_rerun = self.page_hash, fid, True
                    try:
                        self.fragment_s.append(await self._send(msg, fragment=True))
                    except asyncio.TimeoutError:
                        pass
            for fid in list(next_at):
                if fid not in self.fragments:
                    del next_at[fid]

    # ---- answers ----
    async def _read(self):
        async for data in self._ws:
            m = ForwardMsg()
            m.ParseFromString(data)
            kind = m.WhichOneof("type")
            if kind == "navigation":
                self.pages = {p.page_name: p.page_script_hash for p in m.navigation.app_pages}
                self.page_hash = m.navigation.page_script_hash or self.page_hash
            elif kind == "delta" and m.delta.WhichOneof("type") == "new_element":
                self._element(m.delta.new_element)
            elif kind == "auto_rerun":
                self.fragments[m.auto_rerun.fragment_id] = m.auto_rerun.interval
            elif kind == "script_finished" and self._waiting is not None:
                fut, fragment = self._waiting
                # a fragment that calls st.rerun() (the live view when its run ended) ends in a whole-page run,
                # which finishes as a page does: waiting for FRAGMENT_DONE then blocked the polls for `timeout`
                if (m.script_finished in DONE | {FRAGMENT_DONE}) if fragment else (m.script_finished in DONE):
                    if not fut.done():
                        fut.set_result(m.script_finished)

    def _element(self, el):
        kind = el.WhichOneof("type")
        body = getattr(el, kind)
        label = getattr(body, "label", None) if hasattr(body, "label") else None
        if label and getattr(body, "id", ""):
            self.widgets[label] = (kind, body.id)
        if kind in ("markdown", "alert", "heading"):
            self.texts.append(body.body)

    def says(self, text: str) -> bool:
        return any(text in t for t in self.texts)
