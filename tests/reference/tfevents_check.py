"""Checks gau's TensorBoard event files against Python's `tensorboard` package, both ways.

    python tfevents_check.py write OUT   # tensorboard's protos and RecordWriter write REFERENCE
    python tfevents_check.py check IN    # tensorboard's EventAccumulator reads a gau-written file

`write` made tests/reference/fixtures/tfevents_golden (with fixed wall times), which
tests/trainers/tfevents_test.cpp compares byte for byte with what gau writes for REFERENCE.
"""
import struct
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

import golden_cli

FILE_VERSION_TIME = 1700000000.5
# (wall_time, step, tag, value): keep in step with kReference in tfevents_test.cpp. Values are
# exact in float32; step 0 and value 0 exercise proto3's omission rules, a large step a long varint.
REFERENCE = [
    (1700000001.25, 0, "train/loss", 5.5),
    (1700000001.25, 0, "train/lr", 0.0),
    (1700000002.5, 1, "train/loss", 4.75),
    (1700000002.5, 1, "train/lr", 0.000244140625),
    (1700000003.0, 2, "train/loss", 3.125),
    (1700000004.0, 2, "eval/val/loss", -1.5),
    (1700000005.0, 1 << 40, "train/tokens_per_s", 65536.0),
]


def write(path):
    with open(path, "wb") as f:
        w = RecordWriter(f)
        w.write(event_pb2.Event(wall_time=FILE_VERSION_TIME, file_version="brain.Event:2").SerializeToString())
        for wall, step, tag, value in REFERENCE:
            summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
            w.write(event_pb2.Event(wall_time=wall, step=step, summary=summary).SerializeToString())
        w.flush()


def check(path):
    acc = EventAccumulator(path)
    acc.Reload()
    problems = []
    tags = sorted({tag for _, _, tag, _ in REFERENCE})
    if sorted(acc.Tags()["scalars"]) != tags:
        problems.append(f"scalar tags: got {sorted(acc.Tags()['scalars'])}, expected {tags}")
    for tag in tags:
        want = [(w, s, v) for w, s, t, v in REFERENCE if t == tag]
        got = [(e.wall_time, e.step, e.value) for e in acc.Scalars(tag)] if tag in acc.Tags()["scalars"] else []
        if got != want:  # the values are exact in float32, so equality is the test
            problems.append(f"{tag}: got {got}, expected {want}")
    if acc.file_version != 2.0:  # EventAccumulator keeps the number of "brain.Event:2"
        problems.append(f"file_version: got {acc.file_version!r}")
    return golden_cli.report(path, problems,
                             f"{len(REFERENCE)} scalars read by tensorboard's EventAccumulator as expected")


if __name__ == "__main__":
    sys.exit(golden_cli.main(__doc__, write, check))
