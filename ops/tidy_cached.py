"""clang-tidy over the given sources, skipping those whose check passed before.

A source passed before when clang-tidy found nothing in the same input: the
same clang-tidy version, the same .clang-tidy, the same compiler flags and
the same preprocessed text (the file with every header it includes), with
the repository's path taken out so that another clone of the same commit
hits the same entries. Passes are kept as empty files named by that hash
under $XDG_CACHE_HOME/migops/tidy (~/.cache by default); findings are never
kept, so a file with findings is checked again every time.

Usage: tidy_cached.py BUILD_DIR SOURCE... ; prints the findings and exits 1
when there are any.
"""

import concurrent.futures
import hashlib
import json
import os
import shlex
import subprocess
import sys


def main():
    build, sources = sys.argv[1], sys.argv[2:]
    root = os.path.dirname(os.path.abspath(build))
    with open(os.path.join(build, "compile_commands.json")) as f:
        commands = {os.path.realpath(e["file"]): e for e in json.load(f)}
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                         "migops", "tidy")
    os.makedirs(cache, exist_ok=True)
    version = subprocess.run(["clang-tidy", "--version"], capture_output=True, text=True,
                             check=True).stdout
    with open(os.path.join(root, ".clang-tidy"), "rb") as f:
        config = f.read()

    def key_of(source):
        entry = commands.get(os.path.realpath(os.path.join(root, source)))
        if entry is None:
            return None
        args = shlex.split(entry["command"])
        # The same compiler run, stopped after the preprocessor.
        pre, skip = [], False
        for a in args:
            if skip:
                skip = False
                continue
            if a in ("-o", "-MF", "-MT"):
                skip = True
                continue
            if a in ("-c", "-MD"):
                continue
            pre.append(a)
        text = subprocess.run(pre + ["-E", "-P"], cwd=entry["directory"], capture_output=True,
                              check=True).stdout
        h = hashlib.sha256()
        for part in (version.encode(), config, " ".join(pre).replace(root, "<root>").encode(),
                     text.replace(root.encode(), b"<root>")):
            h.update(hashlib.sha256(part).digest())
        return h.hexdigest()

    def check(source):
        key = key_of(source)
        if key and os.path.exists(os.path.join(cache, key)):
            return source, True, ""
        run = subprocess.run(["clang-tidy", "-p", build, "--quiet", source], cwd=root,
                             capture_output=True, text=True)
        out = run.stdout + run.stderr
        found = run.returncode != 0 or "warning:" in out or "error:" in out
        if not found and key:
            open(os.path.join(cache, key), "w").close()
        return source, not found, out

    failed = False
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for source, ok, out in pool.map(check, sources):
            if not ok:
                failed = True
                print(f"== {source}\n{out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
