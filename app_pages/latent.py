"""Latent space: walk between two seeds, slide along a GAN's main directions of variation, and let a classifier
say what it drew — a histogram of many samples shows mode collapse, steering walks toward a chosen class.

The page's settings live in the URL (ui/latent/url_state.py): copy the address to share the exact picture.
"""
import streamlit as st

from imgai.models.checkpoint import CheckpointError, checkpoint_base
from ui.export import export_panel, from_weights
from ui.latent import url_state
from ui.latent import tabs
from ui.latent import widgets
from ui.safe_text import md, md_line

st.title("Latent space")
st.caption("A GAN turns a list of random numbers — a point in its **latent space** — into a picture. "
           "A *seed* names one such point. Walk from one seed to another, slide along the directions that "
           "change the picture most, and let a classifier say what was drawn.")

gens = widgets.generator_choices()
if not gens:
    st.info("No image generator yet. Train one on the **Train** page (model: GAN); it appears here when saved.")
    st.stop()
for line in url_state.start(list(gens)):
    st.warning(line)
settings = url_state.state()

# --- the picture's ingredients: generator, classifier, seeds ------------------------------------------------
c_gen, c_clf, c_a, c_b = st.columns([3, 3, 2, 2], vertical_alignment="bottom")
gen_name = c_gen.selectbox(
    "Generator", list(gens), key=url_state.widget_key("gen"), format_func=lambda n: gens[n].label,
    help="The GAN that draws the pictures: the shipped digits GAN, or any GAN you trained and saved on the "
         "Train page (name · data set · date).")
try:
    G, gen_meta = widgets.generator(gens[gen_name].path)
except CheckpointError as e:
    st.error(f"Cannot load this generator: {md_line(e)}")
    st.stop()
nz = gen_meta["config"]["nz"]
with st.expander("Take this generator home (ONNX)", icon=":material/deployed_code:"):
    export_panel(f"latent_{gens[gen_name].path}", lambda: from_weights(gens[gen_name].path),
                 checkpoint_base(gens[gen_name].path).name)
drawn_class = widgets.class_picker(gen_meta)  # a class-conditional GAN draws the chosen class; None for a plain GAN
if drawn_class is not None:
    G, _ = widgets.generator(gens[gen_name].path, drawn_class)

clfs = widgets.classifier_choices(gen_meta)
clf_names = [url_state.NO_CLASSIFIER] + list(clfs)
if settings["clf"] not in clf_names:  # first visit (pick the first that fits) or a link naming one we lack
    url_state.set_value("clf", clf_names[1] if len(clf_names) > 1 else url_state.NO_CLASSIFIER)
clf_name = c_clf.selectbox(
    "Classifier in the loop", clf_names, key=url_state.widget_key("clf"),
    format_func=lambda n: "none — don't label the pictures" if n == url_state.NO_CLASSIFIER else clfs[n].label,
    help="A trained classifier that labels every picture with its answer and confidence. Only classifiers "
         "that read pictures of this generator's size and colour are listed.")
clf = None
if clf_name != url_state.NO_CLASSIFIER:
    try:
        clf = widgets.classifier(clfs[clf_name].path)
    except CheckpointError as e:
        st.error(f"Cannot load this classifier: {md_line(e)}")


def seed_input(col, name: str, label: str):
    inner = col.columns([3, 1], vertical_alignment="bottom", gap="small")
    value = inner[0].number_input(
        label, 0, url_state.MAX_SEED, step=1, key=url_state.widget_key(name),
        help="A seed is a whole number that names one point of the latent space, so one picture: the same "
             "seed always gives the same picture (also on the command line: python -m imgai generate --seed).")
    inner[1].button(":material/casino:", key=f"latent_dice_{name}", on_click=widgets.random_seed, args=(name,),
                    help=f"A random seed for {label}.")
    return int(value)


a = seed_input(c_a, "a", "Seed A")
b = seed_input(c_b, "b", "Seed B")
st.caption(f"{md(gen_meta.get('dataset', '?'))} · {gen_meta.get('image_size')}×{gen_meta.get('image_size')} "
           f"{'grey' if gen_meta.get('channels') == 1 else 'colour'} · a latent point is {nz} numbers · "
           ":material/link: the address bar holds everything on this page: copy it to share exactly this picture.")


if drawn_class is not None:
    with st.expander("Every class at once", expanded=True, icon=":material/grid_view:"):
        widgets.class_grid(gens[gen_name].path, gen_meta, a)

# --- tabs (only the open one runs: a slider on one tab does not redraw the others) ------------------------
tab_key = "latent_tab"
if tab_key not in st.session_state:
    st.session_state[tab_key] = url_state.TABS[settings["tab"]]
t_interp, t_dirs, t_clf = st.tabs(list(url_state.TABS.values()), key=tab_key, on_change="rerun")
settings["tab"] = {label: k for k, label in url_state.TABS.items()}.get(st.session_state.get(tab_key), "interpolate")

picture = tabs.Picture(G, gen_meta, gens[gen_name].path, clf, clfs[clf_name].path if clf else None, a, b, drawn_class)
for tab, draw in ((t_interp, tabs.interpolate_tab), (t_dirs, tabs.directions_tab), (t_clf, tabs.classifier_tab)):
    if tab.open:
        with tab:
            draw(picture)

url_state.save_to_url()
