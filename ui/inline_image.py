"""Pictures handed to st.image ready-made: inside the page's own message for what a live view redraws every
second, and as PNG bytes encoded once for what every page run draws again.

    st.image(inline_png(pil_image), caption=...)
    st.image(png_bytes(pixels), output_format="PNG")    # kept by the caller, drawn on every run

st.image stores bytes as a media file that the browser fetches by URL (/media/<hash>.png) after the element
arrives. A fragment that draws a new picture at the same place drops the old file when its run ends, so a
browser that asks late (a busy laptop, a slow network, a tab in the background) gets a 404 for a picture it
was about to show (Streamlit's media_file_manager; seen in the console during live runs). A data: URL travels
with the element itself: nothing to fetch, nothing to drop. Only for pictures redrawn live: they are small
(a few tens of KB) and sent once per redraw either way.
"""
import base64
import io

from PIL import Image


def inline_png(img: Image.Image, **save_options) -> str:
    """A picture → a PNG data: URL that st.image (or an <img> in a component) shows as it is, with no media
    file. save_options go to PIL's PNG writer (compress_level=1 for speed, optimize=True for size)."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(img, **save_options)).decode("ascii")


def png_bytes(pixels, **save_options) -> bytes:
    """uint8 pixels (or a picture) as PNG bytes. st.image keeps PNG bytes as they are when told output_format="PNG";
    handed an array it encodes a PNG and then, with output_format "auto" and no alpha, re-encodes it as a JPEG on
    every run: CPU each time, and smudged edges on the crisp pixels of a 28x28 input or an activation map."""
    img = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    buf = io.BytesIO()
    img.save(buf, format="PNG", **save_options)
    return buf.getvalue()
