"Behaviour of wganface.latents: dims and seeds from the command line, truncation, the typical set, interpolation and paths."
import math

import numpy as np

import pytest
import torch

from wganface.latents import (lerp, parse_dims, parse_seeds, renormalise, sample_noise, slerp, truncate, typical_norm,
                              walk_latents)


def test_parse_dims_forms_and_order():
    assert parse_dims('all', 5) == [0, 1, 2, 3, 4]
    assert parse_dims('0-199', 200) == list(range(200))
    assert parse_dims('0,5,17', 200) == [0, 5, 17]
    assert parse_dims('17,0-2,1', 200) == [17, 0, 1, 2]
    assert parse_dims(' ALL ', 3) == [0, 1, 2]
    assert parse_dims(np.int64(4), 5) == [4]


@pytest.mark.parametrize('dims,match', [('200', 'out of range'), ('0-200', 'dim 200 is out of range'), ('', 'no dims'),
                                        ([], 'no dims'), ('5-2', 'backwards'), ('a', 'cannot read'), ('1,,2', 'cannot read'),
                                        ('-1', 'cannot read'), ('0-99999999999', 'out of range')])
def test_parse_dims_errors(dims, match):
    with pytest.raises(ValueError, match=match): parse_dims(dims, 200)


def test_parse_seeds_keeps_repeats():
    assert parse_seeds('0,1,0') == [0, 1, 0]
    assert parse_seeds('3-5') == [3, 4, 5]
    assert parse_seeds(7) == [7]
    with pytest.raises(ValueError, match='no seeds'): parse_seeds('')


def test_truncation_moves_latents_toward_the_mean():
    z = sample_noise(64, 200, seed=0)
    for psi in (0.7, 0.3, 0.):
        assert torch.allclose(truncate(z, psi=psi), z * psi)
    zt = truncate(z, threshold=1.)
    assert (zt.abs() <= 1).all() and (zt.norm(dim=1) < z.norm(dim=1)).all()
    assert torch.equal(zt[z.abs() <= 1], z[z.abs() <= 1])
    assert torch.equal(truncate(z, threshold=1.), zt), 'resampling must be reproducible'
    u = sample_noise(64, 100, 'uniform', seed=0)
    assert (truncate(u, threshold=0.5, noise='uniform').abs() <= 0.5).all()
    assert torch.equal(truncate(u, threshold=2, noise='uniform'), u)


def test_renormalise_to_the_typical_set():
    z = sample_noise(8, 200, seed=1) * 0.3
    assert torch.allclose(renormalise(z).norm(dim=1), torch.full((8,), math.sqrt(200)), atol=1e-3)
    keep = torch.arange(8)
    zk = renormalise(z, keep=keep)
    assert torch.equal(zk[keep, keep], z[keep, keep])
    assert torch.allclose(zk.norm(dim=1), torch.full((8,), math.sqrt(200)), atol=1e-3)
    assert math.isclose(typical_norm(300, 'uniform'), 10.)


def test_slerp_endpoints_exact_and_norms_interpolated():
    a, b = sample_noise(2, 200, seed=5)
    b = b * 1.7
    t = torch.linspace(0, 1, 11)
    p = slerp(a, b, t)
    assert torch.equal(p[0], a) and torch.equal(p[-1], b)
    assert torch.allclose(p.norm(dim=1), (1 - t) * a.norm() + t * b.norm(), rtol=1e-5)
    q = slerp(a, a * 1.0, t)
    assert torch.allclose(q, a.expand_as(q), atol=1e-5)
    # the direction moves along the great circle: equal angle steps
    u = p / p.norm(dim=1, keepdim=True)
    angles = torch.arccos((u[1:] * u[:-1]).sum(1).clamp(-1, 1))
    assert torch.allclose(angles, angles.mean().expand_as(angles), atol=1e-4)


@pytest.mark.parametrize('b_of', [lambda a: a.clone(), lambda a: -a, lambda a: -a * 2, lambda a: a * 3,
                                  lambda a: torch.zeros_like(a), lambda a: a + 1e-9])
def test_slerp_degenerate_endpoints_no_nan(b_of):
    a = sample_noise(1, 200, seed=2)[0]
    b = b_of(a)
    p = slerp(a, b, torch.linspace(0, 1, 9))
    assert p.isfinite().all()
    assert torch.equal(p[0], a) and torch.equal(p[-1], b)
    steps = (p[1:] - p[:-1]).norm(dim=1)
    assert steps.max() <= 3.2 * max(a.norm(), b.norm()) / 8 + 1e-4, 'no jumps'


def test_slerp_batches_and_zero_vectors():
    a, b = sample_noise(2, 3, seed=0), sample_noise(2, 3, seed=1)
    assert slerp(a, b, torch.tensor([0.2, 0.8])).shape == (2, 3)
    assert slerp(torch.zeros(4), torch.zeros(4), torch.linspace(0, 1, 3)).eq(0).all()
    assert torch.equal(lerp(a[0], b[0], torch.tensor([0., 1.])), torch.stack([a[0], b[0]]))


def test_walk_latents_counts_and_endpoints():
    p = sample_noise(4, 16, seed=0)
    w = walk_latents(p, 5)
    assert w.shape == (16, 16) and torch.equal(w[::5], p)
    wc = walk_latents(p, 5, closed=True)
    assert wc.shape == (20, 16) and torch.equal(wc[::5], p)
