"""Studies made of many runs, and the record of every run.

    from imgai.experiments.sweep import SweepSpec, prepare_sweep            # k-fold cross-validated grids
    from imgai.experiments.augment_experiment import AugmentSpec             # do generated digits help a CNN?
    from imgai.experiments.run_store import RunStore                         # SQLite: every ended run, the board
"""
