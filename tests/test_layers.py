"The architecture, kept: every module imports only from layers below its own (wganface/_layers.py), lazy imports too"
import json, ast, re
from pathlib import Path
import pytest
import wganface
from wganface._layers import LAYERS

PKG = Path(wganface.__file__).parent
README = PKG.parent/'README.md'


def wganface_imports(src:str) -> list:
    "(module, line) for every import of a wganface module in `src`, at module level or inside functions"
    found = []
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: `from .data import x`, `from . import data`
                names = [node.module.split('.')[0]] if node.module else [a.name for a in node.names]
            elif node.module == 'wganface': names = [a.name for a in node.names]
            elif node.module and node.module.startswith('wganface.'): names = [node.module.split('.')[1]]
            else: continue
        elif isinstance(node, ast.Import):
            names = [a.name.split('.')[1] for a in node.names if a.name.startswith('wganface.')]
        else: continue
        found += [(n, node.lineno) for n in names if not n.startswith('_') and n != '__version__']
    return found


def layering_violations(sources:dict, layers=LAYERS) -> list:
    "One message per import of a module from the same or a higher layer, and per module in no layer"
    layer_of = {m: i for i, mods in enumerate(layers) for m in mods}
    bad = [f"{m}: not in any layer of wganface/_layers.py; add it to the layer it belongs to" for m in sources if m not in layer_of]
    for mod, src in sources.items():
        if mod not in layer_of: continue
        for dep, line in wganface_imports(src):
            if dep not in layer_of: bad.append(f"{mod}.py:{line} imports {dep}, which is in no layer")
            elif layer_of[dep] >= layer_of[mod]:
                bad.append(f"{mod}.py:{line} imports {dep} (layer {layer_of[dep]}), but {mod} is in layer {layer_of[mod]}: "
                           "a module may import only from layers below its own")
    return bad


def package_sources() -> dict:
    return {p.stem: p.read_text() for p in sorted(PKG.glob('*.py')) if not p.stem.startswith('_')}


def test_every_module_has_one_layer_and_every_layer_entry_exists():
    listed = [m for mods in LAYERS for m in mods]
    assert len(listed) == len(set(listed)), 'a module is listed in two layers'
    assert set(listed) == set(package_sources()), (set(listed) ^ set(package_sources()))


def test_the_package_keeps_its_layers():
    assert layering_violations(package_sources()) == []


@pytest.mark.parametrize('src, why', [
    ('from wganface.train import train', 'a plain back-edge'),
    ('from .train import train', 'a relative import'),
    ('def f():\n    from wganface.explore import sweep\n    return sweep', 'a lazy import inside a function'),
    ('import wganface.explore as e', 'import ... as'),
    ('from wganface import train', 'from the package'),
    ('from wganface.models import face_generator', 'the same layer'),
])
def test_the_check_fails_on_a_back_edge(src, why):
    "Planting an import against the layers in `data` (layer 2) makes the check fail, whatever form the import takes"
    sources = {**package_sources(), 'data': package_sources()['data'] + '\n' + src + '\n'}
    bad = layering_violations(sources)
    assert len(bad) == 1 and bad[0].startswith('data.py:'), (why, bad)


def test_a_module_without_a_layer_fails():
    assert layering_violations({'core': '', 'newthing': 'import torch'}) == [
        "newthing: not in any layer of wganface/_layers.py; add it to the layer it belongs to"]


def architecture_section(text:str) -> str:
    "The '## Architecture' section of a markdown text, up to the next section"
    block = text[text.index('## Architecture'):]
    return block[:block.index('\n## ', 3)] if '\n## ' in block[3:] else block

@pytest.mark.parametrize('doc', ['README.md', 'nbs/index.ipynb'])
def test_readme_shows_the_same_layers(doc):
    "README's (and the docs home's) Architecture section lists the layers of _layers.py, bottom up, so the docs cannot drift from the code"
    path = README.parent/doc
    text = path.read_text() if path.suffix == '.md' else ''.join(''.join(c['source']) for c in json.loads(path.read_text())['cells'] if c['cell_type'] == 'markdown')
    if doc != 'README.md': assert architecture_section(text).strip() == architecture_section(README.read_text()).strip(), f'{doc} shows another Architecture section than README.md: copy it over'
    block = text[text.index('## Architecture'):]
    block = block[block.index('```'):][3:]
    block = block[block.index('\n'):block.index('```')]
    rows = [re.match(r'\s*(\d+)\s[^:]*:(.*)', line) for line in block.strip().splitlines()]
    shown = {int(m[1]): tuple(re.findall(r'[a-z_]+', m[2])) for m in rows if m}
    assert [shown.get(i) for i in range(len(LAYERS))] == list(LAYERS) and len(shown) == len(LAYERS)
