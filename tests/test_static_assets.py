"""ui/static_assets.py: Streamlit's frontend files from memory. The bytes are the files' own (gzipped only for a
browser that accepts it); anything that is not one of those files, by its exact path, goes on to Streamlit."""
import asyncio
import gzip
import re
from pathlib import Path

import pytest

from ui.static_assets import StaticAssets


@pytest.fixture
def static_dir(tmp_path):
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / "static" / "media").mkdir()
    (tmp_path / "static" / "js" / "index.abc123.js").write_text("console.log('hi');" * 200)
    (tmp_path / "static" / "media" / "font.woff2").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "index.html").write_text("<html>the app</html>")
    (tmp_path / "secret.txt").write_text("not a frontend file")
    return tmp_path


def call(static_dir, path, method="GET", headers=(), base_url="", answer=None):
    """One request through the middleware: (status, headers, body, whether Streamlit was asked). answer:
    what the stand-in for Streamlit sends back, as (content type, body, gzipped), in two body chunks."""
    sent, passed = [], []

    async def streamlit(scope, receive, send):
        passed.append(scope["path"])
        if answer is None:
            await send({"type": "http.response.start", "status": 299, "headers": []})
            await send({"type": "http.response.body", "body": b"streamlit"})
            return
        kind, body, zipped = answer
        body = gzip.compress(body) if zipped else body
        head = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200,
                    "headers": head + ([(b"content-encoding", b"gzip")] if zipped else [])})
        await send({"type": "http.response.body", "body": body[:5], "more_body": True})
        await send({"type": "http.response.body", "body": body[5:]})

    async def send(msg):
        sent.append(msg)

    async def receive():
        return {"type": "http.request"}

    app = StaticAssets(streamlit, None if static_dir is None else str(static_dir), base_url)
    scope = {"type": "http", "method": method, "path": path, "headers": [(k.encode(), v.encode()) for k, v in headers]}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:]), bool(passed)


def test_a_bundle_is_served_as_its_file_and_gzipped_only_when_accepted(static_dir):
    original = (static_dir / "static" / "js" / "index.abc123.js").read_bytes()
    status, head, body, passed = call(static_dir, "/static/js/index.abc123.js")
    assert (status, body, passed) == (200, original, False)
    assert head[b"content-type"].startswith(b"text/javascript") or head[b"content-type"].startswith(b"application/")
    assert b"immutable" in head[b"cache-control"] and int(head[b"content-length"]) == len(original)
    status, head, body, _ = call(static_dir, "/static/js/index.abc123.js", headers=[("Accept-Encoding", "gzip, br")])
    assert head[b"content-encoding"] == b"gzip" and gzip.decompress(body) == original and len(body) < len(original)
    _, head, body, _ = call(static_dir, "/static/media/font.woff2", headers=[("Accept-Encoding", "gzip")])
    assert b"content-encoding" not in head and body == (static_dir / "static" / "media" / "font.woff2").read_bytes()
    _, _, body, _ = call(static_dir, "/static/js/index.abc123.js", method="HEAD")
    assert body == b""


@pytest.mark.parametrize("path", ["/index.html", "/classify", "/secret.txt", "/static/js/missing.js",
                                  "/static/js/../../secret.txt", "/static/js/%2e%2e/%2e%2e/secret.txt",
                                  "//static/js/index.abc123.js", "/static/js/index.abc123.js/"])
def test_everything_else_goes_on_to_streamlit(static_dir, path):
    assert call(static_dir, path)[2:] == (b"streamlit", True)


def test_other_methods_and_range_requests_go_on_to_streamlit(static_dir):
    assert call(static_dir, "/static/js/index.abc123.js", method="POST")[3]
    assert call(static_dir, "/static/js/index.abc123.js", headers=[("Range", "bytes=0-9")])[3]


def test_a_base_url_is_part_of_the_path(static_dir):
    assert not call(static_dir, "/class-3b/static/js/index.abc123.js", base_url="/class-3b/")[3]
    assert call(static_dir, "/static/js/index.abc123.js", base_url="/class-3b/")[3]


def test_the_apps_server_serves_streamlits_real_bundles_from_memory():
    """The middleware as app.py installs it: it knows Streamlit's own static folder."""
    from streamlit import file_util
    root = Path(file_util.get_static_dir())
    bundle = next((root / "static" / "js").glob("index.*.js"))
    status, _, body, passed = call(None, "/" + bundle.relative_to(root).as_posix())
    assert status == 200 and not passed and body == bundle.read_bytes()


INDEX = b'<html><head><script type="module" src="./static/js/index.abc123.js"></script></head><body></body></html>'


@pytest.fixture
def lazy_modules(static_dir):
    """A frontend whose Radio module imports two more (one of them already named by index.html)."""
    js = static_dir / "static" / "js"
    (js / "Radio.r4d10.js").write_text('import{a as e}from"./useField.f1e1d.js";import"./index.abc123.js";')
    (js / "useField.f1e1d.js").write_text("export const a=1;")
    (js / "Unused.u5ed.js").write_text("export const b=2;")
    (static_dir / "index.html").write_bytes(INDEX)
    return static_dir


@pytest.mark.parametrize("zipped", [False, True])
def test_streamlits_page_names_the_first_pages_modules_up_front(lazy_modules, zipped):
    """index.html, wherever Streamlit answers with it ("/" and each page's address), gets modulepreload links for
    the modules the Train page's elements need and what they import: fetched with the first wave, not after
    the first elements arrive. A module index.html names already, or that no first-page element needs, is not
    added; the length header matches the new body."""
    accept = [("Accept-Encoding", "gzip")] if zipped else []
    for path in ("/", "/classify"):
        status, head, body, passed = call(lazy_modules, path, headers=accept, answer=(b"text/html", INDEX, zipped))
        page = gzip.decompress(body) if zipped else body
        assert status == 200 and passed == (path != "/") and int(head[b"content-length"]) == len(body)
        links = re.findall(rb'<link rel="modulepreload" crossorigin href="([^"]+)">', page)
        assert links == [b"./static/js/Radio.r4d10.js", b"./static/js/useField.f1e1d.js"]
        assert re.sub(rb'<link rel="modulepreload"[^>]*>', b"", page) == INDEX   # nothing else changed


def test_other_pages_and_files_go_out_as_streamlit_sent_them(lazy_modules):
    """A custom component's own HTML, or any other response, is passed on unchanged."""
    other = b"<html><head></head><body>a drawing canvas</body></html>"
    assert call(lazy_modules, "/component/canvas/index.html", answer=(b"text/html", other, False))[2] == other
    assert call(lazy_modules, "/_stcore/health", answer=(b"text/plain", b"ok", False))[2] == b"ok"
    assert call(lazy_modules, "/classify", answer=(b"application/json", INDEX, False))[2] == INDEX


def test_the_real_streamlit_index_preloads_the_train_pages_widgets():
    """Against Streamlit's own files: every first-page element kind is found (a Streamlit that renamed one
    would silently lose its preload) and each named file exists."""
    from streamlit import file_util
    from ui.static_assets import FIRST_PAGE_MODULES, preload_links
    root = Path(file_util.get_static_dir())
    hrefs = preload_links(root, (root / "index.html").read_bytes())
    names = [h.rsplit("/", 1)[-1] for h in hrefs]
    assert all(any(n.startswith(m + ".") for n in names) for m in FIRST_PAGE_MODULES), names
    assert all((root / h).is_file() for h in hrefs)


def test_the_apps_address_is_answered_from_memory_and_revalidated(lazy_modules):
    """"/" (or the base URL's root) is the page a whole class opens at once: it never waits for Streamlit's file
    serving. no-cache as Streamlit sends it, so a browser revalidates it and gets a 304 while it is unchanged."""
    status, head, page, passed = call(lazy_modules, "/")
    assert (status, passed) == (200, False) and b"Radio.r4d10.js" in page and head[b"cache-control"] == b"no-cache"
    assert head[b"content-type"] == b"text/html; charset=utf-8" and int(head[b"content-length"]) == len(page)
    status, _, body, passed = call(lazy_modules, "/", headers=[("If-None-Match", head[b"etag"].decode())])
    assert (status, body, passed) == (304, b"", False)
    assert call(lazy_modules, "/", method="HEAD")[2] == b""
    assert call(lazy_modules, "/class-3b/", base_url="/class-3b/")[2] == page
    assert call(lazy_modules, "/", method="POST")[3]
