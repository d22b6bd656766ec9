import pyrometer


def test_import():
    assert pyrometer.Profiler
