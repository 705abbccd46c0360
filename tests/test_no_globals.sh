#!/usr/bin/env bash
# engine/ and kernels/ keep no file-scope mutable state: two threads running their own
# models must share nothing writable (a static sort context once made concurrent re-planning
# race). Every object's data symbols are listed with nm; anything in a writable data or
# bss section fails unless allow-listed below. Read-only tables (const, also .data.rel.ro
# after relocation) are fine.
set -u
B=${B:-build}
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

# object path (relative to $B) and symbol, with the reason it may stay:
ALLOW=(
    # the [thread] error slot read by fid_last_error() (_Thread_local: one per thread, not shared)
    "engine/err.o thread_err"
)

# Writable file-scope or function-static objects of one object file: "path symbol".
writable() {
    nm -f sysv "$1" 2>/dev/null | awk -F'|' -v f="$2" '
        { gsub(/ /, "", $1); gsub(/ /, "", $3); gsub(/ /, "", $7) }
        $3 ~ /^[DdBbCGgSsV]$/ && $7 !~ /^\.data\.rel\.ro/ && $7 !~ /^\.rodata/ \
            { print f " " $1 }'
}

allowed() {
    for a in "${ALLOW[@]}"; do [ "$a" = "$1" ] && return 0; done
    return 1
}

# The check itself must catch a static mutable pointer like the old planner's sort_base.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/probe.c" <<'C'
static int *sort_base;
void set_base(int *p) { sort_base = p; }
int get(void) { return *sort_base; }
C
if cc -O2 -c "$tmp/probe.c" -o "$tmp/probe.o" && writable "$tmp/probe.o" probe.o | grep -q sort_base
then ok; else bad "the nm check does not see a static mutable pointer"; fi

objs=$(cd "$B/obj" 2>/dev/null && find engine kernels -name '*.o' | sort)
[ -n "$objs" ] && ok || bad "no engine/kernels objects under $B/obj (build first)"
for o in $objs; do
    found=$(writable "$B/obj/$o" "$o")
    [ -z "$found" ] && { ok; continue; }
    while read -r line; do
        if allowed "$line"; then ok; else bad "$line: writable static data in engine/kernels"; fi
    done <<<"$found"
done
echo "test_no_globals: $pass passed, $fail failed"
[ "$fail" = 0 ]
