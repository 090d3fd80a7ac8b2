"""The Classify page's 'Map of what it learned' (TensorBoard's embedding projector, made for a class): the
classifier's penultimate features of the validation images in 2-D, coloured by class, with the student's own
pictures, the images the network gets wrong and a GAN's samples placed on the same map.

    map_section(clf, token, uploads)
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from imgai.inference.feature_map import (MapError, build_map, features, gan_samples, neighbours, place,
                                         sits_among)
from imgai.models.checkpoint import CheckpointError, list_checkpoints
from ui.classify.results import recall, remember
from ui.classify.inside import picture_sources
from ui.classify.map_canvas import atlas_png, map_canvas
from ui.safe_text import clean, md, md_line

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]  # plotly's ten: one per class
N_IMAGES = 1000     # validation images on the map: PCA of 1,000 draws in well under a second (bench/results/views.json)
N_GAN = 100         # generator samples placed on the map
PICK = "classify_map_pick"


def _generators(clf) -> dict:
    """label → path of every GAN whose pictures this classifier can read (same size and channels)."""
    out = {}
    for m in list_checkpoints():
        if m.get("kind") in ("dcgan", "cdcgan") and m.get("channels") == clf.meta.get("channels") \
                and m.get("image_size") == clf.meta.get("image_size"):
            out[f"{m['name']} ({m['kind']}, {m.get('dataset', '?')})"] = m["path"]
    return out


def _gan_points(clf, fmap, path: str) -> dict:
    key = ("map-gan", path, fmap.method, id(fmap))
    hit = recall(key)
    if hit is None:
        g = gan_samples(clf, path, N_GAN, seed=0)
        g.update(xy=place(fmap, g["features"]), among=sits_among(fmap, g["features"]))
        hit = remember(key, g)
    return hit


def _strip(fmap, xy):
    idx = neighbours(fmap, xy, 8)
    names = fmap.class_names
    with st.container(horizontal=True, wrap=True, gap="small"):
        for i in idx:
            wrong = "" if fmap.labels[i] == fmap.predicted[i] else f" → read {names[fmap.predicted[i]]}"
            st.image(np.kron(fmap.images[i], np.ones((3, 3) + (1,) * (fmap.images[i].ndim - 2), np.uint8)),
                     caption=clean(f"{names[fmap.labels[i]]}{wrong}", 40), width=84, output_format="PNG")


def map_section(clf, token: str, uploads: list[dict]):
    if clf.meta.get("kind") != "cnn":
        st.info("The map is made for imgai's own classifiers (digits, CIFAR-10 and models trained here): their "
                "validation images are at hand. Pick one in the Model list.")
        return
    st.markdown("Each dot is a **validation image**, placed by the network's *penultimate features* — the "
                "numbers its last dense layer reads. Images the network finds alike land close together: "
                "a class the network has learned well forms its own island.")
    c1, c2, c3 = st.columns([1.3, 2, 1])
    method = c1.radio("Projection", ["PCA", "t-SNE"], horizontal=True, key="classify_map_method",
                      help="PCA: the two directions of greatest spread (instant, exact for new points). "
                           "t-SNE: keeps neighbours together (slower; new points are placed by their neighbours).")
    gens = _generators(clf)
    gen = c2.selectbox("Place a GAN's samples", ["none", *gens], key="classify_map_gan",
                       help="Where do the generator's pictures land, and which real class do they sit among?")
    wrong = c3.toggle("Show mistakes", True, key="classify_map_wrong")
    try:
        bar = st.empty()
        def progress(fraction: float):      # t-SNE only; once per model, then cached
            bar.progress(fraction, text=f"t-SNE of {N_IMAGES} validation images: {fraction:.0%} of its iterations")
        with st.spinner("Projecting…"):
            fmap = build_map(clf, method.lower().replace("-", ""), N_IMAGES, seed=0, key=token, progress=progress)
        bar.empty()
        mine = {}
        for label, (kind, payload) in picture_sources(clf, uploads).items():
            if label.startswith("example:"):
                continue
            x = payload if kind == "x" else clf.prepare(payload)
            f, logits = features(clf.model, x)
            mine[label] = (place(fmap, f)[0], clf.class_names[int(logits.argmax())])
        gan = _gan_points(clf, fmap, gens[gen]) if gen != "none" else None
    except (MapError, CheckpointError, OSError) as e:
        st.error(md_line(e))
        return
    atlas_key = ("map-atlas", token, fmap.method, id(fmap))
    atlas = recall(atlas_key) or remember(atlas_key, atlas_png(fmap.images))
    picked = map_canvas(fmap, atlas, COLOURS, mine, gan, wrong, key="classify_map_canvas")
    acc = float((fmap.labels == fmap.predicted).mean())
    st.caption(f"{len(fmap.labels)} validation images, {acc:.1%} read correctly ({len(fmap.wrong)} mistakes, "
               f"marked ×). Your pictures (★) are placed by {fmap.placed_by}. Hover over a dot to see its "
               "picture; click it to see its neighbours.")
    if not mine:
        st.caption("Upload a photo in **Classify photos** or draw a digit to see where *your* picture lands.")
    if gan is not None:
        names = fmap.class_names
        read = np.bincount(gan["predicted"], minlength=len(names))
        among = np.bincount(gan["among"], minlength=len(names))
        agree = float((gan["predicted"] == gan["among"]).mean())
        st.markdown(f"**{N_GAN} samples of {md(gen)}** (◇). The classifier reads them as: " +
                    ", ".join(f"{md(names[k])}: {read[k]}" for k in np.argsort(-read) if read[k]) +
                    ". By their nearest real images they sit among: " +
                    ", ".join(f"{md(names[k])}: {among[k]}" for k in np.argsort(-among) if among[k]) +
                    f" — the two agree for {agree:.0%} of the samples.")
    if picked:
        st.session_state[PICK] = (fmap.method, token, picked)
    pick = st.session_state.get(PICK)
    if pick and pick[:2] == (fmap.method, token):     # a point picked on this very map, not on another one
        st.markdown("**The picked point and its nearest validation images on the map:**")
        _strip(fmap, pick[2])
