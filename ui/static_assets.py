"""Streamlit's own frontend files (the JS bundles, CSS and fonts under /static/) served from memory, gzipped once.

    app = st.App(__file__, lifespan=warm_lifespan, middleware=[Middleware(StaticAssets)])   # app.py

A first visit fetches about a hundred of these files (some 3 MB of JavaScript). Streamlit serves each through
Starlette's StaticFiles: a thread-pool hop to look the file up and one per 64 KB read, and every hop needs the
interpreter lock, which the script runs of every other session also want. With 29 classmates pressing Start
while one student's page loaded, its first wave of modules took 3.2 s to arrive instead of 0.6 s on a quiet
server (bench/bench_classroom.py). Here a file is one dictionary lookup and one send on the event loop. The
bytes are read and compressed the first time any visitor asks for them; every later visitor gets the stored
copy (gzip where the browser accepts it: a quarter of the bytes over a classroom's Wi-Fi, at no CPU per visit;
Streamlit itself leaves them uncompressed because compressing them on every request cost too much).

Only files that exist under Streamlit's static folder when the server starts are served here, looked up by
their exact URL path (no path is ever joined or resolved from the request); anything else, a range request
or a method other than GET and HEAD goes on to Streamlit unchanged, as do index.html and the other no-cache
documents.
"""
import asyncio
import gzip
import mimetypes
import os
from pathlib import Path

from streamlit import config, file_util

try:   # Streamlit's own lifetime for its hashed bundles (a year in 1.67); the module is internal, so a fallback
    from streamlit.web.server.starlette.starlette_server_config import STATIC_ASSET_CACHE_MAX_AGE_SECONDS as MAX_AGE
except ImportError:
    MAX_AGE = 365 * 24 * 3600

CACHE_CONTROL = f"public, immutable, max-age={MAX_AGE}".encode()
COMPRESSIBLE = (".js", ".css", ".json", ".svg", ".map", ".txt", ".ttf")   # woff2, png: already compressed


def asset_index(static_dir: str | None = None, base_url: str | None = None) -> dict[str, Path]:
    """URL path → file, for every file under the static folder's static/ (the content-hashed bundles)."""
    root = Path(static_dir or file_util.get_static_dir())
    prefix = "/" + (base_url if base_url is not None else config.get_option("server.baseUrlPath") or "").strip("/")
    prefix = prefix.rstrip("/")
    index = {}
    for folder, _, files in os.walk(root / "static"):
        for name in files:
            path = Path(folder) / name
            index[f"{prefix}/{path.relative_to(root).as_posix()}"] = path
    return index


class _Asset:
    def __init__(self, path: Path):
        self.body = path.read_bytes()
        self.type = (mimetypes.guess_type(path.name)[0] or "application/octet-stream").encode()
        if self.type.startswith(b"text/") or self.type == b"application/javascript":
            self.type += b"; charset=utf-8"
        self.gzipped = gzip.compress(self.body, 6, mtime=0) if path.suffix in COMPRESSIBLE else None


class StaticAssets:
    """ASGI middleware: Streamlit's hashed frontend assets from memory; every other request passes through."""

    def __init__(self, app, static_dir: str | None = None, base_url: str | None = None):
        self.app = app
        self._index = asset_index(static_dir, base_url)
        self._loaded: dict[str, _Asset] = {}

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path not in self._index or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        if b"range" in headers:
            await self.app(scope, receive, send)
            return
        asset = self._loaded.get(path)
        if asset is None:   # the first visitor's request for it: read (and compress) off the event loop, once
            try:
                asset = self._loaded[path] = await asyncio.to_thread(_Asset, self._index[path])
            except OSError:   # gone since the server started (Streamlit reinstalled under it): Streamlit answers
                await self.app(scope, receive, send)
                return
        zipped = asset.gzipped is not None and b"gzip" in headers.get(b"accept-encoding", b"")
        body = asset.gzipped if zipped else asset.body
        out = [(b"content-type", asset.type), (b"content-length", str(len(body)).encode()),
               (b"cache-control", CACHE_CONTROL), (b"vary", b"Accept-Encoding")]
        if zipped:
            out.append((b"content-encoding", b"gzip"))
        await send({"type": "http.response.start", "status": 200, "headers": out})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
