"""Smoke test of examples/seq2seq_addition.py: one epoch of a tiny configuration runs end to end."""
import os
import subprocess
import sys

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "seq2seq_addition.py")


def test_seq2seq_example_runs_one_epoch(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, EXAMPLE, "--epochs", "1", "--digits", "2", "--samples", "300", "--test", "50",
         "--units", "16", "--batch-size", "64", "--out", str(out)],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "exact-match accuracy" in proc.stdout and "Connected to" in proc.stdout
    assert "Epoch 1/1" in proc.stdout  # the progress bar (fit verbose=1)
    text = (out / "results.txt").read_text()
    assert "held-out exact-match accuracy" in text and "loss per epoch" in text
