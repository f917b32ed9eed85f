"""gau's text data pipeline in Python, for the PyTorch comparison runs (bench/default_run_torch.py).

It yields the same batches, in the same order, as gau's Loader over a byte-tokenized text
(trainers/data/dataset.cpp, windows.cpp, loader.cpp, random.h), so that a PyTorch run and a gau
run see identical data:

  corpus   = the file's bytes (gzip inflated) + the eos byte 0: one document (encode_documents)
  split    = the last ceil(val_fraction x tokens) tokens are validation (split_corpus, val_split
             tokens); each side is a corpus of its own, so its last token has no target
  windows  = packing: window i is tokens [i n, min((i + 1) n, size)); its targets the next tokens
             of the same side; a short last window is padded with pad 0 and target -100
  order    = epoch e: Fisher-Yates over the windows with the draws of Philox4x32-10 stream
             (seed, 2^60 + e) (DrawStream::below); validation is never shuffled
  steps    = batch_size slots of that order per step; slots past the end are filler rows (ids 0,
             targets -100); after the epoch's last slot, the next epoch starts at slot 0
"""
import gzip
import math

import torch

IGNORE_INDEX = -100  # gau's LoaderOptions::ignore_index, F.cross_entropy's default
_SHUFFLE_STREAM = 1 << 60  # random.h: kShuffleStream
_M32 = 0xFFFFFFFF


def philox4x32_10(seed, counter_lo, counter_hi=0):
    """core/rng.h's philox4x32_10: the four 32-bit words for (key seed, counter (lo, hi))."""
    c0, c1 = counter_lo & _M32, (counter_lo >> 32) & _M32
    c2, c3 = counter_hi & _M32, (counter_hi >> 32) & _M32
    k0, k1 = seed & _M32, (seed >> 32) & _M32
    for _ in range(10):
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & _M32, (p0 >> 32) ^ c3 ^ k1, p0 & _M32
        k0 = (k0 + 0x9E3779B9) & _M32
        k1 = (k1 + 0xBB67AE85) & _M32
    return c0, c1, c2, c3


def shuffled_order(num_windows, seed, epoch):
    """Loader::Maker::order_for: epoch `epoch`'s permutation of range(num_windows)."""
    order = list(range(num_windows))
    stream = _SHUFFLE_STREAM + epoch
    for draw, i in enumerate(range(num_windows - 1, 0, -1)):
        v = philox4x32_10(seed, draw, stream)
        j = ((v[0] << 32) | v[1]) % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def read_byte_corpus(path, eos=0):
    """build_text with the byte tokenizer: the file's bytes and the eos byte, as int64 ids."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":  # gzread inflates any file that starts with the gzip magic
        data = gzip.decompress(data)
    return torch.cat([torch.frombuffer(bytearray(data), dtype=torch.uint8).long(), torch.tensor([eos])])


def split_tokens(tokens, val_fraction):
    """split_corpus(by_documents=false): (train, val), val the last ceil(fraction x size) tokens."""
    held = math.ceil(val_fraction * len(tokens))
    if not 0 < held < len(tokens):
        raise ValueError(f"holding out {val_fraction} of {len(tokens)} tokens leaves none for training")
    return tokens[: len(tokens) - held], tokens[len(tokens) - held:]


class Loader:
    """Batches of [batch_size, seq_len] ids and targets from one side of the split, as gau's Loader."""

    def __init__(self, tokens, seq_len, batch_size, shuffle, seed, pad_id=0):
        self.tokens, self.n, self.b = tokens, seq_len, batch_size
        self.shuffle, self.seed, self.pad_id = shuffle, seed, pad_id
        self.num_windows = (len(tokens) + seq_len - 1) // seq_len
        if self.num_windows < batch_size:
            raise ValueError(f"{len(tokens)} tokens make {self.num_windows} sequences of {seq_len}; "
                             f"a step needs {batch_size}")
        self.epoch, self.index = 0, 0
        self._order_epoch, self._order = -1, None

    def _window(self, w):
        """Window w's ids and targets, padded to seq_len."""
        begin = w * self.n
        length = min(self.n, len(self.tokens) - begin)
        ids = torch.full((self.n,), self.pad_id, dtype=torch.long)
        targets = torch.full((self.n,), IGNORE_INDEX, dtype=torch.long)
        ids[:length] = self.tokens[begin:begin + length]
        following = self.tokens[begin + 1:begin + length + 1]  # one short at the end of the side
        targets[:len(following)] = following
        return ids, targets

    def next(self):
        if self.shuffle and self._order_epoch != self.epoch:
            self._order, self._order_epoch = shuffled_order(self.num_windows, self.seed, self.epoch), self.epoch
        ids = torch.full((self.b, self.n), self.pad_id, dtype=torch.long)
        targets = torch.full((self.b, self.n), IGNORE_INDEX, dtype=torch.long)
        for r in range(self.b):
            slot = self.index + r
            if slot < self.num_windows:
                ids[r], targets[r] = self._window(self._order[slot] if self.shuffle else slot)
        self.index += self.b
        if self.index >= self.num_windows:
            self.epoch, self.index = self.epoch + 1, 0
        return ids, targets
