"""ui/static_assets.py: Streamlit's frontend files from memory. The bytes are the files' own (gzipped only for a
browser that accepts it); anything that is not one of those files, by its exact path, goes on to Streamlit."""
import asyncio
import gzip
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


def call(static_dir, path, method="GET", headers=(), base_url=""):
    """One request through the middleware: (status, headers, body, whether Streamlit was asked)."""
    sent, passed = [], []

    async def streamlit(scope, receive, send):
        passed.append(scope["path"])
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"streamlit"})

    async def send(msg):
        sent.append(msg)

    async def receive():
        return {"type": "http.request"}

    app = StaticAssets(streamlit, None if static_dir is None else str(static_dir), base_url)
    scope = {"type": "http", "method": method, "path": path, "headers": [(k.encode(), v.encode()) for k, v in headers]}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"], bool(passed)


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


@pytest.mark.parametrize("path", ["/", "/index.html", "/secret.txt", "/static/js/missing.js",
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
