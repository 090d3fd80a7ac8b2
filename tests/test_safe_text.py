"""ui/safe_text.py: every crafted string comes out as literal text in markdown and in plotly labels, on one
line, without direction overrides, and cut when absurdly long. The corpus (CRAFTED) is shared with
tests/test_student_isolation.py, which sends it through the real pages."""
import html
import re
import string

import pytest

from ui.safe_text import LINE_CHARS, NAME_CHARS, clean, md, md_line, plot

CRAFTED = [
    "[click me](http://127.0.0.2:9/steal)",                         # markdown link
    "![pwned](http://127.0.0.2:9/pixel.png)",                      # markdown image: the browser fetches it
    "<img src=x onerror=alert(1)>",                                  # HTML tag
    '<a href="javascript:alert(1)">cat</a>',                         # plotly renders <a href> in labels
    "<b>bold</b> <i>it</i> <br> line",                               # plotly's other tags
    "javascript:alert(document.cookie)",                            # a bare javascript: URL
    "[x](javascript:alert(1))",
    "**bold** _it_ ~~gone~~ `code` $x^2$ :red[red] :material/home:",  # emphasis, code, math, directives
    "# Heading\n- list\n1. ordered\n> quote\n| a | b |\n|---|---|",    # block markdown over several lines
    "dog\u202egpj.exe",                                              # RTL override: shows as "dogexe.jpg"
    "\u2067isolated\u2069 \u200fmark",                               # isolates and a direction mark
    "line one\nline two\r\nline three\ttabbed",                      # newlines inside a name
    "nul\x00 bell\x07 esc\x1b[31m",                                  # control characters
    "&lt;script&gt;alert(1)&lt;/script&gt;",                         # entities that would decode to a tag
    "a" * 5000,                                                      # very long
    "<" * 300 + "x" + "]" * 300,                                     # long and all special
    "café 猫 🐈‍⬛ Ελληνικά",                                             # ordinary non-ASCII must survive
    "go www.evil.example",                                           # GFM autolinks a bare www. even escaped
    "kid@evil.example",                                              # ... an e-mail address
    "see http://evil.example/x and HTTPS://evil.example",            # ... and a scheme://
]
JOINER = "\u2060"   # what breaks an autolink: invisible, no width


def seen(text: str) -> str:
    """What a reader sees: the invisible word joiners that break autolinks left out."""
    return text.replace(JOINER, "")

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def md_unescape(text: str) -> str:
    """What CommonMark shows for text made only of literal characters and backslash escapes."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


@pytest.mark.parametrize("s", CRAFTED)
def test_clean_is_one_printable_line_without_direction_tricks(s):
    c = clean(s)
    assert "\n" not in c and "\r" not in c and "\t" not in c
    assert not any(ch in BIDI for ch in c)
    assert all(ch.isprintable() or ch == "\u200d" for ch in c), repr(c)  # the emoji joiner is kept
    assert len(c) <= NAME_CHARS
    assert c == clean(c)  # idempotent


@pytest.mark.parametrize("s", CRAFTED)
def test_md_escapes_every_markdown_character(s):
    out = md(s)
    # every ASCII punctuation character is escaped, so no link, image, tag, emphasis, heading, list, math or
    # directive can start: CommonMark treats a backslash-escaped punctuation character as a literal
    i = 0
    while i < len(out):
        ch = out[i]
        if ch == "\\":
            assert i + 1 < len(out) and out[i + 1] in string.punctuation, out
            i += 2
            continue
        assert ch not in string.punctuation, f"unescaped {ch!r} in {out!r}"
        i += 1
    assert seen(md_unescape(out)) == clean(s)  # and the reader sees exactly the cleaned name
    assert not re.search(r"(?i)www\.|[a-z]://|\w@\w", md_unescape(out))   # no autolink can start


@pytest.mark.parametrize("s", CRAFTED)
def test_plot_leaves_no_tag_for_plotly(s):
    out = plot(s)
    assert "<" not in out and ">" not in out
    assert seen(html.unescape(out)) == clean(s)        # shown literally, entities included
    assert "&lt;script" not in html.unescape(out) or "&lt;script" in clean(s)


def test_known_outputs():
    assert md("[a](http://x)") == "\\[a\\]\\(http" + JOINER + r"\:\/\/x\)"
    assert plot('<a href="javascript:alert(1)">cat</a>') == '&lt;a href="javascript:alert(1)"&gt;cat&lt;/a&gt;'
    assert clean("dog\u202egpj.exe") == "doggpj.exe"
    assert clean("a\n\n b") == "a b" and clean("  padded  ") == "padded"
    assert clean("x" * 100, limit=10) == "x" * 9 + "…"
    assert clean(None) == "" and md(None) == ""
    assert clean("🐈\u200d⬛") == "🐈\u200d⬛"  # the joiner of an emoji sequence is kept


def test_lines_are_cut_later_than_names():
    msg = "could not read " + "x" * 1000 + ".png: not an image"
    assert len(md_line(msg).replace("\\", "")) <= LINE_CHARS
    assert len(md(msg).replace("\\", "")) <= NAME_CHARS
    assert md_line("d.png: not an image") == r"d\.png\: not an image"
