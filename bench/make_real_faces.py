"""A real-photo benchmark set, made offline: 100 face photos of different people from LFW, as shipped by scikit-image.

    python bench/make_real_faces.py /tmp/lfw-faces                # train/ (42 faces) and holdout/ (58 faces), 64x64
    python bench/make_real_faces.py /tmp/lfw-faces --size 32

`skimage.data.lfw_subset()` (scikit-image is a dev dependency; the file is inside the package, nothing is
downloaded) holds 200 greyscale 25x25 crops from Labeled Faces in the Wild: the first 100 are tightly cropped faces
of people picked at random (a few people, e.g. George W. Bush, appear more than once), the other 100 are background
patches. The first 42 faces become the training set, the other 58 the held-out real faces, the floor every score is
read against (`--holdout`). Each is resized with Lanczos, as `wganface`'s loader would resize it, and saved as an RGB
PNG (three equal channels), so `wganface train DIR/train` sees what a user's 64x64 greyscale photos would give.

64x64 by default: the default `--size`, and what the issue's test used. The photos hold 25x25 pixels of detail, so
the finest octave of a 64x64 face (above a quarter cycle per pixel) is empty in the real faces: anything a generator
puts there (checkerboard, grain) is an artefact, which makes this the strict test of upsampling artefacts.
"""
import argparse
from pathlib import Path
from PIL import Image

N_TRAIN, N_FACES = 42, 100  # lfw_subset: images 0-99 are faces, 100-199 are not


def real_faces(size:int=64) -> list:
    "The 100 LFW faces of scikit-image as RGB PIL images of `size` x `size`"
    from skimage.data import lfw_subset
    faces = lfw_subset()[:N_FACES]
    # float images in [0, 1] in older scikit-image releases, uint8 in newer ones
    px = [(f * 255).round().astype('uint8') if f.dtype.kind == 'f' else f for f in faces]
    return [Image.fromarray(p).convert('RGB').resize((size, size), Image.LANCZOS) for p in px]


def write_real_faces(out, size:int=64) -> tuple:
    "Write out/train (42 faces) and out/holdout (58 faces); returns the two folders"
    out = Path(out)
    train, holdout = out/'train', out/'holdout'
    for d in (train, holdout):
        if d.exists() and any(d.glob('*.png')): raise SystemExit(f"'{d}' already holds PNGs: choose a new folder")
        d.mkdir(parents=True, exist_ok=True)
    for i, im in enumerate(real_faces(size)): im.save((train if i < N_TRAIN else holdout)/f'lfw_{i:03d}.png')
    return train, holdout


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__.split('\n\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('out', help='folder to create; gets train/ and holdout/')
    p.add_argument('--size', type=int, default=64, help='side of the saved faces (default: 64)')
    a = p.parse_args()
    train, holdout = write_real_faces(a.out, a.size)
    print(f"{N_TRAIN} training faces in {train}, {N_FACES - N_TRAIN} held-out faces in {holdout} ({a.size}x{a.size})")


if __name__ == '__main__': main()
