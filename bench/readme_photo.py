"""README's real photo, end to end: a face set from one photo -> prepare -> train -> encoder -> project, variations, walk.

    python bench/readme_photo.py photos DIR          # 42 jittered copies of scikit-image's astronaut photo into DIR/photos
    wganface prepare DIR/photos DIR/faces            # what a user does with their own photos
    wganface train DIR/faces --out DIR/run --epochs 25
    python bench/readme_photo.py figures DIR         # encoder, projection of the original photo, variations, a walk:
                                                     # small PNGs into data/readme/ and the figures printed

`photos` writes whole photos, not crops: each one is the original shifted, zoomed, turned and relit a little and
mirrored half of the time, like a burst of selfies, so `prepare` finds, levels and crops the face in each, exactly
as it crops the original photo for the projection. The original photo itself is not among them.
"""
import argparse, json, random, subprocess, sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README_DIR = REPO/'data'/'readme'


def photos(out:Path, n:int=42, seed:int=0):
    from PIL import Image, ImageEnhance
    from skimage import data
    im = Image.fromarray(data.astronaut())
    rng = random.Random(seed)
    (out/'photos').mkdir(parents=True, exist_ok=False)
    w, h = im.size
    for i in range(n):
        k = w * rng.uniform(0.8, 1.0)  # zoom in up to 25%
        cx, cy = w / 2 + rng.uniform(-0.06, 0.06) * w, h / 2 + rng.uniform(-0.06, 0.06) * h
        p = im.rotate(rng.uniform(-8, 8), center=(224, 117), resample=Image.BICUBIC)
        p = p.crop((round(cx - k / 2), round(cy - k / 2), round(cx + k / 2), round(cy + k / 2))).resize((w, h), Image.LANCZOS)
        p = ImageEnhance.Color(ImageEnhance.Brightness(p).enhance(rng.uniform(0.75, 1.25))).enhance(rng.uniform(0.7, 1.3))
        if rng.random() < 0.5: p = p.transpose(Image.FLIP_LEFT_RIGHT)
        p.save(out/'photos'/f'photo_{i:03d}.jpg', quality=92)
    print(f"Wrote {n} photos into {out/'photos'}")


def run(*args):
    print('$', ' '.join(map(str, args)), flush=True)
    subprocess.run([str(a) for a in args], check=True)


def figures(d:Path):
    "The README's commands on the original photo, then its small PNGs"
    import numpy as np
    from PIL import Image
    from skimage import data
    from wganface.render import image_grid, label_frame, save_png, upscale
    (d/'original').mkdir(exist_ok=True)
    Image.fromarray(data.astronaut()).save(d/'original'/'astronaut.png')
    if not (d/'run'/'encoder.pt').exists(): run('wganface', 'encoder', d/'run', '--no-progress')
    run('wganface', 'project', d/'run', d/'original'/'astronaut.png', '--out', d/'projection', '--overwrite', '--no-progress')
    me = d/'projection'/'astronaut.npy'
    run('wganface', 'variations', d/'run', me, '--n', '7', '--spread', '0.6', '--out', d/'variations.png', '--scale', '1', '--no-labels', '--overwrite')
    run('wganface', 'explore', 'walk', d/'run', '--latents', me, '--seeds', '3', '--n-frames', '4', '--out', d/'walk.png', '--scale', '1', '--no-labels', '--overwrite')
    res = json.loads((d/'projection'/'projections.json').read_text())['projections'][0]
    README_DIR.mkdir(parents=True, exist_ok=True)
    # the photo, the face cropped from it as `project` (and `prepare`) crop it, and its projection, at 2x
    import torch
    from wganface.models import sample_faces
    from wganface.projection import face_target
    from wganface.runs import load_run
    r = load_run(d/'run', device='cpu', critic=False)
    target = face_target(d/'original'/'astronaut.png', r.size)[0]
    proj = sample_faces(r.generator, z=torch.from_numpy(np.load(me)))[0]
    photo = np.asarray(Image.fromarray(data.astronaut()).resize((2 * r.size, 2 * r.size), Image.LANCZOS))
    strip = image_grid(np.stack([photo, label_frame(upscale(target, 2), 'cropped'), label_frame(upscale(proj, 2), f"{res['psnr']:.1f} dB")]), ncol=3)
    save_png(strip, README_DIR/'photo-projection.png', overwrite=True)
    save_png(np.asarray(Image.open(d/'variations.png')), README_DIR/'photo-variations.png', overwrite=True)
    save_png(np.asarray(Image.open(d/'walk.png')), README_DIR/'photo-walk.png', overwrite=True)
    print(json.dumps(res, indent=1))
    print(f"Wrote {README_DIR/'photo-projection.png'}, photo-variations.png, photo-walk.png")


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__.split('\n\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('step', choices=('photos', 'figures'))
    p.add_argument('dir', type=Path)
    a = p.parse_args()
    photos(a.dir) if a.step == 'photos' else figures(a.dir)


if __name__ == '__main__':
    main()
