"""Differential oracle: run EQL queries with the Python `eql` engine (test-time only, never shipped).

Reads `{"cases": [{"query": "...", "events": [...]}, ...]}` on stdin and prints
`{"results": [{"matches": [[i, ...], ...]} | {"error": "..."}, ...]}` on stdout, one entry per case,
where each match lists the indexes (into that case's `events`) of the events it contains, in match order.
An event query yields one single-element match per matching event.

Events are plain nested dicts with an `event_type` key (the category) and a `timestamp` in epoch
milliseconds; the engine runs with `time_unit=1000` so `maxspan` is compared in milliseconds. Feed
streams pre-sorted by time: the Python engine matches in arrival order.
"""

import json
import sys

import eql
from eql.parser import (
    allow_negation,
    allow_runs,
    allow_sample,
    elasticsearch_syntax,
    ignore_missing_functions,
    skip_optimizations,
)

INDEX_KEY = "__oracle_index"


def run_case(case):
    # skip_optimizations: eql 1.0.1's optimizer rewrites `not (f in ("a", "b") or f != "c")` into
    # `f not in ("a", "b", "c")`, which is wrong (found by this oracle); the unoptimized tree is the reference.
    with elasticsearch_syntax, allow_runs, allow_negation, allow_sample, ignore_missing_functions, skip_optimizations:
        query = eql.parse_query(case["query"])
    found = []
    engine = eql.PythonEngine({"time_unit": 1000})
    engine.add_output_hook(lambda output: found.append([e.data[INDEX_KEY] for e in output.events]))
    engine.add_query(query)
    events = []
    for index, data in enumerate(case["events"]):
        data = dict(data)
        data[INDEX_KEY] = index
        events.append(eql.Event(data["event_type"], data["timestamp"], data))
    engine.stream_events(events)
    return {"matches": found}


def main():
    request = json.load(sys.stdin)
    results = []
    for case in request["cases"]:
        try:
            results.append(run_case(case))
        except Exception as error:  # report per case; one bad query must not hide the others
            results.append({"error": "{}: {}".format(type(error).__name__, error)})
    json.dump({"results": results}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
