"""What the examples share: their command-line options, the output folder, BLAS threads and plotting.

Every example imports this module *before* numpy (``import _common`` comes first), because it

* puts the repository on ``sys.path``, so ``python examples/<name>.py`` runs from a checkout, installed or not;
* asks BLAS for one thread. The examples multiply small matrices (a batch of 32 rows by 128 units), where
  OpenBLAS's worker threads cost more than they save: on 2 busy cores the character model trained 8x slower
  with two BLAS threads than with one. Setting any of ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or
  ``MKL_NUM_THREADS`` yourself overrides this; it only works before numpy is first imported.

Every example takes ``--out DIR`` (default ``./out/<example name>``), ``--epochs N`` and ``--seed N``, and writes
its plots as PNG files with matplotlib's Agg backend (no display needed). Without matplotlib it still runs and
prints a note instead of plotting.
"""
import argparse
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
if not any(var in os.environ for var in _THREAD_VARS):
    for _var in _THREAD_VARS:
        os.environ[_var] = "1"


def positive_int(text):
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def positive_float(text):
    """argparse type: a float > 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def non_negative_int(text):
    """argparse type: an integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def make_parser(name, doc, epochs, epochs_help="training epochs (default: %(default)s)"):
    """An ArgumentParser with the options every example takes: --out, --epochs, --seed.

    name: the example's name (its default output folder is ``./out/<name>``); doc: the module docstring (its
    first line is the description, the rest is shown after the options); epochs: the default epoch count (a
    default of 0 means "0 is meaningful here", and then 0 is accepted on the command line too).
    """
    first, _, rest = doc.strip().partition("\n")
    p = argparse.ArgumentParser(prog=f"{name}.py", description=first, epilog=rest,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join("out", name), metavar="DIR",
                   help="folder for the PNG plots and other outputs (default: %(default)s)")
    p.add_argument("--epochs", type=non_negative_int if epochs == 0 else positive_int, default=epochs,
                   metavar="N", help=epochs_help)
    p.add_argument("--seed", type=int, default=0,
                   help="random seed: the same seed gives the same run (default: %(default)s)")
    return p


def out_dir(path):
    """Create the output folder (and its parents) if needed; returns the path."""
    os.makedirs(path, exist_ok=True)
    return path


def pyplot():
    """matplotlib.pyplot on the Agg backend (PNG files, no display), or None, with a printed note, when
    matplotlib is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed, so no plots are written (pip install matplotlib, "
              "or pip install -e '.[plot]')")
        return None
    return plt


def save_figure(fig, path):
    """Write ``fig`` to ``path`` as PNG and close it."""
    import matplotlib.pyplot as plt
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")  # "tight": legends placed outside the axes are kept
    plt.close(fig)
    print(f"wrote {path}")
