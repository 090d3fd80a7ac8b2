"""Streamlit pieces the Classify page's sections share: the model picker, one result card per picture
(photo, model input, saliency, top-5 chart) and a per-session cache of analysed uploads.

Uploads are decoded in memory (imgai.data.intake.open_image on the bytes) and never written to disk.
"""
from __future__ import annotations

import io
from collections import OrderedDict

import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from imgai.inference.classify import IMAGENET
from imgai.models.checkpoint import CheckpointError, checkpoint_base
from imgai.inference.explain import explain_image, overlay
from imgai.inference.familiarity import fit_familiarity
from imgai.grids import upscale
from imgai.data.intake import ImageError, open_image
from ui.charts import CHART_CONFIG, COLORS
from ui.export import export_panel, from_weights
from ui.inline_image import png_bytes
from ui.lesson_link import Field, LessonLink
from ui.saved_models import PICKER_CAPTION, cached_classifier, classifier_options
from ui.safe_text import clean, md, md_line, plot

md_escape = md  # the name the Classify sections import; one escaping rule for the whole app (ui/safe_text.py)

SHOW_PX = 168          # on-screen size of the small pictures in a result card (28 px inputs × 6)
CHART_PX = 300         # width of a top-5 chart: three 168 px pictures and it fit one row beside the sidebar
THUMB_PX = 240         # kept copy of an uploaded photo, for display only
CACHE_ENTRIES = 90     # analysed pictures kept per session: at most ~1 MB each (a 224×224 input + pictures)
METHOD_LABELS = {"Grad-CAM": "grad-cam", "Input gradients": "gradients"}


def describe_model(clf) -> str:
    """One line saying what the chosen model knows and what it does to a picture before reading it."""
    m, names = clf.meta, clf.class_names
    shown = ", ".join(clean(n, 40) for n in names[:10]) + (f" … ({len(names)} in all)" if len(names) > 10 else "")
    if m.get("kind") == "imagenet":
        return ("Knows **1000 everyday things** (ImageNet: animals, objects, food, vehicles …). "
                "A photo is cropped to its centre square and scaled to 224×224 before it is read: smaller "
                "pictures are blown up, and read poorly.")
    if m.get("kind") == "photo-head":
        return (f"**Your own classes**: {md(shown, None)}. Trained on top of the ImageNet network's features; "
                "a photo is cropped to its centre square and shrunk to 224×224.")
    size, ch = m.get("image_size"), m.get("channels")
    recipe = ("a photo of a digit is turned into white ink on black, cropped and centred like MNIST"
              if clf.intake == "digit" else "a photo is cropped to its centre square and shrunk")
    colour = "grey" if ch == 1 else "colour"
    hint = (" For photos of other things, pick **imagenet** in the Model list." if clf.intake == "digit" else
            f" It names one of its {len(names)} classes whatever a photo shows: for photos of anything else, "
            "pick **imagenet** in the Model list.")
    tta = {"flip": " It answers for the picture and its mirror image together, as it was scored.",
           "flip-translate": " It answers for six copies of the picture together (mirrored, and moved a pixel), "
                             "as it was scored."}.get(clf.tta, "")
    return (f"Trained on **{md_escape(m.get('dataset', '?'))}** · classes: {md(shown, None)}. "
            f"Reads {size}×{size} {colour} pictures: {recipe}.{tta}{hint}")


def model_picker():
    """The model select box and the saliency method; returns (Classifier, weights, cache token, method)."""
    options = classifier_options()
    # the model's name in the address (?model=digits-cnn), so a link opens Classify on that model
    label_of = {(IMAGENET if w == IMAGENET else checkpoint_base(w).name): label for label, w in options.items()}
    name_of = {label: name for name, label in label_of.items()}

    def parse(text):
        if text not in label_of:
            raise ValueError("no model of that name here")
        return label_of[text]
    link = LessonLink("classify", {"model": Field("Model", parse, name_of.get)})
    warning = link.warning()
    if warning:
        st.warning(warning, icon=":material/link_off:")
    c1, c2 = st.columns([3, 1.3], vertical_alignment="bottom")
    label = link.widget("model", "classify_model", lambda **kw: c1.selectbox(
        "Model", list(options), persist_state="session",
        help="Which trained network answers: the shipped digits CNN, any model you trained on the Train page "
             "(data set · validation accuracy · date), your own taught classes, or the ImageNet network "
             "that names 1000 kinds of things in photos.", **kw), {}, next(iter(options)))
    if label not in options:        # a model deleted since, or a stale session value
        label = next(iter(options))
    link.save_to_url()
    method = c2.radio(
        "Show where it looked with", list(METHOD_LABELS), horizontal=True, key="classify_method",
        persist_state="session",
        help="Grad-CAM: which regions of the last convolution layer raised the winning class (coarse, "
             "robust). Input gradients: which single pixels would change the answer most (fine, noisy).")
    weights = options[label]
    try:
        clf = cached_classifier(weights)
    except (CheckpointError, OSError, ValueError) as e:
        st.error(f"Could not load this model: {md_line(e)}")
        st.stop()
    st.caption(describe_model(clf) + "  \n" + PICKER_CAPTION)
    if weights != IMAGENET:
        with st.expander("Take this model home (ONNX)", icon=":material/deployed_code:"):
            export_panel(f"classify_{weights}", lambda: from_weights(weights), checkpoint_base(weights).name)
    token = f"{weights}@{clf.meta.get('created', '')}"
    return clf, weights, token, METHOD_LABELS[method]


def _cache() -> OrderedDict:
    return st.session_state.setdefault("classify_cache", OrderedDict())


def remember(key, value):
    cache = _cache()
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > CACHE_ENTRIES:
        cache.popitem(last=False)
    return value


def recall(key):
    cache = _cache()
    if key in cache:
        cache.move_to_end(key)  # least recently used goes first: a batch being shown is never evicted
    return cache.get(key)


def analyse(clf, img: Image.Image, name: str, method: str) -> dict:
    """Classify and explain one decoded picture: a record a result card can show."""
    out = explain_image(clf, img, method)
    thumb = img.copy()
    thumb.thumbnail((THUMB_PX, THUMB_PX))
    return {"name": name, "error": None, "thumb": thumb, "size": img.size, "prediction": out["prediction"],
            "x": out["x"], "input": out["input"], "overlay": overlay(out["input"], out["heat"], size=SHOW_PX)}


def analyse_upload(clf, token: str, upload, method: str) -> dict:
    """An UploadedFile → analysed record (cached for this session), or {"name", "error"} with one line."""
    key = ("upload", token, upload.file_id, method)
    hit = recall(key)
    if hit is not None:
        return hit
    try:
        img = open_image(upload.getvalue(), name=upload.name)
    except ImageError as e:
        return remember(key, {"name": upload.name, "error": str(e)})
    return remember(key, analyse(clf, img, upload.name, method))


def big_input(pixels):
    """The model's input enlarged for display with crisp pixels (a 28×28 digit becomes 168×168)."""
    h = pixels.shape[0]
    return upscale(pixels, max(1, SHOW_PX // h)) if h < SHOW_PX else pixels


def top_chart(top: list, key: str):
    """Horizontal bars of the top classes' probabilities, the winner on top."""
    labels, seen = [], set()
    for n, _ in top:  # ImageNet repeats a few names ("crane" the bird and the machine): keep both bars
        label = plot(n, 40)  # plotly renders <a href>, <b> … in tick labels: a class name is the user's
        while label in seen:
            label += "\u200b"
        seen.add(label)
        labels.append(label)
    labels = labels[::-1]
    probs = [p for _, p in top][::-1]
    fig = go.Figure(go.Bar(
        x=probs, y=labels, orientation="h", text=[f"{p:.0%}" if p >= 0.005 else "<1%" for p in probs],
        textposition="outside", cliponaxis=False, marker_color=[COLORS["pale"]] * (len(probs) - 1) + [COLORS["main"]],
        hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    # ~33 px a bar, so 2 bars look like bars as much as 5 do
    fig.update_layout(height=44 + 33 * len(top), margin=dict(l=0, r=36, t=6, b=0), showlegend=False,
                      xaxis=dict(range=[0, 1.0], tickformat=".0%", showgrid=True, fixedrange=True),
                      yaxis=dict(type="category", automargin=True, fixedrange=True, tickfont=dict(size=13)))
    st.plotly_chart(fig, key=key, config=CHART_CONFIG)


def input_caption(clf) -> str:
    size = clf.meta.get("image_size")
    if clf.intake == "digit":
        return f"what the model reads: {size}×{size}, digit recipe"
    return f"what the model reads: {size}×{size}"


def result_card(clf, r: dict, key: str, method: str, show_photo: bool = True):
    """One analysed picture: headline, photo, the model's input, where it looked, top-5 chart."""
    p = r["prediction"]
    with st.container(border=True):
        st.markdown(f"**{md_escape(r['name'])}** → **{md_escape(p['label'])}** · {p['prob']:.0%} sure")
        hint = small_picture_hint(clf, r.get("size"))
        if hint:
            st.caption(hint)
        unlike = unfamiliar_hint(clf, r)
        if unlike:
            st.warning(unlike, icon=":material/help:")
        # fixed-size pictures in a wrapping row: on a narrow screen the chart moves below, never on top
        with st.container(horizontal=True, wrap=True, gap="medium"):
            if show_photo:
                st.image(_encoded(r, "thumb", "JPEG"), caption="your picture", width=SHOW_PX, output_format="JPEG")
            st.image(_encoded(r, "input", "PNG", big_input), caption=input_caption(clf), width=SHOW_PX,
                     output_format="PNG")
            how = "Grad-CAM" if method == "grad-cam" else "input gradients"
            st.image(_encoded(r, "overlay", "PNG"), caption=f"where it looked ({how}): red = most", width=SHOW_PX,
                     output_format="PNG")
            with st.container(width=CHART_PX):
                top_chart(p["top"], key=key)


def _encoded(r: dict, field: str, fmt: str, prepare=None) -> bytes:
    """A card's picture as file bytes, encoded once and kept in its (cached) record: every page run draws every
    card again. The photo stays a JPEG; the model's input and the heat map are PNG, pixel for pixel."""
    key = f"{field}_{fmt.lower()}"
    if key not in r:
        pixels = prepare(r[field]) if prepare else r[field]
        if fmt == "PNG":
            r[key] = png_bytes(pixels)
        else:
            buf = io.BytesIO()
            pic = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
            pic.convert("RGB").save(buf, format="JPEG", quality=90)
            r[key] = buf.getvalue()
    return r[key]


@st.cache_resource(max_entries=8, show_spinner="Looking at the pictures this model learned from…")
def _familiarity(name: str, created: str, _clf):
    """Per model, once per server: its training pictures' features (imgai.inference.familiarity)."""
    return fit_familiarity(_clf)


def unfamiliar_hint(clf, r: dict) -> str | None:
    """A line when the picture is unlike every picture the model learned from (or blank), else None."""
    if "familiarity" not in r:      # judged once per analysed picture; the record is cached with it
        fam = _familiarity(clf.name, str(clf.meta.get("created", "")), clf) if clf.meta.get("kind") == "cnn" else None
        r["familiarity"] = None if fam is None else fam.judge(clf, r["x"])
    v = r["familiarity"]
    if v is None or v["familiar"]:
        return None
    if v["blank"]:
        return "The digit recipe found no ink in this picture: the model was shown a blank square, so its answer means nothing."
    data = md_escape(str(clf.meta.get("dataset", "its training pictures")))
    return (f"This picture is unlike anything the model learned from ({data}): its features lie farther from "
            f"every training picture than those of {v['percentile']:.0f}% of the held-out {data} pictures do. "
            "The model can only answer with one of its classes, so treat the answer as a guess.")


def small_picture_hint(clf, size) -> str | None:
    """A line for a picture far smaller than what a photo model reads (a 32×32 icon becomes a 224×224 blur)."""
    need = clf.meta.get("image_size") or 0
    if clf.intake != "photo" or not size or min(size) * 2 > need:
        return None
    w, h = size
    return (f":material/info: This picture is only {w}×{h} pixels: it was blown up to {need}×{need} to be read, "
            "so the network sees a blur. Expect odd, unsure answers; a larger photo works better.")
