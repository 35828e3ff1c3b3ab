"Behaviour of wganface.outputs: what every explorer shares for writing (options, names, batch-by-batch frames, `Written`)."
import numpy as np
import pytest
from PIL import Image

from conftest import tiny_run
from wganface.latents import sample_noise
from wganface.models import face_batches
from wganface.outputs import (Written, contact_sheet, dims_tag, frame_batches, output_options, target_path, trunc_tag,
                              value_range, write_latents)
from wganface.render import read_animation_info


@pytest.fixture(scope='module')
def gen(): return tiny_run()


def test_output_options_are_checked_before_any_work():
    o = output_options(ext='.PNG', scale=3.0, fps=5)
    assert (o.ext, o.scale, o.fps, o.bs) == ('.png', 3, 5, 64)
    for kw, match in [(dict(ext='webm'), "ext='webm'"), (dict(scale=0), 'scale'), (dict(scale=2.5), 'whole number'),
                      (dict(method='cubic'), "method='cubic'"), (dict(bs=0), 'bs=0'), (dict(fps=0), 'fps')]:
        with pytest.raises(ValueError, match=match): output_options(**kw)


def test_file_names_follow_the_options(tmp_path):
    assert target_path(None, 'walk-x', '.mp4', tmp_path / 'explore') == tmp_path / 'explore' / 'walk-x.mp4'
    assert target_path(tmp_path, 'walk-x', '.png', 'unused') == tmp_path / 'walk-x.png'
    with pytest.raises(ValueError, match="cannot write '.webm'"): target_path(tmp_path / 'a.webm', 'x', '.gif', 'explore')
    with pytest.raises(ValueError, match="cannot write '.gif'"): target_path(tmp_path, 'x', '.gif', 'explore', kinds=('.csv',))
    assert dims_tag([3, 4, 5, 9]) == '3-5_9' and dims_tag([7]) == '7'
    long = dims_tag(list(range(0, 400, 3)))
    assert long.startswith('134-') and long == dims_tag(list(range(0, 400, 3))), 'a stable hash for long lists'
    assert trunc_tag(0.7) == '-psi0.7' and trunc_tag(typical=True) == '-typical'
    assert value_range(None, None, 'normal') == (-3., 3.) and value_range(-0.5, None, 'uniform') == (-0.5, 1.)
    with pytest.raises(ValueError, match='lo must be below hi'): value_range(1, 1)


def test_batches_stream(gen):
    "Faces come batch by batch: nothing is generated before it is asked for, also through `frame_batches`."
    calls = []
    hook = gen.generator.register_forward_hook(lambda m, i, o: calls.append(len(i[0])))
    try:
        it = frame_batches(face_batches(gen.generator, sample_noise(100, 16), bs=32), scale=1)
        assert calls == []
        next(it)
        assert calls == [32]
        list(it)
        assert calls == [32, 32, 32, 4]
    finally: hook.remove()


def test_frames_tile_and_label(gen):
    faces = list(face_batches(gen.generator, sample_noise(8, 16, seed=0), bs=3))
    frames = np.concatenate(list(frame_batches(faces, [str(i) for i in range(4)], scale=1, per_frame=2, ncol=2)))
    assert frames.shape == (4, 68, 134, 3)
    plain = np.concatenate(list(frame_batches(faces, None, scale=1, per_frame=2, ncol=2)))
    assert not np.array_equal(frames, plain)
    sheet = contact_sheet(np.concatenate(faces), ['a', 'b'], ['1', '2', '3', '4'], scale=2)
    assert sheet.shape == (3 * 130 + 2, 5 * 130 + 2, 3)


def test_write_latents_animation_or_still(gen, tmp_path):
    z = sample_noise(4, 16, seed=1)
    gif = write_latents(gen.generator, z, list('abcd'), tmp_path / 'w.gif', output_options(scale=2, fps=8))
    info = read_animation_info(gif)
    assert (info['n_frames'], info['size']) == (4, (128, 128))
    png = write_latents(gen.generator, z, list('abcd'), tmp_path / 'w.png', output_options(scale=1), still_ncol=4)
    assert Image.open(png).size == (4 * 66 + 2, 66 + 2)
    with pytest.raises(FileExistsError, match='already exists'):
        write_latents(gen.generator, z, list('abcd'), tmp_path / 'w.png', output_options(scale=1))


def test_written_displays_in_jupyter(gen, tmp_path, capsys):
    gif = write_latents(gen.generator, sample_noise(2, 16), ['a', 'b'], tmp_path / 'w.gif', output_options(scale=1))
    res = Written([gif, gif.with_suffix('.png')])
    Image.new('RGB', (4, 4)).save(res[1])
    res._ipython_display_()
    printed = capsys.readouterr().out
    assert str(res[0]) in printed and str(res[1]) in printed
