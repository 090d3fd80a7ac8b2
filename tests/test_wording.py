"""ui.wording: the article goes by how the word is said."""
from ui.wording import article


def test_the_article_follows_the_spoken_word():
    assert [f"{article(w)} {w}" for w in ["7", "8", "11", "18", "80", "1", "apple", "cat", "'8'"]] == [
        "a 7", "an 8", "an 11", "an 18", "an 80", "a 1", "an apple", "a cat", "an '8'"]


def test_a_score_on_a_few_photos_says_how_few():
    from ui.saved_models import accuracy_text
    assert accuracy_text({"val_acc": 5 / 6, "val_images": 6}, "held-back photos") == "5 of 6 held-back photos right"
    assert accuracy_text({"val_acc": 0.958, "val_images": 500}) == "95.8% right on 500 unseen images"
