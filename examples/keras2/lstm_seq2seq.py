"""A character-level encoder-decoder in the Keras 2 style: it learns to write numbers out in words,
"4207" -> "four thousand two hundred seven".

The model is built with the functional API: an encoder LSTM reads the digits and hands its final states
(return_state=True) to a decoder LSTM as its initial_state; the decoder reads the target text shifted by one
character (teacher forcing: it starts with a tab) and a softmax Dense layer predicts the next character. After
training, the model is saved with model.save('s2s.h5'), and two inference models are built from the trained
layers: the encoder alone (digits -> states) and the decoder one step at a time (character and states -> next
character and states), which write out validation numbers character by character. The same inference models are
then built again from the saved file alone, through model.input and model.layers[i].output, and must write the
same words.

This is a Keras 2 program: only its import lines differ from Keras 2.0/2.1, where they read

    from keras.models import Model, load_model
    from keras.layers import Input, LSTM, Dense

EXAMPLES_QUICK=1 in the environment shrinks the data and the training to a few seconds (a smoke test).
"""
import os

import numpy as np

from layers import Model, load_model
from layers import Input, LSTM, Dense

QUICK = os.environ.get("EXAMPLES_QUICK") == "1"

np.random.seed(1337)  # Keras' way of making the run repeatable

batch_size = 64
epochs = 1 if QUICK else 60
latent_dim = 16 if QUICK else 128
num_samples = 300 if QUICK else 10000   # the numbers 0 .. num_samples - 1

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def in_words(n):
    """0 <= n < 10000 in English words: 4207 -> 'four thousand two hundred seven', 42 -> 'forty-two'."""
    words = []
    if n >= 1000:
        words += [ONES[n // 1000], "thousand"]
        n %= 1000
    if n >= 100:
        words += [ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(TENS[n // 10] + ("-" + ONES[n % 10] if n % 10 else ""))
    elif n or not words:
        words.append(ONES[n])
    return " ".join(words)


# the "translation" pairs; '\t' starts a target text and '\n' ends it
numbers = np.random.permutation(num_samples)
input_texts = [str(n) for n in numbers]
target_texts = ["\t" + in_words(n) + "\n" for n in numbers]
input_characters = sorted(set("".join(input_texts)))
target_characters = sorted(set("".join(target_texts)))
num_encoder_tokens = len(input_characters)
num_decoder_tokens = len(target_characters)
max_encoder_seq_length = max(len(t) for t in input_texts)
max_decoder_seq_length = max(len(t) for t in target_texts)

print("Number of samples:", len(input_texts))
print("Number of unique input tokens:", num_encoder_tokens)
print("Number of unique output tokens:", num_decoder_tokens)
print("Max sequence length for inputs:", max_encoder_seq_length)
print("Max sequence length for outputs:", max_decoder_seq_length)

input_token_index = {char: i for i, char in enumerate(input_characters)}
target_token_index = {char: i for i, char in enumerate(target_characters)}

encoder_input_data = np.zeros((len(input_texts), max_encoder_seq_length, num_encoder_tokens), dtype="float32")
decoder_input_data = np.zeros((len(input_texts), max_decoder_seq_length, num_decoder_tokens), dtype="float32")
decoder_target_data = np.zeros((len(input_texts), max_decoder_seq_length, num_decoder_tokens), dtype="float32")
for i, (input_text, target_text) in enumerate(zip(input_texts, target_texts)):
    for t, char in enumerate(input_text):
        encoder_input_data[i, t, input_token_index[char]] = 1.
    for t, char in enumerate(target_text):
        decoder_input_data[i, t, target_token_index[char]] = 1.
        if t > 0:  # the target is the input one step ahead, without the start character
            decoder_target_data[i, t - 1, target_token_index[char]] = 1.

# Training model: the encoder's final states start the decoder
encoder_inputs = Input(shape=(None, num_encoder_tokens))
encoder = LSTM(latent_dim, return_state=True)
encoder_outputs, state_h, state_c = encoder(encoder_inputs)
encoder_states = [state_h, state_c]   # the encoder's outputs are not needed, only its states

decoder_inputs = Input(shape=(None, num_decoder_tokens))
decoder_lstm = LSTM(latent_dim, return_sequences=True, return_state=True)
decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
decoder_dense = Dense(num_decoder_tokens, activation="softmax")
decoder_outputs = decoder_dense(decoder_outputs)

model = Model([encoder_inputs, decoder_inputs], decoder_outputs)
model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit([encoder_input_data, decoder_input_data], decoder_target_data, batch_size=batch_size, epochs=epochs,
          validation_split=0.2)
model.save("s2s.h5")

# Inference models from the trained layers: the encoder alone, and the decoder one step at a time
encoder_model = Model(encoder_inputs, encoder_states)

decoder_state_input_h = Input(shape=(latent_dim,))
decoder_state_input_c = Input(shape=(latent_dim,))
decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
decoder_outputs, state_h, state_c = decoder_lstm(decoder_inputs, initial_state=decoder_states_inputs)
decoder_states = [state_h, state_c]
decoder_outputs = decoder_dense(decoder_outputs)
decoder_model = Model([decoder_inputs] + decoder_states_inputs, [decoder_outputs] + decoder_states)

reverse_target_char_index = {i: char for char, i in target_token_index.items()}


def decode_sequence(input_seq, encoder_model, decoder_model):
    """Greedy decoding: feed back the most likely character until '\\n' or the longest target length."""
    states_value = encoder_model.predict(input_seq)
    target_seq = np.zeros((1, 1, num_decoder_tokens))
    target_seq[0, 0, target_token_index["\t"]] = 1.
    decoded_sentence = ""
    while True:
        output_tokens, h, c = decoder_model.predict([target_seq] + states_value)
        sampled_token_index = np.argmax(output_tokens[0, -1, :])
        sampled_char = reverse_target_char_index[sampled_token_index]
        if sampled_char == "\n" or len(decoded_sentence) >= max_decoder_seq_length:
            break
        decoded_sentence += sampled_char
        target_seq = np.zeros((1, 1, num_decoder_tokens))
        target_seq[0, 0, sampled_token_index] = 1.
        states_value = [h, c]
    return decoded_sentence


# The same inference models from the saved file alone (what lstm_seq2seq_restore does)
restored = load_model("s2s.h5")
restored_encoder = Model(restored.input[0], restored.layers[2].output[1:])   # input_1 -> the encoder's states
dec_inputs = restored.input[1]
dec_lstm, dec_dense = restored.layers[3], restored.layers[4]
dec_h, dec_c = Input(shape=(latent_dim,)), Input(shape=(latent_dim,))
dec_outputs, dec_state_h, dec_state_c = dec_lstm(dec_inputs, initial_state=[dec_h, dec_c])
restored_decoder = Model([dec_inputs, dec_h, dec_c], [dec_dense(dec_outputs), dec_state_h, dec_state_c])

# numbers of the validation split (the last 20%, never trained on), one character at a time
first = len(input_texts) - len(input_texts) // 5
validation = range(first, min(first + 500, len(input_texts)))
right = same = 0
for seq_index in validation:
    input_seq = encoder_input_data[seq_index: seq_index + 1]
    decoded_sentence = decode_sequence(input_seq, encoder_model, decoder_model)
    right += decoded_sentence == target_texts[seq_index].strip()
    if seq_index < first + 100:
        same += decoded_sentence == decode_sequence(input_seq, restored_encoder, restored_decoder)
    if seq_index < first + 10:
        print("-")
        print("Input number:", input_texts[seq_index])
        print("Decoded sentence:", decoded_sentence)
print()
print(f"Validation numbers written out right: {right} of {len(validation)} ({right / len(validation):.1%})")
print(f"Decoded the same from s2s.h5: {same} of {min(100, len(validation))}")
