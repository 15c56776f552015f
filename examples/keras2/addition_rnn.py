"""An LSTM learns to add: it reads "535+61" character by character and writes "596".

A sequence-to-sequence model in the Keras 2 style: the encoder LSTM reads the question (reversed, which puts the
last digits, where addition starts, nearest the answer), RepeatVector hands its summary to every step of the
decoder LSTM, and a TimeDistributed Dense layer picks one character per step of the answer. After every epoch
ten validation questions are answered with predict_classes and printed next to the right answers.

This is a Keras 2 program: only its import lines differ from Keras 2.0/2.1, where they read

    from keras.models import Sequential
    from keras import layers

EXAMPLES_QUICK=1 in the environment shrinks the data and the training to a few seconds (a smoke test).
"""
import os

import numpy as np

from layers import Sequential
import layers

QUICK = os.environ.get("EXAMPLES_QUICK") == "1"

np.random.seed(1337)  # Keras' way of making the run repeatable

QUESTIONS = 500 if QUICK else 50000
DIGITS = 3
EPOCHS = 1 if QUICK else 30
HIDDEN = 16 if QUICK else 128
BATCH_SIZE = 128
REVERSE = True
QUESTION_LEN = DIGITS + 1 + DIGITS   # "999+999"
ANSWER_LEN = DIGITS + 1              # "1998"
ALPHABET = "0123456789+ "


class CharCodec:
    """One-hot codes of fixed-length strings over an alphabet, and back."""

    def __init__(self, alphabet):
        self.alphabet = alphabet
        self.index = {c: i for i, c in enumerate(alphabet)}

    def encode(self, text, length):
        codes = np.zeros((length, len(self.alphabet)), dtype=bool)
        for t, char in enumerate(text):
            codes[t, self.index[char]] = True
        return codes

    def decode(self, ids):
        return "".join(self.alphabet[i] for i in ids)


def random_number():
    """A number of 1 to DIGITS digits (each length equally likely)."""
    return np.random.randint(0, 10 ** np.random.randint(1, DIGITS + 1))


print("Generating questions...")
seen = set()
questions, answers = [], []
while len(questions) < QUESTIONS:
    a, b = random_number(), random_number()
    if (min(a, b), max(a, b)) in seen:  # a+b and b+a are the same question
        continue
    seen.add((min(a, b), max(a, b)))
    question = f"{a}+{b}".ljust(QUESTION_LEN)
    questions.append(question[::-1] if REVERSE else question)
    answers.append(str(a + b).ljust(ANSWER_LEN))
print("Total questions:", len(questions))

codec = CharCodec(ALPHABET)
x = np.array([codec.encode(q, QUESTION_LEN) for q in questions])
y = np.array([codec.encode(a, ANSWER_LEN) for a in answers])

order = np.random.permutation(len(x))
x, y = x[order], y[order]
split = len(x) - len(x) // 10
x_train, x_val = x[:split], x[split:]
y_train, y_val = y[:split], y[split:]
print("Training data:", x_train.shape, y_train.shape)
print("Validation data:", x_val.shape, y_val.shape)

print("Build model...")
model = Sequential()
model.add(layers.LSTM(HIDDEN, input_shape=(QUESTION_LEN, len(ALPHABET))))   # the encoder
model.add(layers.RepeatVector(ANSWER_LEN))                                  # its summary at every answer step
model.add(layers.LSTM(HIDDEN, return_sequences=True))                      # the decoder
model.add(layers.TimeDistributed(layers.Dense(len(ALPHABET))))
model.add(layers.Activation("softmax"))
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.summary()

for epoch in range(1, EPOCHS + 1):
    print()
    print("-" * 50)
    print("Epoch", epoch)
    history = model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=1, validation_data=(x_val, y_val))
    for i in np.random.randint(0, len(x_val), 10):
        predicted = model.predict_classes(x_val[i:i + 1], verbose=0)[0]
        question = codec.decode(x_val[i].argmax(axis=-1))
        answer = codec.decode(y_val[i].argmax(axis=-1))
        guess = codec.decode(predicted)
        print("Q", question[::-1] if REVERSE else question, "T", answer,
              "ok " if guess == answer else "no ", guess)

right = np.all(model.predict_classes(x_val, verbose=0) == y_val.argmax(axis=-1), axis=-1)
print()
print("Validation: per-character accuracy {:.4f}, whole answers right {:.4f}".format(
    history.history["val_acc"][-1], right.mean()))
