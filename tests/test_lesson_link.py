"""Lesson links on the Train page (ui/lesson_link.py): the address holds every setting, a teacher's link fixes
some and hides chosen controls, and a bad link is one warning line, never a broken page."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "train.py")


def page(query=None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    if query:
        at.query_params.update(query)
    return at.run()


def will_use(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("This run will use"))


def test_the_address_holds_the_panel_settings_and_a_link_reproduces_them():
    at = page()
    at.radio(key="train_model").set_value("dcgan").run()
    at.select_slider(key="knob_lr_dcgan_fast").set_value(1e-3).run()
    q = dict(at.query_params)
    assert q["model"] == "dcgan" and q["lr"] == "0.001" and "seed" in q
    again = page(q)          # a fresh browser opening that address
    assert again.radio(key="train_model").value == "dcgan"
    assert again.select_slider(key="knob_lr_dcgan_fast").value == 1e-3
    assert will_use(again) == will_use(at)


def test_only_lr_shows_one_control_and_trains_with_the_links_other_settings():
    at = page({"model": "cnn", "epochs": "3", "batch": "128", "aug": "0", "lr": "0.003", "only": "lr"})
    assert not at.exception
    assert [s.label for s in at.select_slider] == ["Learning rate"]
    assert not at.radio and not at.number_input and not at.selectbox and not at.toggle
    assert at.select_slider[0].value == 0.003 and not at.select_slider[0].disabled
    text = will_use(at)
    assert "3 epochs" in text and "batch 128" in text and "learning rate 0.003" in text and "augmentation off" in text
    at.select_slider[0].set_value(1e-3).run()
    assert "learning rate 0.001" in will_use(at)
    assert any("lesson link" in i.value for i in at.info)
    assert dict(at.query_params)["only"] == "lr"              # the lesson survives in the address


def test_locked_controls_are_shown_but_cannot_change():
    at = page({"lr": "0.01", "lock": "lr,seed"})
    assert at.select_slider(key="knob_lr_cnn_fast").disabled and at.select_slider(key="knob_lr_cnn_fast").value == 0.01
    assert at.number_input(key="knob_seed_cnn_fast").disabled
    assert not at.select_slider(key="knob_batch_cnn_fast").disabled


def test_a_bad_link_is_one_warning_and_the_page_works():
    at = page({"lr": "banana", "batch": "100", "model": "transformer", "only": "nothing"})
    assert not at.exception
    (w,) = [w.value for w in at.warning if "Ignored from the link" in w.value]
    assert "lr='banana'" in w and "batch='100'" in w and "model='transformer'" in w and "nothing" in w
    assert at.radio(key="train_model").value == "cnn" and at.button(key="train_start").disabled is False


def test_the_teacher_panel_writes_a_link_where_only_the_picked_controls_change():
    at = page()
    at.multiselect(key="lesson_train_keep").set_value(["lr"]).run()
    link = next(c.value for c in at.code)
    assert "only=lr" in link and "lr=" in link and "model=cnn" in link
    query = dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&"))
    student = page(query)
    assert [s.label for s in student.select_slider] == ["Learning rate"] and not student.code


CLASSIFY = str(Path(__file__).resolve().parent.parent / "app_pages" / "classify.py")


def test_a_classify_link_names_its_model_and_a_lesson_can_fix_it():
    at = AppTest.from_file(CLASSIFY, default_timeout=60)
    at.query_params.update({"model": "imagenet"})
    at.run()
    assert not at.exception and at.selectbox(key="classify_model").value.startswith("imagenet")
    at.selectbox(key="classify_model").set_value(next(o for o in at.selectbox(key="classify_model").options
                                                      if o.startswith("digits-cnn"))).run()
    assert dict(at.query_params)["model"] == "digits-cnn"
    fixed = AppTest.from_file(CLASSIFY, default_timeout=60)
    fixed.query_params.update({"model": "digits-cnn", "hide": "model"})
    fixed.run()
    assert not fixed.exception and "classify_model" not in [s.key for s in fixed.selectbox]
    assert any("Trained on **digits**" in c.value for c in fixed.caption)


def test_a_classify_link_to_a_missing_model_says_so_and_opens_the_first():
    at = AppTest.from_file(CLASSIFY, default_timeout=60)
    at.query_params.update({"model": "somebody-elses"})
    at.run()
    assert not at.exception
    assert any("model='somebody\\-elses' (no model of that name here)" in w.value for w in at.warning)  # markdown-escaped


def test_a_crafted_link_sets_nothing_outside_the_limits():
    at = page({"lr": "1e9", "epochs": "1e12", "seed": "-1", "batch": "1000000", "drop": "0.99", "seconds": "nan"})
    assert not at.exception
    (w,) = [w.value for w in at.warning if "Ignored from the link" in w.value]
    for name in ("lr", "epochs", "seed", "batch", "drop"):
        assert f"{name}=" in w
    text = will_use(at)
    from imgai.training.runs import default_train_config
    base = default_train_config("cnn", "fast")
    assert f"learning rate {base.lr:g}" in text and f"batch {base.batch_size}" in text and "seed 0" in text


def test_a_link_cannot_inject_markup():
    at = page({"lr": "[click](http://evil.example) **bold** <b>x</b>", "only": "<script>"})
    (w,) = [w.value for w in at.warning if "Ignored from the link" in w.value]
    assert "](http" not in w and "**bold**" not in w and "<b>" not in w and "<script>" not in w


def test_a_link_that_hides_everything_can_be_left():
    """A link is anybody's to write: hiding every control never strands a student."""
    at = page({"model": "dcgan", "lr": "0.001", "hide": ",".join(
        ["model", "preset", "data", "length", "epochs", "seconds", "batch", "lr", "opt", "wd", "drop", "seed", "aug"])})
    assert not at.select_slider and not at.radio
    at.button(key="lesson_train_leave").click().run()
    assert at.radio(key="train_model").value == "dcgan"                       # the link's values stay
    assert at.select_slider(key="knob_lr_dcgan_fast").value == 1e-3 and not at.select_slider(key="knob_lr_dcgan_fast").disabled


def test_a_classify_link_cannot_open_another_students_model(tmp_path, monkeypatch):
    """Only the models this browser may pick (shipped, its own, shared) can be named by a link."""
    import shutil
    from imgai.models.checkpoint import WEIGHTS_DIR
    other = tmp_path / "models" / "someone-else"
    other.mkdir(parents=True)
    for suffix in (".json", ".safetensors"):
        shutil.copy(WEIGHTS_DIR / f"digits-cnn{suffix}", other / f"private-model{suffix}")
    monkeypatch.setenv("IMGAI_MODELS", str(tmp_path / "models"))
    at = AppTest.from_file(CLASSIFY, default_timeout=60)
    at.query_params.update({"model": "private-model"})
    at.run()
    assert not at.exception and not at.selectbox(key="classify_model").value.startswith("private-model")
    assert any("no model of that name here" in w.value for w in at.warning)
