"""The feature map drawn in the browser (an st.components.v2 component): every validation image a dot
coloured by class, its thumbnail on hover as in TensorBoard's projector, and a click that picks a point.

    picked = map_canvas(points, atlas_png, tile, names, colours, mine, gan, key="classify_map")  # (x, y) or None

Plotly's hover labels hold text only; this canvas shows the picture itself. Everything the student typed or
uploaded (class names, file names) reaches the page as data and is written with textContent, never as HTML.
"""
from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image

from ui.inline_image import inline_png

ATLAS_COLUMNS = 40       # thumbnails per row of the sprite sheet: 1,000 digits make one 1120x700 PNG

CSS = """
.fm { position: relative; font: 13px sans-serif; color: #31333f; }
.fm canvas.plot { width: 100%; height: 520px; background: #fbfbfd; border: 1px solid #e6e6ea; border-radius: 6px;
                  cursor: crosshair; display: block; }
.fm .tip { position: absolute; pointer-events: none; background: white; border: 1px solid #ccc; border-radius: 6px;
           padding: 6px; box-shadow: 0 2px 8px rgba(0,0,0,.15); display: none; text-align: center; max-width: 180px; }
.fm .tip canvas { width: 84px; height: 84px; image-rendering: pixelated; display: block; margin: 0 auto 4px; }
.fm .legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-top: 6px; }
.fm .legend span.dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 4px; }
"""

JS = """
export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  let root = parentElement.querySelector(".fm");
  if (root) root.remove();
  root = document.createElement("div"); root.className = "fm";
  const plot = document.createElement("canvas"); plot.className = "plot"; plot.dataset.testid = "imgai-map";
  const tip = document.createElement("div"); tip.className = "tip";
  const thumb = document.createElement("canvas"); const tipText = document.createElement("div");
  tip.append(thumb, tipText);
  const legend = document.createElement("div"); legend.className = "legend";
  root.append(plot, tip, legend); parentElement.appendChild(root);

  const pts = data.points, names = data.names, colours = data.colours, tile = data.tile;
  const all = pts.concat(data.mine, data.gan);
  let x0 = Math.min(...all.map(p => p[0])), x1 = Math.max(...all.map(p => p[0]));
  let y0 = Math.min(...all.map(p => p[1])), y1 = Math.max(...all.map(p => p[1]));
  const padX = (x1 - x0) * 0.05 || 1, padY = (y1 - y0) * 0.05 || 1;
  x0 -= padX; x1 += padX; y0 -= padY; y1 += padY;
  const atlas = new Image();
  let W = 0, H = 0;
  const sx = x => (x - x0) / (x1 - x0) * W, sy = y => H - (y - y0) / (y1 - y0) * H;

  function draw() {
    const r = plot.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    W = r.width; H = r.height; plot.width = W * dpr; plot.height = H * dpr;
    const ctx = plot.getContext("2d"); ctx.setTransform(dpr, 0, 0, dpr, 0, 0); ctx.clearRect(0, 0, W, H);
    ctx.globalAlpha = 0.75;
    for (const p of pts) { ctx.fillStyle = colours[p[2] % colours.length];
      ctx.beginPath(); ctx.arc(sx(p[0]), sy(p[1]), 3, 0, 2 * Math.PI); ctx.fill(); }
    ctx.globalAlpha = 1;
    if (data.show_wrong) { ctx.strokeStyle = "rgba(0,0,0,.65)"; ctx.lineWidth = 1.4;
      for (const p of pts) if (p[3]) { const X = sx(p[0]), Y = sy(p[1]);
        ctx.beginPath(); ctx.moveTo(X - 4, Y - 4); ctx.lineTo(X + 4, Y + 4); ctx.moveTo(X + 4, Y - 4); ctx.lineTo(X - 4, Y + 4); ctx.stroke(); } }
    for (const g of data.gan) { const X = sx(g[0]), Y = sy(g[1]); ctx.fillStyle = "white"; ctx.strokeStyle = "#212529";
      ctx.beginPath(); ctx.moveTo(X, Y - 6); ctx.lineTo(X + 5, Y); ctx.lineTo(X, Y + 6); ctx.lineTo(X - 5, Y); ctx.closePath(); ctx.fill(); ctx.stroke(); }
    for (const m of data.mine) { const X = sx(m[0]), Y = sy(m[1]); ctx.fillStyle = "gold"; ctx.strokeStyle = "black"; ctx.lineWidth = 2;
      ctx.beginPath(); for (let k = 0; k < 10; k++) { const a = Math.PI / 5 * k - Math.PI / 2, rr = k % 2 ? 5 : 12;
        ctx.lineTo(X + rr * Math.cos(a), Y + rr * Math.sin(a)); } ctx.closePath(); ctx.fill(); ctx.stroke();
      ctx.fillStyle = "#31333f"; ctx.font = "12px sans-serif"; ctx.textAlign = "center"; ctx.fillText(m[2], X, Y - 16); }
  }
  function nearest(ev) {
    const r = plot.getBoundingClientRect(), X = ev.clientX - r.left, Y = ev.clientY - r.top;
    let best = -1, bestD = 100;   // within 10 px
    pts.forEach((p, i) => { const d = (sx(p[0]) - X) ** 2 + (sy(p[1]) - Y) ** 2; if (d < bestD) { bestD = d; best = i; } });
    return [best, X, Y];
  }
  plot.addEventListener("mousemove", ev => {
    const [i, X, Y] = nearest(ev);
    if (i < 0) { tip.style.display = "none"; return; }
    const p = pts[i], k = p[4], cols = data.columns;
    thumb.width = thumb.height = tile;
    const c = thumb.getContext("2d"); c.clearRect(0, 0, tile, tile);
    if (atlas.complete) c.drawImage(atlas, (k % cols) * tile, Math.floor(k / cols) * tile, tile, tile, 0, 0, tile, tile);
    tipText.textContent = p[3] ? `a ${names[p[2]]}, read as ${names[p[5]]}` : `${names[p[2]]} (validation image ${k})`;
    tip.style.display = "block";
    tip.style.left = `${Math.min(X + 14, W - 190)}px`; tip.style.top = `${Math.max(0, Y - 120)}px`;
    plot.dataset.hovered = String(k);
  });
  plot.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  plot.addEventListener("click", ev => {
    const [i] = nearest(ev);
    if (i >= 0) setTriggerValue("picked", [pts[i][0], pts[i][1]]);
  });
  names.forEach((n, k) => { const item = document.createElement("span"); const dot = document.createElement("span");
    dot.className = "dot"; dot.style.background = colours[k % colours.length]; item.append(dot, document.createTextNode(n));
    legend.append(item); });
  atlas.onload = draw; atlas.src = data.atlas;
  draw();
  new ResizeObserver(draw).observe(plot);
}
"""

_component = st.components.v2.component("imgai_feature_map", css=CSS, js=JS)


def atlas_png(images: np.ndarray) -> tuple[str, int]:
    """uint8 (N, H, W) or (N, H, W, 3) thumbnails → (PNG data URL of one sprite sheet, tile size)."""
    n, t = len(images), images.shape[1]
    rows = -(-n // ATLAS_COLUMNS)
    sheet = np.zeros((rows * t, ATLAS_COLUMNS * t) + images.shape[3:], np.uint8)
    for k, img in enumerate(images):
        r, c = divmod(k, ATLAS_COLUMNS)
        sheet[r * t:(r + 1) * t, c * t:(c + 1) * t] = img
    return inline_png(Image.fromarray(sheet), optimize=True), t


def map_canvas(fmap, atlas: tuple[str, int], colours: list, mine: dict, gan: dict | None, show_wrong: bool,
               key: str):
    """Draw the map; returns the (x, y) map position of a dot the student just clicked, or None."""
    xy, labels, predicted = fmap.xy, fmap.labels, fmap.predicted
    points = [[float(xy[i, 0]), float(xy[i, 1]), int(labels[i]), int(labels[i] != predicted[i]), i, int(predicted[i])]
              for i in range(len(labels))]
    data = {"points": points, "names": [str(n) for n in fmap.class_names], "colours": colours,
            "atlas": atlas[0], "tile": atlas[1], "columns": ATLAS_COLUMNS, "show_wrong": bool(show_wrong),
            "mine": [[float(p[0]), float(p[1]), str(label.split(": ", 1)[-1])[:20]] for label, (p, _) in mine.items()],
            "gan": [] if gan is None else [[float(x), float(y)] for x, y in gan["xy"]]}
    result = _component(data=data, key=key, on_picked_change=lambda: None)
    picked = getattr(result, "picked", None)
    return tuple(picked) if picked else None
