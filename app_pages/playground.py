"""GAN playground: watch a GAN learn 2-D points — D's verdict, G's manifold and push, V(D,G) and a score."""
import streamlit as st

from ui.playground import controls as C
from ui.playground import live as L

st.title("GAN playground")
st.caption("The generator G turns noise into points; the discriminator D says how real each point looks. "
           "min_G max_D V(D,G) = E_x[log D(x)] + E_z[log(1 − D(G(z)))]: D pushes V up, G pushes it down.")
link = C.playground_link()
warning = link.warning()
if warning:
    st.warning(warning, icon=":material/link_off:")
link.lesson_notice()
real, data_name, problem = C.data_picker(link, st.columns(3))
preset, seed = link.values["preset"], int(link.values["seed"])
changes = C.game_settings(link, preset)
if problem:
    st.info(problem, icon=":material/scatter_plot:")
    st.stop()
L.ensure_run(real, data_name, preset, seed)
refused = L.apply_settings(changes)
if refused:
    st.error(f"Cannot use these settings: {refused}", icon=":material/block:")
r = L.run_state()
b1, b2, b3, b4, b5 = st.columns([1, 1, 1, 1, 2.2], vertical_alignment="bottom")
b1.button("Stop" if r["running"] else "Start", key="playground_start", type="primary", width="stretch",
          on_click=lambda: r.update(running=not r["running"]))  # a callback: the label then shows the new state
if b2.button("One D step", key="playground_d", width="stretch", help="Exactly one optimiser step of D."):
    r["running"] = False
    r["history"].append(r["pg"].step("d"))
if b3.button("One G step", key="playground_g", width="stretch", help="Exactly one optimiser step of G."):
    r["running"] = False
    r["history"].append(r["pg"].step("g"))
if b4.button("Reset", key="playground_reset", width="stretch", help="New networks, the same settings."):
    L.ensure_run(real, data_name, preset, seed, fresh=True)
    L.apply_settings(changes)
r["rounds_per_redraw"] = C.speed_picker(link, b5)
link.save_to_url()
if not link.is_lesson:
    link.teacher_panel()
L.live_panel()
