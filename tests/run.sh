#!/usr/bin/env bash
# Runs every test program in $B/tests (at every ISA level the CPU has, where a test
# asks for it) and adds up their "N passed, N failed" lines into one closing line; each
# test's summary line carries its wall time, and the slowest ones are listed at the end
# (CI has a time budget: see README "Tests").
set -u
B=${B:-build}
export SHARED=${SHARED:-../shared} MODELS=${MODELS:-$B/models} GOLDEN=${GOLDEN:-$B/golden}
total_pass=0 total_fail=0 broken=0 walls=""  # "seconds name" per test
tf=$(mktemp); trap 'rm -f "$tf"' EXIT
cpu_now() {  # CPU seconds (user + system) of all finished children so far -> CPU
    times > "$tf"  # in this shell: a $(...) subshell would count only its own children
    CPU=$(tail -n 1 "$tf" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } printf "%.0f", s }')
}
run_one() {  # name, command...
    local name=$1; shift
    local out rc t0=$SECONDS c0
    cpu_now; c0=$CPU
    out=$("$@" 2>&1); rc=$?
    cpu_now
    local secs=$((SECONDS - t0)) cpu=$((CPU - c0))
    walls+="$secs $name"$'\n'
    printf '%s\n' "$out" | grep -E 'FAIL|passed, [0-9]+ failed' | sed "s|^|[$name] |;\$s|\$| (${secs} s, cpu ${cpu} s)|"
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
echo "slowest: $(printf '%s' "$walls" | sort -rn | head -n 8 | awk '{printf "%s %ss, ", $2, $1}')total ${SECONDS} s"
total_fail=$((total_fail + broken))
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
