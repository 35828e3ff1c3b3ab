"Behaviour of wganface.stats: one U statistic behind the copying z-score and the ROC AUC."
import numpy as np

from wganface.stats import auc_interval, mann_whitney_u, mann_whitney_z, roc_auc


def test_mann_whitney_z_sign():
    assert mann_whitney_z([1, 2, 3], [10, 11, 12]) < 0 < mann_whitney_z([10, 11, 12], [1, 2, 3])


def test_auc_is_u_over_the_pairs_and_matches_counting():
    rng = np.random.default_rng(0)
    pos, neg = rng.integers(0, 5, 30), rng.integers(0, 5, 20)  # many ties
    counted = ((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (30 * 20)
    assert np.isclose(roc_auc(pos, neg), counted) and np.isclose(mann_whitney_u(pos, neg), counted * 600)


def test_auc_interval_holds_the_auc_and_stays_in_range():
    for auc in (0., 0.3, 0.5, 0.9, 1.):
        lo, hi = auc_interval(auc, 13, 13)
        assert 0 <= lo <= auc <= hi <= 1
