"""Teach's result: how the taught model did on the photos held back (per class and as a confusion matrix),
then saving, downloading and exporting it.

    report(res); save_panel(res)      # res: what teach.py's training returned (head, meta, names, report)
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from imgai.models.checkpoint import checkpoint_zip, save_checkpoint
from ui import charts
from ui.export import export_panel, from_checkpoint_zip
from ui.safe_text import md
from ui.saved_models import DOWNLOAD_HINT, NAME_RE, SHARE_HELP, save_as


def plural(n: int, word: str) -> str:
    """'1 photo', '2 photos', '3 classes'."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}{'es' if word.endswith(('s', 'x', 'ch', 'sh')) else 's'}"


def report(res):
    r = res["report"]
    acc = r["val_acc"]
    if acc is None:
        st.success(f"Trained on {plural(r['n_train'], 'photo')}. None were held back, so there is no test score.")
        return
    st.success(f"Trained on {plural(r['n_train'], 'photo')} in a moment · **{acc:.0%}** right on the "
               f"{plural(r['n_val'], 'photo')} it never saw while training.")
    per = pd.DataFrame({"class": list(r["per_class_acc"]),
                        "right on held-back photos": [v for v in r["per_class_acc"].values()]})
    st.dataframe(per, hide_index=True, key="teach_per_class", column_config={
        "right on held-back photos": st.column_config.ProgressColumn(
            format="percent", min_value=0.0, max_value=1.0,
            help="Share of this class's held-back photos the new model named correctly.")})
    if r.get("confusion"):  # computed by imgai.models.imagenet.train_photo_head on the held-back photos
        st.plotly_chart(charts.confusion_figure(r["confusion"], res["names"], title="Held-back photos: true class "
                        "(rows) against the new model's answer (columns)"), key="teach_confusion",
                        config=charts.CHART_CONFIG)


def save_panel(res):
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
    export_panel("teach", lambda: from_checkpoint_zip(checkpoint_zip(file_name, head, meta), file_name), file_name)
    saved = st.session_state.get("teach_saved")
    if saved:
        where = " in the class folder (read-only for everybody)" if saved["shared"] else ""
        st.success(f"Saved as **{md(saved['name'])}**{where}: pick it in the Model list at the top to use it like "
                   "any other model.")
