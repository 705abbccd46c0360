#!/usr/bin/env bash
# Runs every fuzz harness built by `make fuzz` for FUZZ_TIME seconds on a corpus seeded by
# seeds.py (one process, nice: the machine is shared). Crashes land in $FUZZ_B/fuzz/crash-<name>-*.
set -u
FUZZ_B=${FUZZ_B:-build-fuzz}; SHARED=${SHARED:-../shared}; FUZZ_TIME=${FUZZ_TIME:-60}
ONLY=${ONLY:-}
D=$FUZZ_B/fuzz
/usr/bin/python3 tests/fuzz/seeds.py "$D/seeds" "$SHARED" || exit 4
rc=0
for bin in "$D"/fuzz_*; do
    [ -x "$bin" ] || continue
    name=${bin##*/fuzz_}
    [ -n "$ONLY" ] && [ "$name" != "$ONLY" ] && continue
    mkdir -p "$D/corpus/$name"
    echo "== fuzz_$name: ${FUZZ_TIME}s"
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    nice "$bin" -max_total_time="$FUZZ_TIME" -timeout=20 -rss_limit_mb=3000 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$D/crash-$name-" \
        "$D/corpus/$name" "$D/seeds/$name" >"$D/$name.log" 2>&1 || { rc=1; echo "fuzz_$name FAILED: see $D/$name.log"; }
    grep -E "stat::number_of_executed_units|stat::peak_rss" "$D/$name.log" | tr '\n' ' '; echo
done
exit $rc
