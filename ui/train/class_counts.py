"""The Train page's "training images per class" chart, drawn on the server as a small SVG picture.

    st.image(class_counts_svg({"0": 450, "1": 512, ...}))

It is the only chart on the page a student first opens. As a Plotly chart it made every browser load and run
Plotly's 4.7 MB of JavaScript before the page was whole, which on the classroom's shared server took a
second or more per student; a picture needs nothing the page has not already loaded. The counts are written
on the bars instead of shown on hover. Class names come from users' zips: every text is XML-escaped, and a
browser never runs scripts inside an SVG shown as an image.
"""
import math
from xml.sax.saxutils import escape

from ui.charts import COLORS
from ui.safe_text import clean

# drawn at about the size the page shows it (its column on a laptop screen), so the text reads at 12 px
WIDTH, HEIGHT = 330, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 6, 32, 26     # room for the axis numbers, the title and the class names
# an image cannot use the page's web fonts: the system's sans-serif (a family name starting with a digit,
# like "Source Sans 3", would void the whole list)
FONT = "font-family='Source Sans Pro, Helvetica, Arial, sans-serif'"


def _axis(n: int) -> tuple[int, int]:
    """A round axis maximum at or just above n (1, 2 or 5 times a power of ten) and its number of steps."""
    power = 10 ** max(0, len(str(max(1, n))) - 1)
    for m, steps in ((1, 5), (2, 4), (5, 5), (10, 5)):
        if m * power >= n:
            return m * power, steps
    return 10 * power, 5


def class_counts_svg(counts: dict) -> str:
    """A bar per class with its count above it and its name below (slanted when the names would collide);
    labels are thinned out when even that would not fit."""
    names, values = [clean(k, 12) for k in counts], [int(v) for v in counts.values()]
    top, steps = _axis(max(values, default=0))
    steps = min(steps, top)                          # whole numbers only: an axis up to 1 has one step
    longest = max(map(len, names), default=1)
    slanted = 7 * longest + 4 > (WIDTH - LEFT - RIGHT) / max(len(values), 1)   # about 7 px per character
    left = max(LEFT, round(5 * longest) - 6) if slanted else LEFT   # the first slanted name reaches left of its bar
    slot = (WIDTH - left - RIGHT) / max(len(values), 1)
    bottom = BOTTOM + (round(5 * longest) if slanted else 0)
    plot_h = HEIGHT - TOP - bottom
    name_every = max(1, math.ceil(16 / slot)) if slanted else 1    # a slanted name needs about 16 px
    count_every = max(1, math.ceil((6 * len(f"{max(values, default=0):,}") + 4) / slot))
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' "
           f"viewBox='0 0 {WIDTH} {HEIGHT}' {FONT} font-size='12' fill='#31333F'>",
           "<text x='0' y='16' font-size='14'>Training images per class</text>"]
    for i in range(steps + 1):                       # horizontal grid lines with their values
        y = TOP + plot_h * (1 - i / steps)
        out.append(f"<line x1='{left}' x2='{WIDTH - RIGHT}' y1='{y:.1f}' y2='{y:.1f}' stroke='#E6EAF1'/>")
        out.append(f"<text x='{left - 6}' y='{y + 4:.1f}' text-anchor='end' fill='#808495'>{top * i // steps:,}</text>")
    for i, (name, v) in enumerate(zip(names, values)):
        h = plot_h * v / top
        x, w = left + slot * i + slot * 0.15, slot * 0.7
        cx, base = x + w / 2, TOP + plot_h
        out.append(f"<rect x='{x:.1f}' y='{base - h:.1f}' width='{w:.1f}' height='{h:.1f}' fill='{COLORS['main']}'/>")
        if i % count_every == 0:
            out.append(f"<text x='{cx:.1f}' y='{base - h - 3:.1f}' text-anchor='middle' font-size='10' "
                       f"fill='#808495'>{v:,}</text>")
        if i % name_every == 0 and slanted:
            out.append(f"<text transform='translate({cx + 4:.1f},{base + 10:.1f}) rotate(-40)' text-anchor='end'>"
                       f"{escape(name)}</text>")
        elif i % name_every == 0:
            out.append(f"<text x='{cx:.1f}' y='{base + 16:.1f}' text-anchor='middle'>{escape(name)}</text>")
    out.append("</svg>")
    return "".join(out)
