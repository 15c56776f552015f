"""A stateful LSTM remembers across batches what a stateless one cannot see, in the Keras 2 style.

Long noisy signals are cut into chunks of TSTEPS steps, and after each chunk the model must give the mean of the
last LAHEAD = 2 * TSTEPS values of its signal: half of them lie in the previous chunk. BATCH_SIZE signals run
side by side, one per row of every batch (sample i of batch k+1 continues sample i of batch k), so a stateful
LSTM (batch_input_shape, stateful=True) carries what it read to the next batch; it is trained with shuffle=False
and its states are reset before each pass over the signals. A stateless LSTM trained on the same chunks sees
only the current chunk: the best it can do leaves the variance of the unseen half, which the program prints
beside both models' errors.

This is a Keras 2 program: only its import lines differ from Keras 2.0/2.1, where they read

    from keras.models import Sequential
    from keras.layers import Dense, LSTM

EXAMPLES_QUICK=1 in the environment shrinks the data and the training to a few seconds (a smoke test).
"""
import os

import numpy as np

from layers import Sequential
from layers import Dense, LSTM

QUICK = os.environ.get("EXAMPLES_QUICK") == "1"

np.random.seed(1337)  # Keras' way of making the run repeatable

TSTEPS = 5            # steps per chunk: what one sample of a batch holds
LAHEAD = 2 * TSTEPS   # the target averages this many of the latest values
BATCH_SIZE = 16 if QUICK else 32   # signals side by side
CHUNKS = 8 if QUICK else 300       # chunks per signal
EPOCHS = 1 if QUICK else 12
UNITS = 8 if QUICK else 32


def make_chunks(signals):
    """Signals (BATCH_SIZE, LAHEAD + CHUNKS * TSTEPS) -> inputs (CHUNKS * BATCH_SIZE, TSTEPS, 1) ordered so that
    batch k holds chunk k of every signal, and targets (CHUNKS * BATCH_SIZE, 1): the mean of the LAHEAD values
    up to each chunk's end. The first LAHEAD values only feed the first targets."""
    inputs, targets = [], []
    for k in range(CHUNKS):
        end = LAHEAD + (k + 1) * TSTEPS
        inputs.append(signals[:, end - TSTEPS:end, None])
        targets.append(signals[:, end - LAHEAD:end].mean(axis=1, keepdims=True))
    return np.concatenate(inputs), np.concatenate(targets)


def signals():
    return np.random.uniform(-1, 1, size=(BATCH_SIZE, LAHEAD + CHUNKS * TSTEPS)).astype("float32")


x_train, y_train = make_chunks(signals())
x_test, y_test = make_chunks(signals())
print("Input shape:", x_train.shape, "target shape:", y_train.shape)
# the stateless model's best: the part of the window before the chunk is unknown to it
unseen = (LAHEAD - TSTEPS) / float(LAHEAD)
floor = unseen ** 2 * (1 / 3.0) / (LAHEAD - TSTEPS)   # uniform(-1, 1) has variance 1/3
print(f"Target variance: {y_test.var():.4f}; a stateless model's floor: {floor:.4f}")

print("Creating the stateful model...")
model = Sequential()
model.add(LSTM(UNITS, batch_input_shape=(BATCH_SIZE, TSTEPS, 1), return_sequences=True, stateful=True))
model.add(LSTM(UNITS, stateful=True))
model.add(Dense(1))
model.compile(loss="mse", optimizer="adam")

print("Training")
for i in range(EPOCHS):
    print("Epoch", i + 1, "/", EPOCHS)
    # each pass reads the signals from their start: fresh states, batches in order
    model.reset_states()
    model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=1, verbose=1, shuffle=False)

model.reset_states()
predicted = model.predict(x_test, batch_size=BATCH_SIZE)
stateful_mse = np.mean((predicted - y_test) ** 2)

print("Creating the stateless model...")
stateless = Sequential()
stateless.add(LSTM(UNITS, input_shape=(TSTEPS, 1), return_sequences=True))
stateless.add(LSTM(UNITS))
stateless.add(Dense(1))
stateless.compile(loss="mse", optimizer="adam")
stateless.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=1)
stateless_mse = stateless.evaluate(x_test, y_test, batch_size=BATCH_SIZE, verbose=0)

print()
print(f"Test MSE: stateful {stateful_mse:.4f}, stateless {stateless_mse:.4f} "
      f"(its floor {floor:.4f}; predicting 0: {np.mean(y_test ** 2):.4f})")
