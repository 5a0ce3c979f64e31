"""Progress feedback: plain lines when not on a terminal, a tqdm bar on one."""

import io

from anrc.progress import progress


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_plain_lines_every_tenth():
    out = io.StringIO()
    assert list(progress(range(100), desc="work", unit="x", stream=out)) == list(range(100))
    lines = out.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[-1].startswith("work: 100/100 x (100%)") and "ETA 0:00" in lines[-1]


def test_unknown_total_reports_every_n():
    out = io.StringIO()
    list(progress(iter(range(25)), desc="w", stream=out, every=10))
    assert [ln.split(",")[0] for ln in out.getvalue().splitlines()] == ["w: 10 it", "w: 20 it"]


def test_a_terminal_gets_a_bar():
    out = _Tty()
    assert list(progress(range(5), desc="bar", stream=out)) == list(range(5))
    assert "bar:" in out.getvalue() and "0/5" in out.getvalue() and "it/s" in out.getvalue()
