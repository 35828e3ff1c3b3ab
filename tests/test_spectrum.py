"Behaviour of wganface.spectrum and the real-photo set: the checkerboard figure sees faint texture on real photographs."
import pytest
import torch

from wganface.spectrum import checkerboard, highfreq_share


def checker_pattern(size=64):
    "+1/-1 alternating from pixel to pixel: the texture a transposed convolution stamps"
    return ((torch.arange(size)[:, None] + torch.arange(size)) % 2 * 2 - 1).float()


def test_the_real_photo_set_is_made_offline(lfw_folders, lfw_faces):
    train, holdout = lfw_folders
    assert len(list(train.glob('*.png'))) == 42 and len(list(holdout.glob('*.png'))) == 58
    assert lfw_faces[0].shape == (42, 3, 64, 64) and lfw_faces[1].shape == (58, 3, 64, 64)
    # greyscale photos: three equal channels
    assert (lfw_faces[0][:, 0] == lfw_faces[0][:, 2]).all()


def test_checkerboard_figure_is_one_for_new_real_photos(lfw_faces):
    train, holdout = lfw_faces
    assert 0.8 < checkerboard(holdout, train)['ratio'] < 1.25


@pytest.mark.parametrize('texture', ['noise', 'checkerboard'])
def test_checkerboard_figure_rises_clearly_with_faint_texture(lfw_faces, texture):
    train, holdout = lfw_faces
    g = torch.Generator().manual_seed(0)
    # under 3 grey levels of 255: barely visible, but the photos' finest octave is nearly empty
    add = 0.02 * (torch.randn(holdout.shape, generator=g) if texture == 'noise' else checker_pattern())
    clean, textured = checkerboard(holdout, train)['ratio'], checkerboard((holdout + add).clamp(-1, 1), train)['ratio']
    assert textured > 5 * clean, (clean, textured)


def test_highfreq_share_rounds_like_a_png(lfw_faces):
    train, _ = lfw_faces
    # rounding to 8 bits adds a faint white noise; unrounded faces would look cleaner than the photos they came from
    assert torch.allclose(highfreq_share(train), highfreq_share(train, quantise=False), rtol=1e-3)
    smooth = torch.nn.functional.avg_pool2d(train, 3, 1, 1)
    assert highfreq_share(smooth).mean() > highfreq_share(smooth, quantise=False).mean()
