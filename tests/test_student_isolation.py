"""Students' work kept apart, and runs never lost silently (issue 9, the app's side).

- a model belongs to the browser that saved it: another browser saving the same name gets its own model,
  never replaces the first; it does not even see the first unless it was shared; a shared name is
  read-only for everybody, also when two saves race for it;
- a save that fails (disk full, read-only folder, broken weights) is one line, changes nothing, and the
  weights can still be downloaded from memory (tests/test_export.py: the zip is a loadable checkpoint);
- a ?job= the server no longer has (restart) is said on the page;
- crafted names (tests/test_safe_text.CRAFTED) reach the pages' markdown and plotly labels as literal text.

Two browsers are two owner ids: AppTest has no XSRF cookie, so the tests set ui.jobs.owner_id.
"""
import errno
import hashlib
import io
import json
import string
import threading
import time
import zipfile
from xml.etree import ElementTree
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from imgai.models.checkpoint import WEIGHTS_DIR, CheckpointError, load_checkpoint, models_dir, save_checkpoint
from imgai.models import CNN, CNN_PRESETS
from test_safe_text import CRAFTED
from ui import charts, jobs
from ui.train.class_counts import class_counts_svg
from ui.saved_models import shared_dir, own_dir, save_as, visible_models
from ui.safe_text import clean

ROOT = Path(__file__).resolve().parent.parent
TRAIN = str(ROOT / "app_pages" / "train.py")
CLASSIFY = str(ROOT / "app_pages" / "classify.py")
A, B = "a0a0a0a0a0a0a0a0", "b1b1b1b1b1b1b1b1"


def tiny_cnn():
    torch.manual_seed(0)
    return CNN(CNN_PRESETS["fast"]())


def meta(names=None) -> dict:
    return {"kind": "cnn", "dataset": "digits", "class_names": names or [str(i) for i in range(10)],
            "image_size": 28, "channels": 1, "mean": [0.13], "std": [0.31], "intake": "digit"}


def writer(model, m=None):
    return lambda path: save_checkpoint(path, model, m or meta())


def digest(path: Path) -> str:
    return hashlib.sha256(path.with_suffix(".safetensors").read_bytes() + path.with_suffix(".json").read_bytes()).hexdigest()


def all_escaped(md_text: str) -> bool:
    """True when every ASCII punctuation character in the markdown is backslash-escaped (ui.safe_text.md)."""
    i = 0
    while i < len(md_text):
        if md_text[i] == "\\":
            i += 2
            continue
        if md_text[i] in string.punctuation:
            return False
        i += 1
    return True


# ------------------------------------------------------------------------------------ who owns what

def test_the_same_name_saved_by_two_browsers_gives_two_models():
    first, err = save_as("class-model", False, writer(tiny_cnn()), owner=A)
    assert err is None and first == models_dir() / A / "class-model"
    before = digest(first)
    second, err = save_as("class-model", False, writer(CNN(CNN_PRESETS["textbook"]())), owner=B)
    assert err is None and second == models_dir() / B / "class-model"
    assert digest(first) == before                       # A's weights untouched
    a_sees = {m["path"]: m["where"] for m in visible_models(A)}
    b_sees = {m["path"]: m["where"] for m in visible_models(B)}
    assert a_sees.get(str(first)) == "mine" and str(second) not in a_sees
    assert b_sees.get(str(second)) == "mine" and str(first) not in b_sees
    # the owner may replace its own model (saving again later in a run)
    again, err = save_as("class-model", False, writer(CNN(CNN_PRESETS["textbook"]())), owner=A)
    assert err is None and again == first and digest(first) != before


def test_a_shared_model_is_seen_by_everybody_and_replaced_by_nobody():
    path, err = save_as("pub", True, writer(tiny_cnn()), owner=A)
    assert err is None and path == shared_dir() / "pub"
    before = digest(path)
    for who in (B, A):                                    # the one who shared it cannot replace it either
        again, err = save_as("pub", True, writer(CNN(CNN_PRESETS["textbook"]())), owner=who)
        assert again is None and "already has a model called pub" in err and "never replaced" in err
    assert digest(path) == before
    assert {m["where"] for m in visible_models(B) if m["path"] == str(path)} == {"shared"}
    # B can keep a private model of that name
    mine, err = save_as("pub", False, writer(tiny_cnn()), owner=B)
    assert err is None and mine == own_dir(B) / "pub" and digest(path) == before


def test_two_saves_racing_for_one_shared_name_one_wins():
    results, gate = [], threading.Barrier(4)

    def slow_write(path):
        time.sleep(0.05)       # both are inside their save at once
        return save_checkpoint(path, tiny_cnn(), meta())

    def share(owner):
        gate.wait()
        results.append(save_as("race", True, slow_write, owner=owner))

    threads = [threading.Thread(target=share, args=(o,)) for o in (A, B, "c" * 16, "d" * 16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(err is None for _, err in results) == 1
    assert all("already has a model called race" in err for _, err in results if err)
    load_checkpoint(shared_dir() / "race")


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "", " ", "x" * 65, "café", "a b", "-dash"])
def test_names_that_are_not_plain_file_names_are_refused(name):
    path, err = save_as(name, False, writer(tiny_cnn()), owner=A)
    assert path is None and "letters, digits, - and _" in err
    assert not any(models_dir().rglob("*.json"))


@pytest.mark.skipif(not (WEIGHTS_DIR / "digits-cnn.json").exists(), reason="no shipped digits-cnn")
@pytest.mark.parametrize("share", [False, True])
def test_shipped_names_are_refused(share):
    path, err = save_as("digits-cnn", share, writer(tiny_cnn()), owner=A)
    assert path is None and "comes with the app" in err


def test_models_the_teacher_put_in_the_models_folder_are_shared_read_only():
    save_checkpoint(models_dir() / "teacher", tiny_cnn(), meta())    # e.g. python -m imgai train --out
    for who in (A, B):
        assert {m["where"] for m in visible_models(who) if m["name"] == "teacher"} == {"shared"}
    assert not any("teacher" in str(m["path"]) and m["where"] == "mine" for m in visible_models(A))


# ------------------------------------------------------------------------------- saving that fails

@pytest.mark.parametrize("exc, line", [
    (OSError(errno.ENOSPC, "No space left on device"), "no space left on device"),
    (OSError(errno.EROFS, "Read-only file system"), "the models folder is read-only"),
    (CheckpointError("could not save the checkpoint x: no space left on device"), "no space left on device"),
    (RuntimeError("nothing to save yet: the job has not finished a step"), "nothing to save yet"),
])
@pytest.mark.parametrize("share", [False, True])
def test_a_failed_save_is_one_line_and_leaves_the_name_free(exc, line, share):
    def broken(path):
        raise exc
    path, err = save_as("keep", share, broken, owner=A)
    assert path is None and err.startswith("Could not save") and line in err and "\n" not in err
    ok, err = save_as("keep", share, writer(tiny_cnn()), owner=A)     # the claim on the name was released
    assert err is None and ok.with_suffix(".json").exists()


# ------------------------------------------------------------------------------- the Train page

@pytest.fixture
def no_leftover_jobs():
    yield
    for job in jobs.registry().jobs():
        job.stop()
        job.wait(10)


def train_tiny(monkeypatch, owner: str) -> tuple[AppTest, object]:
    monkeypatch.setattr(jobs, "owner_id", lambda: owner)
    at = AppTest.from_file(TRAIN, default_timeout=60).run()
    at.number_input(key="knob_epochs_cnn_fast").set_value(0.05)
    at.run()
    at.button(key="train_start").click().run()
    job = jobs.registry().get(at.session_state["imgai_job_id"])
    assert job.wait(60) and job.status == "done"
    at.run()
    assert not at.exception, at.exception
    return at, job


def save_on_page(at, job, name, share=False):
    at.text_input(key=f"train_save_name_{job.id}").set_value(name)
    at.checkbox(key=f"train_share_{job.id}").set_value(share)
    at.button(key=f"train_save_{job.id}").click().run()
    assert not at.exception, at.exception
    return " | ".join(e.value for e in at.error), " | ".join(s.value for s in at.success)


def test_two_students_on_the_train_page(monkeypatch, no_leftover_jobs):
    at_a, job_a = train_tiny(monkeypatch, A)
    errors, ok = save_on_page(at_a, job_a, "class-model")
    assert not errors and "Saved as **class-model** in your models" in ok
    errors, ok = save_on_page(at_a, job_a, "pub", share=True)
    assert not errors and "shared with the class" in ok
    a_private, a_shared = digest(own_dir(A) / "class-model"), digest(shared_dir() / "pub")

    at_b, job_b = train_tiny(monkeypatch, B)
    errors, ok = save_on_page(at_b, job_b, "class-model")            # B's own model, next to A's
    assert not errors and (own_dir(B) / "class-model.json").exists()
    errors, _ = save_on_page(at_b, job_b, "pub", share=True)          # refused: shared names are read-only
    assert "already has a model called pub" in errors and "Download" not in errors   # a refusal, not a failure
    assert digest(own_dir(A) / "class-model") == a_private and digest(shared_dir() / "pub") == a_shared

    # each picker: the shipped models, its own and the shared one, never the other's private model
    at = AppTest.from_file(CLASSIFY, default_timeout=60).run()        # owner is still B
    options = at.selectbox(key="classify_model").options
    assert sum(o.startswith("class-model") and o.endswith("yours") for o in options) == 1
    assert sum(o.startswith("pub") and o.endswith("shared with the class") for o in options) == 1
    assert any("Nobody else sees yours" in c.value for c in at.caption)


def test_a_failed_save_on_the_train_page_offers_download_and_keeps_the_job(monkeypatch, no_leftover_jobs):
    at, job = train_tiny(monkeypatch, A)
    real_save = job.save

    def full_disk(path):
        raise CheckpointError(f"could not save the checkpoint {Path(path).name}: no space left on device")
    monkeypatch.setattr(job, "save", full_disk)
    errors, ok = save_on_page(at, job, "full")
    assert "no space left on device" in errors and "Download" in errors and "Saved as" not in ok
    download = at.download_button(key=f"train_download_{job.id}")
    assert download.label == "Download" and not download.disabled
    from ui.train.save_panel import download_zip
    with zipfile.ZipFile(io.BytesIO(download_zip(job, "full"))) as z:
        assert sorted(z.namelist()) == ["full.json", "full.safetensors"]
    monkeypatch.setattr(job, "save", real_save)                        # space again: the same run saves
    errors, ok = save_on_page(at, job, "full")
    assert not errors and "Saved as **full**" in ok and (own_dir(A) / "full.safetensors").exists()


def test_a_run_the_server_no_longer_has_is_said():
    at = AppTest.from_file(TRAIN, default_timeout=60)
    at.query_params["job"] = "0123456789ab"              # e.g. the tab reconnecting after a restart
    at.run()
    assert not at.exception
    assert any("no longer on the server (the server restarted" in w.value for w in at.warning)
    assert "job" not in at.query_params
    assert not at.button(key="train_start").disabled    # and a new run can be started


# ------------------------------------------------------------------------------- crafted names

def digit_png(name_seed=0) -> bytes:
    img = np.zeros((28, 28), np.uint8)
    img[6:22, 12:16] = 255                                 # a "1"
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "PNG")
    return buf.getvalue()


def test_crafted_file_names_in_error_lines_are_literal():
    at = AppTest.from_file(CLASSIFY, default_timeout=60).run()
    # each a different file (the same bytes twice are read once, under the first name)
    files = [(name.replace("\n", " ")[:200] + ".png", b"not an image %d" % i, "image/png")
             for i, name in enumerate(CRAFTED)]
    at.file_uploader(key="classify_files").set_value(files)
    at.run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == len(CRAFTED)
    for e in errors:
        assert all_escaped(e), e
        assert "\n" not in e and "\u202e" not in e


def test_crafted_class_names_of_a_shared_model_are_literal_in_another_students_page(monkeypatch):
    names = [n.replace("\n", " ") for n in CRAFTED[:10]]
    save_as("crafted", True, writer(tiny_cnn(), meta(names)), owner=B)     # B shares a model
    monkeypatch.setattr(jobs, "owner_id", lambda: A)                       # A uses it
    at = AppTest.from_file(CLASSIFY, default_timeout=60).run()
    pick = at.selectbox(key="classify_model")
    pick.set_value(next(o for o in pick.options if o.startswith("crafted"))).run()
    at.file_uploader(key="classify_files").set_value([("[x](http://127.0.0.2/).png", digit_png(), "image/png")])
    at.run()
    assert not at.exception, at.exception
    caption = next(c.value for c in at.caption if "classes:" in c.value)
    assert "](" not in caption and "<" not in caption.replace("\\<", "")
    head = next(m.value for m in at.markdown if "→" in m.value)
    left, right = head.split(" → ")
    assert all_escaped(left.strip("*")) and "](" not in head
    chart = json.loads(at.get("plotly_chart")[-1].proto.spec)
    labels = chart["data"][0]["y"]
    assert all("<" not in y and ">" not in y for y in labels), labels
    assert any("&lt;a href" in y for y in labels) or any("&lt;img" in y for y in labels)


def test_charts_escape_class_names():
    names = [n for n in CRAFTED[:10]]
    conf = charts.confusion_figure([[1] * 10 for _ in range(10)], names, step=3)
    from ui.latent.widgets import histogram_figure, probability_figure
    hist = histogram_figure({"class_names": names, "counts": [5] * 10, "confidence": [0.5] * 10})
    prob = probability_figure([0.1, 0.9], CRAFTED[3])
    for labels in (conf.data[0].x, conf.data[0].y, hist.data[0].x,
                   [prob.layout.yaxis.title.text]):
        assert all("<" not in str(s) and ">" not in str(s) for s in labels), labels
        assert all("\n" not in str(s) for s in labels)
    svg = class_counts_svg({n: 1 for n in names})      # the Train page's class-count picture
    texts = [t.text or "" for t in ElementTree.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]  # well-formed
    assert any("<" in t for t in texts)                 # names are literal text, drawn as typed
    assert all("\n" not in t for t in texts)


def test_the_steering_summary_escapes_class_names():
    from ui.latent.widgets import collapse_summary
    for counts in ([100] + [0] * 9, [40, 30] + [10] * 3 + [0] * 5):
        text = collapse_summary({"class_names": CRAFTED[:10], "counts": counts})
        assert "](" not in text and "<a" not in text and "<img" not in text, text


def test_clean_keeps_the_picker_labels_on_one_line():
    save_as("multi", True, writer(tiny_cnn(), {**meta(), "dataset": "line\nbreak\u202e"}), owner=B)
    from ui.saved_models import _options
    labels = list(_options(visible_models(A)))
    assert any(lab.startswith("multi") for lab in labels)
    assert all(lab == clean(lab, None) for lab in labels)


# ------------------------------------------------------------------------------- the Teach section

def teach_page(monkeypatch, owner: str, names: list) -> AppTest:
    """The Classify page with a model already taught (features stand in for photos: the save path is the
    same whatever the photos were)."""
    from imgai.models.imagenet import photo_head_meta, train_photo_head
    monkeypatch.setattr(jobs, "owner_id", lambda: owner)
    torch.manual_seed(0)
    feats, labels = torch.randn(12, 1280), [i % len(names) for i in range(12)]
    head, report = train_photo_head(feats, labels, names, holdout=0.0)
    at = AppTest.from_file(CLASSIFY, default_timeout=60)
    at.session_state["teach_result"] = {"head": head, "names": names, "report": report,
                                        "meta": photo_head_meta(head, names, report), "fingerprint": None,
                                        "classifier": None}
    for i, n in enumerate(names):
        at.session_state[f"teach_name_{i}"] = n
    at.run()
    assert not at.exception, at.exception
    return at


def teach_save(at, name, share=False):
    at.text_input(key="teach_save_name").set_value(name)
    at.checkbox(key="teach_share").set_value(share)
    at.button(key="teach_save").click().run()
    assert not at.exception, at.exception
    return " | ".join(e.value for e in at.error), " | ".join(s.value for s in at.success)


def test_teach_saves_by_the_same_rule(monkeypatch):
    at_a = teach_page(monkeypatch, A, ["mug", "plant"])
    errors, ok = teach_save(at_a, "my-classes")
    assert not errors and "Saved as **my\\-classes**" in ok and (own_dir(A) / "my-classes.json").exists()
    errors, ok = teach_save(at_a, "class-set", share=True)
    assert not errors and "class folder" in ok
    before = digest(shared_dir() / "class-set"), digest(own_dir(A) / "my-classes")

    at_b = teach_page(monkeypatch, B, ["cup", "tree"])
    errors, _ = teach_save(at_b, "class-set", share=True)
    assert "already has a model called class-set" in errors
    errors, ok = teach_save(at_b, "my-classes")
    assert not errors and (own_dir(B) / "my-classes.json").exists()
    assert (digest(shared_dir() / "class-set"), digest(own_dir(A) / "my-classes")) == before
    assert json.loads((own_dir(A) / "my-classes.json").read_text())["class_names"] == ["mug", "plant"]
    assert at_b.download_button(key="teach_download").label == "Download"


def test_teach_shows_typed_class_names_as_text(monkeypatch):
    names = [CRAFTED[0], CRAFTED[1]]
    at = teach_page(monkeypatch, A, names)
    labels = [at.file_uploader(key=f"teach_files_{i}").label for i in range(2)]
    for label, name in zip(labels, names):
        assert label.startswith("Photos of ") and all_escaped(label.removeprefix("Photos of ")), label
    hint = next(c.value for c in at.caption if c.value.startswith("To train:"))
    assert "](" not in hint and "![" not in hint
