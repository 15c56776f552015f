"""Keras 2.0-era programs, written the Keras way with only their imports mapped, on generated data."""
import numpy as np

import layers
import minigrad as mg
from layers import Model
from layers.preprocessing.sequence import pad_sequences
from layers.utils import to_categorical


def test_babi_rnn_pattern():
    # Keras 2.0's examples/babi_rnn.py: a story and a question, the question's encoding repeated over the story
    # and added to it, then read by a second recurrent layer
    np.random.seed(1337)
    mg.seed(1337)
    vocab_size, story_maxlen, query_maxlen, hidden = 12, 8, 3, 16
    stories = [np.random.randint(1, vocab_size, size=np.random.randint(4, story_maxlen + 1)) for _ in range(96)]
    queries = [np.random.randint(1, vocab_size, size=query_maxlen) for _ in range(96)]
    answers = np.array([s[-1] for s in stories])  # "where is the last thing mentioned"
    x = pad_sequences(stories, maxlen=story_maxlen)
    xq = pad_sequences(queries, maxlen=query_maxlen)
    y = to_categorical(answers, vocab_size)

    sentence = layers.Input(shape=(story_maxlen,), dtype='int32')
    encoded_sentence = layers.Embedding(vocab_size, hidden)(sentence)
    encoded_sentence = layers.Dropout(0.3)(encoded_sentence)
    question = layers.Input(shape=(query_maxlen,), dtype='int32')
    encoded_question = layers.Embedding(vocab_size, hidden)(question)
    encoded_question = layers.Dropout(0.3)(encoded_question)
    encoded_question = layers.LSTM(hidden)(encoded_question)
    encoded_question = layers.RepeatVector(story_maxlen)(encoded_question)
    merged = layers.add([encoded_sentence, encoded_question])
    merged = layers.LSTM(hidden)(merged)
    merged = layers.Dropout(0.3)(merged)
    preds = layers.Dense(vocab_size, activation='softmax')(merged)

    model = Model([sentence, question], preds)
    model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
    history = model.fit([x, xq], y, batch_size=32, epochs=6, validation_split=0.05, verbose=0)
    assert history.history['loss'][-1] < history.history['loss'][0]
    loss, acc = model.evaluate([x, xq], y, batch_size=32, verbose=0)
    assert np.isfinite(loss) and 0 <= acc <= 1


def test_attention_pattern_with_dot_permute_lambda_and_concatenate():
    # a Keras 2-style dot-product attention over an encoder's outputs, with a Lambda softmax over the time axis
    mg.seed(0)
    rng = np.random.default_rng(0)
    steps, features, hidden = 6, 4, 8
    x = rng.normal(size=(64, steps, features))
    y = (x[:, :, 0].max(axis=1) > 1.0).astype('float32')[:, None]

    # float64 throughout, so that the gradient check below replays the model exactly
    inputs = layers.Input(shape=(steps, features), dtype='float64')
    seq = layers.LSTM(hidden, return_sequences=True, dtype='float64')(inputs)
    last = layers.Lambda(lambda t: t[:, -1], output_shape=(hidden,))(seq)
    scores = layers.dot([seq, last], axes=(2, 1))                                   # (None, steps)
    weights = layers.Lambda(lambda t: mg.softmax(t, axis=-1))(scores)
    context = layers.dot([layers.Permute((2, 1))(seq), weights], axes=(2, 1))      # (None, hidden)
    both = layers.concatenate([context, last])
    out = layers.Dense(1, activation='sigmoid', dtype='float64')(layers.Reshape((2 * hidden,))(both))
    model = Model(inputs, out)
    assert model.output_shape == (None, 1)
    model.compile('adam', 'binary_crossentropy', metrics=['acc'])
    history = model.fit(x, y, batch_size=16, epochs=5, verbose=0)
    assert history.history['loss'][-1] < history.history['loss'][0]
    # gradients through Dot, Permute, Lambda, Concatenate and Reshape in the graph, in float64
    assert mg.gradcheck(lambda t: model(t), [mg.Tensor(x[:2].astype(np.float64), requires_grad=True)])
    assert mg.gradcheck(lambda *ws: model(x[:2].astype(np.float64)), model.trainable_weights)
