#!/usr/bin/env bash
# Inputs and detector scale: --det-scale N (DeepVA face_detection_scale) is exactly
# --det-size of N rounded to a multiple of 32 (same records), bad values exit 2 with the range.
# PDF input: a 3-page PDF made with img2pdf from the shared photos gives each page's faces
# with "page"; corrupt PDFs give error records and exit 5; huge pages are rendered smaller.
# URL input against local HTTP servers: images and videos by URL give the same results as the
# files; 404, refused port, oversize, non-image, silent server (timeout) and unknown host give
# clear error records and exit 5.
set -u
B=${B:-build}; MODELS=${MODELS:-$B/models}; SHARED=${SHARED:-../shared}
F=$B/faceid; PY=/usr/bin/python3
D=$SHARED/data/faces
T1=$D/insightface/sample/t1.jpg
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export FACEID_MODELS=$MODELS
M=(--detector det_500m --threads 1)

# ---- --det-scale
for pair in 100:96 111:96 112:128 640:640 650:640 1000:992 2000:2016; do
    n=${pair%:*} s=${pair#*:}
    "$F" detect "${M[@]}" --det-scale "$n" "$T1" 2> "$tmp/err" | sed "s/,\"ms\":[0-9.e+-]*//; s/,\"processing_time_ms\":[0-9.e+-]*//g" > "$tmp/a"
    "$F" detect "${M[@]}" --det-size "$s" "$T1" 2>/dev/null | sed "s/,\"ms\":[0-9.e+-]*//; s/,\"processing_time_ms\":[0-9.e+-]*//g" > "$tmp/b"
    [ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b" && ok || bad "det-scale $n != det-size $s"
done
# t1.jpg (1280 wide): 6 faces from scale 640 up, the 96 px input loses the small ones
n=$("$F" detect "${M[@]}" --det-scale 640 "$T1" | grep -c '"type":"face"')
[ "$n" = 6 ] && ok || bad "t1 at scale 640: $n faces"
n=$("$F" detect "${M[@]}" --det-scale 100 "$T1" | grep -c '"type":"face"')
[ "$n" -lt 6 ] && ok || bad "t1 at scale 100: $n faces (want fewer)"
for v in 99 2001 0 -5 abc 640.5 ""; do
    "$F" detect "${M[@]}" --det-scale "$v" "$T1" > "$tmp/o" 2> "$tmp/err"; rc=$?
    [ $rc = 2 ] && [ ! -s "$tmp/o" ] && grep -q "100..2000" "$tmp/err" && ok || bad "det-scale '$v' rc $rc"
done
for c in detect embed identify video enroll; do
    "$F" $c --help | grep -q -- "--det-scale" && ok || bad "$c --help lacks --det-scale"
done

# ---- PDF input: a 3-page PDF of photos (img2pdf: one photo per page)
FR=$D/face_recognition
recs() { "$PY" -c "import json,sys; [print(json.dumps(r)) for r in map(json.loads, open(sys.argv[1])) if eval(sys.argv[2])]" "$@"; }
chk() { "$PY" -c "import json,sys; R=[json.loads(l) for l in open(sys.argv[1])]; sys.exit(0 if eval(sys.argv[2]) else 1)" "$@"; }
if ! command -v img2pdf > /dev/null; then
    bad "img2pdf missing (.ci/setup installs it)"
elif ! img2pdf "$T1" "$FR/two_people.jpg" "$FR/obama.jpg" -o "$tmp/doc.pdf"; then
    bad "img2pdf failed"
elif "$F" detect "${M[@]}" "$tmp/doc.pdf" 2>&1 | grep -q "not built in"; then
    echo "SKIP PDF: faceid built without PDF=1"
else
    "$F" detect "${M[@]}" "$tmp/doc.pdf" > "$tmp/p.jsonl" 2> "$tmp/err"; rc=$?
    [ $rc = 0 ] && ok || bad "pdf detect rc $rc $(cat "$tmp/err")"
    # pages 1..3 with 6, 2 and 1 faces; every record names its page in "page" and in the file
    chk "$tmp/p.jsonl" "[(r['page'], r['faces']) for r in R if r['type'] == 'image'] == [(1, 6), (2, 2), (3, 1)] \
        and all(r['file'] == '$tmp/doc.pdf#page=%d' % r['page'] for r in R) \
        and [r['page'] for r in R if r['type'] == 'face'] == [1] * 6 + [2] * 2 + [3] \
        and all(r['dpi'] == 150 for r in R if r['type'] == 'image')" && ok || bad "pdf pages/faces per page"
    # page 1 at 150 dpi is t1.jpg (1280x886 at img2pdf's 96 dpi) scaled by 150/96
    chk "$tmp/p.jsonl" "[(r['width'], r['height']) for r in R if r['type'] == 'image'][0] == (2000, 1384)" \
        && ok || bad "pdf page size at 150 dpi"
    # --pdf-dpi 72: pages at 72/150 of that size, same faces
    "$F" detect "${M[@]}" --pdf-dpi 72 "$tmp/doc.pdf" > "$tmp/p72.jsonl" 2>/dev/null
    chk "$tmp/p72.jsonl" "[(r['width'], r['faces'], r['dpi']) for r in R if r['type'] == 'image'] == [(960, 6, 72), (845, 2, 72), (273, 1, 72)]" \
        && ok || bad "pdf at 72 dpi"
    # embed: page and embedding on each face; identify: Obama on page 3 (his gallery photo) and 2
    "$F" embed "${M[@]}" --recognizer mobilefacenet_prelu_512d "$tmp/doc.pdf" > "$tmp/e.jsonl" 2>/dev/null
    chk "$tmp/e.jsonl" "sum(1 for r in R if r['type'] == 'face' and 'page' in r and len(r.get('embedding', [])) == 512) == 9" \
        && ok || bad "pdf embed"
    "$F" enroll "${M[@]}" --recognizer mobilefacenet_prelu_512d "$tmp/g.db" --id obama "$FR/knn_examples/train/obama/obama.jpg" > /dev/null 2>&1
    "$F" identify "${M[@]}" --recognizer mobilefacenet_prelu_512d "$tmp/g.db" "$tmp/doc.pdf" > "$tmp/id.jsonl" 2>/dev/null
    chk "$tmp/id.jsonl" "[r['page'] for r in R if r['type'] == 'image'] == [1, 2, 3] \
        and [r['page'] for r in R if r['type'] == 'match' and r['identity'] == 'obama'] == [2, 3] \
        and [r['score'] > 0.9 for r in R if r['type'] == 'match' and r['identity'] == 'obama'] == [False, True]" \
        && ok || bad "pdf identify: obama on pages 2 (two_people.jpg) and 3"
    # recognised by its bytes: a PDF named .jpg is pages, a directory walk takes .pdf files
    cp "$tmp/doc.pdf" "$tmp/disguised.jpg"
    mkdir -p "$tmp/dir" && cp "$tmp/doc.pdf" "$tmp/dir/"
    "$F" detect "${M[@]}" "$tmp/disguised.jpg" "$tmp/dir" > "$tmp/d.jsonl" 2>/dev/null
    chk "$tmp/d.jsonl" "[r['page'] for r in R if r['type'] == 'image'] == [1, 2, 3, 1, 2, 3]" \
        && ok || bad "pdf by magic bytes / in directories"
    # one page named explicitly; a page that does not exist
    "$F" detect "${M[@]}" "$tmp/doc.pdf#page=2" > "$tmp/one.jsonl" 2>/dev/null
    chk "$tmp/one.jsonl" "[(r['page'], r['faces']) for r in R if r['type'] == 'image'] == [(2, 2)]" \
        && ok || bad "doc.pdf#page=2"
    "$F" detect "${M[@]}" "$tmp/doc.pdf#page=9" > "$tmp/o" 2>/dev/null; rc=$?
    [ $rc = 5 ] && chk "$tmp/o" "R[0]['type'] == 'error' and R[0]['page'] == 9 and 'out of range' in R[0]['error']" \
        && ok || bad "page 9 rc $rc"
    # corrupt PDFs: error records, the batch goes on, exit 5
    head -c 3000 "$tmp/doc.pdf" > "$tmp/trunc.pdf"
    printf '%%PDF-1.4\n1 0 obj garbage' > "$tmp/junk.pdf"
    : > "$tmp/empty.pdf"
    head -c 200000 /dev/urandom > "$tmp/random.pdf"
    "$F" detect "${M[@]}" "$tmp/trunc.pdf" "$tmp/junk.pdf" "$tmp/empty.pdf" "$tmp/random.pdf" "$FR/obama.jpg" \
        > "$tmp/c.jsonl" 2> "$tmp/err"; rc=$?
    [ $rc = 5 ] && chk "$tmp/c.jsonl" "[r['type'] for r in R][:4] == ['error'] * 4 and all(r['error'] for r in R[:4]) \
        and R[-1]['type'] == 'image' and R[-1]['faces'] == 1" && ok || bad "corrupt pdfs rc $rc: $(head -c 600 "$tmp/c.jsonl")"
    # a 200x200 inch page: rendered at the dpi that fits 40M pixels, its face still found
    img2pdf -S 200inx200in "$FR/obama.jpg" -o "$tmp/huge.pdf"
    "$F" detect "${M[@]}" "$tmp/huge.pdf" > "$tmp/h.jsonl" 2>/dev/null; rc=$?
    [ $rc = 0 ] && chk "$tmp/h.jsonl" "[(r['dpi'] < 150 and r['width'] * r['height'] <= 40000000 and r['width'] <= 16384, r['faces']) for r in R if r['type'] == 'image'] == [(True, 1)]" \
        && ok || bad "huge page rc $rc $(tail -1 "$tmp/h.jsonl")"
    for v in 17 1201 0 abc -150; do
        "$F" detect "${M[@]}" --pdf-dpi "$v" "$tmp/doc.pdf" > "$tmp/o" 2> "$tmp/err"; rc=$?
        [ $rc = 2 ] && [ ! -s "$tmp/o" ] && grep -q "18..1200" "$tmp/err" && ok || bad "--pdf-dpi $v rc $rc"
    done
fi

# ---- URL input: a local HTTP server on 127.0.0.1 (byte ranges: libavformat seeks in mp4)
free_port() { "$PY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
mkdir -p "$tmp/www"
cp "$FR/obama.jpg" "$FR/short_hamilton_clip.mp4" "$tmp/www/"
head -c 3000000 /dev/urandom > "$tmp/www/big.jpg"
echo "not an image" > "$tmp/www/text.jpg"
[ -f "$tmp/doc.pdf" ] && cp "$tmp/doc.pdf" "$tmp/www/"
PORT=$(free_port)
(cd "$tmp/www" && exec "$PY" "$OLDPWD/tests/range_server.py" "$PORT") > /dev/null 2>&1 &
SRV=$!
SILENT_PORT=$(free_port)
# accepts connections and never answers (timeouts)
"$PY" -c "import socket,sys,time; s=socket.socket(); s.bind(('127.0.0.1',int(sys.argv[1]))); s.listen(8); c=[s.accept() for _ in range(4)]; time.sleep(60)" "$SILENT_PORT" &
SILENT=$!
REFUSED=$(free_port) # nothing listens there
trap 'kill $SRV $SILENT 2>/dev/null; rm -rf "$tmp"' EXIT
U=http://127.0.0.1:$PORT
for i in $(seq 50); do curl -sf -o /dev/null "$U/obama.jpg" && break; sleep 0.1; done
if "$F" detect "${M[@]}" "$U/obama.jpg" 2>&1 | grep -q "not built in"; then
    echo "SKIP URL: faceid built without URL=1"
else
    "$F" detect "${M[@]}" "$U/obama.jpg" > "$tmp/u.jsonl" 2> "$tmp/err"; rc=$?
    "$F" detect "${M[@]}" "$FR/obama.jpg" > "$tmp/l.jsonl" 2>/dev/null
    [ $rc = 0 ] && chk "$tmp/u.jsonl" "R[0]['file'] == '$U/obama.jpg' and R[-1]['faces'] == 1" \
        && [ "$(sed 's/"file":"[^"]*"//; s/,"ms":[0-9.e+-]*//; s/,"processing_time_ms":[0-9.e+-]*//g' "$tmp/u.jsonl")" = "$(sed 's/"file":"[^"]*"//; s/,"ms":[0-9.e+-]*//; s/,"processing_time_ms":[0-9.e+-]*//g' "$tmp/l.jsonl")" ] \
        && ok || bad "url image rc $rc: $(cat "$tmp/err")"
    # one batch of failures, each a clear error record; the good URL after them still works
    t0=$(date +%s)
    "$F" detect "${M[@]}" --url-max-mb 1 --url-timeout 2 "$U/nope.jpg" "http://127.0.0.1:$REFUSED/x.jpg" \
        "$U/big.jpg" "$U/text.jpg" "http://127.0.0.1:$SILENT_PORT/x.jpg" \
        "http://faceid-no-such-host.invalid/x.jpg" "$U/obama.jpg" > "$tmp/ue.jsonl" 2>/dev/null; rc=$?
    t1=$(date +%s)
    [ $rc = 5 ] && chk "$tmp/ue.jsonl" "[r['type'] for r in R][:6] == ['error'] * 6 \
        and 'HTTP 404' in R[0]['error'] \
        and ('connect' in R[1]['error'].lower() or 'refused' in R[1]['error'].lower()) \
        and 'larger than the 1048576-byte limit' in R[2]['error'] \
        and R[3]['file'].endswith('text.jpg') \
        and 'timed out' in R[4]['error'] \
        and 'resolve' in R[5]['error'].lower() \
        and R[-1]['type'] == 'image' and R[-1]['faces'] == 1" \
        && ok || bad "url errors rc $rc: $(cut -c1-160 "$tmp/ue.jsonl")"
    [ $((t1 - t0)) -le 20 ] && ok || bad "url errors took $((t1 - t0)) s (timeouts not honoured)"
    if [ -f "$tmp/www/doc.pdf" ]; then
        "$F" detect "${M[@]}" "$U/doc.pdf" > "$tmp/o" 2>/dev/null; rc=$?
        [ $rc = 5 ] && grep -q "PDFs are read from files only" "$tmp/o" && ok || bad "pdf by url rc $rc"
    fi
    # video by URL through libavformat's http: the same frames and faces as the local file
    "$F" video "${M[@]}" --det-size 320 --sampling-interval 2 --no-faces "$U/short_hamilton_clip.mp4" \
        > "$tmp/uv.jsonl" 2> "$tmp/err"; rc=$?
    "$F" video "${M[@]}" --det-size 320 --sampling-interval 2 --no-faces "$FR/short_hamilton_clip.mp4" \
        > "$tmp/lv.jsonl" 2>/dev/null
    key="import json,sys; v=[json.loads(l) for l in open(sys.argv[1]) if '\"video\"' in l][0]; print(v['frames_analysed'], v['frames_decoded'], v['faces'], v['unique_faces'])"
    a=$("$PY" -c "$key" "$tmp/uv.jsonl" 2>&1) b=$("$PY" -c "$key" "$tmp/lv.jsonl" 2>&1)
    [ $rc = 0 ] && [ "$a" = "$b" ] && [ "${a%% *}" = 5 ] && ok || bad "video url rc $rc: '$a' vs '$b' $(cat "$tmp/err")"
    "$F" video "${M[@]}" --det-size 320 --scenes auto --no-faces "$U/short_hamilton_clip.mp4" > "$tmp/us.jsonl" 2>/dev/null; rc=$?
    [ $rc = 0 ] && chk "$tmp/us.jsonl" "len(R[0]['scenes']) == 4" && ok || bad "video url scenes rc $rc"
    "$F" video "${M[@]}" "$U/nope.mp4" "http://127.0.0.1:$REFUSED/v.mp4" > "$tmp/o" 2>/dev/null; rc=$?
    [ $rc = 5 ] && chk "$tmp/o" "[r['type'] for r in R] == ['error', 'error'] and '404' in R[0]['error']" \
        && ok || bad "video url errors rc $rc $(cat "$tmp/o")"
    for a in "--url-timeout 0" "--url-timeout 3601" "--url-timeout x" "--url-max-mb 0" "--url-max-mb 4097"; do
        "$F" detect "${M[@]}" $a "$U/obama.jpg" > "$tmp/o" 2> "$tmp/err"; rc=$?
        [ $rc = 2 ] && [ ! -s "$tmp/o" ] && grep -qE "1\.\.(3600|4096)" "$tmp/err" && ok || bad "'$a' rc $rc"
    done
fi

echo "test_cli_input: $pass passed, $fail failed"
[ "$fail" = 0 ]
