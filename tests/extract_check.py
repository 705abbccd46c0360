#!/usr/bin/env python3
"""Checks a Mixpeek extractor answer (tests/test_cli_extract.sh, tests/test_server_extract.sh).

usage: extract_check.py FILE EXPR   EXPR: a Python expression over d (the JSON answer),
                                    docs (d["documents"]) and jpeg_112(b64)
Exits 0 when EXPR is true, else prints the answer's start and exits 1."""
import base64
import io
import json
import sys


def jpeg_112(b64):
    raw = base64.b64decode(b64, validate=True)
    from PIL import Image
    im = Image.open(io.BytesIO(raw))
    return raw[:2] == b"\xff\xd8" and im.format == "JPEG" and im.size == (112, 112)


def main():
    d = json.load(open(sys.argv[1]))
    docs = d.get("documents", [])
    try:
        ok = eval(sys.argv[2], {"d": d, "docs": docs, "jpeg_112": jpeg_112})
    except Exception as e:
        ok = False
        sys.stderr.write("%r\n" % e)
    if not ok:
        sys.stderr.write("answer: %s\n" % json.dumps(d)[:1200])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
