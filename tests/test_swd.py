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


@pytest.mark.parametrize('texture', ['noise', 'checkerboard'])
def test_joint_swd_rises_clearly_with_texture_on_real_photos(lfw_faces, texture):
    "Faint grain or a checkerboard (amplitude 0.05) on held-out photos: the joint SWD rises clearly, and more than ProGAN's"
    train, holdout = lfw_faces
    g = torch.Generator().manual_seed(0)
    pattern = ((torch.arange(64)[:, None] + torch.arange(64)) % 2 * 2 - 1).float()
    add = 0.05 * (torch.randn(holdout.shape, generator=g) if texture == 'noise' else pattern)
    textured = (holdout + add).clamp(-1, 1)
    rise = {norm: {k: v / swd(holdout, train, norm=norm)[k] for k, v in swd(textured, train, norm=norm).items()}
            for norm in ('separate', 'joint')}
    assert rise['joint']['64'] > 4 and rise['joint']['mean'] > 2, rise
    assert rise['joint']['64'] > rise['separate']['64'] and rise['joint']['mean'] > rise['separate']['mean'], rise
    # grain only adds energy, which per-set normalisation divides away: there the joint SWD sees far more
    if texture == 'noise': assert rise['joint']['64'] > 1.5 * rise['separate']['64'], rise


def test_joint_swd_floor_of_held_out_photos_is_near_the_halves_floor(lfw_faces):
    "Each set keeps its own mean: a chance brightness offset between two small sets of photos does not dominate the floor"
    train, holdout = lfw_faces
    held, halves = swd(holdout, train, norm='joint')['mean'], swd(train[::2], train[1::2], norm='joint')['mean']
    assert held < 1.5 * halves, (held, halves)
