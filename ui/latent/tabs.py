"""The three tabs of the Latent space page: Interpolate, Directions, Classifier in the loop.

    interpolate_tab(Picture(G, gen_meta, gen_path, clf, clf_path, a, b))

Each tab reads its widgets (keys from ui.latent.url_state, so the URL follows them), calls imgai.inference.latent through
ui.latent.widgets, and draws. Only the open tab runs.
"""
from dataclasses import dataclass

import streamlit as st

from ui.charts import CHART_CONFIG
from ui.latent import url_state
from ui.latent import widgets
from ui.safe_text import md

STOPS = [-3.0, -1.5, 0.0, 1.5, 3.0]   # slider positions shown in "what each slider does"


@dataclass
class Picture:
    """What every tab draws from: the generator, the classifier (or None) and the two seeds."""
    G: object
    gen_meta: dict
    gen_path: str
    clf: object
    clf_path: str | None
    a: int
    b: int
    label: int | None = None   # the class a class-conditional generator draws (G already draws only it)

    @property
    def nz(self) -> int:
        return self.gen_meta["config"]["nz"]




def interpolate_tab(p: Picture):
    left, right = st.columns([1, 3.2], gap="large")
    k = left.slider("Frames", 2, 24, key=url_state.widget_key("k"),
                    help="How many pictures the walk from A to B has, both ends included.")
    method = left.segmented_control(
        "Path", list(url_state.METHODS), format_func=url_state.METHODS.get, key=url_state.widget_key("method"), required=True,
        help="Spherical walks the great circle between A and B, where random latents live; a straight line cuts "
             "inside it, through latents the GAN rarely saw, and its middle pictures are often fainter.")
    images, labels = widgets.render(p.G, widgets.seed_interpolation(p.a, p.b, p.nz, k, method), p.clf)
    with right:
        st.markdown(f"**From seed {p.a} to seed {p.b}** in {k} frames along a {url_state.METHODS[method]} path"
                    + (" · under each frame, the classifier's answer and how sure it is" if p.clf else ""))
        widgets.show_images(images, widgets.captions(k, ["A"] + [""] * (k - 2) + ["B"], labels), per_row=max(8, min(k, 12)))
        gif = widgets.gif(images)
        g1, g2 = st.columns([1, 4], vertical_alignment="center")
        g1.image(gif, caption="the walk, animated", width=84)
        g2.download_button("Download the animation (GIF)", gif, file_name=f"latent-{p.a}-{p.b}-{k}.gif",
                           mime="image/gif", icon=":material/download:", on_click="ignore", key="latent_gif",
                           help="An animated GIF of these frames that loops forever, 4x enlarged.")
    st.markdown("**Pick the seeds from samples** — click a sample's button to use it as seed A or B.")
    widgets.seed_grid(p.G, p.nz, p.clf)


def directions_tab(p: Picture):
    dirs = widgets.directions(p.gen_path, url_state.N_DIRECTIONS, p.label)
    left, right = st.columns([1, 2.4], gap="large")
    with left:
        st.markdown("**The main directions of variation**")
        for i in range(1, url_state.N_DIRECTIONS + 1):
            st.slider(f"Direction {i} · {float(dirs.explained[i - 1]):.0%} of the variation",
                      -url_state.OFFSET_RANGE, url_state.OFFSET_RANGE, step=0.25, key=url_state.widget_key(f"d{i}"),
                      help="Moves every picture along one principal direction of the generator (GANSpace): "
                           "directions found by PCA of the generator's early features over 2000 random latents, "
                           "most important first. The unit is one standard deviation of random latents.")
        st.slider("Truncation ψ", 0.0, 1.0, step=0.05, key=url_state.widget_key("psi"),
                  help="Shrinks every latent toward the centre of the latent space (ψ=1: unchanged, ψ=0: the GAN's "
                       "'average' picture). Lower ψ gives cleaner but less varied pictures: the truncation trick "
                       "of BigGAN and StyleGAN.")
        st.button("Reset sliders", icon=":material/restart_alt:", on_click=url_state.reset_directions, key="latent_reset",
                  help="All directions back to 0 and truncation back to 1.")
    url_state.sync()
    offsets, psi = url_state.offsets(), url_state.state()["psi"]
    with right, widgets.Timer() as timer:
        seeds = [p.a + i for i in range(8) if p.a + i <= url_state.MAX_SEED]
        images, labels = widgets.render(p.G, widgets.edited_seed_latents(seeds, p.nz, dirs, offsets, psi), p.clf)
        st.markdown(f"**Seed {p.a} and the next {len(seeds) - 1} seeds**, all moved by the sliders")
        widgets.show_images(images, widgets.captions(len(seeds), [f"seed {s}" for s in seeds], labels))
        rows = widgets.direction_grid(p.G, p.a, p.nz, dirs, offsets, psi, STOPS)
        st.markdown(f"**What each slider does** to seed {p.a}: that slider at "
                    + ", ".join(f"{s:+g}" if s else "0" for s in STOPS))
        for i, row in enumerate(rows, 1):
            c1, c2 = st.columns([1, 6], vertical_alignment="center")
            c1.markdown(f"Direction {i}")
            c2.image(widgets.strip(row, scale=3), output_format="PNG")
    st.caption(f"Redrawn in {timer.ms:.0f} ms.")


def classifier_tab(p: Picture):
    if p.clf is None:
        st.info("Choose a **classifier in the loop** above to label the pictures. None listed? Train a CNN on the "
                "same data set on the Train page: it appears here once saved.")
        return
    names = p.clf.class_names
    if url_state.state()["target"] >= len(names):
        url_state.set_value("target", 0)
    left, right = st.columns([1, 1.25], gap="large")
    with left:
        st.markdown(f"**What does it draw?** The classifier's answers for {widgets.HISTOGRAM_SAMPLES} random samples")
        h = widgets.histogram(p.gen_path, p.clf_path, label=p.label)
        st.plotly_chart(widgets.histogram_figure(h), config=CHART_CONFIG, key="latent_hist")
        if p.label is None:
            st.markdown(widgets.collapse_summary(h))
        else:   # a conditional GAN draws the chosen class only: one tall bar is what it was asked for
            st.markdown(widgets.conditional_summary(h, str(p.gen_meta["class_names"][p.label])))
    with right:
        st.markdown(f"**Steer toward a class**: start from seed {p.a} as on the Directions tab, and walk its latent "
                    "uphill on the classifier's score for the class, frame by frame.")
        c1, c2 = st.columns(2)
        target = c1.selectbox("Class", list(range(len(names))), key=url_state.widget_key("target"),
                              format_func=lambda i: names[i],
                              help="The class whose probability the walk increases (gradient ascent on "
                                   "log p(class | picture), keeping the latent at its distance from the centre, "
                                   "where random latents live).")
        steps = c2.slider("Steps (at most)", 2, 60, key=url_state.widget_key("steps"),
                          help="The walk stops earlier once the classifier is 99.5% sure.")
        url_state.sync()
        path = widgets.steer_path(p.gen_path, p.clf_path, p.a, url_state.offsets(), url_state.state()["psi"], target, steps, p.label)
        n = len(path["prob"])
        heads = ["start"] + [f"{i}" for i in range(1, n)]
        widgets.show_images(path["images"], widgets.captions(n, heads, list(zip(path["labels"], path["confidence"]))))
        st.plotly_chart(widgets.probability_figure(path["walk_prob"], names[target], best=n - 1), config=CHART_CONFIG,
                        key="latent_steer_curve")
        st.markdown(widgets.steer_summary(path, md(names[target])))
        st.caption("A high score need not look like the class to us: the walk finds whatever this classifier "
                   "responds to, and a weak generator can only draw so much.")
        st.download_button("Download the walk (GIF)", widgets.gif(path["images"]), icon=":material/download:",
                           file_name=f"steer-{p.a}-to-class-{target}.gif", mime="image/gif", on_click="ignore",
                           key="latent_steer_gif", help="An animated GIF of the steering path, frame by frame.")
