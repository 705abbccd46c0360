#!/usr/bin/env bash
# The core library (make lib IMAGE=0 VIDEO=0 GALLERY=0 PDF=0 URL=0 OMP=0) builds from libc + libm +
# pthreads alone and runs the small models against the onnxruntime goldens.
set -u
B=${B:-build}
SHARED=${SHARED:-../shared}
MODELS=${MODELS:-$B/models} GOLDEN=${GOLDEN:-$B/golden}
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if make -s -j2 lib B="$tmp/b" IMAGE=0 VIDEO=0 GALLERY=0 PDF=0 URL=0 OMP=0 >"$tmp/make.log" 2>&1; then ok
else bad "core library build"; tail -20 "$tmp/make.log"; fi
lib=$tmp/b/libfaceid.a
if [ -f "$lib" ]; then
    # No codec, video or SQLite symbol may be referenced by the core.
    ext=$(nm "$lib" 2>/dev/null | awk '$1 == "U" {print $2}' | grep -E '^(jpeg_|png_|WebP|av|sws_|sqlite3_|omp_|GOMP_|poppler_|cairo_|g_|curl_)' | sort -u)
    [ -z "$ext" ] && ok || bad "core references optional libraries: $ext"
    if cc -std=c11 -D_GNU_SOURCE -O1 -Iinclude -Isrc -Imodels -Iengine -Ikernels -Itests \
        -o "$tmp/test_models" tests/test_models.c "$lib" -lm -pthread 2>"$tmp/cc.log"; then ok
    else bad "test_models links against the core with -lm -pthread only"; cat "$tmp/cc.log"; fi
    if [ -x "$tmp/test_models" ]; then
        out=$(FAST=1 MODELS=$MODELS GOLDEN=$GOLDEN SHARED=$SHARED "$tmp/test_models" 2>&1)
        line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
        p=$(printf '%s' "$line" | sed -nE 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\1/p')
        f=$(printf '%s' "$line" | sed -nE 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\2/p')
        if [ -n "$p" ] && [ "$p" -gt 0 ] && [ "$f" = 0 ]; then ok
        else bad "core test_models: ${line:-no summary}"; printf '%s\n' "$out" | grep FAIL | head; fi
    fi
fi
echo "test_core_build: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
