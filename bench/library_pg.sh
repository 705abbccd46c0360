#!/usr/bin/env bash
# The archive library bench on both stores at one size (default 100k appearances: inserting
# 1M rows with thumbnails into PostgreSQL takes minutes here): write, load, bytes, and `find`
# after the load (in memory, so it should match). Starts a throw-away PostgreSQL
# (tests/pg_lib.sh). Usage: bench/library_pg.sh [n]   (B=build SHARED=../shared)
set -u
B=${B:-build}; SHARED=${SHARED:-../shared}; N=${1:-100000}
LFW=$SHARED/data/faces/insightface/small_lfw_aligned112
. "$(dirname "$0")/../tests/pg_lib.sh"
trap pg_stop EXIT
pg_start benchlib || { echo "bench/library_pg.sh: $PG_SKIP"; exit 1; }
"$B"/bench/bench_library "$N" 512 "$LFW" | grep -v '^{'
"$B"/bench/bench_library "$N" 512 "$LFW" "$PG_URL" | grep -v '^{'
