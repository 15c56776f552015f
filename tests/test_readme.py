"""The README's tour runs as written."""
import os
import re

import numpy as np

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def test_readme_tour_runs(tmp_path, monkeypatch, capsys):
    code = re.findall(r"```python\n(.*?)```", open(README, encoding="utf-8").read(), re.S)[0]
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["history"].history["accuracy"][-1] > 0.7
    assert np.all(np.isfinite(scope["flow"].dh_norm))
    first_line = capsys.readouterr().out.splitlines()[0]
    assert first_line == "(3, 4) (4, 2)"
