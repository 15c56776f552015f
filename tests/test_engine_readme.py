"""The README's section on saving and resuming runs as written."""
import os
import re

import numpy as np
import pytest

import minigrad as mg

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def test_saving_section_runs(tmp_path, monkeypatch):
    pytest.importorskip("h5py")
    text = open(README, encoding="utf-8").read()
    section = text[text.index("## Saving, resuming and Keras files"):]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    monkeypatch.chdir(tmp_path)
    mg.seed(0)
    scope = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert sorted(os.listdir(tmp_path)) == ["run.npz", "weights.h5"]
    np.testing.assert_array_equal(scope["twin"].predict(scope["x"]), scope["model"].predict(scope["x"]))
    assert scope["resumed"].optimizer.iterations == 3  # 2 steps saved, 1 more after the load
