"The slider web app: Streamlit's AppTest (no browser), then the real server in headless Chromium"
import os, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

streamlit = pytest.importorskip('streamlit', reason='the web app needs the app extra: pip install -e ".[app]"')
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).parent.parent
FIXTURE = ROOT/'tests'/'fixtures'/'ckpt-v0.1.0-size16-nz8.pt'
SCRIPT = "import os\nfrom wganface.app import page\npage(os.environ['WGANFACE_APP_RUN'])\n"

@pytest.fixture
def app(monkeypatch, tmp_path):
    monkeypatch.setenv('WGANFACE_APP_RUN', str(FIXTURE))
    monkeypatch.chdir(tmp_path)  # anything written to the working folder would show up here
    return AppTest.from_string(SCRIPT, default_timeout=60).run()

def shown(at): return at.get('image')[0].proto.imgs[0].url

def test_a_slider_change_reruns_the_page_and_changes_the_face(app, tmp_path):
    assert not app.exception, app.exception
    before = shown(app)
    app.slider(key='slider sefa:0').set_value(2.5).run()
    assert not app.exception and shown(app) != before
    app.slider(key='slider sefa:0').set_value(0.).run()
    assert shown(app) == before  # back to the base face
    app.sidebar.number_input[0].set_value(5).run()
    assert shown(app) != before and app.session_state.state.seed == 5
    assert list(tmp_path.iterdir()) == [] and sorted(p.name for p in FIXTURE.parent.iterdir()) == sorted(os.listdir(FIXTURE.parent))

def test_a_bad_upload_shows_an_error_in_the_page(app):
    app.sidebar.get('file_uploader')[0].upload('notes.png', b'%PDF-1.4 this is not a picture', 'image/png').run()
    assert not app.exception
    assert any('not an image' in e.value for e in app.sidebar.error), [e.value for e in app.sidebar.error]

def test_an_uploaded_photo_is_projected_and_becomes_the_base_face(app):
    import io
    import numpy as np
    from PIL import Image
    from wganface.runs import load_run
    from wganface.render import to_uint8
    before = shown(app)
    face = to_uint8(load_run(FIXTURE, device='cpu').sample(1, seed=3))[0]  # a face this generator can draw: seed 3's
    buf = io.BytesIO(); Image.fromarray(np.asarray(face)).save(buf, format='PNG')
    app.sidebar.get('file_uploader')[0].upload('me.png', buf.getvalue(), 'image/png').run()
    assert not app.exception and not app.sidebar.error, [e.value for e in app.sidebar.error]
    photo = app.session_state.photo
    assert photo['name'] == 'me.png' and photo['psnr'] > 25 and app.session_state.state.base_kind == 'latent'
    assert shown(app) != before and app.sidebar.checkbox[0].value  # the page now starts from the photo
    app.sidebar.checkbox[0].uncheck().run()
    assert shown(app) == before  # back to the seed's face

def test_a_download_of_the_face_and_of_a_walk(app):
    assert app.get('download_button')[0].proto.label == 'download PNG'
    app.button[0].click().run()  # make a walk
    assert not app.exception
    assert [b.proto.label for b in app.get('download_button')] == ['download PNG', 'download walk GIF', 'download walk MP4']
    assert app.session_state.walk['gif'][:6] == b'GIF89a' and app.session_state.walk['mp4'][4:8] == b'ftyp'


# --- the real server in a real browser --------------------------------------------------------------------------

CHROMIUM, DRIVER = shutil.which('chromium') or shutil.which('chromium-browser'), shutil.which('chromedriver')
browser = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason='needs Debian chromium and chromium-driver (apt-get install chromium chromium-driver)')

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

@pytest.fixture
def server():
    port = free_port()
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    run = os.environ.get('WGANFACE_APP_RUN', str(FIXTURE))  # e.g. runs/demo, for README's screenshot
    p = subprocess.Popen(['wganface', 'app', run, '--port', str(port)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(240):
            try:
                if urllib.request.urlopen(url + '/_stcore/health', timeout=1).status == 200: break
            except OSError: time.sleep(0.25)
        else: pytest.fail('the app did not start: ' + (p.stdout.read() if p.poll() is not None else 'still starting after 60 s'))
        yield url
    finally:
        try: os.killpg(p.pid, 9)
        except ProcessLookupError: pass  # it has ended already (and said why above)
        p.wait()

@browser
@pytest.mark.browser
def test_a_slider_moved_in_chromium_changes_the_face(server, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
              '--disable-background-networking', '--disable-component-update', '--disable-sync', f'--user-data-dir={tmp_path/"profile"}',
              '--window-size=1280,1000'):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    try:
        driver.get(server)
        wait = WebDriverWait(driver, 90, poll_frequency=0.02)  # fine polling: the round trip it times is well under a second
        face = lambda: driver.find_element(By.CSS_SELECTOR, '[data-testid="stImageContainer"] img').get_attribute('src')
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stImageContainer"] img') and d.find_elements(By.CSS_SELECTOR, '[data-testid="stSlider"]'))
        before = face()
        # drag the thumb of the first direction's slider to the right with the mouse, as a person would
        name = os.environ.get('WGANFACE_SLIDER', 'sefa:0')  # e.g. smile, for README's screenshot of a run with directions
        track = driver.find_element(By.CSS_SELECTOR, f'[data-testid="stSlider"] [role="group"][aria-label="{name}"]')
        value = lambda: driver.find_element(By.CSS_SELECTOR, f'input[type="range"][aria-label="{name}"]').get_attribute('value')
        t = time.perf_counter()
        ActionChains(driver).move_to_element(track).click_and_hold().move_by_offset(track.size['width'] // 4, 0).release().perform()
        wait.until(lambda d: face() != before)
        round_trip = time.perf_counter() - t
        assert float(value()) > 0.5, value()
        assert face() != before
        shot = Path(os.environ.get('WGANFACE_SCREENSHOT', tmp_path/'app.png'))
        time.sleep(1)  # let the rerun's last elements settle, so the screenshot shows the page, not its fading
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        print(f'browser round trip (slider dragged to a new face shown): {round_trip:.2f} s; screenshot {shot}')
    finally: driver.quit()
