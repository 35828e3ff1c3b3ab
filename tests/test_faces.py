"Behaviour of the built-in synthetic face set (wganface.faces)."
import numpy as np
import pytest
from PIL import Image

from wganface import faces
from wganface.faces import (FACE_PARAMS, FACE_RANGES, builtin_faces_path, make_face_set, read_labels,
                            render_face, sample_face_params)


def pixels(img): return np.asarray(img, dtype=np.int16)

def changed(**kw):
    "Mask of the pixels that visibly change when `kw` leave their defaults"
    return np.abs(pixels(render_face(**kw)) - pixels(render_face())).sum(-1) > 30


def test_render_size_and_mode():
    for size in (16, 64, 100):
        img = render_face(size=size)
        assert (img.mode, img.size) == ('RGB', (size, size))


@pytest.mark.parametrize('size', [0, 8, 15])
def test_small_size_is_a_value_error(size):
    with pytest.raises(ValueError, match='at least 16'): render_face(size=size)


def test_out_of_range_parameter_is_a_value_error():
    with pytest.raises(ValueError, match='eye_open'): render_face(eye_open=1.5)


@pytest.mark.parametrize('name', FACE_PARAMS)
def test_every_parameter_changes_the_image(name):
    lo, hi = FACE_RANGES[name]
    visibly_changed = np.abs(pixels(render_face(**{name: lo})) - pixels(render_face(**{name: hi}))).sum(-1) > 30
    assert visibly_changed.sum() >= 20


MOUTH_ROWS, EYE_ROWS = slice(34, 50), slice(19, 35)

@pytest.mark.parametrize('kw,rows', [(dict(smile=-1.), MOUTH_ROWS), (dict(smile=1.), MOUTH_ROWS),
                                     (dict(mouth_open=1.), MOUTH_ROWS), (dict(eye_open=0.), EYE_ROWS),
                                     (dict(brow_raise=1.), EYE_ROWS), (dict(brow_raise=-1.), EYE_ROWS)])
def test_expressions_change_their_own_region(kw, rows):
    mask = changed(**kw)
    assert mask.sum() > 10
    assert mask[rows].sum() > 0.9*mask.sum()


def test_smile_extremes_differ_in_the_mouth():
    diff = np.abs(pixels(render_face(smile=-1.)) - pixels(render_face(smile=1.))).sum(-1)
    assert diff[MOUTH_ROWS].sum() > 0.9*diff.sum()


def test_shift_moves_the_face():
    base, moved = pixels(render_face()), pixels(render_face(dx=2.))
    assert np.abs(base[:, :-2] - moved[:, 2:]).mean() < 0.2*np.abs(base - moved).mean()


def test_light_brightens_one_side():
    left, right = pixels(render_face(light=-1.)).astype(float), pixels(render_face(light=1.)).astype(float)
    assert right[:, 40:].mean() > left[:, 40:].mean() + 10
    assert left[:, :24].mean() > right[:, :24].mean() + 10


def test_sampling_is_reproducible_and_covers_expressions():
    params = sample_face_params(42, seed=0)
    assert params == sample_face_params(42, seed=0)
    assert params != sample_face_params(42, seed=1)
    assert all(tuple(p) == FACE_PARAMS for p in params)
    assert all(FACE_RANGES[k][0] <= v <= FACE_RANGES[k][1] for p in params for k, v in p.items())
    assert sum(p['smile'] > 0.5 for p in params) >= 10
    assert sum(p['smile'] < -0.4 for p in params) >= 5
    assert sum(p['mouth_open'] > 0.5 for p in params) >= 10
    assert sum(p['eye_open'] < 0.1 for p in params) >= 5
    assert sum(p['brow_raise'] > 0.5 for p in params) >= 5


def test_rendering_is_deterministic():
    for p in sample_face_params(3, seed=7):
        assert np.array_equal(pixels(render_face(**p)), pixels(render_face(**p)))


def test_make_face_set_writes_images_and_labels(tmp_path):
    out = make_face_set(tmp_path/'set', n=4, seed=5, size=32)
    assert sorted(p.name for p in out.iterdir()) == [f'face_{i:03d}.png' for i in range(4)] + ['labels.csv']
    header = (out/'labels.csv').read_text().splitlines()[0]
    assert header == ','.join(('file',) + FACE_PARAMS)
    labels, params = read_labels(out), sample_face_params(4, seed=5)
    assert [row.pop('file') for row in labels] == [f'face_{i:03d}.png' for i in range(4)]
    assert labels == params
    img = Image.open(out/'face_001.png')
    assert (img.mode, img.size) == ('RGB', (32, 32))
    assert np.array_equal(pixels(img), pixels(render_face(**params[1], size=32)))


def test_make_face_set_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path/'notes.txt').write_text('keep me')
    with pytest.raises(FileExistsError, match='overwrite=True'): make_face_set(tmp_path, n=2)
    assert [p.name for p in tmp_path.iterdir()] == ['notes.txt']
    make_face_set(tmp_path, n=3, overwrite=True)
    make_face_set(tmp_path, n=2, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['face_000.png', 'face_001.png', 'labels.csv', 'notes.txt']
    assert (tmp_path/'notes.txt').read_text() == 'keep me'


def test_make_face_set_checks_size_before_writing(tmp_path):
    with pytest.raises(ValueError, match='at least 16'): make_face_set(tmp_path/'set', size=12)
    assert not (tmp_path/'set').exists()


def test_shipped_faces_match_a_regeneration():
    path = builtin_faces_path()
    labels = read_labels(path)
    params = sample_face_params(42, seed=0)
    assert len(labels) == 42 and len(list(path.glob('face_*.png'))) == 42
    for row, p in zip(labels, params):
        assert {k: v for k, v in row.items() if k != 'file'} == p
        img = Image.open(path/row['file'])
        assert (img.mode, img.size) == ('RGB', (64, 64))
        assert np.abs(pixels(img) - pixels(render_face(**p))).mean() < 1, row['file']


def test_builtin_path_is_the_repo_folder():
    path = builtin_faces_path()
    assert path == faces._SHIPPED_FACES
    assert path.parts[-2:] == ('data', 'faces')


def test_builtin_path_regenerates_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(faces, '_SHIPPED_FACES', tmp_path/'no-repo'/'data'/'faces')
    monkeypatch.setenv('WGANFACE_CACHE', str(tmp_path/'cache'))
    path = builtin_faces_path()
    assert path == tmp_path/'cache'/'faces-v1'
    assert len(read_labels(path)) == 42
    shipped = faces.Path(faces.__file__).resolve().parent.parent/'data'/'faces'
    for name in ('face_000.png', 'face_041.png'):
        assert np.abs(pixels(Image.open(path/name)) - pixels(Image.open(shipped/name))).mean() < 1
    stamp = (path/'labels.csv').stat().st_mtime_ns
    assert builtin_faces_path() == path
    assert (path/'labels.csv').stat().st_mtime_ns == stamp


def test_cache_folder_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.delenv('WGANFACE_CACHE', raising=False)
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
    assert faces._cache_dir() == tmp_path/'wganface'
