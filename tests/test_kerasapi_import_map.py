"""docs/keras.md: every name of its import map resolves here, and its example script runs."""
import importlib
import os
import re

import numpy as np
import pytest

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "keras.md")
with open(DOC, encoding="utf-8") as f:
    TEXT = f.read()

# Names of the contract that arrive with the models, cells and training work and are not in this build yet; each
# turns into an unexpected pass (a failure, strict) once it exists, so this set must then lose it.
NOT_YET = set()


def map_rows():
    """(Keras name, name here) for every name in the table of the section 'Every name'."""
    section = TEXT.split("## Every name", 1)[1]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or not cells[0].startswith("`keras"):
            continue
        keras_name = re.match(r"`([\w.]+)`", cells[0]).group(1)
        for here in re.findall(r"`([\w.]+)`", cells[1]):
            rows.append((keras_name, here))
    return rows


def resolve(dotted):
    """Import the longest module prefix of ``dotted``, then read the remaining attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


ROWS = map_rows()


def test_the_map_covers_keras2():
    keras_names = {k for k, _ in ROWS}
    assert len(ROWS) > 150
    for expected in ("keras.models.Sequential", "keras.layers.core.RepeatVector", "keras.layers.merge.concatenate",
                     "keras.layers.embeddings.Embedding", "keras.layers.wrappers.TimeDistributed",
                     "keras.losses.cosine_proximity", "keras.metrics.top_k_categorical_accuracy",
                     "keras.callbacks.CSVLogger", "keras.utils.np_utils.to_categorical",
                     "keras.preprocessing.sequence.pad_sequences", "keras.initializers.Orthogonal"):
        assert expected in keras_names


@pytest.mark.parametrize("keras_name, here", [
    pytest.param(k, h, marks=pytest.mark.xfail(strict=True, raises=(AttributeError, ModuleNotFoundError),
                                               reason="arrives with parallel work"))
    if h in NOT_YET else (k, h) for k, h in ROWS], ids=[f"{k}->{h}" for k, h in ROWS])
def test_every_row_resolves(keras_name, here):
    obj = resolve(here)
    assert obj is not None
    last = keras_name.rsplit(".", 1)[1]
    assert here.rsplit(".", 1)[1] == last  # the same name as in Keras
    module = here.split(".")[1]
    if here.count(".") == 2 and module in ("core", "recurrent", "embeddings", "wrappers", "merge"):
        assert obj is resolve(f"layers.{last}")  # layers.core.X is layers.X, as keras.layers.core.X is keras.layers.X


def test_module_paths_name_the_same_objects():
    import layers
    import optim
    assert layers.core.Dense is layers.Dense and layers.embeddings.Embedding is layers.Embedding
    assert layers.recurrent.LSTM is layers.LSTM and layers.merge.Add is layers.Add
    assert optim.optimizers.Adam is optim.Adam
    assert layers.utils.np_utils.to_categorical is layers.utils.to_categorical


def test_doc_example_runs():
    code = re.findall(r"```python\n(.*?)```", TEXT, re.S)[1]
    assert "from layers" in code and "keras" not in code
    scope = {}
    exec(compile(code, DOC, "exec"), scope)
    assert scope["x"].shape == (256, 20) and scope["x"].dtype == np.int32
    assert scope["y"].shape == (256, 2)
    assert np.isfinite(scope["loss"]) and 0. <= scope["acc"] <= 1.
    assert len(scope["history"].history["loss"]) == 3


def test_doc_points_only_inside_the_repository():
    for link in re.findall(r"\]\(([^)]+)\)", TEXT):
        assert not link.startswith(".."), link
