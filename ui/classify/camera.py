"""Camera captures for the Classify page: behind a "Use the camera" toggle (so the browser asks for the camera
only when the student wants it), each picture taken is kept as an UploadedFile-like `Capture` named
camera-N.jpg, so it goes through exactly the same intake (imgai.data.intake.open_image), answer, saliency
and 'Inside the network' views as an uploaded photo.

    shots = camera_captures("classify")   # [] while the toggle is off
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from imgai.data.intake import ImageError, open_image
from ui.safe_text import md_line

MAX_CAPTURES = 20  # kept per collector: a 640x480 JPEG is ~50 KB, and the batch classifies at most 40 files
NO_CAMERA = ("No picture from the camera? Allow this site to use the camera (the camera icon in the address "
             "bar), or plug one in, then turn the toggle off and on. Uploading photos works without one.")


@dataclass(frozen=True)
class Capture:
    """What the Classify sections read from an upload: a name, a unique file_id and the bytes."""
    name: str
    file_id: str
    data: bytes

    def getvalue(self) -> bytes:
        return self.data


def camera_captures(key: str) -> list[Capture]:
    """The toggle, the camera and the pictures taken so far (each new picture is added; a button forgets them)."""
    if not st.toggle("Use the camera", key=f"{key}_camera_on",
                     help="Hold a drawing or an object up to the camera and take a picture: it is classified "
                          "like an uploaded photo. The browser asks for permission first."):
        return []
    shots = st.session_state.setdefault(f"{key}_captures", [])
    shot = _take(key)
    if shot is not None:
        shots.append(shot)
        del shots[:-MAX_CAPTURES]
    if shots and st.button(f"Forget the {len(shots)} camera picture{'s' if len(shots) > 1 else ''}",
                           key=f"{key}_captures_clear", icon=":material/delete:"):
        shots.clear()
        st.rerun()
    return list(shots)


def _take(key: str) -> Capture | None:
    """The camera's picture if it is new (read once through open_image), else None."""
    seen = st.session_state.setdefault(f"{key}_captures_seen", set())
    pic = st.camera_input("Take a picture", key=f"{key}_camera",
                          help="Press 'Take photo'; 'Clear photo' readies the camera for the next one.")
    if pic is None:
        st.caption(NO_CAMERA)          # a tip while no picture came, not under every picture
        return None
    if pic.file_id in seen:
        return None
    seen.add(pic.file_id)  # the camera keeps showing its last picture: add it once
    name, data = f"camera-{len(seen)}.jpg", pic.getvalue()
    try:
        open_image(data, name=name)
    except ImageError as e:
        st.error(md_line(e), icon=":material/broken_image:")
        return None
    return Capture(name, f"camera:{pic.file_id}", data)


def teach_captures(names: list[str]) -> dict[int, list[Capture]]:
    """Teach's camera: each picture taken goes to the chosen class; {class index: captures}, {} when off.
    Pictures of the chosen class are listed with a button each to delete them."""
    store = st.session_state.setdefault("teach_captures", {})
    if not st.toggle("Use the camera", key="teach_camera_on",
                     help="Take pictures of each class with the camera instead of (or as well as) uploading."):
        return {}
    with st.container(border=True):
        c = st.selectbox("Pictures go to", range(len(names)), format_func=lambda i: names[i] or f"class {i + 1}",
                         key="teach_camera_class")
        shot = _take("teach")
        if shot is not None:
            store.setdefault(c, []).append(shot)
            del store[c][:-MAX_CAPTURES]
        mine = store.get(c, [])
        st.caption(f"{len(mine)} camera picture{'' if len(mine) == 1 else 's'} in this class")
        cols = st.columns(6)
        for i, s in enumerate(mine):
            with cols[i % 6]:
                st.image(s.data, caption=s.name, width=96)
                # on_click: removed before the rerun draws the counts
                st.button("Delete", key=f"teach_capture_del_{s.file_id}", icon=":material/delete:",
                          on_click=mine.remove, args=(s,))
    return {k: list(v) for k, v in store.items() if k < len(names)}
