"""A .prof written by pyrometer opens in the tools people use with cProfile's:
pstats, gprof2dot, pyprof2calltree and SnakeViz."""
import pstats

import pytest

from conftest import PROGRAMS, run_python


@pytest.fixture(scope="module")
def prof_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("viewers") / "objects.prof"
    r = run_python(["-m", "pyrometer", "run", "-o", str(path), str(PROGRAMS / "objects.py")])
    assert r.returncode == 0, r.stderr
    # objects.py only defines main(); run it through -c for a fuller profile
    code = f"import runpy; runpy.run_path({str(PROGRAMS / 'objects.py')!r})['main']()"
    r = run_python(["-m", "pyrometer", "run", "-o", str(path), "-c", code])
    assert r.returncode == 0, r.stderr
    return path


def test_pstats(prof_file):
    st = pstats.Stats(str(prof_file))
    assert st.total_calls > 100
    assert any(k[2] == "shifted" for k in st.stats)


def test_gprof2dot(prof_file, tmp_path):
    pytest.importorskip("gprof2dot")
    out = tmp_path / "g.dot"
    r = run_python(["-m", "gprof2dot", "-n", "0", "-e", "0", "-f", "pstats", str(prof_file),
                    "-o", str(out)])
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert text.startswith("digraph") and "shifted" in text


def test_pyprof2calltree(prof_file, tmp_path):
    pytest.importorskip("pyprof2calltree")
    import cProfile
    if not hasattr(cProfile, "label"):
        pytest.skip("pyprof2calltree calls cProfile.label, which this Python's cProfile "
                    "no longer has (3.15): the viewer itself breaks here")
    out = tmp_path / "p.kgrind"
    r = run_python(["-m", "pyprof2calltree", "-i", str(prof_file), "-o", str(out)])
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "events:" in text and "fn=" in text and "shifted" in text


def test_snakeviz(prof_file):
    stats_mod = pytest.importorskip("snakeviz.stats")
    st = pstats.Stats(str(prof_file))
    rows = stats_mod.table_rows(st)
    assert any("shifted" in str(row) for row in rows)
    assert "shifted" in str(stats_mod.json_stats(st))
