"""The Classify page's photo section: drop several files, get one result card each, a table and a CSV.

Each file is decoded in memory with imgai.data.intake.open_image; a bad one gets one clear line and the rest are
still classified. The same Classifier.predict path as `python -m imgai classify`, so both agree.
"""
from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from imgai.data.intake import ImageError, PixelBudget
from ui.classify.camera import camera_captures
from ui.classify.results import analyse_upload, md_escape, result_card
from ui.safe_text import md_line

MAX_FILES = 40      # per batch: ~0.3 s of CPU each for the ImageNet model's saliency, ~1 MB of session memory
CARDS_OPEN = 12     # result cards shown in full; the rest sit in a collapsed expander


def results_table(records: list[dict], model_name: str) -> pd.DataFrame:
    """One row per file: the prediction and its confidence, the top 5, or the reason it was refused."""
    rows = []
    for r in records:
        if r["error"]:
            rows.append({"file": r["name"], "prediction": "", "confidence": None, "top 5": "",
                         "error": r["error"], "model": model_name})
        else:
            p = r["prediction"]
            top = "; ".join(f"{n} {q:.4f}" for n, q in p["top"])
            rows.append({"file": r["name"], "prediction": p["label"], "confidence": p["prob"], "top 5": top,
                         "error": "", "model": model_name})
    return pd.DataFrame(rows, columns=["file", "prediction", "confidence", "top 5", "error", "model"])


# A spreadsheet runs a cell that starts with one of these as a formula. File names and taught labels are the
# user's text (a file named "=HYPERLINK(...).png" is a legal name), so the CSV quotes them as text (OWASP's
# advice for CSV injection: a leading apostrophe, which spreadsheets hide).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def results_csv(df: pd.DataFrame) -> bytes:
    """The table as CSV bytes in which no text cell can start a spreadsheet formula; numbers stay numbers."""
    def as_text(v):
        return "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v
    safe = df.copy()
    for col in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[col]):
            safe[col] = safe[col].map(as_text)
    return safe.to_csv(index=False).encode()


def _over_budget(files) -> str | None:
    """The one-line refusal when the batch's headers add up to more decoded pixels than one upload may cost
    (intake.PixelBudget), before any file is decoded; None when they fit. Headers only: a few KB each."""
    budget = PixelBudget()
    try:
        for f in files:
            budget.charge(f.getvalue(), name=f.name)  # open_image's own decode size (DECODE_SIDE)
    except ImageError as e:
        return str(e)
    return None


def _unique(files: list) -> tuple[list, list]:
    """The files without repeats of the same picture (same bytes), and the names of the repeats dropped."""
    seen, keep, dropped = {}, [], []
    for f in files:
        digest = hashlib.sha256(f.getvalue()).hexdigest()
        if digest in seen:
            dropped.append((f.name, seen[digest]))
        else:
            seen[digest] = f.name
            keep.append(f)
    return keep, dropped


def batch_section(clf, token: str, method: str) -> list[dict]:
    """Uploader (and camera) + results; returns the analysed records (good ones) for 'Inside the network'."""
    files = st.file_uploader(
        "Drop photos here — several at once", accept_multiple_files=True, key="classify_files",
        help="JPEG, PNG, HEIC (iPhone), WebP, BMP or GIF (first frame), up to 25 MB and 50 megapixels each. Files are read "
             "in memory for this session only and never stored.")
    files = list(files or []) + camera_captures("classify")  # a capture is read exactly like an upload
    if not files:
        st.info("Drag one or more pictures onto the box above (or click **Upload**), or use the camera. Each "
                "gets the model's answer, the picture it actually read, and where it looked.")
        return []
    files, repeats = _unique(files)
    for name, first in repeats[:5]:
        st.caption(f"{md_escape(name)} is the same picture as {md_escape(first)}: classified once.")
    if len(files) > MAX_FILES:
        st.warning(f"{len(files)} files: classifying the first {MAX_FILES}. Remove some to see the others.")
        files = files[:MAX_FILES]

    too_many = _over_budget(files)
    if too_many:
        st.error(too_many, icon=":material/block:")
        return []

    records = []
    bar = st.progress(0.0, text="Classifying…") if len(files) > 3 else None
    for i, f in enumerate(files):
        records.append(analyse_upload(clf, token, f, method))
        if bar:
            bar.progress((i + 1) / len(files), text=f"Classifying… {i + 1}/{len(files)}")
    if bar:
        bar.empty()

    for r in records:
        if r["error"]:
            st.error(md_line(r["error"]), icon=":material/broken_image:")  # it quotes the file's name
    good = [r for r in records if not r["error"]]
    df = results_table(records, clf.name)
    if len(records) > 1:
        st.markdown(f"**{len(good)} of {len(records)} files classified** by *{md_escape(clf.name)}*")
        shown = df.drop(columns=["model"] if len(good) < len(records) else ["model", "error"])
        st.dataframe(
            shown, hide_index=True, key="classify_table",
            column_config={
                "confidence": st.column_config.ProgressColumn(
                    "confidence", format="percent", min_value=0.0, max_value=1.0,
                    help="The model's probability for its answer. High confidence is not the same as right."),
                "top 5": st.column_config.TextColumn("top 5", width="medium"),
                "error": st.column_config.TextColumn("error", width="large"),
            })
    st.download_button(
        "Download results (CSV)", results_csv(df), file_name="imgai-classify.csv",
        mime="text/csv", key="classify_csv", on_click="ignore", icon=":material/download:",
        help="One row per file: prediction, confidence, the top 5 with probabilities, or why it was refused.")

    for i, r in enumerate(good[:CARDS_OPEN]):
        result_card(clf, r, key=f"top5-batch-{i}", method=method)
    if len(good) > CARDS_OPEN:
        with st.expander(f"{len(good) - CARDS_OPEN} more results"):
            for i, r in enumerate(good[CARDS_OPEN:], start=CARDS_OPEN):
                result_card(clf, r, key=f"top5-batch-{i}", method=method)
    return good
