"""The command line of the golden-file checkers (tfevents_check.py, safetensors_check.py).

    python CHECKER.py write OUT   # the reference library writes the reference file
    python CHECKER.py check IN    # the reference library reads a gau-written file

A checker gives `main` its docstring, a writer and a checker; the checker returns `report(...)`.
"""
import sys


def report(path, problems, ok_message):
    """Prints what the check found and returns the exit status: 1 with problems, else 0."""
    if problems:
        print(f"{path}: " + "; ".join(problems))
        return 1
    print(f"{path}: {ok_message}")
    return 0


def main(doc, write, check):
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "check"):
        print(doc)
        return 2
    if sys.argv[1] == "write":
        write(sys.argv[2])
        return 0
    return check(sys.argv[2])
