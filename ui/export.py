"""The Export button beside every save: the model as an ONNX folder (imgai.export), built when asked,
checked in onnxruntime, then offered as one zip to download.

    export_panel("train-3f2a", lambda: from_checkpoint_zip(job.zip_bytes(name), name), name)
    export_panel("classify-digits", lambda: from_weights("weights/digits-cnn"), "digits-cnn")
"""
import json

import streamlit as st

from imgai.export import ExportError, export_checkpoint_zip, export_files, export_zip, load_for_export

EXPORT_HELP = ("model.onnx with labels.txt, preprocess.json and a demo.html that runs the model in any browser "
               "from the unzipped folder (no server, no internet). Checked in onnxruntime against imgai's own "
               "answers before it is offered.")


def _key(key: str) -> str:
    return f"export_{key}"


def from_checkpoint_zip(blob: bytes, name: str) -> dict:
    """The export's files for a checkpoint zip in memory (a job's latest weights, a Teach model)."""
    if not blob:
        raise ExportError("no weights yet: export once the first step has finished")
    return export_checkpoint_zip(blob, name)


def from_weights(weights) -> dict:
    """The export's files for a checkpoint on disk."""
    model, meta, name = load_for_export(weights)
    return export_files(model, meta, name)


def export_panel(key: str, make_files, name: str, disabled: bool = False):
    """An "Export (ONNX)" button; once pressed, the zip's Download button and what the check found.
    make_files() returns the export's files (from_checkpoint_zip, from_weights), named after `name`.
    One export is kept per session (the last one asked for): it is about 13 MB."""
    made = st.session_state.get("export_made")
    left, right = st.columns([1, 1.6], vertical_alignment="bottom")
    if left.button("Export (ONNX)", key=_key(key), icon=":material/deployed_code:", disabled=disabled,
                   help=EXPORT_HELP, width="stretch"):
        with st.spinner("Exporting and checking in onnxruntime…"):
            try:
                files = make_files()
                check = json.loads(files["export.json"])["check"]
                made = {"key": key, "name": name, "zip": export_zip(files, name), "difference": check["max_difference"]}
            except (ExportError, ValueError, OSError, RuntimeError) as e:
                made = {"key": key, "error": (str(e).strip().splitlines() or [type(e).__name__])[0]}
        st.session_state["export_made"] = made
    if not made or made.get("key") != key:
        return
    if made.get("error"):
        st.error(f"Export failed: {made['error']}", icon=":material/error:")
        return
    right.download_button(f"Download {made['name']}-onnx.zip ({len(made['zip']) / 1e6:.0f} MB)", made["zip"],
                            file_name=f"{made['name']}-onnx.zip", mime="application/zip", on_click="ignore",
                            icon=":material/download:", key=f"{_key(key)}_download", width="stretch")
    st.caption(f"Checked: onnxruntime's answers differ from imgai's by at most {made['difference']:.1g}. Unzip it "
               "and open **demo.html**; README.md has the code for Python and the browser.")
