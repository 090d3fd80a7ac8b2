"""imgai.inference.classify: loading a classifier from a checkpoint path."""
import pytest

from checkpoint_corpus import meta, tiny_cnn
from imgai.models.checkpoint import save_checkpoint
from imgai.inference.classify import load_classifier


@pytest.mark.parametrize("given", ["run.v2", "run.v2.safetensors", "run.v2.json"])
def test_a_dotted_checkpoint_name_is_kept_whole(tmp_path, given):
    save_checkpoint(tmp_path / "run.v2", tiny_cnn(), meta())
    assert load_classifier(str(tmp_path / given)).name == "run.v2"
