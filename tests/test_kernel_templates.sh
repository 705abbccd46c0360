#!/usr/bin/env bash
# The kernel templates (kernels/*.inc) are self-contained: after a SIMD shim, each guarded .inc
# compiles on its own, twice in a row (include guard), and all of them in reverse order; a
# micro-kernel instance file (*_def.inc) compiles on its own with its parameters defined and
# refuses to compile without them. Syntax only, for every shim this host's compiler targets
# (x86: AVX2 and AVX-512; AArch64: NEON; aarch64-linux-gnu-gcc too when installed).
set -u
cd "$(dirname "$0")/.."
CC=${CC:-cc}
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
W="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-function -Wno-unused-parameter"
W="$W -Wshadow -Wvla -fsyntax-only -Ikernels -Ikernels/x86 -Ikernels/arm"

guarded=$(cd kernels && ls *.inc | grep -v '_def\.inc$')
check_shim() { # compiler, flags, shim
    local cc=$1 flags=$2 shim=$3 f
    for f in $guarded; do
        printf '#include "%s"\n#include "%s"\n#include "%s"\n' "$shim" "$f" "$f" > "$tmp/t.c"
        if $cc $W $flags -c "$tmp/t.c" 2> "$tmp/err"; then ok; else
            bad "$shim + $f alone:"; head -5 "$tmp/err"; fi
    done
    { echo "#include \"$shim\""; for f in $(echo "$guarded" | sort -r); do
          echo "#include \"$f\""; done; } > "$tmp/t.c"
    if $cc $W $flags -c "$tmp/t.c" 2> "$tmp/err"; then ok; else
        bad "$shim + all in reverse order:"; head -5 "$tmp/err"; fi
    printf '#include "%s"\n#define UK_NAME uk_x\n#define UK_MR 4\n#define UK_NV 1\n#include "gemm_uk_def.inc"\n#define DK_NAME dk_x\n#define DK_NV 1\n#define DK_TAPS 0\n#include "direct_uk_def.inc"\n' \
        "$shim" > "$tmp/t.c"
    if $cc $W $flags -c "$tmp/t.c" 2> "$tmp/err"; then ok; else
        bad "$shim + micro-kernel instances alone:"; head -5 "$tmp/err"; fi
    printf '#include "%s"\n#include "gemm_uk_def.inc"\n' "$shim" > "$tmp/t.c"
    if $cc $W $flags -c "$tmp/t.c" 2> /dev/null; then bad "$shim: gemm_uk_def.inc without parameters compiled"; else ok; fi
}
# without a shim every template stops with a message
printf '#include "conv.inc"\n' > "$tmp/t.c"
if $CC $W -c "$tmp/t.c" 2>&1 | grep -q "include a SIMD shim"; then ok; else bad "conv.inc without a shim"; fi

case $($CC -dumpmachine) in
x86_64*)
    check_shim "$CC" "-mavx2 -mfma -mf16c" simd_avx2.h
    check_shim "$CC" "-mavx512f -mavx512cd -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c" simd_avx512.h
    if command -v aarch64-linux-gnu-gcc > /dev/null; then
        check_shim aarch64-linux-gnu-gcc "" simd_neon.h
    fi ;;
aarch64*) check_shim "$CC" "" simd_neon.h ;;
esac
echo "test_kernel_templates: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
