#!/usr/bin/env bash
# make install into a temporary DESTDIR: the files, the exported symbols, pkg-config, the C
# example built against the installed shared and static library, the installed faceid finding
# the models beside itself, and uninstall leaving nothing behind.
set -u
B=${B:-build}
SHARED=${SHARED:-../shared}
MODELS=${MODELS:-$B/models}
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok; else bad "$what"; fi; }
if [ "${FAST:-0}" = 1 ]; then # sanitizer pass: installing an instrumented build proves nothing new
    echo "test_install: 0 passed, 0 failed (skipped with FAST=1)"; exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
if make -s install-python B="$B" DESTDIR="$root" PREFIX=/usr >"$tmp/make.log" 2>&1; then ok
else bad "make install"; tail -20 "$tmp/make.log"; fi
ver=$(sed -n 's/^#define FACEID_VERSION "\(.*\)"/\1/p' include/faceid.h)
for f in usr/bin/faceid usr/lib/libfaceid.a "usr/lib/libfaceid.so.${ver%.*}" usr/lib/libfaceid.so.0 \
         usr/lib/libfaceid.so usr/include/faceid.h usr/lib/pkgconfig/faceid.pc \
         usr/share/man/man1/faceid.1 usr/share/bash-completion/completions/faceid; do
    check "installed $f" test -e "$root/$f"
done
# The manual renders and documents every command and every flag --help lists.
man1=$root/usr/share/man/man1/faceid.1
page=$(MANWIDTH=200 man -l "$man1" 2>"$tmp/man.err"); rc=$?
[ $rc = 0 ] && [ ! -s "$tmp/man.err" ] && ok || bad "man -l faceid.1: rc $rc $(head -3 "$tmp/man.err")"
cmds=$("$B/faceid" help | sed -n 's/^  \([a-z]*\) .*/\1/p')
for c in $cmds; do
    missing=$("$B/faceid" "$c" --help | grep -oE '^ +(-[a-z], )?--[a-z0-9-]+' | sed 's/.*--/--/' |
        while read -r fl; do grep -qe "$fl" <<<"$page" || echo "$fl"; done)
    grep -qE "^   ($c|.*\(alias $c\))" <<<"$page" && [ -z "$missing" ] && ok ||
        bad "man page: command $c or its flags missing: $missing"
done
# The completion script loads and completes commands and a command's flags.
comp=$(bash -c "source '$root/usr/share/bash-completion/completions/faceid'
COMP_WORDS=(faceid ver); COMP_CWORD=1; _faceid; echo \"\${COMPREPLY[*]}\"
COMP_WORDS=(faceid detect --det-); COMP_CWORD=2; _faceid; echo \"\${COMPREPLY[*]}\"" 2>&1)
[ "$comp" = "$(printf 'verify version\n--det-size --det-scale --det-thresh')" ] && ok || bad "completion: $comp"
so=$root/usr/lib/libfaceid.so
check "SONAME libfaceid.so.0" sh -c "readelf -d '$so' | grep -q 'SONAME.*libfaceid.so.0'"
others=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -Ev '^(fid_|faceid_)')
[ -z "$others" ] && ok || bad "exported non-API symbols: $(echo $others | head -c 300)"
check "fid_pipeline_open exported" sh -c "nm -D --defined-only '$so' | grep -q ' fid_pipeline_open$'"

# The example, built the way a user would: pkg-config against the installed tree.
export PKG_CONFIG_PATH=$root/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
flags=$(pkg-config --cflags --libs faceid 2>&1) && ok || bad "pkg-config faceid: $flags"
check "pkg-config version $ver" test "$(pkg-config --modversion faceid)" = "$ver"
if cc -std=c11 -o "$tmp/verify" examples/verify.c $flags 2>"$tmp/cc.log"; then ok
else bad "example against libfaceid.so"; cat "$tmp/cc.log"; fi
# Static libfaceid, shared dependencies: the private requirements' own flags (not --static,
# which would ask for static libav* too).
deps=$(pkg-config --print-requires-private faceid | awk '{print $1}' | tr '\n' ' ')
sflags="$(pkg-config --cflags faceid) $root/usr/lib/libfaceid.a $(pkg-config --libs $deps)"
sflags="$sflags $(sed -n 's/^Libs.private: //p' "$PKG_CONFIG_PATH/faceid.pc")"
if cc -std=c11 -o "$tmp/verify_static" examples/verify.c $sflags 2>"$tmp/cc.log"; then ok
else bad "example against libfaceid.a ($sflags)"; cat "$tmp/cc.log"; fi
check "static example does not need libfaceid.so" sh -c "! ldd '$tmp/verify_static' | grep -q libfaceid"

# Models beside the installed code: <prefix>/share/faceid/models.
md=$root/usr/share/faceid/models
mkdir -p "$md"
for m in det_500m mobilefacenet_prelu_512d; do ln -s "$(realpath "$MODELS/$m.fidw")" "$md/$m.fidw"; done
fr=$SHARED/data/faces/face_recognition
run() { env -u FACEID_MODELS LD_LIBRARY_PATH="$root/usr/lib" "$@"; }
out=$(run "$tmp/verify" "$fr/obama.jpg" "$fr/obama2.jpg" 2>&1); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "same person" && ok || bad "verify obama obama2: rc $rc: $out"
out=$(run "$tmp/verify" "$fr/obama.jpg" "$fr/biden.jpg" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "different people" && ok || bad "verify obama biden: rc $rc: $out"
out=$(FACEID_MODELS=$md "$tmp/verify_static" "$fr/obama.jpg" "$fr/obama2.jpg" 2>&1); rc=$?
[ $rc = 0 ] && ok || bad "static verify obama obama2: rc $rc: $out"
out=$(run "$root/usr/bin/faceid" models 2>&1)
echo "$out" | grep -q "$md" && ok || bad "installed faceid looks in $md: $out"
out=$(run "$root/usr/bin/faceid" detect --detector det_500m --recognizer "" \
      "$SHARED/data/faces/insightface/sample/t1.jpg" 2>&1)
[ "$(echo "$out" | grep -c '"type":"face"')" = 6 ] && ok || bad "installed faceid detect t1: $out"

# The Python package from the installed tree finds the installed library and models.
t1=$(realpath "$SHARED/data/faces/insightface/sample/t1.jpg")
out=$(cd "$tmp" && env -u FACEID_MODELS -u FACEID_LIB PYTHONPATH="$root/usr/lib/python3/dist-packages" \
      /usr/bin/python3 -c "import faceid; e = faceid.Engine(detector='det_500m', recognizer=''); \
print(faceid.__version__, len(e.detect('$t1')))" 2>&1)
[ "$out" = "$ver 6" ] && ok || bad "installed python package: $out"
if make -s uninstall B="$B" DESTDIR="$root" PREFIX=/usr >"$tmp/make.log" 2>&1; then ok
else bad "make uninstall"; tail -5 "$tmp/make.log"; fi
left=$(find "$root" \( -type f -o -type l \) | head)
[ -z "$left" ] && ok || bad "uninstall left: $left"
echo "test_install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
