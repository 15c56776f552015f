"""A character-level LSTM language model that learns to write the Zen of Python.

    python examples/char_rnn.py                         # the main demo: about 11 s on 2 cores
    python examples/char_rnn.py --epochs 40 --temperature 0.8 --prime "Errors "
    python examples/char_rnn.py --module textwrap --step 4 --epochs 8   # Python-ish code from a stdlib module
    python examples/char_rnn.py --text my_notes.txt --seq-len 64 --epochs 10 --out out/notes

The text (by default the Zen of Python, which ships with Python as the `this` module) is cut into windows of
--seq-len characters. The model reads a window and predicts, at every position, the character that comes next:

    ids (batch, T)  -> Embedding         -> (batch, T, 32)     one learned vector per character
                    -> LSTM(128, return_sequences=True)
                                         -> (batch, T, 128)    a summary of everything read so far
                    -> TimeDistributed(Dense(vocab, softmax))
                                         -> (batch, T, vocab)  probabilities of the next character

The targets are the same window shifted one character to the left, and the loss is
sparse_categorical_crossentropy: minus the log probability given to the character that really came next.

After every epoch the model writes a sample: starting from --prime it predicts the next character's
probabilities, sharpens them (temperature < 1) or flattens them (temperature > 1), draws a character, appends it
and repeats. The samples start as noise and turn into the Zen within a few epochs.

Writes loss.png (the loss per batch and per epoch) and samples.txt to --out. Exits with status 1 if the final
loss is not clearly below the first epoch's, i.e. the model failed to learn.
"""
import _common  # first: puts the repository on sys.path and limits BLAS threads (see _common.py)

import codecs
import contextlib
import importlib
import inspect
import io
import math
import os
import sys
import time

import numpy as np

import minigrad as mg
from layers import LSTM, Dense, Embedding, Sequential, TimeDistributed
from optim import Adam, RMSprop
from optim.callbacks import LambdaCallback, ProgbarLogger

NAME = "char_rnn"
DEFAULT_EPOCHS = 20
IMPROVEMENT = 0.9  # the final loss must be at most this fraction of the first epoch's


# ------------------------------------------------------------------ the text

def zen_of_python():
    """The Zen of Python. The `this` module holds it rot13-encoded and prints it when first imported."""
    with contextlib.redirect_stdout(io.StringIO()):  # keep the import quiet: we only want the text
        import this
    return codecs.decode(this.s, "rot13")


def load_text(args):
    if args.text:
        with open(args.text, encoding="utf-8") as f:
            return f.read()
    if args.module:
        return inspect.getsource(importlib.import_module(args.module))
    return zen_of_python()


def make_windows(ids, seq_len, step):
    """Inputs and targets for next-character prediction.

    ids: (N,) character ids. Window k starts at k*step: x[k] = ids[s:s+seq_len], y[k] = ids[s+1:s+seq_len+1].
    Returns x, y, both (windows, seq_len) int arrays.
    """
    starts = np.arange(0, len(ids) - seq_len, step)
    x = np.stack([ids[s:s + seq_len] for s in starts])
    y = np.stack([ids[s + 1:s + seq_len + 1] for s in starts])
    return x, y


# ------------------------------------------------------------------ the model

def build_model(vocab_size, args):
    model = Sequential([
        Embedding(vocab_size, args.embed),
        LSTM(args.units, return_sequences=True),
        TimeDistributed(Dense(vocab_size, activation="softmax")),
    ])
    optimizer = {"adam": Adam, "rmsprop": RMSprop}[args.optimizer](lr=args.lr, clipnorm=5.0)
    model.compile(optimizer, "sparse_categorical_crossentropy")
    return model


def sample(model, prime, length, temperature, chars, seq_len):
    """Continue ``prime`` by ``length`` characters drawn one at a time from the model.

    Each step feeds the last ``seq_len`` characters (the context the model was trained on) and uses the
    prediction at the last position. Draws come from ``mg.get_rng()``, so ``mg.seed`` makes samples repeatable.
    """
    index = {ch: i for i, ch in enumerate(chars)}
    ids = [index[ch] for ch in prime]
    rng = mg.get_rng()
    for _ in range(length):
        probs = model.predict(np.array([ids[-seq_len:]]))[0, -1].astype(np.float64)
        logits = np.log(np.maximum(probs, 1e-12)) / temperature  # temperature: < 1 sharpens, > 1 flattens
        p = np.exp(logits - logits.max())
        ids.append(int(rng.choice(len(chars), p=p / p.sum())))
    return "".join(chars[i] for i in ids)


# ------------------------------------------------------------------ the plot

def plot_losses(path, batch_losses, batches_per_epoch, epoch_losses, untrained, vocab_size):
    plt = _common.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(np.arange(1, len(batch_losses) + 1) / batches_per_epoch, batch_losses,
            color="tab:blue", alpha=0.35, lw=1, label="batch")
    # an epoch's mean loss is drawn mid-epoch, among the batches it averages; the untrained loss at 0
    ax.plot(np.concatenate([[0], np.arange(len(epoch_losses)) + 0.5]), [untrained] + list(epoch_losses), "o-",
            color="tab:blue", label="epoch mean (at 0: untrained)")
    ax.axhline(math.log(vocab_size), color="gray", ls="--", lw=1,
               label=f"uniform guess, ln {vocab_size} = {math.log(vocab_size):.2f}")
    ax.set(xlabel="epoch", ylabel="crossentropy (nats per character)", ylim=(0, None),
           title="char_rnn: next-character loss")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend()
    _common.save_figure(fig, path)


# ------------------------------------------------------------------ main

def main(argv=None):
    p = _common.make_parser(NAME, __doc__, DEFAULT_EPOCHS)
    source = p.add_mutually_exclusive_group()
    source.add_argument("--text", metavar="FILE", help="train on this UTF-8 text file instead of the Zen")
    source.add_argument("--module", metavar="NAME", help="train on the source code of this Python module")
    p.add_argument("--seq-len", type=_common.positive_int, default=40,
                   help="characters per window (default: %(default)s)")
    p.add_argument("--step", type=_common.positive_int, default=1,
                   help="characters between window starts (default: %(default)s)")
    p.add_argument("--units", type=_common.positive_int, default=128, help="LSTM units (default: %(default)s)")
    p.add_argument("--embed", type=_common.positive_int, default=32, help="embedding size (default: %(default)s)")
    p.add_argument("--batch-size", type=_common.positive_int, default=32, help="(default: %(default)s)")
    p.add_argument("--optimizer", choices=["adam", "rmsprop"], default="adam", help="(default: %(default)s)")
    p.add_argument("--lr", type=float, default=0.01, help="learning rate (default: %(default)s)")
    p.add_argument("--temperature", type=_common.positive_float, default=0.5,
                   help="sampling temperature of the per-epoch samples (default: %(default)s)")
    p.add_argument("--sample-len", type=_common.positive_int, default=200,
                   help="characters per sample (default: %(default)s)")
    p.add_argument("--prime", default=None,
                   help="text the samples start from (default: the text's first 20 characters)")
    args = p.parse_args(argv)

    start_time = time.perf_counter()
    mg.seed(args.seed)  # initial weights, shuffling and sampling all draw from mg.get_rng()

    # --- data: characters -> ids -> (input window, target window) pairs
    try:
        text = load_text(args)
    except (OSError, ImportError, TypeError, ValueError) as e:  # a missing file, an unknown or built-in module
        p.error(f"cannot read the text: {e}")
    if len(text) <= args.seq_len:
        p.error(f"the text has {len(text)} characters; it needs more than --seq-len {args.seq_len}")
    chars = sorted(set(text))
    index = {ch: i for i, ch in enumerate(chars)}
    ids = np.array([index[ch] for ch in text])
    x, y = make_windows(ids, args.seq_len, args.step)
    prime = text[:20] if args.prime is None else args.prime
    unknown = sorted(set(prime) - set(chars))
    if not prime or unknown:
        p.error(f"--prime must be non-empty and use only characters of the text; unknown: {unknown}")
    print(f"text: {len(text)} characters, {len(chars)} distinct; {len(x)} windows of {args.seq_len}")

    # --- model
    model = build_model(len(chars), args)
    model.summary()
    untrained = model.evaluate(x, y, batch_size=256, verbose=0)
    print(f"loss before training: {untrained:.3f} (a uniform guess scores ln {len(chars)} = "
          f"{math.log(len(chars)):.3f})")

    # --- training, with a sample after every epoch
    out = _common.out_dir(args.out)
    batch_losses, samples = [], []

    def show_sample(epoch, logs):
        text_out = sample(model, prime, args.sample_len, args.temperature, chars, args.seq_len)
        samples.append(f"--- epoch {epoch + 1}, loss {logs['loss']:.3f}, temperature {args.temperature}\n{text_out}")
        print(f"--- sample after epoch {epoch + 1} (temperature {args.temperature}):\n{text_out}\n")

    callbacks = [
        # The progress bar comes first, so each epoch's bar is finished before its sample is printed
        # (fit(verbose=1) would add its bar after our callbacks).
        ProgbarLogger(verbose=1),
        LambdaCallback(on_batch_end=lambda batch, logs: batch_losses.append(logs["loss"]),
                       on_epoch_end=show_sample),
    ]
    history = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, shuffle=True, verbose=0,
                        callbacks=callbacks)
    losses = history.history["loss"]

    # --- final samples at a few temperatures, the loss curve, the verdict
    print("--- final samples")
    for temperature in (0.2, 0.5, 1.0):
        text_out = sample(model, prime, args.sample_len, temperature, chars, args.seq_len)
        samples.append(f"--- final, temperature {temperature}\n{text_out}")
        print(f"temperature {temperature}:\n{text_out}\n")
    with open(os.path.join(out, "samples.txt"), "w", encoding="utf-8") as f:
        f.write("\n\n".join(samples) + "\n")
    print(f"wrote {os.path.join(out, 'samples.txt')}")
    plot_losses(os.path.join(out, "loss.png"), batch_losses, math.ceil(len(x) / args.batch_size), losses,
                untrained, len(chars))

    # with one epoch there is no first-epoch loss to compare to: compare to the untrained model's instead
    reference, what = (losses[0], "the first epoch's") if len(losses) > 1 else (untrained, "the untrained")
    print(f"loss: untrained {untrained:.3f}, first epoch {losses[0]:.3f}, final {losses[-1]:.3f} "
          f"({time.perf_counter() - start_time:.1f} s)")
    if not losses[-1] <= IMPROVEMENT * reference:
        print(f"FAILED: the final loss {losses[-1]:.3f} is not clearly below {what} loss {reference:.3f} "
              f"(needs <= {IMPROVEMENT} x)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
