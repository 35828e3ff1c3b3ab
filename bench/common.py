"Small helpers the benchmark scripts share"
import multiprocessing, resource, tempfile
from pathlib import Path


def peak_rss_mb() -> float:
    "Peak resident memory of this process so far, in MB"
    # VmHWM, not ru_maxrss: Linux carries the parent's peak into ru_maxrss across the fork+exec that starts a spawned worker
    status = Path('/proc/self/status')
    if status.exists():
        return next(int(l.split()[1]) for l in status.read_text().splitlines() if l.startswith('VmHWM')) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # macOS: bytes


def run_stages(run_stage, stages, *args) -> list:
    "`run_stage(stage, *args, folder)` for each stage, each in a fresh process (so its peak RSS is its own), into one temporary folder"
    spawn = multiprocessing.get_context('spawn')
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for stage in stages:
            with spawn.Pool(1) as pool: rows.append(pool.apply(run_stage, (stage, *args, folder)))
    return rows


def print_stages(rows, names:dict):
    "The table of what each stage did: frames, seconds, frames/s, peak RSS and the size of the files it wrote"
    w = max(map(len, names.values())) + 2
    print(f"{'stage':<{w}}{'frames':>7}{'seconds':>9}{'frames/s':>10}{'peak RSS MB':>13}{'files MB':>10}")
    for r in rows:
        print(f"{names[r['stage']]:<{w}}{r['n_frames']:>7}{r['seconds']:>9.1f}{r['n_frames'] / r['seconds']:>10.0f}"
              f"{r['rss_mb']:>13.0f}{r['file_mb']:>10.1f}")
