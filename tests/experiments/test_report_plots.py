"""Reports without matplotlib: tables still written, a note instead of a traceback."""

import sys

from anrc.experiments import report, robustness


def test_no_matplotlib_means_no_plots(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import raises ImportError
    assert report._plots(None, {}, tmp_path) == []
    assert robustness._plot({}, [], tmp_path) == []
    assert "matplotlib is not installed" in capsys.readouterr().err
