"`wganface.prepare` (and the detector in `wganface.detect`) on real photos: the astronaut from scikit-image and Grace Hopper from matplotlib, transformed the ways phone photos are"
import csv, hashlib
from pathlib import Path
import cv2, numpy as np, pytest
import matplotlib.cbook
from PIL import Image
from skimage import data as skdata
from skimage.registration import phase_cross_correlation
from wganface.detect import find_faces
from wganface.prepare import CSV_FIELDS, prepare_cli, prepare_faces

# Two cores shared with other jobs: OpenCV would otherwise start a thread per core for every detection
cv2.setNumThreads(1)

ASTRONAUT = skdata.astronaut()
GRACE = np.asarray(Image.open(matplotlib.cbook.get_sample_data('grace_hopper.jpg')).convert('RGB'))
SIDEWAYS = Image.Exif()
SIDEWAYS[0x0112] = 6  # Orientation 6: viewers turn the stored pixels 90 degrees clockwise

def tilt(img, angle, scale=1., canvas=(900, 700), at=(100, 80)):
    "`img` turned `angle` degrees counter-clockwise, scaled and pasted onto a larger green canvas"
    h, w = img.shape[:2]
    M = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    M[:, 2] += at
    return cv2.warpAffine(img, M, canvas, flags=cv2.INTER_CUBIC, borderValue=(90, 120, 60))

def side_by_side(a, b, scale_b):
    "Two people in one photo, the second scaled by `scale_b`"
    b = cv2.resize(b, None, fx=scale_b, fy=scale_b, interpolation=cv2.INTER_AREA)
    out = np.full((600, 1000, 3), 128, np.uint8)
    out[:a.shape[0], :a.shape[1]] = a
    out[:b.shape[0], 520:520 + b.shape[1]] = b
    return out

def landscape():
    "A sky-to-meadow gradient: no face in it"
    y, x = np.mgrid[0:480, 0:640]
    return np.stack([120 + 100 * y / 480, 160 + 60 * x / 640, 230 - 150 * y / 480], -1).astype(np.uint8)

def save_sideways(img, fn):
    "A JPEG stored turned 90 degrees counter-clockwise with the EXIF tag that makes viewers show it upright"
    Image.fromarray(np.ascontiguousarray(np.rot90(img, 1))).save(fn, exif=SIDEWAYS, quality=92)

def folder_hashes(folder):
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(Path(folder).iterdir())}

def read_rows(out):
    with open(Path(out)/'prepare.csv', newline='') as f: return {r['file']: r for r in csv.DictReader(f)}

@pytest.fixture(scope='module')
def photos(tmp_path_factory):
    "A messy photo folder: the same faces as shot, tilted, shrunk, sideways with EXIF, in company; no face; damaged files"
    src = tmp_path_factory.mktemp('photos')
    Image.fromarray(ASTRONAUT).save(src/'astronaut.png')
    Image.fromarray(tilt(ASTRONAUT, 15, 0.8)).save(src/'astronaut-tilted.jpg', quality=92)
    Image.fromarray(tilt(ASTRONAUT, -18, 1.2, canvas=(1100, 900))).save(src/'astronaut-big.webp', quality=92)
    save_sideways(ASTRONAUT, src/'astronaut-sideways.jpg')
    Image.fromarray(GRACE).save(src/'grace.jpg', quality=92)
    Image.fromarray(tilt(GRACE, -12, 0.7)).save(src/'grace-tilted.png')
    Image.fromarray(side_by_side(ASTRONAUT, GRACE, 0.45)).save(src/'two-people.png')
    Image.fromarray(side_by_side(ASTRONAUT, GRACE, 0.3)).save(src/'astronaut-and-small-grace.png')
    Image.fromarray(skdata.coffee()).save(src/'coffee.jpg', quality=92)
    Image.fromarray(landscape()).save(src/'landscape.png')
    (src/'damaged.jpg').write_bytes((src/'grace.jpg').read_bytes()[:400])
    (src/'random.png').write_bytes(np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8).tobytes())
    (src/'notes.txt').write_text('holiday 2023')
    (src/'phone.heic').write_bytes(b'\0\0\0\x18ftypheic')
    return src

@pytest.fixture(scope='module')
def prepared(photos, tmp_path_factory):
    before = folder_hashes(photos)
    out = tmp_path_factory.mktemp('prepared')/'faces'
    res = prepare_faces(photos, out, progress=False, normalize=False)
    return res, before

def test_every_file_is_reported_with_its_fate(prepared, photos):
    res, _ = prepared
    rows = read_rows(res.out)
    assert list(rows) == sorted(f.name for f in photos.iterdir())
    status = {name: r['status'] for name, r in rows.items()}
    assert status == {
        'astronaut.png': 'ok', 'astronaut-tilted.jpg': 'ok', 'astronaut-big.webp': 'ok', 'astronaut-sideways.jpg': 'ok',
        'grace.jpg': 'ok', 'grace-tilted.png': 'ok', 'astronaut-and-small-grace.png': 'ok',
        'two-people.png': 'several faces', 'coffee.jpg': 'no face', 'landscape.png': 'no face',
        'damaged.jpg': 'unreadable', 'random.png': 'unreadable', 'notes.txt': 'unsupported',
        'phone.heic': 'unsupported' if 'pillow-heif' in rows['phone.heic']['detail'] else 'unreadable'}
    assert rows['astronaut-and-small-grace.png']['detail'] == 'largest of 2 faces'
    assert rows['two-people.png']['faces_found'] == '2'
    with open(res.out/'prepare.csv', newline='') as f: assert tuple(next(csv.reader(f))) == CSV_FIELDS
    assert sorted(p.name for p in res.out.glob('*.png')) == sorted(Path(r['output']).name for r in rows.values() if r['status'] == 'ok')
    for p in res.faces:
        with Image.open(p) as im: assert im.size == (64, 64) and im.mode == 'RGB'
    summary = str(res)
    assert summary.startswith('Prepared 7 faces from 14 files')
    assert '1 several faces' in summary and '2 no face' in summary and '2 unreadable' in summary

def test_the_source_folder_is_untouched(prepared, photos):
    _, before = prepared
    assert folder_hashes(photos) == before

def test_tilted_faces_are_levelled(prepared):
    res, _ = prepared
    rows = read_rows(res.out)
    angle = {name: float(r['angle']) for name, r in rows.items() if r['status'] == 'ok'}
    # The applied turn comes back, on top of the subject's own head tilt in the original photo
    assert abs(angle['astronaut-tilted.jpg'] - (angle['astronaut.png'] - 15)) < 2
    assert abs(angle['astronaut-big.webp'] - (angle['astronaut.png'] + 18)) < 2
    assert abs(angle['astronaut-sideways.jpg'] - angle['astronaut.png']) < 1
    assert abs(angle['grace-tilted.png'] - (angle['grace.jpg'] + 12)) < 6  # her glasses make the eyes harder to place
    assert all(rows[n]['eyes_level'] == 'True' for n in angle)
    # Looked at afresh, the eye line in every crop is level
    for p in res.faces:
        crop = np.asarray(Image.open(p))
        face, = find_faces(cv2.resize(crop, (256, 256), interpolation=cv2.INTER_CUBIC))
        assert face.eyes and abs(face.angle) < 3.5, (p.name, face)

def test_faces_are_centred_like_the_reference_crop(prepared):
    res, _ = prepared
    grey = lambda name: cv2.cvtColor(np.asarray(Image.open(res.out/name)), cv2.COLOR_RGB2GRAY).astype(float)
    for ref, others in (('astronaut.png', ['astronaut-tilted.png', 'astronaut-big.png', 'astronaut-sideways.png',
                                           'astronaut-and-small-grace.png']),
                        ('grace.png', ['grace-tilted.png'])):
        for name in others:
            shift = phase_cross_correlation(grey(ref), grey(name), upsample_factor=4)[0]
            assert np.abs(shift).max() <= 2.5, (name, shift)
    # The EXIF-turned copy, read upright, is the same photo: the face is found at the same place
    rows = read_rows(res.out)
    box = lambda name: np.array([float(rows[name][k]) for k in ('centre_x', 'centre_y', 'side')])
    assert np.abs(box('astronaut.png') - box('astronaut-sideways.jpg')).max() < 3

def test_near_duplicates_are_reported(prepared):
    res, _ = prepared
    rows = read_rows(res.out)
    astronauts = {'astronaut.png', 'astronaut-tilted.jpg', 'astronaut-big.webp', 'astronaut-sideways.jpg', 'astronaut-and-small-grace.png'}
    # The first astronaut in name order is the original the others copy
    assert rows['astronaut-and-small-grace.png']['duplicate_of'] == ''
    for name in astronauts - {'astronaut-and-small-grace.png'}: assert rows[name]['duplicate_of'] in astronauts, name
    assert rows['grace-tilted.png']['duplicate_of'] == ''  # '-' sorts before '.': the tilted copy comes first
    assert rows['grace.jpg']['duplicate_of'] == 'grace-tilted.png'
    assert 'near-duplicates kept: 5' in str(res)

def test_contact_sheets_show_kept_and_rejected(prepared):
    res, _ = prepared
    assert [p.relative_to(res.out).as_posix() for p in res.sheets + res.rejected_sheets] == ['sheets/faces.png', 'sheets/rejected.png']
    # 128-pixel tiles with 2-pixel gaps, as square a grid as possible: 7 kept (3x3), 7 rejected (3x3)
    for p in res.sheets + res.rejected_sheets:
        with Image.open(p) as im: assert im.size == (2 + 3 * 130, 2 + 3 * 130)

def test_an_output_folder_with_files_is_refused_unless_overwrite(photos, tmp_path):
    small = tmp_path/'src'
    small.mkdir()
    (small/'astronaut.png').write_bytes((photos/'astronaut.png').read_bytes())
    out = tmp_path/'out'
    out.mkdir()
    (out/'stale.png').write_bytes(b'old face')
    with pytest.raises(FileExistsError, match='already has files'): prepare_faces(small, out, progress=False)
    assert (out/'stale.png').read_bytes() == b'old face'
    res = prepare_faces(small, out, overwrite=True, progress=False)
    # --overwrite replaces what an earlier prepare wrote (listed in its prepare.csv); a file it never wrote stays
    assert sorted(p.name for p in out.iterdir()) == ['astronaut.png', 'prepare.csv', 'prepare.json', 'sheets', 'stale.png']
    assert (out/'stale.png').read_bytes() == b'old face'
    assert res.rejected_sheets == [] and len(res.faces) == 1
    with pytest.raises(ValueError, match='is the source folder'): prepare_faces(small, small, overwrite=True, progress=False)
    with pytest.raises(FileNotFoundError, match='does not exist'): prepare_faces(tmp_path/'nope', tmp_path/'o', progress=False)
    with pytest.raises(ValueError, match='margin'): prepare_faces(small, tmp_path/'o', margin=-1, progress=False)

def test_drop_duplicates_leaves_copies_out(tmp_path):
    src = tmp_path/'burst'
    src.mkdir()
    Image.fromarray(ASTRONAUT).save(src/'shot1.png')
    Image.fromarray(np.clip(ASTRONAUT * 0.8 + 10, 0, 255).astype(np.uint8)).save(src/'shot2.jpg', quality=90)
    Image.fromarray(GRACE).save(src/'grace.jpg')
    res = prepare_faces(src, tmp_path/'out', drop_duplicates=True, progress=False)
    rows = read_rows(res.out)
    assert {n: (r['status'], r['duplicate_of']) for n, r in rows.items()} == {
        'grace.jpg': ('ok', ''), 'shot1.png': ('ok', ''), 'shot2.jpg': ('duplicate', 'shot1.png')}
    assert sorted(p.name for p in res.out.glob('*.png')) == ['grace.png', 'shot1.png']
    assert len(res.rejected_sheets) == 1

def test_colours_are_matched_across_the_set(tmp_path):
    src = tmp_path/'src'
    src.mkdir()
    Image.fromarray(ASTRONAUT).save(src/'bright.png')
    Image.fromarray((ASTRONAUT * [0.5, 0.6, 0.8]).astype(np.uint8)).save(src/'dim-blue.png')
    def face_means(res):
        return [np.asarray(Image.open(p)).astype(float)[20:44, 20:44].mean((0, 1)) for p in res.faces]
    a, b = face_means(prepare_faces(src, tmp_path/'as-shot', normalize=False, progress=False))
    assert np.abs(a - b).max() > 40
    a, b = face_means(prepare_faces(src, tmp_path/'matched', progress=False))
    assert np.abs(a - b).max() < 4

def test_faces_smaller_than_the_training_size_are_rejected(photos, tmp_path):
    src = tmp_path/'src'
    src.mkdir()
    (src/'astronaut.png').write_bytes((photos/'astronaut.png').read_bytes())  # her face is about 95 pixels wide
    with pytest.raises(ValueError, match=r'no face prepared from 1 file .*1 too small'):
        prepare_faces(src, tmp_path/'at-128', size=128, progress=False)
    assert read_rows(tmp_path/'at-128')['astronaut.png']['status'] == 'too small'
    assert (tmp_path/'at-128'/'sheets'/'rejected.png').exists()
    res = prepare_faces(src, tmp_path/'at-128-small-ok', size=128, min_face=64, progress=False)
    with Image.open(res.faces[0]) as im: assert im.size == (128, 128)

def test_an_empty_source_folder_is_an_error_after_the_report(tmp_path):
    (tmp_path/'empty').mkdir()
    with pytest.raises(ValueError, match='folder is empty'): prepare_faces(tmp_path/'empty', tmp_path/'out', progress=False)
    with open(tmp_path/'out'/'prepare.csv', newline='') as f: assert list(csv.reader(f)) == [list(CSV_FIELDS)]

def test_prepare_cli_prints_the_summary(photos, tmp_path, capsys):
    src = tmp_path/'src'
    src.mkdir()
    (src/'astronaut.png').write_bytes((photos/'astronaut.png').read_bytes())
    (src/'coffee.jpg').write_bytes((photos/'coffee.jpg').read_bytes())
    prepare_cli(src=str(src), out=str(tmp_path/'out'), progress=False)
    printed = capsys.readouterr().out
    assert printed.startswith('Prepared 1 face from 2 files') and 'not used: 1 no face' in printed

def test_prepare_then_train_from_the_command_line(tmp_path, capsys):
    "`wganface prepare` then `wganface train` on the prepared folder, as the README's path shows"
    import json
    from wganface.cli import main
    src = tmp_path/'src'
    src.mkdir()
    Image.fromarray(ASTRONAUT).save(src/'a.png')
    Image.fromarray(tilt(ASTRONAUT, 10, 0.9)).save(src/'b.jpg', quality=90)
    save_sideways(ASTRONAUT[:, ::-1], src/'c.jpg')
    Image.fromarray(GRACE).save(src/'d.jpg', quality=90)
    Image.fromarray(tilt(GRACE, -10, 0.8)).save(src/'e.png')
    assert main(['prepare', str(src), str(tmp_path/'faces'), '--no-progress']) == 0
    assert 'Prepared 5 faces' in capsys.readouterr().out
    assert main(['train', str(tmp_path/'faces'), '--out', str(tmp_path/'run'), '--epochs', '1', '--steps-per-epoch', '2',
                 '--bs', '4', '--size', '32', '--n-features', '8', '--no-progress', '--device', 'cpu']) == 0
    # the CSV, the options and the contact sheets are not taken for faces
    assert json.loads((tmp_path/'run'/'options.json').read_text())['n_images'] == 5

def test_no_face_at_all_exits_non_zero(tmp_path, capsys):
    from wganface.cli import main
    src = tmp_path/'src'; src.mkdir()
    Image.fromarray(landscape()).save(src/'landscape.png')
    assert main(['prepare', str(src), str(tmp_path/'out'), '--no-progress']) == 2
    assert 'error:' in capsys.readouterr().err
    assert (tmp_path/'out'/'prepare.csv').exists()
