# Sourced by tests that need a real PostgreSQL: pg_start starts a throw-away server (initdb into a
# temp dir, unix socket in that dir only, trust auth, no TCP) and sets PG_URL to a fresh database
# on it; pg_stop (also run on EXIT by the caller's trap) stops it and removes the dir.
# Returns 1 with PG_SKIP set to the reason where PostgreSQL cannot start here.
# initdb refuses to run as root, so as root the server runs as the `postgres` user.

pg_bin_dir() {
    local d
    for d in "${PG_BIN:-}" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
    done
    return 1
}

pg_as() {  # runs a server command as the server's user
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {  # [database name]
    local db=${1:-faceid} bin
    PG_SKIP=
    bin=$(pg_bin_dir) || { PG_SKIP="no PostgreSQL server binaries (apt-get install postgresql)"; return 1; }
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        PG_SKIP="running as root and no 'postgres' user to run the server as"; return 1
    fi
    PG_DIR=$(mktemp -d /tmp/faceid-pg.XXXXXX)
    chmod 755 "$PG_DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
    if ! pg_as "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --no-locale \
            >"$PG_DIR/initdb.log" 2>&1; then
        PG_SKIP="initdb failed: $(tail -n 3 "$PG_DIR/initdb.log" | tr '\n' ' ')"; pg_stop; return 1
    fi
    if ! pg_as "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
            -o "-c listen_addresses='' -c unix_socket_directories='$PG_DIR' -c fsync=off -c max_connections=60" \
            start >/dev/null 2>&1; then
        PG_SKIP="pg_ctl start failed: $(tail -n 3 "$PG_DIR/server.log" 2>/dev/null | tr '\n' ' ')"
        pg_stop; return 1
    fi
    PG_BIN_DIR=$bin
    if ! "$bin/createdb" -h "$PG_DIR" -U postgres "$db" 2>"$PG_DIR/createdb.log"; then
        PG_SKIP="createdb failed: $(cat "$PG_DIR/createdb.log")"; pg_stop; return 1
    fi
    PG_URL="postgresql://postgres@/$db?host=$PG_DIR"
    export PG_URL PG_DIR PG_BIN_DIR
}

pg_createdb() {  # name -> prints the URL of a new, empty database on the running server
    "$PG_BIN_DIR/createdb" -h "$PG_DIR" -U postgres "$1" && echo "postgresql://postgres@/$1?host=$PG_DIR"
}

pg_stop() {
    [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] || return 0
    if [ -f "$PG_DIR/data/postmaster.pid" ]; then
        pg_as "$(pg_bin_dir)/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1
    fi
    rm -rf "$PG_DIR"
    PG_DIR=
}
