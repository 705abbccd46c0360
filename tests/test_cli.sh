#!/usr/bin/env bash
# CLI contract: exit codes and messages for bad flags, missing/corrupt models, wrong input
# sizes; and a good infer run that reports its outputs as one JSON line.
set -u
B=${B:-build}; MODELS=${MODELS:-$B/models}
F=$B/faceid; M=$MODELS/mobilefacenet_prelu_512d.fidw
pass=0 fail=0
t() {  # expected-exit description command...
    local want=$1 what=$2; shift 2
    "$@" >/tmp/fid_cli_out 2>/tmp/fid_cli_err; local rc=$?
    if [ "$rc" -eq "$want" ]; then pass=$((pass+1)); else
        fail=$((fail+1)); echo "FAIL $what: exit $rc, want $want: $(head -c 300 /tmp/fid_cli_err)"; fi
}
tmp=$(mktemp -d)
t 2 "no command" "$F"
t 2 "unknown command" "$F" frobnicate
t 0 "help" "$F" --help
t 0 "version" "$F" version
t 0 "--version" "$F" --version
grep -q '"cpu_isa"' /tmp/fid_cli_out && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL version record"; }
t 0 "help CMD" "$F" help infer
grep -q "^usage: faceid infer" /tmp/fid_cli_out && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL help infer"; }
t 0 "inspect --help" "$F" inspect --help
# help comes from the command table: `help CMD` == `CMD --help`, each starts with its usage,
# and every flag a command's help lists is accepted by that command's parser
for c in $("$F" help | sed -n 's/^  \([a-z]*\) .*/\1/p'); do
    "$F" help "$c" > "$tmp/h1" 2>&1; "$F" "$c" --help > "$tmp/h2" 2>&1
    if cmp -s "$tmp/h1" "$tmp/h2" && grep -q "^usage: faceid \($c\|identify\)" "$tmp/h1"; then
        pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL help $c"; fi
    for fl in $(grep -o '^  \(-[a-z], \)\?--[a-z-]*' "$tmp/h1" | sed 's/.*\(--[a-z-]*\)$/\1/'); do
        [ "$fl" = --help ] && continue
        FACEID_MODELS=$tmp/none "$F" "$c" "$fl" < /dev/null > /dev/null 2> "$tmp/e"
        if grep -q "unknown option" "$tmp/e"; then fail=$((fail+1)); echo "FAIL $c $fl listed but refused"; fi
    done
done
t 2 "version extra arg" "$F" version extra
t 2 "unknown option" "$F" inspect "$M" --bogus
t 2 "infer without shape" "$F" infer "$M" --input x --output y
t 2 "bad shape" "$F" infer "$M" --input x --output y --shape 1,3,abc
t 3 "missing model" "$F" inspect /nonexistent.fidw
printf 'garbage' > "$tmp/bad.fidw"
t 3 "corrupt model" "$F" inspect "$tmp/bad.fidw"
grep -q "truncated" /tmp/fid_cli_err && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL corrupt model message"; }
t 0 "inspect" "$F" inspect "$M" --shape 1,3,112,112
head -c 1000 /dev/zero > "$tmp/short.f32"
t 4 "short input" "$F" infer "$M" --input "$tmp/short.f32" --shape 1,3,112,112 --output "$tmp/o.f32"
t 4 "missing input" "$F" infer "$M" --input "$tmp/nope.f32" --shape 1,3,112,112 --output "$tmp/o.f32"
t 4 "wrong channels" "$F" infer "$M" --input "$tmp/short.f32" --shape 1,4,112,112 --output "$tmp/o.f32"
t 2 "bad isa" "$F" infer "$M" --isa sse9 --input x --shape 1,3,112,112 --output y
head -c $((3*112*112*4)) /dev/zero > "$tmp/in.f32"
t 0 "infer" "$F" infer "$M" --input "$tmp/in.f32" --shape 1,3,112,112 --output "$tmp/o.f32"
[ "$(stat -c %s "$tmp/o.f32" 2>/dev/null)" = 2048 ] && grep -q '"shape":\[1,512\]' /tmp/fid_cli_out \
    && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL infer output: $(cat /tmp/fid_cli_out)"; }
rm -rf "$tmp"
echo "test_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
