"""Small pieces of English the pages share.

    f"It's {article(label)} **{label}**"   # -> "It's an **8**", "It's a **7**"
"""


def article(word) -> str:
    """"a" or "an" for word, by how it is said: "a 7", "an 8", "an 11", "an apple", "a cat" (a number by its
    spoken name: eight, eleven, eighteen, eighty… start with a vowel sound)."""
    w = str(word).strip("'\"*_ ")
    head = w[:1].lower()
    if not head:
        return "a"
    return "an" if head in "aeio" or head == "8" or (w[:2] in ("11", "18") and len(w) in (2, 5, 6)) else "a"
