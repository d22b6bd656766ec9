"""`pyrometer run` and `pyrometer report` from the outside, in subprocesses."""
import json
import re
import os
import pstats
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import run_python

SHOW_ENV = '''
import json, sys
print(json.dumps({"argv": sys.argv, "name": __name__, "path0": sys.path[0]}))
'''


def pyrometer(*args, **kw):
    return run_python(["-m", "pyrometer", *args], **kw)


def write(tmp_path, name, source):
    p = tmp_path / name
    p.write_text(textwrap.dedent(source))
    return p


def test_script_sees_what_python_gives_it(tmp_path):
    script = write(tmp_path, "show.py", SHOW_ENV)
    direct = run_python([str(script), "a", "--b"], cwd=tmp_path)
    out = tmp_path / "out.prof"
    profiled = pyrometer("run", "-o", str(out), str(script), "a", "--b", cwd=tmp_path)
    assert profiled.returncode == 0, profiled.stderr
    assert json.loads(profiled.stdout) == json.loads(direct.stdout)
    [line] = profiled.stderr.strip().splitlines()
    assert re.fullmatch(re.escape(f"pyrometer: profile written to {out}: ") +
                        r"\d+ functions, \d+ calls, [0-9.]+ (s|ms|µs) profiled", line), line
    stats = pstats.Stats(str(out))
    assert any(k[2] == "<module>" for k in stats.stats)


def test_module_sees_what_python_gives_it(tmp_path):
    write(tmp_path, "showmod.py", SHOW_ENV)
    direct = run_python(["-m", "showmod", "x"], cwd=tmp_path)
    profiled = pyrometer("run", "-o", str(tmp_path / "m.prof"), "-m", "showmod", "x",
                         cwd=tmp_path)
    assert profiled.returncode == 0, profiled.stderr
    assert json.loads(profiled.stdout) == json.loads(direct.stdout)


def test_code_sees_what_python_gives_it(tmp_path):
    direct = run_python(["-c", SHOW_ENV, "y"], cwd=tmp_path)
    profiled = pyrometer("run", "-o", str(tmp_path / "c.prof"), "-c", SHOW_ENV, "y",
                         cwd=tmp_path)
    assert profiled.returncode == 0, profiled.stderr
    assert json.loads(profiled.stdout) == json.loads(direct.stdout)


@pytest.mark.parametrize("body, code", [
    ("import sys\nsys.exit(3)", 3),
    ("import sys\nsys.exit('bye')", 1),
    ("raise SystemExit", 0),
    ("def f():\n    raise RuntimeError('nope')\nf()", 1),
])
def test_exit_status_and_file_on_every_ending(tmp_path, body, code):
    script = write(tmp_path, "end.py", "print('hello')\n" + body + "\n")
    direct = run_python([str(script)])
    out = tmp_path / "end.prof"
    profiled = pyrometer("run", "-o", str(out), str(script))
    assert profiled.returncode == direct.returncode == code
    assert profiled.stdout == direct.stdout
    # the program's own stderr (message or traceback) is unchanged
    ours = re.sub(re.escape(f"pyrometer: profile written to {out}: ") + r".*\n", "",
                  profiled.stderr)
    assert ours == direct.stderr
    assert pstats.Stats(str(out)).total_calls > 0


def wait_for(path, timeout=30):
    deadline = time.time() + timeout
    while not path.exists():
        assert time.time() < deadline, "program did not start"
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_still_writes_the_profile(tmp_path, sig):
    ready = tmp_path / "ready"
    script = write(tmp_path, "sleepy.py", f'''
        import time
        def spin():
            open({str(ready)!r}, "w").close()
            while True:
                time.sleep(0.01)
        spin()
    ''')
    out = tmp_path / "sig.prof"
    # A shell's background job starts with SIGINT ignored, and Python keeps
    # it so: give the program the disposition a terminal would.
    proc = subprocess.Popen([sys.executable, "-m", "pyrometer", "run", "-o", str(out),
                             str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=lambda: signal.signal(sig, signal.SIG_DFL))
    try:
        wait_for(ready)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == -sig          # dies of the signal, as Python would
    stats = pstats.Stats(str(out)).stats
    assert any(k[2] == "spin" for k in stats), err
    assert not [p for p in os.listdir(tmp_path) if "pyrometer-tmp" in p]


def test_threads_finishing_after_main_are_profiled(tmp_path):
    script = write(tmp_path, "late.py", '''
        import threading, time
        def late_work():
            time.sleep(0.2)
            return sum(range(10))
        threading.Thread(target=late_work).start()
    ''')
    out = tmp_path / "late.prof"
    r = pyrometer("run", "-o", str(out), str(script))
    assert r.returncode == 0, r.stderr
    assert any(k[2] == "late_work" for k in pstats.Stats(str(out)).stats)


def test_no_builtins_option(tmp_path):
    script = write(tmp_path, "b.py", "x = [len('ab') for _ in range(3)]\n")
    out = tmp_path / "b.prof"
    r = pyrometer("run", "--no-builtins", "-o", str(out), str(script))
    assert r.returncode == 0, r.stderr
    assert not any(k[0] == "~" for k in pstats.Stats(str(out)).stats)


@pytest.mark.parametrize("args", [
    ["run", "does-not-exist.py"],
    ["run", "--frobnicate", "x.py"],
    ["run"],
    ["run", "--sort", "bogus", "x.py"],
    ["run", "--limit", "ten", "x.py"],
    ["run", "--clock", "sundial", "x.py"],
    ["report", "does-not-exist.prof"],
    ["report"],
    ["launch"],
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args):
    write(tmp_path, "x.py", "print('ran')\n")
    r = pyrometer(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyrometer: error:"), r.stderr


def test_bad_input_overwrites_nothing(tmp_path):
    out = tmp_path / "keep.prof"
    out.write_bytes(b"precious")
    r = pyrometer("run", "-o", str(out), str(tmp_path / "missing.py"))
    assert r.returncode == 2
    assert out.read_bytes() == b"precious"


def test_unwritable_output_is_refused_before_running(tmp_path):
    script = write(tmp_path, "x.py", "print('ran')\n")
    r = pyrometer("run", "-o", str(tmp_path / "no" / "such" / "dir.prof"), str(script))
    assert r.returncode == 2 and "ran" not in r.stdout


def test_decorator_writes_one_file_per_call(tmp_path):
    script = write(tmp_path, "dec.py", '''
        import pyrometer
        @pyrometer.profile("locations_download.prof")
        def location_export(n):
            return sorted(range(n))
        for _ in range(3):
            location_export(100)
    ''')
    r = run_python([str(script)], env=dict(os.environ, PYROMETER_DIR=str(tmp_path / "profiles")))
    assert r.returncode == 0, r.stderr
    files = sorted(os.listdir(tmp_path / "profiles"))
    assert len(files) == 3
    assert all(f.startswith("locations_download-") and f.endswith(".prof") for f in files)
    st = pstats.Stats(str(tmp_path / "profiles" / files[0])).stats
    assert any(k[2] == "location_export" for k in st)


def test_decorator_probability_and_limit(tmp_path):
    script = write(tmp_path, "prod.py", '''
        import pyrometer
        @pyrometer.profile("never.prof", probability=0.0)
        def never():
            pass
        @pyrometer.profile("capped.prof", limit=2)
        def capped():
            pass
        for _ in range(5):
            never(); capped()
    ''')
    r = run_python([str(script)], env=dict(os.environ, PYROMETER_DIR=str(tmp_path)))
    assert r.returncode == 0, r.stderr
    names = os.listdir(tmp_path)
    assert not [n for n in names if n.startswith("never")]
    assert len([n for n in names if n.startswith("capped")]) == 2


@pytest.mark.parametrize("content", [b"", b"hello, not a profile\n", b"\x89PNG\r\n\x1a\n....",
                                     b"\xfb\x02\x00\x00\x00"])
def test_report_refuses_foreign_files(tmp_path, content):
    bad = tmp_path / "bad.prof"
    bad.write_bytes(content)
    r = pyrometer("report", str(bad))
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyrometer: error:"), r.stderr
    assert bad.read_bytes() == content


def test_report_reads_cprofile_files(tmp_path):
    script = write(tmp_path, "c.py", "def g():\n    return 1\nfor _ in range(3):\n    g()\n")
    out = tmp_path / "c.prof"
    r = run_python(["-m", "cProfile", "-o", str(out), str(script)])
    assert r.returncode == 0, r.stderr
    r = pyrometer("report", str(out), "--sort", "calls")
    assert r.returncode == 0, r.stderr
    assert "c.py:1(g)" in r.stdout and "function calls" in r.stdout


def test_report_without_outfile_is_printed(tmp_path):
    script = write(tmp_path, "p.py", "def g():\n    return 1\nprint(sum(g() for _ in range(3)))\n")
    r = pyrometer("run", "--sort", "tottime", "--limit", "3", str(script))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("3\n")
    assert "Ordered by: internal time" in r.stdout
    head = next(line for line in r.stdout.splitlines() if line.endswith("(function)"))
    assert head.split() == ["ncalls", "tottime", "percall", "cumtime", "percall", "%",
                            "filename:lineno(function)"], head
