"""The Classify page's 'Teach your own' section (as Teachable Machine does it): name two or more classes,
drop a handful of photos into each, train a small head on the frozen ImageNet features in seconds, see how
it does on photos held back, try it on new photos and save it as a model for the picker.

Photos are decoded in memory; only their 1280 features (cached per upload) and thumbnails are kept, in this
session's state. A fragment: adding photos reruns this section only.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from imgai.checkpoint import checkpoint_zip, save_checkpoint
from imgai.classify import Classifier
from imgai.photo import PhotoClassifier, load_imagenet_model, photo_features, photo_head_meta, train_photo_head
from imgai.vision import ImageError, open_image
from ui.classify.common import analyse_upload, result_card
from ui.models import DOWNLOAD_HINT, NAME_RE, SHARE_HELP, save_as
from ui.safe_text import md, md_line

MAX_CLASSES = 8


def _features(uploads) -> tuple[list, list[str]]:
    """Features (1280,) of each good upload (cached per file id for the session) and one line per bad one."""
    cache = st.session_state.setdefault("teach_features", {})
    feats, errors, todo = {}, [], []
    for f in uploads:
        if f.file_id in cache:
            feats[f.file_id] = cache[f.file_id]
            continue
        try:
            todo.append((f.file_id, open_image(f.getvalue(), name=f.name)))
        except ImageError as e:
            errors.append(str(e))
    if todo:
        fs = photo_features(load_imagenet_model(), [img for _, img in todo])
        for (fid, _), v in zip(todo, fs):
            cache[fid] = feats[fid] = v
    return [feats[f.file_id] for f in uploads if f.file_id in feats], errors


def _class_inputs(n: int) -> list[tuple[str, list]]:
    cols = st.columns(min(n, 4))
    out = []
    for i in range(n):
        with cols[i % len(cols)].container(border=True):
            name = st.text_input(f"Class {i + 1}", value=f"class {chr(ord('A') + i)}", key=f"teach_name_{i}",
                                 max_chars=40, help="What the photos of this class show, e.g. 'mug' or 'plant'.")
            files = st.file_uploader(
                f"Photos of {md(name) or 'this class'}", accept_multiple_files=True, key=f"teach_files_{i}",
                help="A handful (5–30) of varied photos of this class: different angles, backgrounds, light.")
            st.caption(f"{len(files or [])} photos")
            out.append((name.strip(), files or []))
    return out


def _problems(classes) -> list[str]:
    names = [n for n, _ in classes]
    msgs = []
    if any(not n for n in names):
        msgs.append("Give every class a name.")
    elif len({n.lower() for n in names}) < len(names):
        msgs.append("Two classes have the same name: make each name different.")
    for n, files in classes:
        if len(files) < 2:
            msgs.append(f"Add at least 2 photos to {md(n) or 'every class'} (5 or more work better).")
    return msgs


def _train(classes, holdout: float):
    feats, labels, errors = [], [], []
    with st.spinner("Reading the photos with the ImageNet network…"):
        for c, (_, files) in enumerate(classes):
            f, err = _features(files)
            feats += f
            labels += [c] * len(f)
            errors += err
    for e in errors:
        st.error(md_line(e), icon=":material/broken_image:")  # it quotes the file's name
    names = [n for n, _ in classes]
    counts = [labels.count(c) for c in range(len(names))]
    if min(counts) == 0:
        st.error(f"No readable photos left for {md(names[counts.index(0)])}: add some and train again.")
        return
    import torch  # only to stack the cached feature vectors into the (N, 1280) matrix the trainer takes
    head, report = train_photo_head(torch.stack(feats), labels, names, holdout=holdout)
    meta = photo_head_meta(head, names, report)
    st.session_state["teach_result"] = {
        "head": head, "names": names, "report": report, "meta": meta,
        "fingerprint": _fingerprint(classes, holdout),
        "classifier": Classifier("your classes", PhotoClassifier(load_imagenet_model(), head), meta),
    }


def _fingerprint(classes, holdout) -> tuple:
    return (holdout, tuple((n, tuple(f.file_id for f in files)) for n, files in classes))


def _report(res):
    r = res["report"]
    acc = r["val_acc"]
    if acc is None:
        st.success(f"Trained on {r['n_train']} photos. None were held back, so there is no test score.")
        return
    st.success(f"Trained on {r['n_train']} photos in a moment · **{acc:.0%}** right on the {r['n_val']} "
               "photos it never saw while training.")
    per = pd.DataFrame({"class": list(r["per_class_acc"]),
                        "right on held-back photos": [v for v in r["per_class_acc"].values()]})
    st.dataframe(per, hide_index=True, key="teach_per_class", column_config={
        "right on held-back photos": st.column_config.ProgressColumn(
            format="percent", min_value=0.0, max_value=1.0,
            help="Share of this class's held-back photos the new model named correctly.")})


def _save(res):
    c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    name = c1.text_input("Save as", value="my-classes", key="teach_save_name", max_chars=64,
                         help="A model name: letters, digits, - and _. It then appears in your Model list "
                              "at the top of this page. Saving again under the same name replaces your own "
                              "model of that name (never anybody else's).")
    share = st.checkbox("Share with the class", key="teach_share", help=SHARE_HELP)
    if c2.button("Save model", key="teach_save", icon=":material/save:",
                 help="Write it as a checkpoint to your models folder, or to the class folder when shared."):
        path, error = save_as(name, share, lambda p: save_checkpoint(p, res["head"], res["meta"]))
        if error:
            st.error(error + (DOWNLOAD_HINT if error.startswith("Could not save") else ""), icon=":material/error:")
        else:
            st.session_state["teach_saved"] = {"name": path.name, "shared": share}
            st.rerun(scope="app")  # the picker at the top of the page lists the new model
    file_name = name.strip() if NAME_RE.match(name.strip()) else "my-classes"
    head, meta = res["head"], res["meta"]
    c3.download_button("Download", data=lambda: checkpoint_zip(file_name, head, meta), file_name=f"{file_name}.zip",
                       icon=":material/download:", mime="application/zip", on_click="ignore", key="teach_download",
                       help="A zip of the model (.safetensors) and its description (.json), straight from memory: "
                            "works even when saving does not.")
    saved = st.session_state.get("teach_saved")
    if saved:
        where = " in the class folder (read-only for everybody)" if saved["shared"] else ""
        st.success(f"Saved as **{md(saved['name'])}**{where}: pick it in the Model list at the top to use it like "
                   "any other model.")


@st.fragment
def teach_section(method: str):
    st.markdown("Teach the computer **your own classes** from a few photos each — for example *mug* vs "
                "*plant*. The big ImageNet network already turns any photo into 1280 numbers that describe "
                "it; training only fits the last layer on top, so it takes seconds.")
    n = st.session_state.setdefault("teach_n", 2)
    classes = _class_inputs(n)
    b1, b2, b3, _ = st.columns([1, 1, 2.2, 2], vertical_alignment="bottom")
    if b1.button("Add a class", key="teach_add", icon=":material/add:", disabled=n >= MAX_CLASSES,
                 help=f"Up to {MAX_CLASSES} classes."):
        st.session_state["teach_n"] = n + 1
        st.rerun(scope="fragment")
    if b2.button("Remove last", key="teach_remove", icon=":material/remove:", disabled=n <= 2,
                 help="At least two classes are needed."):
        st.session_state["teach_n"] = n - 1
        st.rerun(scope="fragment")
    holdout = b3.slider("Photos held back to test", 0, 50, 20, step=5, format="%d%%", key="teach_holdout",
                        help="This share of each class's photos is not used for training, only to check the "
                             "model on photos it has never seen.") / 100

    problems = _problems(classes)
    if st.button("Train", type="primary", icon=":material/school:", key="teach_train", disabled=bool(problems),
                 help="Fit the new last layer on the photos (a few seconds)."):
        _train(classes, holdout)
    if problems:
        st.caption("To train: " + " ".join(problems))

    res = st.session_state.get("teach_result")
    if not res:
        return
    if res["fingerprint"] != _fingerprint(classes, holdout):
        st.warning("Photos or names changed since training: press **Train** again to update the model.")
    _report(res)

    st.markdown("#### Try it on new photos")
    tries = st.file_uploader("Photos to classify with your classes", accept_multiple_files=True, key="teach_try",
                             help="Photos the model has not seen; each gets its answer and where it looked.")
    clf = res["classifier"]
    token = f"teach@{id(res['head'])}"
    for i, f in enumerate(tries or []):
        r = analyse_upload(clf, token, f, method)
        if r["error"]:
            st.error(md_line(r["error"]), icon=":material/broken_image:")
        else:
            result_card(clf, r, key=f"top5-teach-{i}", method=method)
    st.markdown("#### Keep it")
    _save(res)
