"""A bidirectional LSTM classifies the sentiment of reviews, in the Keras 2 style, on generated reviews.

IMDB's reviews would have to be downloaded, so this program writes its own: sequences of word ids of varied
length, drawn from a long-tailed vocabulary, with a few words that carry sentiment mixed in, mostly of the
review's own kind and some of the other kind (the label is the sentiment the review mostly expresses, as a rater
would read it). pad_sequences cuts and pads them to one length, an Embedding turns ids into vectors, and
Bidirectional(LSTM) reads each review both ways; Dropout regularises it. history.history['val_acc'] (Keras 2.0's
key) holds the validation accuracy of each epoch.

This is a Keras 2 program: only its import lines differ from Keras 2.0/2.1, where they read

    from keras.preprocessing import sequence
    from keras.models import Sequential
    from keras.layers import Dense, Dropout, Embedding, LSTM, Bidirectional

EXAMPLES_QUICK=1 in the environment shrinks the data and the training to a few seconds (a smoke test).
"""
import os

import numpy as np

from layers.preprocessing import sequence
from layers import Sequential
from layers import Dense, Dropout, Embedding, LSTM, Bidirectional

QUICK = os.environ.get("EXAMPLES_QUICK") == "1"

np.random.seed(1337)  # Keras' way of making the run repeatable

max_features = 5000   # the vocabulary: word ids 1 .. max_features - 1 (0 pads)
maxlen = 100          # reviews are cut to their last 100 words (or padded in front)
batch_size = 32
train_reviews = 200 if QUICK else 10000
test_reviews = 100 if QUICK else 5000
epochs = 1 if QUICK else 4
embedding_dim = 16 if QUICK else 64
units = 8 if QUICK else 32


def generate_reviews(n):
    """n reviews (lists of word ids) and their labels (1: positive, 0: negative)."""
    ranks = np.arange(1, max_features - 60)
    zipf = 1.0 / ranks
    zipf /= zipf.sum()
    positive_words = np.arange(max_features - 60, max_features - 30)
    negative_words = np.arange(max_features - 30, max_features)
    reviews, labels = [], []
    for _ in range(n):
        label = np.random.randint(2)
        length = np.random.randint(30, 250)
        words = np.random.choice(ranks, size=length, p=zipf)
        own, other = (positive_words, negative_words) if label else (negative_words, positive_words)
        n_own = 2 + np.random.poisson(3)
        n_other = np.random.poisson(1.5)
        spots = np.random.choice(length, size=min(length, n_own + n_other), replace=False)
        words[spots[:n_own]] = np.random.choice(own, size=len(spots[:n_own]))
        words[spots[n_own:]] = np.random.choice(other, size=len(spots[n_own:]))
        # the label is what the part of the review that is kept (its last maxlen words) mostly says
        kept = words[-maxlen:]
        pos = np.isin(kept, positive_words).sum()
        neg = np.isin(kept, negative_words).sum()
        if pos != neg:
            label = int(pos > neg)
        reviews.append(list(words))
        labels.append(label)
    return reviews, np.array(labels)


print("Loading data...")
x_train, y_train = generate_reviews(train_reviews)
x_test, y_test = generate_reviews(test_reviews)
print(len(x_train), "train sequences")
print(len(x_test), "test sequences")
print(f"Average review length: {np.mean([len(r) for r in x_train]):.0f} words")

print("Pad sequences (samples x time)")
x_train = sequence.pad_sequences(x_train, maxlen=maxlen)
x_test = sequence.pad_sequences(x_test, maxlen=maxlen)
print("x_train shape:", x_train.shape)
print("x_test shape:", x_test.shape)

model = Sequential()
model.add(Embedding(max_features, embedding_dim, input_length=maxlen))
model.add(Bidirectional(LSTM(units)))
model.add(Dropout(0.5))
model.add(Dense(1, activation="sigmoid"))

model.compile("adam", "binary_crossentropy", metrics=["accuracy"])

print("Train...")
history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_data=[x_test, y_test])
for epoch, acc in enumerate(history.history["val_acc"], 1):
    print(f"Epoch {epoch}: validation accuracy {acc:.4f}")
print(f"Majority class: {max(y_test.mean(), 1 - y_test.mean()):.4f}")
