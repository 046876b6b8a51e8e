#!/usr/bin/python3
"""Writes the seed inputs of the fuzz targets into corpus/<target>/seed-*.

The seeds are small inputs of the shapes each target reads: request bodies
of every JSON route (good ones, and a deterministic sample of the hostile
corpus's JSON cases), stream messages and targets, the golden events in
both encodings, templates in our JSON format, and tasks.md files written
here in the style of the public MigOps templates (the real templates are
not copied). Files that ops/fuzz merged in beside them (named by their
SHA-1) are left alone. Run it from anywhere; it rewrites only seed-* files.
"""

import json
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
CORPUS = HERE / "corpus"
HOSTILE = REPO / "tests" / "corpus" / "hostile"
GOLDEN = REPO / "tests" / "golden"

# Hostile JSON cases per file taken as seeds: every n-th, so the sample
# spreads over the file and stays the same from run to run.
HOSTILE_SAMPLE = {
    "wrong_types.jsonl": 12,
    "control_chars.jsonl": 8,
    "invalid_utf8.jsonl": 12,
    "jsontestsuite.jsonl": 16,
    "huge.jsonl": 6,
    "nesting.jsonl": 4,
}
MAX_SEED_BYTES = 4096

PLACEHOLDERS = {
    "space": "0123456789abcdef",
    "journey": "0123456789abcdef.j1",
    "phase": "0123456789abcdef.j1.n1",
    "module": "0123456789abcdef.j1.n2",
    "task": "0123456789abcdef.j1.n3",
    "task2": "0123456789abcdef.j1.n4",
    "team": "0123456789abcdef.t1",
}


def fill(text):
    return re.sub(r"\{(?:other_)?(\w+)\}", lambda m: PLACEHOLDERS.get(m.group(1), m.group(0)), text)


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    (folder / ("seed-" + name)).write_bytes(data)


def clear_seeds(target):
    folder = CORPUS / target
    if folder.is_dir():
        for f in folder.glob("seed-*"):
            f.unlink()


def json_body_seeds():
    good = {
        "space": {"name": "Data centre exit", "description": "Move the DC to AWS"},
        "space-rename": {"name": "DC exit 2"},
        "role": {"role": "journey_contributor"},
        "team": {"name": "Network team"},
        "journey": {"name": "Wave 1", "template_id": "migops-general-migration",
                    "template_version": "1.0", "target_date": "2027-03-31T17:00:00+02:00"},
        "journey-status": {"status": "in_progress"},
        "journey-edit": {"name": "Wave 1b", "target_date": None},
        "phase": {"title": "Assess", "description": "What we have", "rank": 0},
        "task": {"title": "Inventory servers", "description": "All of them\n\tincluding DR",
                 "tools": ["AWS Application Discovery Service"],
                 "links": [{"title": "Guide", "url": "https://docs.aws.amazon.com/"}],
                 "acceptance_criteria": [
                     {"type": "artifact", "description": "The inventory", "pattern": "*inventory*",
                      "media_types": ["text/csv"]},
                     {"type": "text", "description": "Reviewed"}],
                 "steps": ["Export", {"text": "Check"}],
                 "subtasks": [{"title": "Linux", "steps": ["ssh"]}], "rank": 2},
        "node-details": {"title": "Inventory", "tools": ["CLI"],
                         "links": [{"url": "https://example.com/a"}],
                         "acceptance_criteria": [{"type": "approval"}]},
        "node-scope": {"in_scope": False},
        "node-rank": {"rank": 99999},
        "node-due": {"due": "2027-01-01T00:00:00.5Z"},
        "node-effort": {"estimated_minutes": 120, "spent_minutes": 0},
        "assign": {"user": "bob", "team": ""},
        "status": {"status": "blocked", "reason": "Waiting for firewall rules",
                   "acknowledged": ["c1"]},
        "dependency": {"depends_on": "0123456789abcdef.j1.n4"},
        "text": {"text": "Ready for review ✓"},
        "step-check": {"checked": True},
        "help": {"kind": "advice", "description": "Which instance type?",
                 "target": "0123456789abcdef.j1.n3"},
        "help-note": {"note": "Use m7i"},
        "alert-rules": {"due_soon_minutes": 60, "blocked_too_long_minutes": 1440,
                        "disabled": ["overdue", "dependency_late"]},
    }
    for name, body in good.items():
        write("json_body", "good-" + name, json.dumps(body, ensure_ascii=False))
    for file, every in sorted(HOSTILE_SAMPLE.items()):
        cases = [json.loads(line) for line in (HOSTILE / file).read_text().splitlines() if line]
        cases = [c for c in cases if c.get("method") in ("POST", "PUT", "PATCH")
                 and ("body" in c or "body_hex" in c)
                 and c.get("content_type", "application/json").startswith("application/json")]
        for c in cases[::every]:
            data = bytes.fromhex(c["body_hex"]) if "body_hex" in c else fill(c["body"]).encode()
            if len(data) > MAX_SEED_BYTES:
                continue
            write("json_body", "hostile-" + c["id"].replace("/", "-"), data)


def stream_message_seeds():
    token = ("eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9."
             "c2lnbmF0dXJlLW9mLTY0LWJ5dGVz")
    seeds = {
        "token": json.dumps({"token": token}),
        "token-escaped": '{"token":"a\\u0062c\\n\\ud83d\\ude00"}',
        "token-extra": json.dumps({"token": token, "from": "1"}),
        "token-number": '{"token": 42}',
        "token-array": '[{"token": "x"}]',
        "token-empty": '{"token": ""}',
        "not-json": "token=abc",
        "target-space": "/v1/stream?space=0123456789abcdef&types=task.status_changed&from=4",
        "target-task": "/v1/stream?task=0123456789abcdef.j1.n3&from=17",
        "target-journey": "/v1/stream?journey=0123456789abcdef.j1&space=0123456789abcdef",
        "target-cursor": "/v1/stream?from=0.17.3.0.0.9.0.2",
        "target-types": "/v1/stream?types=io.migops.space.created.v1,%20task.assigned%20",
        "target-escapes": "/v1/stream?sp%61ce=ab%2Ecd&&from=",
        "target-bad-escape": "/v1/stream?space=%zz",
        "target-repeated": "/v1/stream?space=a&space=a",
        "query-only": "space=abc&from=18446744073709551615",
        "cursor-8": "0.1.2.3.4.5.6.7",
        "cursor-1": "42",
        "cursor-big": "99999999999999999999",
    }
    for name, text in seeds.items():
        write("stream_message", name, text)


def golden_seeds():
    for f in sorted(GOLDEN.glob("*.bin")):
        write("event_binary", f.stem, f.read_bytes())
    for f in sorted(GOLDEN.glob("*.json")):
        write("event_json", f.stem, f.read_bytes())


def template_json_seeds():
    criterion = {"id": "c1", "kind": "artifact", "description": "The plan", "pattern": "*plan*",
                 "media_types": ["application/pdf"]}
    task = {"id": "t1", "title": "Write the plan", "description": "**Markdown** run book",
            "tools": ["Editor"], "links": [{"title": "Docs", "url": "https://example.com"}],
            "criteria": [criterion, {"id": "c2", "kind": "text", "description": "Agreed",
                                     "pattern": "", "media_types": []}],
            "steps": [{"id": "s1", "text": "Draft"}],
            "subtasks": [{"id": "t1.1", "title": "Review", "description": "", "tools": [],
                          "links": [], "criteria": [], "steps": []}]}
    template = {"template_id": "fuzz-seed", "version": "1.0", "name": "Seed",
                "description": "A small template",
                "phases": [{"id": "p1", "title": "Assess", "description": "",
                            "modules": [{"id": "m1", "title": "Plan", "description": "",
                                         "tasks": [task]}]}]}
    write("template_json", "small", json.dumps(template, indent=2, ensure_ascii=False))
    empty = dict(template, phases=[])
    write("template_json", "no-phases", json.dumps(empty))
    write("template_json", "unicode", json.dumps(dict(template, name="Überführung ✈ 移行"),
                                                 ensure_ascii=False))
    write("template_json", "wrong-kind", json.dumps(template).replace('"artifact"', '"file"'))
    write("template_json", "missing-id", json.dumps({k: v for k, v in template.items()
                                                     if k != "template_id"}))
    for f in sorted((REPO / "engine" / "templates").glob("*.json")):
        if f.stat().st_size <= 2 * MAX_SEED_BYTES:
            write("template_json", "builtin-" + f.stem, f.read_bytes())


def template_markdown_seeds():
    seeds = {
        "module": """# Module: Kick off
Start the migration with the right people.

## Task 1: Hold the kick-off meeting
#### Description
Invite the stakeholders. See [the playbook](https://example.com/playbook).
#### Tools
Calendar
#### Acceptance Criteria
• Upload the meeting notes to the task
• Attendees agreed on the scope
## Task 1: Subtask 1: Book the room
#### Description
A room for 20 people.
## Task 2: Share the plan
#### Tools
AWS Migration Hub
#### Tools
Spreadsheet
#### Acceptance Criteria
- Migration plan attached as a PDF document
""",
        "lettered": """# Module: Monitoring
## Task 1: Ensure monitoring is in place
#### Description
Make sure best practices are followed for:\u00a0\u00a0
1) Monitoring\u00a0\u00a0
a) CPU\u00a0\u00a0
b) Memory
#### Acceptance Criteria
\u2022  Setup monitoring tools
\u2022\u00a0Collect key metrics
""",
        "subtasks-out-of-order": """# Module: Waves
## Task 3: Migrate wave 1
## Task 3: Subtask 2: Cut over
## Task 3: Subtask 1: Replicate
#### Steps
Not a known section
## Task 2: Plan wave 1
## Task: no number
## Task 4 no colon
""",
        "no-module-heading": """Some text first.

## Task 1: Only a task
Loose text before any section.
#### Description:
Described.
""",
        "second-module-heading": "# Module: A\n# Module: B\n## Task 1: T\n",
        "empty": "",
        "headings-only": "#\n##\n###\n####\n#####\n######\n####### seven\n",
    }
    for name, text in seeds.items():
        write("template_markdown", name, text)
    write("template_markdown", "crlf-bom", b"\xef\xbb\xbf# Module: Windows\r\n## Task 1: Save\r\n"
          b"#### Description\r\nLine one\rLine two\r\n")
    write("template_markdown", "cp1252", b"# Module: Caf\xe9\n## Task 1: Na\xefve \x93quotes\x94\n"
          b"#### Acceptance Criteria\n\x95 R\xe9sum\xe9 uploaded\n\x81\x8d\x8f\x90\x9d undefined\n")
    write("template_markdown", "mixed-utf8-cp1252",
          "# Module: Überblick\n## Task 1: Größe ".encode() + b"\xe4ndern\n#### Tools\n\xa0AWS\xa0\n")


def main():
    for target in ("json_body", "stream_message", "event_binary", "event_json", "template_json",
                   "template_markdown"):
        clear_seeds(target)
    json_body_seeds()
    stream_message_seeds()
    golden_seeds()
    template_json_seeds()
    template_markdown_seeds()
    for folder in sorted(CORPUS.iterdir()):
        files = list(folder.iterdir())
        print(f"{folder.name}: {len(files)} files, {sum(f.stat().st_size for f in files)} bytes")


if __name__ == "__main__":
    main()
