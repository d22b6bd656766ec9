"""Calibrations kept between processes (runtime/calibration_store.h): the
second process loads what the first measured and only checks it; a folder
others may write to, a planted link or a damaged file is never trusted and
never breaks the profiler; an empty PYROMETER_CACHE_DIR keeps nothing."""
import json
import os

import pytest

from conftest import run_python

PROGRAM = r'''
import json, pyrometer
def f(x):
    return x
p = pyrometer.Profiler()
p.enable()
for i in range(1000):
    f(i)
p.disable()
info = p.info()
lp = pyrometer.LineProfiler(f)
lp.enable(); f(1); lp.disable()
print(json.dumps({"attempts": info["calibration_attempts"], "cost": info["overhead_ns"],
                  "rejected": info["calibration_rejected"],
                  "calls": p.get_stats()[next(k for k in p.get_stats() if k[2] == "f")][1]}))
'''


def run(cache):
    env = dict(os.environ, PYROMETER_CACHE_DIR=str(cache))
    r = run_python(["-c", PROGRAM], env=env)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    return json.loads(r.stdout)


def stored(cache):
    return sorted(p.name.rsplit("-", 1)[0] for p in cache.iterdir())


def test_the_next_process_loads_the_calibration(tmp_path):
    cache = tmp_path / "cache"
    first = run(cache)
    assert first["attempts"] >= 1
    names = stored(cache)
    assert "calibration-lines-tsc" in names or "calibration-lines-monotonic" in names
    if first["rejected"] * 4 > 33:
        pytest.skip("the machine was too busy for a calibration worth keeping")
    assert any(n.startswith("calibration-function-") for n in names)
    second = run(cache)
    if second["attempts"] == 0:      # loaded and checked (else: no longer fits)
        assert second["calls"] == 1000
        assert (cache.stat().st_mode & 0o777) == 0o700


def tampered(cache, factor):
    """Multiply the stored built-in costs and checks (kinds 1 and 2 of the
    enter, leave and check values) by factor."""
    for p in cache.iterdir():
        if not p.name.startswith("calibration-function-"):
            continue
        head, values = p.read_text().rsplit("values ", 1)
        v = [float(x) for x in values.split()]
        kinds = 3
        for block in (0, 1, 3):
            for kind in (1, 2):
                v[block * kinds + kind] *= factor
        p.write_text(head + "values " + " ".join(repr(x) for x in v) + "\n")
        return True
    return False


def test_a_stored_calibration_wrong_on_built_ins_is_measured_again(tmp_path):
    # the quick check covers every kind of call: a calibration right on
    # Python calls and wrong on built-in calls is not loaded
    cache = tmp_path / "cache"
    run(cache)
    if not tampered(cache, 2.0):
        pytest.skip("the machine was too busy for a calibration worth keeping")
    again = run(cache)
    assert again["attempts"] >= 1 and again["calls"] == 1000


DAMAGED = {
    "empty": b"", "garbage": b"garbage\n", "zeros": b"\x00" * 5000,
    "short": b"pyrometer-calibration 1\nid x\nvalues 1 2\n",
    "odd-values": b"pyrometer-calibration 1\nid " + b"A" * 3000 + b"\nvalues nan inf -1 1e300\n",
}


@pytest.mark.parametrize("kind", sorted(DAMAGED))
def test_damaged_files_are_measured_again(tmp_path, kind):
    content = DAMAGED[kind]
    cache = tmp_path / "cache"
    run(cache)
    for p in cache.iterdir():
        p.write_bytes(content)
    again = run(cache)
    assert again["attempts"] >= 1 and again["calls"] == 1000
    for p in cache.iterdir():      # kept again when the new one was calm
        data = p.read_bytes()
        assert data == content or data.startswith(b"pyrometer-calibration 1\nid "), kind


def test_links_and_open_folders_are_not_trusted(tmp_path):
    cache = tmp_path / "cache"
    run(cache)
    target = tmp_path / "elsewhere"
    for p in cache.iterdir():
        target.write_bytes(p.read_bytes())
        p.unlink()
        p.symlink_to(target)        # a planted link: not read, replaced
    kept = target.read_bytes()
    assert run(cache)["attempts"] >= 1
    assert target.read_bytes() == kept      # never written through the link
    open_folder = tmp_path / "open"
    open_folder.mkdir(mode=0o777)
    os.chmod(open_folder, 0o777)
    assert run(open_folder)["attempts"] >= 1
    assert list(open_folder.iterdir()) == []   # others could plant files there


def test_an_empty_setting_keeps_nothing(tmp_path):
    env = dict(os.environ, PYROMETER_CACHE_DIR="", HOME=str(tmp_path),
               XDG_CACHE_HOME=str(tmp_path / "xdg"))
    r = run_python(["-c", PROGRAM], env=env)
    assert r.returncode == 0, r.stderr
    assert list(tmp_path.iterdir()) == []
