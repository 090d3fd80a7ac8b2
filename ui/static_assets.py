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

Streamlit's own index.html goes out with modulepreload links for the lazily loaded modules of the Train page's
widgets (FIRST_PAGE_MODULES) and what they import: the browser fetches them with the first wave instead of after
the websocket's first elements, a serial round trip less for every first visit (bench/bench_classroom.py). The
app's own address ("/") is answered here, from memory; at a page's address (/classify) Streamlit answers and
its index.html is swapped on the way out. Any other response goes out as Streamlit sent it.

Only files that exist under Streamlit's static folder when the server starts are served here, looked up by
their exact URL path (no path is ever joined or resolved from the request); anything else, a range request
or a method other than GET and HEAD goes on to Streamlit unchanged, as do index.html (its answer rewritten as
above) and the other no-cache documents.
"""
import asyncio
import gzip
import hashlib
import mimetypes
import os
import re
from pathlib import Path

from streamlit import config, file_util

try:   # Streamlit's own lifetime for its hashed bundles (a year in 1.67); the module is internal, so a fallback
    from streamlit.web.server.starlette.starlette_server_config import STATIC_ASSET_CACHE_MAX_AGE_SECONDS as MAX_AGE
except ImportError:
    MAX_AGE = 365 * 24 * 3600

CACHE_CONTROL = f"public, immutable, max-age={MAX_AGE}".encode()
COMPRESSIBLE = (".js", ".css", ".json", ".svg", ".map", ".txt", ".ttf")   # woff2, png: already compressed


def url_prefix(base_url: str | None = None) -> str:
    """The server's base URL path as a prefix: "" for the root, "/class-3b" under server.baseUrlPath."""
    prefix = "/" + (base_url if base_url is not None else config.get_option("server.baseUrlPath") or "").strip("/")
    return prefix.rstrip("/")


def asset_index(static_dir: str | None = None, base_url: str | None = None) -> dict[str, Path]:
    """URL path → file, for every file under the static folder's static/ (the content-hashed bundles)."""
    root = Path(static_dir or file_util.get_static_dir())
    prefix = url_prefix(base_url)
    index = {}
    for folder, _, files in os.walk(root / "static"):
        for name in files:
            path = Path(folder) / name
            index[f"{prefix}/{path.relative_to(root).as_posix()}"] = path
    return index


# The frontend draws each kind of element with its own lazily loaded module, fetched only once the page's first
# elements have come over the websocket: on a busy server a second, serial wave of requests. These are the
# kinds the default page (Train) draws in its first run; index.html names them (and what they import) up
# front as modulepreload links, so the browser fetches them with the first wave. The names are Streamlit's
# source files, kept in the hashed file names; one Streamlit no longer has is skipped.
FIRST_PAGE_MODULES = ("Radio", "Selectbox", "NumberInput", "Slider", "Checkbox", "Button", "Multiselect",
                      "ImageList")
_IMPORT = re.compile(rb'(?:from|import)\s*"\./([\w.$-]+\.js)"')   # static imports between the bundles


def preload_links(static_dir: Path, index_html: bytes, names=FIRST_PAGE_MODULES) -> list[str]:
    """The modules (and everything they import) that index.html does not name yet, as hrefs like index.html's."""
    js = static_dir / "static" / "js"
    if not js.is_dir():
        return []
    files = {p.name for p in js.iterdir()}
    todo = [f for n in names for f in sorted(files) if f.startswith(n + ".") and f.count(".") == 2]
    named = set(re.findall(rb'\./static/js/([\w.$-]+\.js)', index_html))
    seen, out = set(), []
    while todo:
        f = todo.pop(0)
        if f in seen or f.encode() in named or f not in files:
            continue
        seen.add(f)
        out.append(f"./static/js/{f}")
        todo += [m.decode() for m in _IMPORT.findall((js / f).read_bytes())]
    return out


def with_preloads(index_html: bytes, hrefs: list[str]) -> bytes:
    """index.html with modulepreload links for hrefs, just before </head> (unchanged if it has none)."""
    if not hrefs or b"</head>" not in index_html:
        return index_html
    links = "".join(f'<link rel="modulepreload" crossorigin href="{h}">' for h in hrefs).encode()
    return index_html.replace(b"</head>", links + b"</head>", 1)


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
        root = Path(static_dir or file_util.get_static_dir())
        try:
            self._page = (root / "index.html").read_bytes()
            self._hinted = with_preloads(self._page, preload_links(root, self._page))
        except OSError:
            self._page = self._hinted = b""
        # the app's own address: the page every visitor opens first, answered here from memory as well
        self._home = url_prefix(base_url) + "/"
        self._home_gzipped = gzip.compress(self._hinted, 6, mtime=0)
        self._home_etag = b'"' + hashlib.md5(self._hinted, usedforsecurity=False).hexdigest().encode() + b'"'

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == self._home and self._page and scope["method"] in ("GET", "HEAD"):
            await self._send_home(scope, send)
            return
        if path not in self._index or scope["method"] not in ("GET", "HEAD"):
            if scope["type"] == "http" and scope["method"] == "GET" and self._hinted != self._page:
                send = _PageWithPreloads(send, self._page, self._hinted, self._home_gzipped)   # /classify…
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
        await _respond(scope, send, headers, asset.body, asset.gzipped,
                       [(b"content-type", asset.type), (b"cache-control", CACHE_CONTROL)])

    async def _send_home(self, scope, send):
        """index.html (with the preload links) as Streamlit sends it, no-cache, revalidated by its ETag. Streamlit's
        FileResponse takes thread-pool hops to stat and read the file; under a class's load the page itself
        then waited half a second for the interpreter lock (a local probe)."""
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        out = [(b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-cache"),
               (b"etag", self._home_etag)]
        if self._home_etag in headers.get(b"if-none-match", b""):
            await send({"type": "http.response.start", "status": 304, "headers": out + [(b"vary", b"Accept-Encoding")]})
            await send({"type": "http.response.body", "body": b""})
            return
        await _respond(scope, send, headers, self._hinted, self._home_gzipped, out)


async def _respond(scope, send, headers: dict, body: bytes, gzipped: bytes | None, out: list):
    """A 200 with `body`, or its gzipped copy where one exists and the request accepts gzip (nothing for HEAD)."""
    zipped = gzipped is not None and b"gzip" in headers.get(b"accept-encoding", b"")
    sent = gzipped if zipped else body
    out = [*out, (b"content-length", str(len(sent)).encode()), (b"vary", b"Accept-Encoding")]
    if zipped:
        out.append((b"content-encoding", b"gzip"))
    await send({"type": "http.response.start", "status": 200, "headers": out})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else sent})


class _PageWithPreloads:
    """A send() that swaps Streamlit's own index.html, whenever a response is exactly that file (plain or
    gzipped), for the copy with the preload links; every other response goes out as it came."""

    def __init__(self, send, page: bytes, hinted: bytes, hinted_gzipped: bytes):
        self._send, self._page, self._hinted, self._hinted_gzipped = send, page, hinted, hinted_gzipped
        self._start, self._body = None, []

    async def __call__(self, message):
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            if headers.get(b"content-type", b"").startswith(b"text/html") and message.get("status") == 200:
                self._start = message   # held until the body shows whether it is index.html
                return
        elif message["type"] == "http.response.body" and self._start is not None:
            self._body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            await self._swap(b"".join(self._body))
            return
        await self._send(message)

    async def _swap(self, body: bytes):
        start, self._start = self._start, None
        headers = [(k, v) for k, v in start.get("headers", [])]
        zipped = dict(headers).get(b"content-encoding") == b"gzip"
        try:
            plain = gzip.decompress(body) if zipped else body
        except (OSError, EOFError):
            plain = None
        if plain == self._page:
            body = self._hinted_gzipped if zipped else self._hinted
            headers = [(k, str(len(body)).encode() if k == b"content-length" else v) for k, v in headers]
        await self._send({**start, "headers": headers})
        await self._send({"type": "http.response.body", "body": body})
