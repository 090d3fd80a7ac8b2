"""The Classify page's 'Teach your own' section (as Teachable Machine does it): name two or more classes,
drop a handful of photos into each (or give one zip with a folder per class, as on the Train page), train a
small head on the frozen ImageNet features in seconds, see how it does on photos held back, try it on new
photos and save it as a model for the picker.

Photos are decoded in memory (a zip is extracted safely by imgai.data.folder into a temporary folder that is
removed); only their 1280 features (cached per upload) and thumbnails are kept, in this session's state.
A fragment: adding photos reruns this section only.
"""
from __future__ import annotations

import streamlit as st
from PIL import Image

from imgai.inference.classify import Classifier
from imgai.data.folder import FolderError, load_image_folder
from imgai.models.imagenet import IMAGE_SIZE as PHOTO_SIZE
from imgai.models.imagenet import PhotoClassifier, load_imagenet_model, photo_features, photo_head_meta, train_photo_head
from imgai.data.intake import ImageError, PixelBudget, open_image
from ui.classify.camera import teach_captures
from ui.classify.results import analyse_upload, result_card
from ui.classify.teach_report import plural, report, save_panel
from ui.progress import ReadingProgress
from ui.safe_text import md, md_line

MAX_CLASSES = 8
# a zip for Teach holds a handful of photos per class: each one goes through the ImageNet network
# (imgai/models/imagenet.py; its time per photo is in bench/results/latency.json), so 400 keep the wait short
MAX_ZIP_PHOTOS = 400
ZIP_READ = "teach_zip_read"   # the last zip read: its classes and features (the uploader has its own key)


def _features(uploads, progress) -> tuple[list, list[str]]:
    """Features (1280,) of each good upload (cached per file id for the session) and one line per bad one.
    progress(stage, done, total) between photos: a closed tab stops the reading there (ui.progress)."""
    cache = st.session_state.setdefault("teach_features", {})
    feats, errors, todo = {}, [], []
    for i, f in enumerate(uploads):
        progress("reading", i, len(uploads))
        if f.file_id in cache:
            feats[f.file_id] = cache[f.file_id]
            continue
        try:  # decoded no larger than the network's 224 px need (JPEGs at 1/2..1/8 scale)
            todo.append((f.file_id, open_image(f.getvalue(), name=f.name, min_side=PHOTO_SIZE)))
        except ImageError as e:
            errors.append(str(e))
    for i in range(0, len(todo), 4):
        progress("features", i, len(todo))
        chunk = todo[i:i + 4]
        for (fid, _), v in zip(chunk, photo_features(load_imagenet_model(), [img for _, img in chunk])):
            cache[fid] = feats[fid] = v
    return [feats[f.file_id] for f in uploads if f.file_id in feats], errors


def _over_budget(classes) -> str | None:
    """The one-line refusal when the new photos' headers add up to more decoded pixels than one upload
    may cost (intake.PixelBudget), before any of them is decoded; None when they fit."""
    cache = st.session_state.get("teach_features", {})
    budget = PixelBudget()
    try:
        for _, files in classes:
            for f in files:
                if f.file_id not in cache:
                    budget.charge(f.getvalue(), name=f.name, min_side=PHOTO_SIZE)
    except ImageError as e:
        return str(e)
    return None


def _uploads_key(name: str) -> str:
    """Widget keys of the uploaders carry a generation: 'Clear all photos' starts a new one, which empties
    them (a file uploader cannot be emptied from code, and a new drop adds to what it already holds)."""
    gen = st.session_state.get("teach_gen", 0)
    return f"teach_{name}" if gen == 0 else f"teach_{name}_g{gen}"


def _clear_all():
    """on_click of 'Clear all photos': empty every uploader and forget the photos' features and the result."""
    st.session_state["teach_gen"] = st.session_state.get("teach_gen", 0) + 1
    for key in ("teach_features", ZIP_READ, "teach_result", "teach_captures"):
        st.session_state.pop(key, None)


def _class_inputs(n: int) -> list[tuple[str, list]]:
    names = [st.session_state.get(f"teach_name_{i}", f"class {chr(ord('A') + i)}") for i in range(n)]
    shots = teach_captures(names)  # drawn first, so each class's count below includes the newest picture
    cols = st.columns(min(n, 4))
    out = []
    for i in range(n):
        with cols[i % len(cols)].container(border=True):
            name = st.text_input(f"Class {i + 1}", value=f"class {chr(ord('A') + i)}", key=f"teach_name_{i}",
                                 max_chars=40, help="What the photos of this class show, e.g. 'mug' or 'plant'.")
            files = st.file_uploader(
                f"Photos of {md(name) or 'this class'}", accept_multiple_files=True, key=_uploads_key(f"files_{i}"),
                help="A handful (5–30) of varied photos of this class: different angles, backgrounds, light.")
            files = files or []
            zips = [f for f in files if f.name.lower().endswith(".zip")]
            for z in zips:  # refused here, with the way to use it, rather than as "not an image" at Train
                st.warning(f"{md(z.name)} is a zip: choose **one zip with a folder per class** above to "
                           "use its folders as classes.", icon=":material/folder_zip:")
            files = [f for f in files if f not in zips]
            taken = shots.get(i, [])
            st.caption(plural(len(files), "photo") + (f" + {len(taken)} from the camera" if taken else ""))
            files = files + taken  # trained with the uploads of the same class
            out.append((name.strip(), files))
    return out


def _zip_classes(upload) -> dict:
    """A zip of class folders → {"names", "features", "labels", "counts", "skipped", "error"}, read once per
    upload (imgai.data.folder: safe extraction, one sub-folder per class) and kept for the session as features only."""
    entry = st.session_state.get(ZIP_READ)
    if entry and entry["file_id"] == upload.file_id:
        return entry
    entry = {"file_id": upload.file_id, "names": [], "features": None, "labels": [], "counts": [], "skipped": 0,
             "error": None}
    bar = ReadingProgress("The zip's photos")  # each update is where a closed tab stops the reading
    try:
        x, y, names, skipped = load_image_folder(upload.getvalue(), size=PHOTO_SIZE, channels=3,
                                                   max_files=MAX_ZIP_PHOTOS, progress=bar)
        with st.spinner("Reading the zip's photos with the ImageNet network…"):
            feats = photo_features(load_imagenet_model(), [Image.fromarray(img) for img in x])
        labels = [int(v) for v in y]
        entry.update(names=names, features=feats, labels=labels, skipped=skipped,
                     counts=[labels.count(c) for c in range(len(names))])
    except FolderError as e:
        big = "too many" in str(e)
        entry["error"] = str(e) + (f" (Teach takes up to {MAX_ZIP_PHOTOS} photos: train on a bigger set on the "
                                   "Train page)" if big else "")
    except ValueError as e:
        entry["error"] = f"{upload.name}: {str(e).splitlines()[0][:160] if str(e) else 'could not be read'}"
    finally:
        bar.empty()
    st.session_state[ZIP_READ] = entry
    return entry


def _zip_input() -> dict | None:
    upload = st.file_uploader(
        "One zip with a folder per class", type=["zip"], key=_uploads_key("zip"),
        help="The same kind of zip as on the Train page: e.g. pets.zip holding cats/ and dogs/, each with a "
             "handful of photos. Each folder becomes a class, named after the folder.")
    if upload is None:
        return None
    z = _zip_classes(upload)
    if z["error"]:
        st.error(md_line(z["error"]), icon=":material/folder_zip:")  # it quotes the zip's and its files' names
        return z
    shown = ", ".join(f"**{md(n)}** ({plural(c, 'photo')})" for n, c in zip(z["names"], z["counts"]))
    st.markdown(f"{plural(len(z['names']), 'class')} from {md(upload.name)}: {shown}.")
    if z["skipped"]:
        st.caption(f"{plural(z['skipped'], 'file')} in the zip {'was' if z['skipped'] == 1 else 'were'} not a "
                   "readable photo and left out.")
    return z


def _zip_problems(z: dict | None) -> list[str]:
    if z is None:
        return ["Choose a zip with one folder of photos per class."]
    if z["error"]:
        return ["Choose a zip that can be read (see the message above)."]
    return [f"Add at least 2 photos to {md(n)} (5 or more work better)."
            for n, c in zip(z["names"], z["counts"]) if c < 2]


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


def _train(classes, holdout: float, z: dict | None = None):
    """Fit the head on the photos' features: from the zip (already read) or from the class uploaders."""
    import torch  # only to stack the cached feature vectors into the (N, 1280) matrix the trainer takes
    if z is not None:
        feats, labels, names = list(z["features"]), list(z["labels"]), list(z["names"])
    else:
        too_many = _over_budget(classes)
        if too_many:
            st.error(too_many)
            return
        feats, labels, errors = [], [], []
        bar = ReadingProgress("Your photos")
        try:
            for c, (_, files) in enumerate(classes):
                f, err = _features(files, bar)
                feats += f
                labels += [c] * len(f)
                errors += err
        finally:
            bar.empty()
        for e in errors:
            st.error(md_line(e), icon=":material/broken_image:")  # it quotes the file's name
        names = [n for n, _ in classes]
    counts = [labels.count(c) for c in range(len(names))]
    if min(counts) == 0:
        st.error(f"No readable photos left for {md(names[counts.index(0)])}: add some and train again.")
        return
    head, report = train_photo_head(torch.stack(feats), labels, names, holdout=holdout)
    meta = photo_head_meta(head, names, report)
    st.session_state["teach_result"] = {
        "head": head, "names": names, "report": report, "meta": meta,
        "fingerprint": _fingerprint(classes, holdout, z),
        "classifier": Classifier("your classes", PhotoClassifier(load_imagenet_model(), head), meta),
    }


def _fingerprint(classes, holdout, z: dict | None = None) -> tuple:
    if z is not None:
        return (holdout, "zip", z["file_id"])
    return (holdout, tuple((n, tuple(f.file_id for f in files)) for n, files in classes))


@st.fragment
def teach_section(method: str):
    st.markdown("Teach the computer **your own classes** from a few photos each — for example *mug* vs "
                "*plant*. The big ImageNet network already turns any photo into 1280 numbers that describe "
                "it; training only fits the last layer on top, so it takes seconds.")
    st.caption(":material/info: Teaching always starts from the ImageNet network (EfficientNet-lite0), whatever the "
               "**Model** list above says: that list chooses who answers on the other tabs. Your taught model "
               "joins that list once saved.")
    source = st.radio("Photos from", ["classes", "zip"], horizontal=True, key="teach_source",
                      format_func={"classes": "a few photos dropped into each class",
                                   "zip": "one zip with a folder per class"}.get,
                      help="Drop photos class by class, or give one zip whose folders are the classes "
                           "(as on the Train page).")
    n = st.session_state.setdefault("teach_n", 2)
    z, classes = None, []
    if source == "zip":
        z = _zip_input()
        problems = _zip_problems(z)
        b3, b4, _ = st.columns([2.2, 1.3, 2.5], vertical_alignment="bottom")
    else:
        classes = _class_inputs(n)
        problems = _problems(classes)
        b1, b2, b3, b4, _ = st.columns([1, 1, 2.2, 1.3, 1.2], vertical_alignment="bottom")
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
    b4.button("Clear all photos", key="teach_clear", icon=":material/delete_sweep:", on_click=_clear_all,
              help="Empty every photo box (and the zip) to start again: new photos are otherwise added to the "
                   "ones already there. Class names are kept.")

    if st.button("Train", type="primary", icon=":material/school:", key="teach_train", disabled=bool(problems),
                 help="Fit the new last layer on the photos (a few seconds)."):
        _train(classes, holdout, z)
    if problems:
        st.caption("To train: " + " ".join(problems))

    res = st.session_state.get("teach_result")
    if not res:
        return
    if res["fingerprint"] != _fingerprint(classes, holdout, z):
        st.warning("Photos or names changed since training: press **Train** again to update the model.")
    report(res)

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
    save_panel(res)
