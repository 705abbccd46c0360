#!/usr/bin/env bash
# Runs every test program in $B/tests (at every ISA level the CPU has, where a test
# asks for it) and adds up their "N passed, N failed" lines into one closing line.
set -u
B=${B:-build}
export SHARED=${SHARED:-../shared} MODELS=${MODELS:-$B/models} GOLDEN=${GOLDEN:-$B/golden}
total_pass=0 total_fail=0 broken=0
run_one() {  # name, command...
    local name=$1; shift
    local out rc
    out=$("$@" 2>&1); rc=$?
    printf '%s\n' "$out" | grep -E 'FAIL|passed, [0-9]+ failed' | sed "s|^|[$name] |"
    local line
    line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$line" ]; then
        echo "[$name] exited $rc without a summary line:"; printf '%s\n' "$out" | tail -n 20
        broken=$((broken + 1)); return
    fi
    local p f
    p=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')
    f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "[$name] exited $rc"; broken=$((broken + 1))
    fi
}
for t in "$B"/tests/*; do
    [ -x "$t" ] || continue
    n=$(basename "$t")
    run_one "$n" "$t"
done
for s in tests/*.sh; do
    [ "$(basename "$s")" = run.sh ] && continue
    [ -x "$s" ] || continue
    run_one "$(basename "$s")" "$s"
done
for p in tests/test_*.py; do
    [ -f "$p" ] || continue
    run_one "$(basename "$p")" /usr/bin/python3 "$p"
done
total_fail=$((total_fail + broken))
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
