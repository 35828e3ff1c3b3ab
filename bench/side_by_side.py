"""README figures: the top rows of two benchmark sample grids, side by side.

    python bench/side_by_side.py bench/out/recipes-A/wganface-m10-s0.png bench/out/recipes-B/wganface-m15-s0.png data/readme/both-sets.png

Each grid is what `bench_recipes.py` writes per run (8 faces a row, 2-pixel borders, `render.save_grid`); the first
`--rows` rows of each (the first faces of the 500 scored) are cut out and joined with a white gap.
"""
import argparse
from pathlib import Path
from PIL import Image


def side_by_side(left, right, out, rows:int=3, face:int=64, pad:int=2, gap:int=12) -> Path:
    "Write the first `rows` rows of the grids `left` and `right` next to each other into `out`"
    crops = [Image.open(f).convert('RGB') for f in (left, right)]
    h = pad + rows * (face + pad)
    for c, f in zip(crops, (left, right)):
        if c.height < h: raise SystemExit(f"{f} has fewer than {rows} rows of {face}-pixel faces")
    crops = [c.crop((0, 0, c.width, h)) for c in crops]
    img = Image.new('RGB', (crops[0].width + gap + crops[1].width, h), 'white')
    img.paste(crops[0], (0, 0)); img.paste(crops[1], (crops[0].width + gap, 0))
    # a 256-colour palette, as the README's other figures: a third of the bytes, no visible change at this size
    img.quantize(256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    return Path(out)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=__doc__.split('\n\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('left'); p.add_argument('right'); p.add_argument('out')
    p.add_argument('--rows', type=int, default=3, help='rows of faces from each grid (default: 3)')
    a = p.parse_args()
    print(side_by_side(a.left, a.right, a.out, a.rows))
