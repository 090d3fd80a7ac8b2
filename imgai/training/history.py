"""The one rule that thins a run's metric history: for the job's memory, the run store and the charts alike.

    rows = [rows[i] for i in thin_indices(len(rows), 400, keep=lambda i: "val_acc" in rows[i])]

A long run logs tens of thousands of rows; a chart needs a few hundred, the run store a few thousand. Rows
that must survive (epoch ends carry the validation figures) are all kept; the others are spread evenly,
and the first and last rows are always among them, so a curve keeps its start and its end.
"""


def thin_indices(n: int, max_points: int, keep=None) -> list:
    """Sorted indices into range(n): every i with keep(i), plus at most max_points (+1, the last) of the
    others, evenly spread."""
    must = [i for i in range(n) if keep(i)] if keep else []
    others = [i for i in range(n) if not keep or not keep(i)] if must else range(n)
    if len(others) <= max_points:
        return list(range(n))
    stride = len(others) / max(1, max_points)
    picked = {others[int(j * stride)] for j in range(max_points)} | {others[-1]}
    return sorted(picked.union(must))
