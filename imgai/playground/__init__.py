"""The GAN playground: a GAN learning 2-D points, one visible move at a time (torch + numpy, no streamlit).

    from imgai.playground import Playground, PlaygroundConfig, make_data, score
    pg = Playground(make_data("ring8", 20000), PlaygroundConfig(), seed=0); list(pg.run(seconds=15))
    score(pg.samples(2500), "ring8")   # {"modes_covered": ..., "high_quality": ...}

data.py: the data sets and the intake of drawn/uploaded points; model.py: the nets and the config (presets);
train.py: the Playground (step("d"), step("g"), run()); score.py: modes covered and high-quality share;
view.py: D's heat map, G's manifold and push as arrays; picture.py: those drawn as an image; cli.py: the CLI.
"""
from .data import BUILT_IN, MODES, PointsError, make_data, read_points_csv, sample_points
from .model import LOSSES, PRESETS, PlaygroundConfig
from .score import has_score, score
from .train import Playground

__all__ = ["BUILT_IN", "MODES", "PointsError", "make_data", "read_points_csv", "sample_points", "LOSSES",
           "PRESETS", "PlaygroundConfig", "has_score", "score", "Playground"]
