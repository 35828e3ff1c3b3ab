"Behaviour of wganface.swd: ProGAN's sliced Wasserstein distance behaves as a distance between face sets should."
import math

import pytest
import torch

from wganface.metrics import builtin_holdout, load_real_faces
from wganface.swd import swd


@pytest.fixture(scope='module')
def reals(): return load_real_faces(size=32)


def blur(x, sigma):
    from torchvision.transforms.functional import gaussian_blur
    return gaussian_blur(x, kernel_size=2 * math.ceil(3 * sigma) + 1, sigma=sigma)


def test_swd_real_vs_real_far_below_real_vs_noise(reals):
    same, new = swd(reals, reals)['mean'], swd(builtin_holdout(42, size=32), reals)['mean']
    noise = swd(torch.rand_like(reals) * 2 - 1, reals)['mean']
    assert same * 5 < noise and new * 4 < noise


def test_swd_grows_with_blur(reals):
    values = [swd(reals, reals)['mean']] + [swd(blur(reals, s), reals)['mean'] for s in (1., 2., 3.)]
    assert values == sorted(values) and values[-1] > 5 * values[0]


def test_swd_levels_and_determinism(reals):
    s = swd(reals[:10], reals[10:20], seed=3)
    assert list(s) == ['32', '16', 'mean'] and s == swd(reals[:10], reals[10:20], seed=3)
    with pytest.raises(ValueError, match='one size'): swd(reals, load_real_faces(size=16))
