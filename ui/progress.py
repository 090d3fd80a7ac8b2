"""A progress bar for the library's readers (imgai.data.folder's zip loading, Teach's photos), and their stop.

The readers call `progress(stage, done, total)` between files. Updating the bar is a Streamlit call, and
Streamlit checks at every such call whether the run was asked to stop: when the browser tab has gone away,
the server asks the session's script to stop (WebsocketSessionManager.disconnect_session ->
AppSession.request_script_stop), and the next st call raises its StopException. So a reader fed this
callback stops within a file of the tab closing instead of decoding the rest of an upload for nobody.

    bar = ReadingProgress("Your images"); load_image_folder(path, progress=bar); bar.empty()
"""
from __future__ import annotations

import time

import streamlit as st

STAGES = {"unpacking": "unpacking the zip", "checking": "checking picture sizes", "reading": "reading",
          "features": "looking at them with the network"}


class ReadingProgress:
    """Callable progress(stage, done, total) that redraws an st.progress bar.

    min_interval: seconds between redraws (each one is a message to the browser); the stop check rides
    on the redraws, so a closed tab is noticed within that time plus one file."""

    def __init__(self, label: str, min_interval: float = 0.1):
        self.label, self.min_interval = label, min_interval
        self.bar = st.progress(0.0, text=f"{label}: starting…")
        self._last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last < self.min_interval:
            return
        self._last = now
        self.bar.progress(min(1.0, done / max(total, 1)),
                          text=f"{self.label}: {STAGES.get(stage, stage)}… {done}/{total}")

    def empty(self) -> None:
        self.bar.empty()
