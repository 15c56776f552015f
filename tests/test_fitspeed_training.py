"""The training loop's share of a step (layers/training.py): freed memory stays in the heap between batches, and
the benchmark of whole epochs runs (tiny, without PyTorch or Keras)."""
import ctypes
import ctypes.util
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _glibc_with_mallinfo2():
    if not sys.platform.startswith("linux"):
        return False
    try:
        return hasattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), "mallinfo2")
    except OSError:
        return False


PROBE = textwrap.dedent("""
    import ctypes, ctypes.util, sys
    import numpy as np
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                    "fsmblks", "uordblks", "fordblks", "keepcost")]
    libc.mallinfo2.restype = MallInfo2
    if sys.argv[1] == "model":
        from layers import Dense, Sequential
        Sequential([Dense(2, input_shape=(3,))])
    before = libc.mallinfo2().hblks
    block = np.empty(8 << 20, np.uint8)   # a batch's worth of arrays
    print(libc.mallinfo2().hblks - before)  # 1: malloc mapped it on its own (and unmaps it when freed)
""")


@pytest.mark.skipif(not _glibc_with_mallinfo2(), reason="glibc's malloc (mallinfo2) only")
def test_after_a_model_is_made_batch_sized_arrays_come_from_the_heap():
    def mapped_blocks(mode):
        out = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=ROOT, capture_output=True, text=True,
                             check=True, env={**os.environ, "PYTHONPATH": ROOT})
        return int(out.stdout.strip())
    if mapped_blocks("plain") != 1:  # a fresh process maps (and on free unmaps) every block of 128 KB and more
        pytest.skip("this malloc keeps large blocks in its heap anyway (e.g. MALLOC_MMAP_THRESHOLD_ is set)")
    assert mapped_blocks("model") == 0  # kept in the heap: freeing it leaves the pages for the next batch


def test_training_benchmark_runs_and_checks_the_functions():
    pytest.importorskip("threadpoolctl")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "training_benchmark.py"),
                          "--workloads", "classify32", "--rounds", "1", "--no-torch", "--no-keras", "--breakdown",
                          "--breakdown-epochs", "1"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "classify32" in out.stdout and "recurrent kernel backward" in out.stdout and "FusedRNN" in out.stdout
