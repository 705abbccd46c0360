#!/usr/bin/env bash
# Odd inputs for detect/embed/identify/enroll: zero-byte, truncated JPEG/PNG/WebP, huge
# declared dimensions, a directory named like an image, a dangling link, a non-UTF-8 name and
# a file list with blank lines. Each bad input gives an error record (valid JSON, the file
# name escaped) and exit 5, the good ones still get their records. Run under ASan by `make asan`.
set -u
B=${B:-build}; MODELS=${MODELS:-$B/models}; SHARED=${SHARED:-../shared}
F=$B/faceid; PY=/usr/bin/python3
FR=$SHARED/data/faces/face_recognition; GOOD=$FR/obama.jpg
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
M="--models $MODELS --detector det_500m --recognizer mobilefacenet_prelu_512d -q"

o=$tmp/odd; mkdir -p "$o"
: > "$o/zero.jpg"
ffmpeg -v error -y -i "$GOOD" -vf scale=96:96 "$tmp/s.png" -vf scale=96:96 -c:v libwebp "$tmp/s.webp" \
    -vf scale=96:96 "$tmp/s.jpg" || bad "ffmpeg"
for x in jpg png webp; do
    n=$(stat -c %s "$tmp/s.$x"); head -c $((n / 2)) "$tmp/s.$x" > "$o/trunc.$x"
done
$PY - "$o" <<'EOP'
import struct, sys, zlib
o = sys.argv[1]
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
# PNG and JPEG headers declaring 100000x100000 / 65000x65000 pixels, no real data
open(o + "/huge.png", "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
                                  + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, 65000, 65000, 3) + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00"
open(o + "/huge.jpg", "wb").write(b"\xff\xd8" + sof + b"\xff\xd9")
# a name that is not UTF-8
open(o.encode() + b"/bad\xff\xfename.jpg", "wb").write(b"\xff\xd8\xff\xe0garbage")
EOP
mkdir -p "$o/dir.jpg"
ln -s "$tmp/nowhere.jpg" "$o/dangling.jpg"
printf '%s\n\n%s\n   \n%s\n\n' "$GOOD" "$o/zero.jpg" "$o/dir.jpg" > "$tmp/list.txt"

# check EXPECTED_EXIT WHAT N_ERRORS N_GOOD_TYPE command...: exit code, every line valid JSON
check() {
    local want=$1 what=$2 nerr=$3 shift_; shift 3
    "$@" > "$tmp/out" 2> "$tmp/err"; local rc=$?
    if [ "$rc" -ne "$want" ]; then bad "$what: exit $rc, want $want: $(head -c 300 "$tmp/err")"; return; fi
    grep -q "AddressSanitizer\|runtime error" "$tmp/err" && { bad "$what: sanitizer report"; head -20 "$tmp/err"; return; }
    local msg
    msg=$($PY -c "
import json, sys
R = [json.loads(l) for l in open('$tmp/out', 'rb').read().decode('utf-8', 'strict').splitlines()]
E = [r for r in R if r['type'] == 'error']
assert len(E) == $nerr, (len(E), E)
assert all(isinstance(e['error'], str) and len(e['error']) > 5 and e['file'] for e in E), E
" 2>&1) && ok || bad "$what: $msg"
}

ODD=("$o/zero.jpg" "$o/trunc.jpg" "$o/trunc.png" "$o/trunc.webp" "$o/huge.png" "$o/huge.jpg"
     "$o/dangling.jpg" "$o"/bad*name.jpg)
check 5 "detect odd files" 8 $F detect $M "$GOOD" "${ODD[@]}"
grep -q '"type":"image"' "$tmp/out" && ok || bad "detect: the good image still has its record"
check 5 "embed odd files" 8 $F embed $M "${ODD[@]}" "$GOOD"
check 5 "detect a directory of odd files" 8 $F detect $M "$o"
check 5 "detect list with blank lines" 1 $F detect $M --files-from "$tmp/list.txt"
check 5 "embed list with blank lines" 1 $F embed $M --files-from - < "$tmp/list.txt"
check 4 "detect unreadable list" 0 $F detect $M --files-from "$o/dir.jpg"
check 5 "enroll odd files" 8 $F enroll "$tmp/g.db" --id obama $M "$GOOD" "${ODD[@]}"
check 5 "identify odd files" 8 $F identify "$tmp/g.db" $M "${ODD[@]}" "$GOOD"
check 5 "enroll list with blank lines" 1 $F enroll "$tmp/g.db" --id x $M --files-from "$tmp/list.txt"
# an unreadable file (root reads everything: then as nobody, if that user can run the binary)
cp "$tmp/s.jpg" "$o/noperm.jpg"; chmod 000 "$o/noperm.jpg"; chmod 755 "$tmp" "$o"
if [ "$(id -u)" != 0 ]; then
    check 5 "detect unreadable file" 1 $F detect $M "$o/noperm.jpg"
elif command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
    check 5 "detect unreadable file (as nobody)" 1 setpriv --reuid=65534 --regid=65534 --clear-groups \
        $F detect $M "$o/noperm.jpg"
    grep -q "Permission denied" "$tmp/out" && ok || bad "unreadable: message"
fi
echo "test_cli_odd: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
