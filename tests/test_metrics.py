"Behaviour of wganface.metrics: the real sets, memorisation's defining properties, and diversity."
import pytest
import torch

from wganface.metrics import (builtin_holdout, diversity, hog_features, load_real_faces, memorisation, near_duplicates,
                              pairwise_msssim)
from wganface.models import face_critic


@pytest.fixture(scope='module')
def reals(): return load_real_faces(size=32)


@pytest.fixture(scope='module')
def holdout(): return builtin_holdout(42, size=32)


# --- diversity ---------------------------------------------------------------

def test_msssim_of_identical_images_is_one(reals):
    same = pairwise_msssim(reals[3:4].repeat(10, 1, 1, 1))
    assert torch.allclose(same, torch.ones_like(same), atol=1e-4)
    assert pairwise_msssim(reals).mean() < 0.9


def test_diversity_flags_collapse_and_counts_duplicates(reals):
    collapsed = diversity(reals[:2].repeat(10, 1, 1, 1), reals)
    assert collapsed['msssim_fake'] > 0.9 and 'collapse' in collapsed['verdict']
    assert collapsed['near_duplicates'] == 20 and collapsed['near_duplicates_real'] == 0
    assert near_duplicates(reals + 0.01 * torch.randn_like(reals)) == 0


# --- memorisation ------------------------------------------------------------

def test_memorisation_flags_a_copying_generator(reals, holdout):
    fakes = reals[torch.arange(84) % len(reals)]  # what a generator that returns its training faces in turn makes
    critic = face_critic(32, n_features=8).eval()
    res = memorisation(fakes, reals, holdout, critic=critic)
    for space in ('pixel', 'hog', 'critic'):
        assert res[space]['z'] < -5 and 'copying' in res[space]['verdict']
        assert res[space]['near_copies'] == 84 and res[space]['coverage'] == 1.0


def test_memorisation_passes_new_real_faces(reals, holdout):
    new = builtin_holdout(64, size=32, seed=5)
    res = memorisation(new, reals, builtin_holdout(128, size=32))
    assert all(-3 < res[s]['z'] < 3 and 'no sign' in res[s]['verdict'] for s in ('pixel', 'hog')), {s: res[s]['z'] for s in res}
    # without held-out faces, leave-one-out distances are the reference
    assert all(-3 < z < 3 for z in (memorisation(new, reals)[s]['z'] for s in ('pixel', 'hog')))


def test_hog_ignores_brightness(reals):
    h = hog_features(reals)
    assert ((hog_features(reals * 0.8) - h).norm(dim=1) < 0.05 * h.norm(dim=1)).all()
