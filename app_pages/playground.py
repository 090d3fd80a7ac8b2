"""GAN playground: watch a GAN learn 2-D points — D's verdict, G's manifold and push, V(D,G) and a score."""
import streamlit as st

from imgai.playground import BUILT_IN, PRESETS
from ui.playground import live as L

st.title("GAN playground")
st.caption("The generator G turns noise into points; the discriminator D says how real each point looks. "
           "min_G max_D V(D,G) = E_x[log D(x)] + E_z[log(1 − D(G(z)))]: D pushes V up, G pushes it down.")
c1, c2, c3 = st.columns(3)
data = c1.selectbox("Real data", BUILT_IN, key="playground_data")
preset = c2.selectbox("Settings", list(PRESETS), key="playground_preset",
                      help="playground: the tuned defaults; textbook: the seed's minimax GAN with small nets")
seed = int(c3.number_input("Seed", 0, 2 ** 31 - 1, 0, key="playground_seed"))
r = st.session_state.get(L.KEY)
if r is None or (r["data"], r.get("preset"), r["pg"].seed) != (data, preset, seed):
    L.new_run(data, preset, seed)
    L.run_state()["preset"] = preset
r = L.run_state()
b1, b2, b3, b4 = st.columns(4)
b1.button("Stop" if r["running"] else "Start", key="playground_start",
          on_click=lambda: r.update(running=not r["running"]))  # a callback: the label then shows the new state
if b2.button("One D step", key="playground_d"):
    r["history"].append(r["pg"].step("d"))
if b3.button("One G step", key="playground_g"):
    r["history"].append(r["pg"].step("g"))
if b4.button("Reset", key="playground_reset"):
    L.new_run(data, preset, seed)
    L.run_state()["preset"] = preset
L.live_panel()
