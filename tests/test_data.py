import warnings
import numpy as np, pytest, torch
from PIL import Image
from wganface.data import face_dls, load_face_folder, load_face_image, FaceDataWarning
from wganface.latents import sample_noise
from wganface.faces import builtin_faces_path

def face(seed=0, size=(80, 120)):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)

@pytest.fixture
def mixed_folder(tmp_path):
    "One image in each supported format and mode, of various sizes"
    Image.fromarray(face(0)).save(tmp_path/'a.png')
    Image.fromarray(face(1, (300, 200))).save(tmp_path/'b.jpg', quality=90)
    Image.fromarray(face(2)).save(tmp_path/'c.webp')
    Image.fromarray(face(3)).save(tmp_path/'d.bmp')
    Image.fromarray(face(4)).convert('RGBA').save(tmp_path/'e.png')
    Image.fromarray(face(5)).convert('L').save(tmp_path/'f.png')
    Image.fromarray(face(6)).convert('P').save(tmp_path/'g.gif')
    return tmp_path

def test_every_format_and_mode_loads_as_rgb_squares(mixed_folder):
    imgs, used, skipped = load_face_folder(mixed_folder, size=32)
    assert imgs.shape == (7, 32, 32, 3) and imgs.dtype == np.uint8
    assert [f.name for f in used] == ['a.png', 'b.jpg', 'c.webp', 'd.bmp', 'e.png', 'f.png', 'g.gif']
    assert skipped == []
    grey = imgs[5]
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()

def test_centre_crop_keeps_the_middle(tmp_path):
    a = np.zeros((64, 192, 3), np.uint8)
    a[:, 64:128] = 255  # white middle third of a wide image
    Image.fromarray(a).save(tmp_path/'wide.png')
    out = load_face_image(tmp_path/'wide.png', size=64)
    assert out.min() == 255

def test_exif_rotation_is_honoured(tmp_path):
    a = np.zeros((40, 80, 3), np.uint8)
    a[:, :40] = 255  # left half white
    im = Image.fromarray(a)
    exif = im.getexif(); exif[0x0112] = 6  # "rotate 90 CW to display"
    im.save(tmp_path/'r.jpg', exif=exif, quality=95)
    out = load_face_image(tmp_path/'r.jpg', size=32)
    # displayed upright the image is 40 wide, 80 tall, white on top: the centre crop is the lower-middle
    assert Image.open(tmp_path/'r.jpg').size == (80, 40)
    top, bottom = out[:4].mean(), out[-4:].mean()
    assert top > 200 and bottom < 50

def test_corrupt_and_tiny_files_are_skipped_warned_and_counted(tmp_path):
    Image.fromarray(face(0)).save(tmp_path/'ok.png')
    (tmp_path/'broken.jpg').write_bytes(b'\xff\xd8 not really a jpeg')
    Image.fromarray(face(1, (10, 10))).save(tmp_path/'tiny.png')
    (tmp_path/'notes.docx').write_bytes(b'x')
    with pytest.warns(FaceDataWarning, match='Skipped 3 of 4'):
        imgs, used, skipped = load_face_folder(tmp_path, size=64)
    assert len(imgs) == 1
    reasons = dict((f.name, r) for f, r in skipped)
    assert 'unreadable' in reasons['broken.jpg'] and 'too small' in reasons['tiny.png'] and 'not an image' in reasons['notes.docx']

@pytest.mark.parametrize('setup,msg', [
    (lambda p: p/'missing', 'does not exist'),
    (lambda p: p, 'is empty'),
    (lambda p: (p/'x.jpg').write_bytes(b'junk') and p, 'No readable images'),
    (lambda p: (p/'f.png').write_bytes(b'junk') and p/'f.png', 'is a file, not a folder'),
])
def test_bad_folders_give_one_clear_error(tmp_path, setup, msg):
    target = setup(tmp_path)
    with pytest.raises((ValueError, FileNotFoundError, NotADirectoryError), match=msg):
        load_face_folder(target)

def test_images_are_decoded_once(tmp_path):
    Image.fromarray(face(0)).save(tmp_path/'a.png')
    first = load_face_folder(tmp_path, 32)
    assert load_face_folder(tmp_path, 32) is first
    Image.fromarray(face(1)).save(tmp_path/'b.png')  # a changed folder is read again
    assert len(load_face_folder(tmp_path, 32)[0]) == 2

def test_dls_batches_and_noise_kinds():
    dls = face_dls(bs=8, noise='uniform', steps_per_epoch=2, device='cpu')
    assert dls.face_data.nz == 100
    xb, yb = dls.one_batch()
    assert xb.shape == (8, 100) and yb.shape == (8, 3, 64, 64)
    assert xb.min() >= -1 and xb.max() <= 1
    assert face_dls(bs=8, device='cpu').nz == 200
    assert -1 <= yb.min() and yb.max() <= 1

def test_fewer_images_than_a_batch_trains_with_replacement(tmp_path):
    for i in range(3): Image.fromarray(face(i)).save(tmp_path/f'{i}.png')
    with pytest.warns(FaceDataWarning, match='drawn with replacement'):
        dls = face_dls(tmp_path, size=16, bs=8, steps_per_epoch=4, device='cpu')
    batches = list(dls.train)
    assert len(batches) == 4 and all(b[1].shape == (8, 3, 16, 16) for b in batches)

@pytest.mark.parametrize('kw,msg', [(dict(size=48), 'power of two'), (dict(size=8), 'power of two'), (dict(nz=0), 'nz=0'),
                                    (dict(noise='gauss'), 'normal, uniform'), (dict(bs=0), 'bs=0')])
def test_impossible_options(kw, msg):
    with pytest.raises(ValueError, match=msg): face_dls(**kw)

def test_seeded_noise_is_reproducible_and_device_independent():
    a, b = sample_noise(4, 10, seed=3), sample_noise(4, 10, seed=3)
    assert torch.equal(a, b) and not torch.equal(a, sample_noise(4, 10, seed=4))
