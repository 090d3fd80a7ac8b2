"""The Classify page's 'Map of what it learned' (TensorBoard's embedding projector, made for a class): the
classifier's penultimate features of the validation images in 2-D, coloured by class, with the student's own
pictures, the images the network gets wrong and a GAN's samples placed on the same map.

    map_section(clf, token, uploads)
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from imgai.inference.feature_map import (MapError, build_map, features, gan_samples, neighbours, place,
                                         sits_among)
from imgai.models.checkpoint import CheckpointError, list_checkpoints
from ui.classify.results import recall, remember
from ui.classify.inside import picture_sources
from ui.safe_text import clean, md, md_line, plot

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


def _figure(fmap, mine: dict, gan: dict | None, show_wrong: bool) -> go.Figure:
    fig = go.Figure()
    names = fmap.class_names
    for k, name in enumerate(names):
        idx = np.flatnonzero(fmap.labels == k)
        fig.add_trace(go.Scattergl(
            x=fmap.xy[idx, 0], y=fmap.xy[idx, 1], mode="markers", name=plot(name, 20), customdata=idx,
            marker=dict(size=6, color=COLOURS[k % 10], opacity=0.75),
            hovertemplate=f"{plot(name, 20)} (validation image %{{customdata}})<extra></extra>"))
    if show_wrong and len(fmap.wrong):
        w = fmap.wrong
        text = [f"a {plot(names[fmap.labels[i]], 20)} read as {plot(names[fmap.predicted[i]], 20)}" for i in w]
        fig.add_trace(go.Scatter(x=fmap.xy[w, 0], y=fmap.xy[w, 1], mode="markers", name="got wrong",
                                 customdata=w, text=text, hovertemplate="%{text}<extra></extra>",
                                 marker=dict(symbol="x-thin", size=8, line=dict(width=1.6, color="rgba(0,0,0,0.65)"))))
    if gan is not None:
        text = [f"GAN sample read as {plot(names[p], 20)} ({q:.0%}); sits among {plot(names[s], 20)}"
                for p, q, s in zip(gan["predicted"], gan["probs"], gan["among"])]
        fig.add_trace(go.Scatter(x=gan["xy"][:, 0], y=gan["xy"][:, 1], mode="markers", name="GAN samples",
                                 text=text, hovertemplate="%{text}<extra></extra>",
                                 marker=dict(symbol="diamond", size=9, color="white",
                                             line=dict(width=1.5, color="#212529"))))
    for label, (xy, pred) in mine.items():
        fig.add_trace(go.Scatter(x=[xy[0]], y=[xy[1]], mode="markers+text", name=plot(label, 30),
                                 text=[plot(label.split(": ", 1)[-1], 20)], textposition="top center",
                                 hovertemplate=f"{plot(label, 40)}: read as {plot(pred, 20)}<extra></extra>",
                                 marker=dict(symbol="star", size=22, color="gold", line=dict(width=2, color="black"))))
    fig.update_layout(height=560, margin=dict(l=0, r=0, t=10, b=0), legend=dict(itemsizing="constant"),
                      xaxis=dict(title=f"{fmap.method.upper()} 1", zeroline=False),
                      yaxis=dict(title=f"{fmap.method.upper()} 2", zeroline=False), plot_bgcolor="#fbfbfd",
                      dragmode="zoom")
    return fig


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
                     caption=clean(f"{names[fmap.labels[i]]}{wrong}", 40), width=84)


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
        with st.spinner(f"{method} of {N_IMAGES} validation images… (t-SNE takes several seconds on this CPU; "
                        "done once per model)" if method == "t-SNE" else "Projecting…"):
            fmap = build_map(clf, method.lower().replace("-", ""), N_IMAGES, seed=0, key=token)
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
    event = st.plotly_chart(_figure(fmap, mine, gan, wrong), key="classify_map_chart", on_select="rerun",
                            selection_mode="points", config={"displayModeBar": False})
    acc = float((fmap.labels == fmap.predicted).mean())
    st.caption(f"{len(fmap.labels)} validation images, {acc:.1%} read correctly ({len(fmap.wrong)} mistakes, "
               f"marked ×). Your pictures (★) are placed by {fmap.placed_by}. Click a dot to see it and its "
               "neighbours.")
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
    points = (event or {}).get("selection", {}).get("points") if event else None
    if points:
        st.session_state[PICK] = (float(points[0]["x"]), float(points[0]["y"]))
    if st.session_state.get(PICK):
        st.markdown("**The picked point and its nearest validation images on the map:**")
        _strip(fmap, st.session_state[PICK])
