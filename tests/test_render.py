"Behaviour of wganface.render: pixel mapping, resizing, grids, labels and every writer, read back from disk."
import numpy as np
import pytest
import torch
from PIL import Image

from wganface.render import (image_grid, label_frame, read_animation_info, save_animation, save_frames, save_gif,
                             save_grid, save_mp4, save_png, to_uint8, upscale)


def batches(n_batches=3, bs=4, h=32, w=48):
    "Generator of (N,C,H,W) tensors in [-1,1], every frame a different flat colour."
    for b in range(n_batches):
        level = torch.linspace(-1, 1, n_batches * bs)[b * bs:(b + 1) * bs].view(-1, 1, 1, 1)
        yield torch.cat([level.expand(bs, 1, h, w), -level.expand(bs, 1, h, w), torch.zeros(bs, 1, h, w)], 1)


def uint8_frames(n=6, h=20, w=30):
    return np.stack([np.full((h, w, 3), 40 * i, np.uint8) for i in range(n)])


# --- to_uint8 ---------------------------------------------------------------

def test_to_uint8_maps_range_and_clamps():
    px = to_uint8(torch.tensor([-1., 0., 1., -7., 7.]).view(1, 1, 5))
    assert px.dtype == np.uint8 and px.shape == (1, 5, 3)
    assert px[0, :, 0].tolist() == [0, 128, 255, 0, 255]


def test_to_uint8_shapes_grey_and_numpy():
    assert to_uint8(torch.zeros(2, 3, 5, 7)).shape == (2, 5, 7, 3)
    grey = to_uint8(np.linspace(-1, 1, 4, dtype=np.float32).reshape(1, 1, 2, 2))
    assert grey.shape == (1, 2, 2, 3) and (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    assert grey.flags.c_contiguous


def test_to_uint8_passes_pixels_through_and_rejects_bad_input():
    px = uint8_frames()
    assert to_uint8(px) is px
    with pytest.raises(ValueError, match='C=1 or 3'): to_uint8(torch.zeros(2, 4, 8, 8))
    with pytest.raises(ValueError, match='C=1 or 3'): to_uint8(torch.zeros(8, 8))
    with pytest.raises(TypeError, match='float values'): to_uint8(np.zeros((3, 8, 8), np.int32))


def test_to_uint8_ignores_autograd():
    x = torch.zeros(1, 3, 2, 2, requires_grad=True)
    assert (to_uint8(x * 2) == 128).all()


# --- upscale, grid, label ---------------------------------------------------

def test_upscale_nearest_is_exact_pixel_repetition():
    small = np.random.default_rng(0).integers(0, 256, (3, 4, 5, 3), dtype=np.uint8)
    big = upscale(small, 4)
    assert big.shape == (3, 16, 20, 3)
    for dy in range(4):
        for dx in range(4): assert (big[:, dy::4, dx::4] == small).all()
    assert upscale(small[0], 2).shape == (8, 10, 3)


def test_upscale_smooth_and_errors():
    small = uint8_frames(2, 8, 6)
    assert upscale(small, 3, method='smooth').shape == (2, 24, 18, 3)
    with pytest.raises(ValueError, match='whole number'): upscale(small, 0)
    with pytest.raises(ValueError, match="'nearest' or 'smooth'"): upscale(small, 2, method='lanczos')


@pytest.mark.parametrize('n,ncol,rows,cols', [(1, None, 1, 1), (4, None, 2, 2), (5, None, 2, 3), (10, None, 3, 4),
                                              (6, 2, 3, 2), (3, 8, 1, 3)])
def test_image_grid_size_arithmetic(n, ncol, rows, cols):
    h, w, pad = 7, 9, 3
    g = image_grid(np.zeros((n, h, w, 3), np.uint8), ncol=ncol, pad=pad)
    assert g.shape == (rows * (h + pad) + pad, cols * (w + pad) + pad, 3)
    assert (g == 0).all(-1).sum() == n * h * w


def test_image_grid_places_images_row_by_row():
    imgs = uint8_frames(5, 4, 4)
    g = image_grid(imgs, ncol=3, pad=1)
    assert (g[1:5, 1:5] == imgs[0]).all()
    assert (g[1:5, 11:15] == imgs[2]).all()
    assert (g[6:10, 1:5] == imgs[3]).all()
    assert (g[6:10, 11:15] == 255).all()


def test_label_changes_pixels_only_in_its_band():
    frame = np.random.default_rng(1).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    for pos in ('bottom', 'top'):
        out = label_frame(frame, 'dim 7  z=+1.50', pos=pos)
        rows = (out != frame).any(-1).any(-1).nonzero()[0]
        band = np.arange(256 - len(rows), 256) if pos == 'bottom' else np.arange(len(rows))
        assert 0 < len(rows) < 256 // 4 and (rows == band).all()
        assert out[band].max() >= 250  # white text on a darkened band
    before = frame.copy()
    label_frame(frame, 'x')
    assert (frame == before).all()  # labels a copy


def test_label_band_height_does_not_depend_on_text():
    frame = np.full((128, 128, 3), 180, np.uint8)
    heights = {(label_frame(frame, t) != frame).any(-1).any(-1).sum() for t in ('a', 'gjpqy', 'dim 12  z=-3.00')}
    assert len(heights) == 1


# --- stills -----------------------------------------------------------------

def test_save_png_and_grid(tmp_path):
    p = save_png(torch.ones(3, 6, 10), tmp_path / 'new' / 'one.png')
    assert np.asarray(Image.open(p)).shape == (6, 10, 3) and np.asarray(Image.open(p)).min() == 255
    with pytest.raises(FileExistsError, match='overwrite=True'): save_png(torch.ones(3, 6, 10), p)
    save_png(-torch.ones(3, 6, 10), p, overwrite=True)
    assert np.asarray(Image.open(p)).max() == 0
    g = save_grid(torch.zeros(7, 3, 8, 8), tmp_path / 'grid.png', ncol=4, scale=2)
    assert Image.open(g).size == (4 * 18 + 2, 2 * 18 + 2)


# --- animations -------------------------------------------------------------

def test_gif_from_generator_of_batches(tmp_path):
    p = save_gif(batches(), tmp_path / 'walk.gif', fps=10)
    assert read_animation_info(p) == dict(n_frames=12, size=(48, 32), fps=10.0, loop=0)
    with Image.open(p) as im:
        im.seek(5)
        rgb = np.asarray(im.convert('RGB'))
    expected = np.concatenate([to_uint8(b) for b in batches()])[5]
    assert np.abs(rgb.astype(int) - expected).max() <= 8


def test_gif_play_once_and_dither(tmp_path):
    assert read_animation_info(save_gif(batches(), tmp_path / 'once.gif', loop=None))['loop'] is None
    assert read_animation_info(save_gif(batches(), tmp_path / 'dith.gif', dither=True))['n_frames'] == 12


def test_gif_fps_limit(tmp_path):
    with pytest.raises(ValueError, match='at most 50'): save_gif(batches(), tmp_path / 'a.gif', fps=100)
    assert not (tmp_path / 'a.gif').exists()


def test_mp4_frame_count_and_size(tmp_path):
    info = read_animation_info(save_mp4(batches(), tmp_path / 'walk.mp4', fps=12))
    assert (info['n_frames'], info['size']) == (12, (48, 32))
    assert info['fps'] == pytest.approx(12)


def test_mp4_odd_size_is_padded_to_even(tmp_path):
    odd = (f[:-1, :-1] for b in batches() for f in to_uint8(b))  # 47x31 frames, one at a time
    info = read_animation_info(save_mp4(odd, tmp_path / 'odd.mp4'))
    assert (info['n_frames'], info['size']) == (12, (48, 32))


def test_png_folder(tmp_path):
    folder = save_frames(batches(), tmp_path / 'frames')
    assert sorted(p.name for p in folder.iterdir())[:2] == ['frame_00000.png', 'frame_00001.png']
    assert read_animation_info(folder) == dict(n_frames=12, size=(48, 32), fps=None)


def test_save_animation_picks_writer(tmp_path):
    frames = uint8_frames()
    assert read_animation_info(save_animation(frames, tmp_path / 'a.gif'))['fps'] == pytest.approx(12.5)  # 8/100 s delays
    assert read_animation_info(save_animation(frames, tmp_path / 'a.MP4', fps=5))['fps'] == pytest.approx(5)
    assert read_animation_info(save_animation(frames, str(tmp_path / 'pngs') + '/'))['n_frames'] == 6
    assert read_animation_info(save_animation(frames, tmp_path / 'plain'))['n_frames'] == 6


def test_save_animation_unknown_extension(tmp_path):
    with pytest.raises(ValueError, match=r'\.gif, \.mp4'): save_animation(uint8_frames(), tmp_path / 'a.webm')


@pytest.mark.parametrize('name', ['a.gif', 'a.mp4', 'frames'])
def test_zero_frames(tmp_path, name):
    with pytest.raises(ValueError, match='no frames'): save_animation(iter([]), tmp_path / name)
    with pytest.raises(ValueError, match='no frames'): save_animation(np.zeros((0, 4, 4, 3), np.uint8), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('name', ['a.gif', 'a.mp4', 'frames'])
def test_existing_needs_overwrite_and_overwrite_replaces(tmp_path, name):
    p = save_animation(uint8_frames(6), tmp_path / name)
    with pytest.raises(FileExistsError, match='overwrite=True'): save_animation(uint8_frames(6), p)
    assert read_animation_info(p)['n_frames'] == 6
    save_animation(uint8_frames(3), p, overwrite=True)
    assert read_animation_info(p)['n_frames'] == 3
    assert [q.name for q in tmp_path.iterdir()] == [p.name]  # no temporary files left behind


def test_failed_write_keeps_old_file(tmp_path):
    p = save_gif(uint8_frames(4), tmp_path / 'a.gif')
    before = p.read_bytes()
    def broken():
        yield from uint8_frames(2)
        raise RuntimeError('generator crashed')
    for path in (p, tmp_path / 'b.mp4'):
        with pytest.raises(RuntimeError, match='generator crashed'): save_animation(broken(), path, overwrite=True)
    assert p.read_bytes() == before
    assert [q.name for q in tmp_path.iterdir()] == ['a.gif']


def test_mixed_frame_sizes_rejected(tmp_path):
    with pytest.raises(ValueError, match='sizes differ'):
        save_gif([np.zeros((4, 4, 3), np.uint8), np.zeros((6, 4, 3), np.uint8)], tmp_path / 'a.gif')


def test_parent_folders_created_and_bad_parent_explained(tmp_path):
    assert save_gif(uint8_frames(2), tmp_path / 'x' / 'y' / 'a.gif').exists()
    (tmp_path / 'file').write_text('not a folder')
    with pytest.raises(OSError, match='file is a file, not a folder'): save_gif(uint8_frames(2), tmp_path / 'file' / 'a.gif')
