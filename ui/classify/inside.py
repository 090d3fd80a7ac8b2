"""The Classify page's 'Inside the network' section (as CNN Explainer and ConvNetJS show it): for one
picture, the first layer's learned filters and the activation maps every convolution layer produces."""
from __future__ import annotations

import numpy as np
import streamlit as st

from PIL import Image

from imgai.inference.explain import activation_maps, filters_to_uint8, maps_to_uint8, strongest
from imgai.grids import make_grid, upscale
from ui.classify.results import SHOW_PX, big_input, input_caption, md_escape, recall, remember
from ui.inline_image import png_bytes as png
from ui.safe_text import clean
from ui.wording import article

TILE_PX = 84       # on-screen size a small activation map is enlarged to (28×28 ×3, 14×14 ×6, 7×7 ×12)
FILTER_PX = 40     # on-screen size of one 3×3 filter
GRID_COLS = 8


@st.cache_resource(show_spinner=False)
def _example_digits() -> dict[str, Image.Image]:
    """One bundled MNIST digit per class, from the validation split (label → RGB picture). The same picture
    objects every run: what a session has already looked inside is keyed by them (inside_section)."""
    from imgai.data.datasets import load_dataset
    d = load_dataset("digits")
    out = {}
    for x, y in zip(d.val_x, d.val_y.tolist()):
        name = d.class_names[y]
        if name not in out:
            out[name] = Image.fromarray(x[0].numpy()).convert("RGB")
    return dict(sorted(out.items()))


def picture_sources(clf, uploads: list[dict]) -> dict:
    """label → (kind, payload): uploaded pictures (already prepared), the drawing, example digits."""
    src = {f"photo: {clean(r['name'])}": ("x", r["x"]) for r in uploads}
    drawing = st.session_state.get("classify_drawing")
    if drawing is not None:
        src["your drawing"] = ("img", drawing)
    if clf.intake == "digit":
        for name, pixels in _example_digits().items():
            src[f"example: {article(name)} {name} from the digits data set"] = ("img", pixels)
    return src


PICK, SEEN = "classify_inside_choice", "classify_inside_uploads"   # plain keys: the user's pick, uploads seen


def _choose(key: str):
    """on_change of the picture box: remember the user's pick in a plain key (the widget may be redrawn)."""
    st.session_state[PICK] = st.session_state.get(key)


def _pick(where, sources: dict, uploads: list, unlike: set = frozenset()) -> str:
    """The picture box. The user's pick stays while that picture exists (a drawing or a list that grew since
    does not drop it); a new upload becomes the one shown, unless it is unlike anything the model learned from
    (a cat photo for a digits model: the layers would show noise). The widget's own key is set only here,
    where the widget is drawn, so its value never outlives it as stale state."""
    seen = st.session_state.get(SEEN) or []
    new = [u for u in uploads if u not in seen and u not in unlike]
    if new:
        st.session_state[PICK] = new[0]
    st.session_state[SEEN] = uploads
    pick = st.session_state.get(PICK)
    shown = pick if pick in sources else next(iter(sources))
    key = "classify_inside_pick"
    st.session_state[key] = shown
    return where.selectbox("Picture", list(sources), key=key, on_change=_choose, args=(key,),
                           help="Any picture you uploaded or drew on this page; for digit models also "
                                "example digits from the bundled data set.")


def _grid(maps_u8: np.ndarray) -> np.ndarray:
    """Every map as a TILE_PX square, whatever its size: small maps keep crisp pixels, big ones are shrunk."""
    h = maps_u8.shape[1]
    resample = Image.NEAREST if h <= TILE_PX else Image.BOX
    tiles = np.stack([np.asarray(Image.fromarray(m).resize((TILE_PX, TILE_PX), resample)) for m in maps_u8])
    return make_grid(tiles, nrow=min(GRID_COLS, len(tiles)), pad=3, pad_value=235)


def inside_section(clf, token: str, uploads: list[dict]):
    st.markdown("Pick a picture and watch it flow through the network: each **convolution layer** turns "
                "its input into a stack of *activation maps* — bright where a learned pattern was found.")
    sources = picture_sources(clf, uploads)
    if not sources:
        st.info("Upload a photo in **Classify photos** (or draw in **Draw a digit**) to look inside "
                "the network with it.")
        return
    c1, c2 = st.columns([2, 1])
    unlike = {f"photo: {clean(r['name'])}" for r in uploads if (r.get("familiarity") or {}).get("familiar") is False}
    choice = _pick(c1, sources, [k for k, (kind, _) in sources.items() if kind == "x"], unlike)
    if choice in unlike:
        st.caption(":material/help: This picture is unlike anything the model learned from: expect its layers "
                   "to find little of what they learned to look for.")
    n_maps = c2.slider("Maps per layer", 8, 64, 16, step=8, key="classify_inside_n",
                       help="How many activation maps to show per layer: the most active ones first.")
    kind, payload = sources[choice]
    # a page run redraws every tab: what this picture gives (its input, maps, answer) is worked out once. The
    # entry holds the picture itself, so its id cannot pass to a newer drawing while the entry is kept.
    key = ("inside", token, choice, id(payload))
    seen = recall(key)
    if seen is None:
        x = payload if kind == "x" else clf.prepare(payload)
        seen = remember(key, {"picture": payload, "x": x, "layers": activation_maps(clf.model, x),
                              "pred": clf.predict_input(x)})
    x, layers, pred = seen["x"], seen["layers"], seen["pred"]

    view = st.segmented_control("Show", ["Activation maps", "Step by step: the arithmetic"], required=True,
                                default="Activation maps", key="classify_inside_view")
    if view != "Activation maps":
        from ui.classify.arithmetic import arithmetic_section
        st.markdown(f"The model says **{md_escape(pred['label'])}** ({pred['prob']:.0%}).")
        return arithmetic_section(clf, x, repr(key))

    pictures = seen.setdefault("pictures", {})   # per maps-per-layer, in the entry that holds the picture
    if n_maps not in pictures:
        pictures[n_maps] = _pictures(clf, x, layers, n_maps)
    shown = pictures[n_maps]
    with st.container(horizontal=True, wrap=True, gap="large"):
        st.image(shown["input"], caption=input_caption(clf), width=SHOW_PX, output_format="PNG")
        b = st.container(width="stretch")
    with b:
        st.markdown(f"The model says **{md_escape(pred['label'])}** ({pred['prob']:.0%}).")
        n, k = shown["filters_nk"]
        st.image(shown["filters"], output_format="PNG",
                 caption=f"First layer: its {n} learned {k}×{k} filters. Each slides over the picture; "
                         "light = positive weight, dark = negative, grey = zero.")

    for i, (layer, (idx, grid)) in enumerate(zip(layers, shown["layers"])):
        with st.container(border=True):
            signed = " Grey is zero here, darker is negative (this stage ends without a ReLU)." \
                if layer.signed else ""
            st.markdown(f"**Layer {i + 1}: {layer.describe}** — the {len(idx)} most active shown "
                        f"(map numbers {', '.join(str(j) for j in idx[:8])}{'…' if len(idx) > 8 else ''}).{signed}")
            st.image(grid, output_format="PNG")
    st.caption("Early layers respond to edges and strokes; later layers, to larger parts. Maps shrink as the "
               "network pools, while their number grows.")


def _pictures(clf, x, layers, n_maps: int) -> dict:
    """The section's pictures as PNG bytes: the input, the first layer's filters, each layer's strongest maps."""
    filters = filters_to_uint8(clf.model)
    n, k = filters.shape[0], filters.shape[1]
    tiles = np.stack([upscale(f, max(1, FILTER_PX // k)) for f in filters])
    out = {"input": png(big_input(clf.preview(x))), "filters_nk": (n, k), "layers": [],
           "filters": png(make_grid(tiles, nrow=min(16, n), pad=6, pad_value=255))}
    for layer in layers:
        idx = strongest(layer.maps, n_maps)
        out["layers"].append((idx, png(_grid(maps_to_uint8(layer.maps)[idx]))))
    return out
