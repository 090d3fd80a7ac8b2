"""Classify: show a trained network pictures — uploaded photos or a digit drawn on the spot — and see its
answer, where it looked and what each layer saw; or teach it your own classes from a few photos each."""
import streamlit as st

from ui.classify.batch import batch_section
from ui.classify.results import model_picker
from ui.classify.draw import draw_section
from ui.classify.feature_map import map_section
from ui.classify.inside import inside_section
from ui.classify.teach import teach_section

st.title("Classify")
st.caption("Show a trained network a picture and see what it answers, how sure it is, and where it looked.")

clf, weights, token, method = model_picker()

# on_change="rerun": opening a tab redraws the page, so 'Inside the network' lists a digit drawn a moment ago
# (the drawing box is a fragment: a stroke reruns only itself). Every tab is still drawn on every run, so the
# uploaders on the other tabs keep their files.
photos, draw, inside, learned, teach = st.tabs(
    [":material/photo_library: Classify photos", ":material/draw: Draw a digit",
     ":material/layers: Inside the network", ":material/scatter_plot: Map of what it learned",
     ":material/school: Teach your own classes"],
    key="classify_tab", on_change="rerun")
with photos:
    uploads = batch_section(clf, token, method)
with draw:
    draw_section(weights, method)
with inside:
    inside_section(clf, token, uploads)
with learned:
    if learned.open is not False:  # the map costs a forward pass of 1,000 images: only when its tab is open
        map_section(clf, token, uploads)
with teach:
    teach_section(method)
