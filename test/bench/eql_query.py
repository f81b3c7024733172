"""Benchmark counterpart of `sequor query`: one EQL query over an NDJSON file of ECS events with the Python
`eql` engine (test-time only, never shipped; the venv of test/oracle/requirements.txt).

    .venv/bin/python test/bench/eql_query.py '<EQL>' FILE

Reads the file line by line (JSON parsing included, as `sequor query` does), the event type from
`event.category[0]`, the time from `@timestamp`, streams the events through `eql.PythonEngine` (times in
milliseconds, as the differential oracle runs it) and prints `{"matches": N, "events": M}` on stdout.
"""

import json
import sys
from datetime import datetime

import eql
from eql.parser import elasticsearch_syntax, ignore_missing_functions, skip_optimizations


def events(path):
    with open(path, "r", encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            data = json.loads(line)
            category = data["event"]["category"]
            event_type = category[0] if isinstance(category, list) else category
            millis = int(datetime.fromisoformat(data["@timestamp"].replace("Z", "+00:00")).timestamp() * 1000)
            yield eql.Event(event_type, millis, data)


def main():
    query_text, path = sys.argv[1], sys.argv[2]
    # skip_optimizations: as the oracle (eql 1.0.1's optimizer rewrites some negations wrongly).
    with elasticsearch_syntax, ignore_missing_functions, skip_optimizations:
        query = eql.parse_query(query_text)
    found = [0]

    def count(_output):
        found[0] += 1

    read = [0]

    def counted(stream):
        for event in stream:
            read[0] += 1
            yield event

    engine = eql.PythonEngine({"time_unit": 1000})
    engine.add_output_hook(count)
    engine.add_query(query)
    engine.stream_events(counted(events(path)))
    json.dump({"matches": found[0], "events": read[0]}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
