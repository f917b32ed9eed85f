"""Checks gau's TensorBoard event files against Python's `tensorboard` package, both ways.

    python tfevents_check.py write OUT   # tensorboard's protos and RecordWriter write REFERENCE
    python tfevents_check.py check IN    # tensorboard's EventAccumulator reads a gau-written file
    python tfevents_check.py restart DIR # a run resumed from step 4 reads as one run (RESTARTED)

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

# (wall_time, step) of a resumed run's SessionLog START after the scalars: kRestartTime and
# kRestartStep there. Past every step, so it purges nothing and `check` still sees REFERENCE.
RESTART = (1700000006.0, (1 << 40) + 1)


def write(path):
    with open(path, "wb") as f:
        w = RecordWriter(f)
        w.write(event_pb2.Event(wall_time=FILE_VERSION_TIME, file_version="brain.Event:2").SerializeToString())
        for wall, step, tag, value in REFERENCE:
            summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
            w.write(event_pb2.Event(wall_time=wall, step=step, summary=summary).SerializeToString())
        wall, step = RESTART
        w.write(event_pb2.Event(wall_time=wall, step=step,
                                session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START)).SerializeToString())
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


# What tests/trainers/metrics_test.cpp's resumed run logs as train/loss: steps 1 to 6 at 1/step,
# then, resumed from step 4, steps 5 and 6 again at 10 + step. TensorBoard must show the second
# 5 and 6 only: the first ones were trained after the checkpoint and lost.
RESTARTED = [(1, 1.0), (2, 0.5), (3, 1 / 3), (4, 0.25), (5, 15.0), (6, 16.0)]


def restart(run_dir):
    acc = EventAccumulator(run_dir)
    acc.Reload()
    got = [(e.step, e.value) for e in acc.Scalars("train/loss")]
    ok = len(got) == len(RESTARTED) and all(
        s == ws and abs(v - wv) <= 1e-6 * abs(wv) for (s, v), (ws, wv) in zip(got, RESTARTED))
    return golden_cli.report(run_dir, [] if ok else [f"train/loss: got {got}, expected {RESTARTED}"],
                             "the resumed run's train/loss reads as one run")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "restart":
        sys.exit(restart(sys.argv[2]))
    sys.exit(golden_cli.main(__doc__, write, check))
