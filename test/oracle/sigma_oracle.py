"""Differential oracle: run Sigma rules with pySigma's SQLite backend (test-time only, never shipped).

    sigma_oracle.py --events EVENTS.jsonl RULE_FILE_OR_DIR... > result.json

EVENTS.jsonl holds one flattened event per line: a JSON object of field name -> string (the flattening of
the evtx crate's JSON is defined once, in test/oracle/sigma-events.ts). Every event becomes one row of an
SQLite table `logs` with one `TEXT COLLATE NOCASE` column per field, as Zircolite builds it, plus
`sigma_fulltext` (every value of the event, one per line) for keyword (fieldless) detections. A field an event
lacks is NULL. REGEXP is Python's `re.search`, false on NULL, as Zircolite registers it. Rules are loaded
with pySigma's TrustedPolicy, so `|re` patterns are Python `re` (the default RE2 check refuses lookarounds).

Each rule is converted twice by `sqliteBackend`:
- `matches`: the detection alone, with no processing pipeline (field names as the rule writes them). This
  is what the differential test compares: it tests Sigma's matching semantics, not a field mapping.
- `logsourceMatches`: the detection AND pySigma's own logsource conditions (pysigma-pipeline-sysmon's
  category -> Sysmon EventID, then pysigma-pipeline-windows's service -> Channel). `null` when those
  pipelines have no Channel for the rule's logsource (then pySigma adds no condition and has no opinion).
  The logsource mapping Sequor uses is SigmaHQ's (tests/thor.yml), which is wider (process_creation
  also from Security 4688, ...): this half is a cross-check, not the reference.

Prints `{"pysigma": ..., "backend": ..., "events": N, "rules": [...], "seconds": {...}}`; per rule:
`file`, `id`, `title`, `status` ("converted" | "refused": pySigma could not load or convert it |
"failed": its SQL could not run), `error` (when not converted), `matches` (event indexes, ascending),
`logsourceMatches`. A file with several documents gives one entry per detection rule; correlation and
filter documents are listed as refused (this oracle compares single-event detections only).
"""

import argparse
import copy
import functools
import json
import re
import sqlite3
import sys
import time
from importlib.metadata import version
from pathlib import Path

import yaml
from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.pipelines.sysmon import sysmon_pipeline
from sigma.pipelines.windows import windows_logsource_pipeline
from sigma.policy.profiles import TrustedPolicy
from sigma.rule import SigmaRule

TABLE = "logs"
FULLTEXT = "sigma_fulltext"
SELECT_PREFIX = "SELECT * FROM logs WHERE "


class RegexError(Exception):
    """A rule's `|re` pattern that Python's `re` cannot compile (raised inside SQLite's REGEXP call)."""


@functools.lru_cache(maxsize=None)
def compiled(pattern):
    try:
        return re.compile(pattern)
    except re.error as error:
        raise RegexError(f"{pattern!r}: {error}") from error


last_regex_error = []


def regexp(pattern, value):
    if value is None:
        return False
    try:
        return compiled(pattern).search(str(value)) is not None
    except RegexError as error:
        last_regex_error.append(str(error))
        raise


def quote(name):
    return '"' + name.replace('"', '""') + '"'


def load_events(path):
    """The events table. SQLite column names are case-insensitive: field names that differ only in case
    share one column (the first spelling seen names it); an event with two such fields is an error."""
    events = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            event = json.loads(line)
            if not isinstance(event, dict) or not all(isinstance(v, str) for v in event.values()):
                raise ValueError(f"{path}:{number}: an event is an object of string values")
            events.append(event)
    columns = {}
    for number, event in enumerate(events):
        seen = set()
        for field in event:
            key = field.lower()
            if key in seen:
                raise ValueError(f"event {number}: two fields differ only in case ({field})")
            seen.add(key)
            columns.setdefault(key, field)
    if FULLTEXT.lower() in columns:
        raise ValueError(f"the field name {FULLTEXT} is reserved for keyword search")
    connection = sqlite3.connect(":memory:")
    connection.create_function("regexp", 2, regexp, deterministic=True)
    names = list(columns.values()) + [FULLTEXT]
    connection.execute(
        f"CREATE TABLE {TABLE} ({', '.join(quote(n) + ' TEXT COLLATE NOCASE' for n in names)})"
    )
    placeholders = ", ".join("?" for _ in range(len(names) + 1))
    insert = f"INSERT INTO {TABLE} (rowid, {', '.join(map(quote, names))}) VALUES ({placeholders})"
    rows = []
    for index, event in enumerate(events):
        lowered = {k.lower(): v for k, v in event.items()}
        row = [index + 1] + [lowered.get(key) for key in columns]
        row.append("\n".join(event.values()))
        rows.append(row)
    connection.executemany(insert, rows)
    # pySigma's logsource conditions are equalities on these: an index spares most rows a full rule.
    for key in ("channel", "eventid"):
        if key in columns:
            connection.execute(f"CREATE INDEX logs_{key} ON {TABLE} ({quote(columns[key])})")
    connection.commit()
    return connection, len(events)


def rule_files(inputs):
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.yml") if p.is_file())
        else:
            yield path


# libyaml when present: the pure-Python loader is most of the run time over 2,407 rules.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(documents, path):
    return SigmaCollection.from_dicts(
        copy.deepcopy(documents), collect_errors=True, source=SigmaRuleLocation(path), policy=TrustedPolicy
    )


def run_queries(connection, queries):
    """Event indexes matching any of the queries. A column no event has is added as NULL first, as
    pySigma-backend-sqlite's runtime does (a query naming an unknown column does not prepare)."""
    found = set()
    for query in queries:
        if not query.startswith(SELECT_PREFIX):
            raise ValueError(f"unexpected query shape: {query[:80]}")
        sql = f"SELECT rowid - 1 FROM {TABLE} WHERE " + query[len(SELECT_PREFIX):]
        for _ in range(50):
            try:
                found.update(row[0] for row in connection.execute(sql))
                break
            except sqlite3.OperationalError as error:
                missing = re.fullmatch(r"no such column: (.+)", str(error))
                if missing is None:
                    raise
                connection.execute(
                    f"ALTER TABLE {TABLE} ADD COLUMN {quote(missing.group(1))} TEXT COLLATE NOCASE"
                )
    return sorted(found)


def error_text(error):
    return f"{type(error).__name__}: {error}"


def run_rule(connection, backends, detection_rule, logsource_rule, timing):
    entry = {
        "id": str(detection_rule.id) if detection_rule.id else None,
        "title": detection_rule.title,
    }
    if detection_rule.errors:
        return {**entry, "status": "refused", "error": "; ".join(map(error_text, detection_rule.errors))}
    started = time.perf_counter()
    try:
        queries = backends["detection"].convert_rule(detection_rule)
    except SigmaError as error:
        return {**entry, "status": "refused", "error": error_text(error)}
    timing["convert"] += time.perf_counter() - started
    started = time.perf_counter()
    try:
        entry["matches"] = run_queries(connection, queries)
    except (sqlite3.Error, RegexError) as error:
        detail = last_regex_error[-1] if last_regex_error else str(error)
        last_regex_error.clear()
        return {**entry, "status": "failed", "error": f"{type(error).__name__}: {detail}"}
    timing["query"] += time.perf_counter() - started
    entry["status"] = "converted"
    entry["logsourceMatches"] = None
    started = time.perf_counter()
    try:
        logsource_queries = backends["logsource"].convert_rule(logsource_rule)
        mapped = any(i.startswith("windows_logsource_") for i in logsource_rule.applied_processing_items)
        if mapped:
            entry["logsourceMatches"] = run_queries(connection, logsource_queries)
    except (SigmaError, sqlite3.Error, RegexError) as error:
        last_regex_error.clear()
        entry["logsourceError"] = error_text(error)
    timing["logsource"] += time.perf_counter() - started
    return entry


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", required=True, help="flattened events, one JSON object per line")
    parser.add_argument("rules", nargs="+", help="Sigma rule files or folders (*.yml, recursively)")
    args = parser.parse_args()

    started = time.perf_counter()
    connection, count = load_events(args.events)
    timing = {"load": time.perf_counter() - started, "parse": 0.0, "convert": 0.0, "query": 0.0, "logsource": 0.0}
    # One backend per kind for the whole run, as sigma-cli converts a rule set.
    backends = {
        "detection": sqliteBackend(fulltext_field=FULLTEXT),
        "logsource": sqliteBackend(sysmon_pipeline() + windows_logsource_pipeline(), fulltext_field=FULLTEXT),
    }
    results = []
    for path in rule_files(args.rules):
        text = path.read_text(encoding="utf-8")
        started = time.perf_counter()
        try:
            documents = list(yaml.load_all(text, Loader=YAML_LOADER))
            # Two rule objects: a processing pipeline changes the rule it converts.
            detection, logsource = parse(documents, path), parse(documents, path)
        except yaml.YAMLError as error:
            results.append({"file": str(path), "id": None, "title": None, "status": "refused", "error": error_text(error)})
            continue
        except SigmaError as error:
            results.append({"file": str(path), "id": None, "title": None, "status": "refused", "error": error_text(error)})
            continue
        timing["parse"] += time.perf_counter() - started
        documents = list(zip(detection.rules, logsource.rules))
        if not documents:
            results.append({"file": str(path), "id": None, "title": None, "status": "refused", "error": "no rule in file"})
        for detection_rule, logsource_rule in documents:
            if not isinstance(detection_rule, SigmaRule):
                results.append(
                    {
                        "file": str(path),
                        "id": str(detection_rule.id) if detection_rule.id else None,
                        "title": detection_rule.title,
                        "status": "refused",
                        "error": f"{type(detection_rule).__name__}: not a single-event detection rule",
                    }
                )
                continue
            results.append({"file": str(path), **run_rule(connection, backends, detection_rule, logsource_rule, timing)})
    json.dump(
        {
            "pysigma": version("pysigma"),
            "backend": version("pysigma-backend-sqlite"),
            "events": count,
            "rules": results,
            "seconds": {k: round(v, 3) for k, v in timing.items()},
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
