# Sourced by the `faceid serve` tests: counting, a server on a free 127.0.0.1 port, requests
# by curl. The caller sets F (the binary), tmp (its temp dir) and, where the server wants a
# token, AUTH ("Authorization: Bearer ..."). Every request waits at most CURL_MAX seconds;
# jobs are polled for WAIT_POLLS x 0.2 s (ASan, FAST=1, runs the models ~10x slower).
PY=${PY:-/usr/bin/python3}
SERVE_SCHEMA=tests/serve_schema.py
CURL_MAX=60; WAIT_POLLS=600
[ -n "${FAST:-}" ] && CURL_MAX=600 WAIT_POLLS=3000
pass=0 fail=0
SPID=
AUTH=${AUTH:-}

ok() {  # description, command that must succeed
    local what=$1; shift
    if "$@"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $what"; fi
}
serve_start() {  # serve options...: starts on a free port (U, SPID); stderr appends to $tmp/log
    rm -f "$tmp/port"
    "$F" serve --listen 127.0.0.1:0 --port-file "$tmp/port" "$@" 2>>"$tmp/log" &
    SPID=$!
    for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
    U=http://127.0.0.1:$(cat "$tmp/port" 2>/dev/null)
    [ -s "$tmp/port" ]
}
serve_kill() { [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null; SPID=; }
req() {  # METHOD PATH [curl args]: body in $tmp/b, headers in $tmp/h, status in $code
    local m=$1 p=$2; shift 2
    code=$(curl -s -m "$CURL_MAX" -X "$m" -o "$tmp/b" -D "$tmp/h" -w '%{http_code}' \
        ${AUTH:+-H "$AUTH"} "$@" "$U$p")
}
jreq() { local m=$1 p=$2 d=$3; shift 3; req "$m" "$p" -H 'Content-Type: application/json' --data-binary "$d" "$@"; }
jget() {  # python expression over the last body as d
    $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$tmp/b" "$1"
}
want() {  # expected-status description [schema kind [args]] (schema: $SCHEMA, else serve_schema.py)
    local st=$1 what=$2; shift 2
    if [ "$code" != "$st" ]; then
        fail=$((fail+1)); echo "FAIL $what: status $code, want $st: $(head -c 300 "$tmp/b")"; return
    fi
    if [ $# -gt 0 ]; then
        local kind=$1; shift
        if ! $PY "${SCHEMA:-$SERVE_SCHEMA}" "$kind" "$tmp/b" "$@" >"$tmp/why" 2>&1; then
            fail=$((fail+1)); echo "FAIL $what: $(head -c 600 "$tmp/why")"; return
        fi
    fi
    pass=$((pass+1))
}
submit() {  # Faces Service job: json body -> $job
    jreq POST /faces/analyze "$1"
    job=$(jget 'd.get("job_id","")' 2>/dev/null)
}
wait_job() {  # id [wanted final status]: polls the Faces Service status (schema-checked) -> $st
    local id=$1
    st=
    for _ in $(seq "$WAIT_POLLS"); do
        req GET "/faces/jobs/$id/status"
        $PY "$SERVE_SCHEMA" status "$tmp/b" >"$tmp/why" 2>&1 || { echo "bad status: $(cat "$tmp/why")"; return 1; }
        st=$(jget 'd["status"]')
        [ "$st" = completed ] || [ "$st" = failed ] && break
        sleep 0.2
    done
    [ $# -lt 2 ] || [ "$st" = "$2" ] || { echo "job $id: $st, want $2: $(head -c 300 "$tmp/b")"; return 1; }
}
