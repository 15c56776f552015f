"""A character-level LSTM writes text in the style of Python's own documentation, in the Keras 2 style.

The text is the language reference that ships with Python (the topics of pydoc's help, ``pydoc_data.topics``;
the Zen of Python if that module is missing), lowercased. The model reads MAXLEN characters and predicts the
next one; after every epoch a LambdaCallback prints text generated from a random seed sentence at several
temperatures (how far the sampling departs from the most likely character: low is cautious and repetitive,
high is inventive and misspelt).

This is a Keras 2 program: only its import lines differ from Keras 2.0/2.1, where they read

    from keras.callbacks import LambdaCallback
    from keras.models import Sequential
    from keras.layers import Dense, Activation
    from keras.layers import LSTM
    from keras.optimizers import RMSprop

EXAMPLES_QUICK=1 in the environment shrinks the data and the training to a few seconds (a smoke test).
"""
import os
import random
import sys

import numpy as np

from optim.callbacks import LambdaCallback
from layers import Sequential
from layers import Dense, Activation
from layers import LSTM
from optim import RMSprop

QUICK = os.environ.get("EXAMPLES_QUICK") == "1"

np.random.seed(1337)  # Keras' way of making the run repeatable
random.seed(1337)

try:
    from pydoc_data.topics import topics
    text = "\n\n".join(topics[name] for name in sorted(topics))
except ImportError:  # some Python builds leave pydoc's topics out
    import codecs
    import this
    text = codecs.decode(this.s, "rot13")
text = text.lower()[:(5000 if QUICK else 150000)]
print("corpus length:", len(text))

chars = sorted(set(text))
print("total chars:", len(chars))
char_indices = {c: i for i, c in enumerate(chars)}
indices_char = {i: c for i, c in enumerate(chars)}

# cut the text into semi-redundant sequences of MAXLEN characters, each followed by the character to predict
MAXLEN = 40
STEP = 3
sentences = [text[i: i + MAXLEN] for i in range(0, len(text) - MAXLEN, STEP)]
next_chars = [text[i + MAXLEN] for i in range(0, len(text) - MAXLEN, STEP)]
print("nb sequences:", len(sentences))

print("Vectorization...")
x = np.zeros((len(sentences), MAXLEN, len(chars)), dtype=bool)
y = np.zeros((len(sentences), len(chars)), dtype=bool)
for i, sentence in enumerate(sentences):
    for t, char in enumerate(sentence):
        x[i, t, char_indices[char]] = 1
    y[i, char_indices[next_chars[i]]] = 1

print("Build model...")
model = Sequential()
model.add(LSTM(16 if QUICK else 128, input_shape=(MAXLEN, len(chars))))
model.add(Dense(len(chars)))
model.add(Activation("softmax"))
model.compile(loss="categorical_crossentropy", optimizer=RMSprop(lr=0.01))


def sample(preds, temperature=1.0):
    """An index drawn from the probabilities ``preds`` sharpened (temperature < 1) or flattened (> 1)."""
    logits = np.log(np.asarray(preds, dtype="float64") + 1e-12) / temperature
    probs = np.exp(logits - logits.max())
    return int(np.argmax(np.random.multinomial(1, probs / probs.sum(), 1)))


def on_epoch_end(epoch, logs):
    """Print text generated from a random seed sentence at a few temperatures."""
    print()
    print(f"----- Generating text after Epoch: {epoch}")
    start = random.randint(0, len(text) - MAXLEN - 1)
    for temperature in [0.2, 0.5, 1.0, 1.2]:
        print("----- temperature:", temperature)
        sentence = text[start: start + MAXLEN]
        print('----- Generating with seed: "' + sentence + '"')
        sys.stdout.write(sentence)
        for _ in range(40 if QUICK else 300):
            x_pred = np.zeros((1, MAXLEN, len(chars)))
            for t, char in enumerate(sentence):
                x_pred[0, t, char_indices[char]] = 1.
            preds = model.predict(x_pred, verbose=0)[0]
            next_char = indices_char[sample(preds, temperature)]
            sentence = sentence[1:] + next_char
            sys.stdout.write(next_char)
            sys.stdout.flush()
        print()


print_callback = LambdaCallback(on_epoch_end=on_epoch_end)

history = model.fit(x, y, batch_size=128, epochs=1 if QUICK else 20, callbacks=[print_callback])
print("Loss per epoch:", " ".join(f"{v:.3f}" for v in history.history["loss"]))
