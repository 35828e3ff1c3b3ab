"""A second face folder for the benchmarks: jittered 64x64 crops of one real photo (no download needed).

    python bench/make_photo_set.py /tmp/astronaut-faces                 # 42 crops of scikit-image's astronaut
    python bench/make_photo_set.py /tmp/hopper-faces --photo hopper     # Grace Hopper (scikit-image, a dev extra)
    python bench/make_photo_set.py /tmp/me --photo my-selfie.jpg --box 100 80 300 300

Each crop moves, scales and tilts the face box a little and changes brightness and colour, like a burst of selfies:
real photographic texture, unlike the drawn built-in person. The photos ship with scikit-image (`pip install -e ".[dev]"`).
"""
import argparse, random
from pathlib import Path
from PIL import Image, ImageEnhance

PHOTOS = {'astronaut': ('astronaut', (160, 30, 280, 150)), 'hopper': ('grace_hopper', (165, 60, 375, 270))}


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__.split('\n\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('out', help='folder to create (must not hold images already)')
    p.add_argument('--photo', default='astronaut', help="'astronaut', 'hopper' or a path to a photo (default: astronaut)")
    p.add_argument('--box', type=int, nargs=4, metavar=('LEFT', 'TOP', 'RIGHT', 'BOTTOM'), help='face box in the photo')
    p.add_argument('--n', type=int, default=42)
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    out = Path(a.out)
    if out.exists() and any(out.glob('*.png')): raise SystemExit(f"'{out}' already holds PNGs: choose a new folder")
    if a.photo in PHOTOS:
        from skimage import data
        name, box = PHOTOS[a.photo]
        im = Image.fromarray(getattr(data, name)())
    else:
        im, box = Image.open(a.photo).convert('RGB'), None
    box = a.box or box
    if box is None: raise SystemExit('--box LEFT TOP RIGHT BOTTOM is needed for your own photo')
    rng = random.Random(a.seed)
    out.mkdir(parents=True, exist_ok=True)
    l, t, r, b = box
    cx, cy, s = (l + r) / 2, (t + b) / 2, max(r - l, b - t)
    for i in range(a.n):
        k = s * rng.uniform(0.9, 1.1)
        x, y = cx + rng.uniform(-0.06, 0.06) * s, cy + rng.uniform(-0.06, 0.06) * s
        crop = im.rotate(rng.uniform(-8, 8), center=(x, y), resample=Image.BICUBIC)
        crop = crop.crop((round(x - k / 2), round(y - k / 2), round(x + k / 2), round(y + k / 2)))
        crop = crop.resize((a.size, a.size), Image.LANCZOS)
        crop = ImageEnhance.Brightness(crop).enhance(rng.uniform(0.75, 1.25))
        crop = ImageEnhance.Color(crop).enhance(rng.uniform(0.7, 1.3))
        if rng.random() < 0.5: crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
        crop.save(out/f'face_{i:03d}.png')
    print(f"{a.n} faces of {a.size}x{a.size} in {out}")


if __name__ == '__main__': main()
