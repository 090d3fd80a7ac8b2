"""The Classify page's drawing section: draw a digit with the mouse or a finger and see the answer change
after every stroke. A fragment, so each stroke reruns only this section, not the whole page."""
from __future__ import annotations

import numpy as np
import streamlit as st

from PIL import Image

from imgai.inference.explain import explain_image, overlay
from ui.classify.results import CHART_PX, SHOW_PX, big_input, input_caption, md_escape, top_chart
from ui.saved_models import cached_classifier
from ui.wording import article

CANVAS_PX = 280        # 10 × MNIST's 28 px: big enough for a finger, a stroke of 20 px ≈ MNIST's pen
STROKE_PX = 20


def canvas_picture(rgba) -> Image.Image | None:
    """The canvas's RGBA pixels composited on its black background → RGB picture; None when blank."""
    if rgba is None:
        return None
    a = np.asarray(rgba)
    if a.ndim != 3 or a.shape[2] < 3:
        return None
    rgb = a[..., :3].astype(np.float32)
    if a.shape[2] == 4:
        rgb *= a[..., 3:4].astype(np.float32) / 255.0  # transparent = background (black)
    if rgb.max() < 40:  # nothing drawn (or only a faint dot)
        return None
    return Image.fromarray(rgb.round().astype(np.uint8), "RGB")


@st.fragment
def draw_section(weights: str, method: str):
    from streamlit_drawable_canvas import st_canvas  # registers its component: needs a running app

    clf = cached_classifier(weights)
    st.markdown("**Draw one digit (0–9)**, large and centred, with the mouse or a finger.")
    left, right = st.columns([1, 1.6], gap="large")
    with left:
        st.space("medium")  # room for the canvas's toolbar, which floats above its top edge
        res = st_canvas(stroke_width=STROKE_PX, stroke_color="#FFFFFF", background_color="#000000",
                        width=CANVAS_PX, height=CANVAS_PX, drawing_mode="freedraw", update_streamlit=True,
                        return_image_data=True, key="classify_canvas")
        st.caption("The answer updates after every stroke. After your first stroke, icons appear above the box: "
                   "the bin clears it, the arrows undo and redo.")
    img = canvas_picture(res.image_data)
    st.session_state["classify_drawing"] = img  # offered in 'Inside the network'
    with right:
        if clf.intake != "digit":
            st.info("This model was not trained on hand-written digits, so it will guess among its own classes. "
                    "Pick a **digits** model above to read your drawing.")
        if img is None:
            st.markdown("### Your digit will be read here")
            st.caption("White ink on black, like the MNIST digits the model learned from.")
            return
        out = explain_image(clf, img, method)
        p = out["prediction"]
        st.markdown(f"### It's {article(p['label'])} **{md_escape(p['label'])}** · {p['prob']:.0%} sure")
        with st.container(horizontal=True, wrap=True, gap="medium"):
            st.image(big_input(out["input"]), caption=input_caption(clf), width=SHOW_PX, output_format="PNG")
            how = "Grad-CAM" if method == "grad-cam" else "input gradients"
            st.image(overlay(out["input"], out["heat"], size=SHOW_PX), caption=f"where it looked ({how})",
                     width=SHOW_PX, output_format="PNG")   # "auto" would make a JPEG of the crisp pixels
        with st.container(width=CHART_PX):
            top_chart(p["top"], key="top5-draw")
