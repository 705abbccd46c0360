/* SPDX-License-Identifier: MIT */
/* The HTTP side (libmicrohttpd, one thread per connection, bounded): bearer auth before any
 * body is read, body size limit (413), inactivity timeout (slow clients), routing, JSON
 * errors, one JSON log line per request on stderr, metrics; and fid_server_run: start-up,
 * SIGTERM/SIGINT handling and the graceful stop. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "fid.h" /* fid_fail: the [thread] message slot */
#include "deepva.h"
#include "srv.h"
#include "store/pg.h" /* fid_pg_redact */

#define SRV_MAX_CONNECTIONS 256

typedef struct conn_state {
    double t0;
    char *body;
    size_t len, cap;
    int too_big, status;
    const char *route;
    size_t out_len;
} conn_state;

double srv_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

void srv_iso8601(double t, char *out, size_t n)
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%06ldZ", base, (long)((t - (double)s) * 1e6));
}

void srv_error(srv_resp *r, int status, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f) {
        fid_json js;
        fid_json_begin(&js, f);
        fid_json_str(&js, "error", msg);
        fid_json_str(&js, "detail", msg); /* the Faces Service (FastAPI) error field */
        fid_json_int(&js, "status", status);
        fid_json_end(&js);
        fclose(f);
    }
    free(r->body);
    r->status = status;
    r->body = buf;
    r->len = buf ? len : 0;
}

void srv_body_json(srv_resp *r, int status, char *text, size_t len)
{
    free(r->body);
    r->status = status;
    r->body = text;
    r->len = len;
}

/* Bearer token check that takes the same time wherever the first difference is. */
static int token_ok(const srv *s, const char *auth)
{
    if (!auth || strncasecmp(auth, "Bearer ", 7))
        return 0;
    const char *t = auth + 7;
    size_t n = strlen(t);
    unsigned char diff = (unsigned char)(n != s->token_len);
    for (size_t i = 0; i < s->token_len; i++)
        diff |= (unsigned char)(s->token[i] ^ (i < n ? t[i] : 0));
    return diff == 0;
}

static const char *query_fn(void *c, const char *key)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, conn_state *st, srv_resp *r)
{
    if (!r->body) {
        srv_error(r, 500, "out of memory");
        if (!r->body) {
            r->body = strdup("{}");
            r->len = r->body ? 2 : 0;
        }
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(r->body);
        return MHD_NO;
    }
    r->body = NULL;
    MHD_add_response_header(resp, "Content-Type",
                            r->route && !strcmp(r->route, "/metrics")
                                ? "text/plain; version=0.0.4"
                                : "application/json");
    if (r->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", r->retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    if (r->status == 401)
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
    st->status = r->status;
    st->out_len = r->len;
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* Label for metrics/logs: the route pattern, not the URL (ids would blow up the series). */
static const char *route_label(const char *url)
{
    static const char *fixed[] = {"/faces/health", "/faces/analyze", "/metrics", "/v1/detect",
                                  "/v1/embed", "/v1/verify", "/v1/identify", "/v1/galleries",
                                  "/v1/library", "/v1/library/index", "/v1/library/find",
                                  "/v1/people", "/v1/people/recluster", "/v1/extract"};
    for (size_t k = 0; k < sizeof fixed / sizeof *fixed; k++)
        if (!strcmp(url, fixed[k]))
            return fixed[k];
    if (!strncmp(url, "/faces/jobs/", 12)) {
        size_t n = strlen(url);
        if (n > 7 && !strcmp(url + n - 7, "/status"))
            return "/faces/jobs/{id}/status";
        if (n > 8 && !strcmp(url + n - 8, "/results"))
            return "/faces/jobs/{id}/results";
        return "/faces/jobs/{id}";
    }
    if (!strncmp(url, "/v1/galleries/", 14))
        return "/v1/galleries/{g}/identities";
    if (!strncmp(url, "/v1/people/", 11)) {
        size_t n = strlen(url);
        return n > 6 && !strcmp(url + n - 6, "/merge") ? "/v1/people/{id}/merge"
                                                      : "/v1/people/{id}";
    }
    if (!strncmp(url, "/v1/appearances/", 16))
        return "/v1/appearances/{id}";
    const char *dv = srv_deepva_label(url);
    if (dv)
        return dv;
    return "other";
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    srv *s = cls;
    conn_state *st = *con_cls;
    srv_resp r = {0};
    if (!st) {
        if (!(st = calloc(1, sizeof *st)))
            return MHD_NO;
        st->t0 = srv_now();
        st->route = route_label(url);
        *con_cls = st;
        r.route = st->route;
        /* refuse before reading the body: no upload from a client without the token */
        if (s->token_len && strcmp(url, "/faces/health") &&
            !token_ok(s, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"))) {
            srv_error(&r, 401, "missing or wrong bearer token");
            return send_resp(c, st, &r);
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > s->max_body) {
            srv_error(&r, 413, "body of %s bytes is over the limit of %zu", cl, s->max_body);
            return send_resp(c, st, &r);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (st->status) { /* answered early (401/413): drop the rest */
            *upload_size = 0;
            return MHD_YES;
        }
        if (!st->too_big && st->len + *upload_size > s->max_body) {
            st->too_big = 1;
            free(st->body);
            st->body = NULL;
            st->len = st->cap = 0;
        }
        if (!st->too_big) {
            if (st->len + *upload_size + 1 > st->cap) {
                size_t cap = st->cap ? st->cap : 65536;
                while (cap < st->len + *upload_size + 1)
                    cap *= 2;
                char *nb = realloc(st->body, cap);
                if (!nb)
                    return MHD_NO;
                st->body = nb;
                st->cap = cap;
            }
            memcpy(st->body + st->len, upload_data, *upload_size);
            st->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    r.route = st->route;
    if (st->status) /* an early answer (401/413) was already queued */
        return MHD_YES;
    if (st->too_big) {
        srv_error(&r, 413, "body over the limit of %zu bytes", s->max_body);
        return send_resp(c, st, &r);
    }
    if (st->body)
        st->body[st->len] = 0;
    srv_request q = {method, url,
                     MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"),
                     st->body ? st->body : (char *)"", st->len, query_fn, c};
    int handled = 0;
    if (!strcmp(url, "/metrics")) {
        handled = 1;
        if (strcmp(method, "GET")) {
            srv_error(&r, 405, "use GET");
        } else {
            size_t len = 0;
            char *t = srv_metrics_text(s->pool.waiting, s->pool.busy_n, s->pool.n, s->jobs, &len);
            srv_body_json(&r, t ? 200 : 500, t, len);
        }
    } else if (!strncmp(url, "/faces/", 7)) {
        handled = srv_route_faces(s, &q, &r);
    } else if (!strncmp(url, "/v1/", 4)) {
        handled = srv_route_extract(s, &q, &r) || srv_route_v1(s, &q, &r);
    } else {
        handled = srv_route_deepva(s, &q, &r); /* /jobs, /api/v1/jobs */
    }
    if (!handled)
        srv_error(&r, 404, "no route %s %s", method, url);
    return send_resp(c, st, &r);
}

/* Log lines are composed in memory and written to stderr with one write(): stderr is
 * unbuffered, so writing field by field let a reader (or a kill -9) see half a line. */
typedef struct log_line {
    fid_json js;
    FILE *m;
    char *buf;
    size_t len;
} log_line;

static int log_begin(log_line *l)
{
    l->buf = NULL;
    l->len = 0;
    l->m = open_memstream(&l->buf, &l->len);
    if (!l->m)
        return -1;
    fid_json_begin(&l->js, l->m);
    return 0;
}

static void log_end(log_line *l)
{
    fid_json_end(&l->js);
    if (fclose(l->m) == 0) {
        for (size_t at = 0; at < l->len;) {
            ssize_t w = write(STDERR_FILENO, l->buf + at, l->len - at);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            at += (size_t)w;
        }
    }
    free(l->buf);
}


static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    srv *s = cls;
    conn_state *st = *con_cls;
    if (!st)
        return;
    double secs = srv_now() - st->t0;
    int status = st->status ? st->status : 0; /* 0: the client went away before an answer */
    srv_metrics_request(st->route, status, secs);
    log_line l;
    if (!s->o.quiet && log_begin(&l) == 0) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        char addr[64] = "";
        if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, addr,
                      sizeof addr);
        char ts[40];
        srv_iso8601(srv_now(), ts, sizeof ts);
        fid_json *js = &l.js;
        fid_json_str(js, "ts", ts);
        fid_json_str(js, "route", st->route);
        fid_json_int(js, "status", status);
        fid_json_num(js, "ms", secs * 1e3);
        fid_json_int(js, "bytes_in", (long long)st->len);
        fid_json_int(js, "bytes_out", (long long)st->out_len);
        fid_json_str(js, "client", addr);
        if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
            fid_json_str(js, "aborted", toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED
                                            ? "timeout" : "connection closed");
        log_end(&l);
    }
    free(st->body);
    free(st);
    *con_cls = NULL;
}

/* ---- start-up ---- */

void fid_server_options_default(fid_server_options *o)
{
    memset(o, 0, sizeof *o);
    fid_pipeline_options_default(&o->po);
    o->listen = "127.0.0.1:5003";
    o->state_dir = "faceid-state";
    o->queue = 64;
    o->max_upload_mb = 20;
    o->request_timeout = 30;
    o->io_timeout = 30;
    o->results_ttl = 86400;
    o->verify_threshold = 0.40f;
    o->lease_s = 30;
}

static int parse_listen(const char *l, struct sockaddr_storage *ss, socklen_t *sl, char *err,
                        size_t errn)
{
    const char *colon = strrchr(l, ':');
    if (!colon || colon == l || !colon[1]) {
        snprintf(err, errn, "--listen %s: want HOST:PORT", l);
        return -1;
    }
    char host[256];
    size_t hl = (size_t)(colon - l);
    if (hl >= sizeof host) {
        snprintf(err, errn, "--listen %s: host too long", l);
        return -1;
    }
    memcpy(host, l, hl);
    host[hl] = 0;
    char *h = host;
    if (h[0] == '[' && hl > 2 && h[hl - 1] == ']') {
        h[hl - 1] = 0;
        h++;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) {
        snprintf(err, errn, "--listen %s: bad port", l);
        return -1;
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int g = getaddrinfo(h, colon + 1, &hints, &ai);
    if (g != 0 || !ai) {
        snprintf(err, errn, "--listen %s: %s", l, gai_strerror(g));
        return -1;
    }
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *sl = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

static int read_token(srv *s, const char *path, char *err, size_t errn)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errn, "--token-file %s: %s", path, strerror(errno));
        return -1;
    }
    char line[sizeof s->token];
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    size_t n = ok ? strcspn(line, "\r\n") : 0;
    line[n] = 0;
    if (n < 16) {
        snprintf(err, errn, "--token-file %s: the first line must hold a token of at least 16 "
                 "characters", path);
        return -1;
    }
    memcpy(s->token, line, n + 1);
    s->token_len = n;
    return 0;
}

static int open_galleries(srv *s, char *err, size_t errn)
{
    for (int k = 0; k < s->o.n_galleries; k++) {
        const char *g = s->o.galleries[k], *eq = strchr(g, '='), *url = strstr(g, "://");
        srv_gallery *sg = &s->gal[s->n_gal];
        if (eq && url && eq > url)
            eq = NULL; /* an '=' inside a postgresql:// URL's query */
        char shown[512]; /* g with a URL's password masked, for messages */
        int nl = eq ? (int)(eq - g) + 1 : 0;
        snprintf(shown, sizeof shown, "%.*s", nl < 64 ? nl : 64, g);
        fid_pg_redact(g + nl, shown + strlen(shown), sizeof shown - strlen(shown));
        if (!eq && url) {
            snprintf(err, errn, "--gallery %s: a database URL needs a name: NAME=URL", shown);
            return -1;
        }
        const char *path = eq ? eq + 1 : g;
        if (eq) {
            snprintf(sg->name, sizeof sg->name, "%.*s", (int)(eq - g), g);
        } else {
            const char *base = strrchr(g, '/');
            base = base ? base + 1 : g;
            const char *dot = strrchr(base, '.');
            int n = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
            snprintf(sg->name, sizeof sg->name, "%.*s", n, base);
        }
        for (const char *c = sg->name; *c; c++)
            if (!(*c == '-' || *c == '_' || (*c >= '0' && *c <= '9') ||
                  ((*c | 32) >= 'a' && (*c | 32) <= 'z'))) {
                snprintf(err, errn, "--gallery %s: the name may hold A-Z a-z 0-9 _ - only", shown);
                return -1;
            }
        for (int j = 0; j < s->n_gal; j++)
            if (!strcmp(s->gal[j].name, sg->name)) {
                snprintf(err, errn, "--gallery %s: two galleries named %s", shown, sg->name);
                return -1;
            }
        /* create the file now with this server's model, so a wrong model fails at start */
        fid_gallery *gh = NULL;
        if (fid_gallery_open(&gh, path, s->rec_model, s->dim, 1) < 0) {
            snprintf(err, errn, "--gallery %s: %s", shown, fid_last_error());
            return -1;
        }
        fid_gallery_close(gh);
        sg->path = strdup(path);
        pthread_mutex_init(&sg->mu, NULL);
        s->n_gal++;
    }
    return 0;
}

/* The library's writer handle for the server's life: another writer (a `faceid index` run)
 * makes the start fail at once; its in-memory search index is loaded now, not by the
 * first find. */
static int open_library(srv *s, char *err, size_t errn)
{
    if (!s->dim) {
        snprintf(err, errn, "--library needs a recogniser");
        return FID_STATUS_INVALID_ARG;
    }
    fid_library_options lo;
    fid_library_options_default(&lo);
    lo.model_id = s->rec_model;
    lo.dim = s->dim;
    lo.create = 1;
    lo.writer = 1;
    lo.wait_ms = 0;
    lo.threads = s->o.po.n_threads;
    fid_pg_redact(s->o.library, s->library_shown, sizeof s->library_shown);
    int rc = fid_library_open(&s->lib, s->o.library, &lo);
    if (rc < 0) {
        snprintf(err, errn, "--library %.400s: %s", s->library_shown, fid_last_error());
        return rc;
    }
    if ((rc = fid_library_load_index(s->lib)) < 0) {
        snprintf(err, errn, "--library %.400s: %s", s->library_shown, fid_library_error(s->lib));
        return rc;
    }
    return 0;
}

/* The job store. With PostgreSQL, library jobs are pinned to the nodes that serve the same
 * library: the same URL, or the same file on the same machine. */
static int open_jobs(srv *s, char *err, size_t errn)
{
    srv_jobs_conf jc = {.lease_s = s->o.lease_s};
    char pin[PATH_MAX + 320];
    if (s->o.library) {
        char host[256] = "", real[PATH_MAX];
        gethostname(host, sizeof host - 1);
        if (!fid_pg_is_url(s->o.library) && realpath(s->o.library, real))
            snprintf(pin, sizeof pin, "file:%s:%s", host, real);
        else
            snprintf(pin, sizeof pin, "url:%s", s->o.library);
        jc.library_pin = pin;
    }
    snprintf(s->scratch, sizeof s->scratch, "%s",
             fid_pg_is_url(s->o.state_dir) ? "/tmp" : s->o.state_dir);
    if (!(s->o.lease_s > 0) || s->o.lease_s > 86400) {
        snprintf(err, errn, "--lease %g: want 0 < S <= 86400 seconds", s->o.lease_s);
        return FID_STATUS_INVALID_ARG;
    }
    return srv_jobs_open(&s->jobs, s->o.state_dir, &jc, err, errn);
}

static int sig_pipe[2] = {-1, -1};
static void on_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    if (write(sig_pipe[1], &b, 1) < 0) {
        /* nothing to do: the pipe is full, a stop is already pending */
    }
}

static void srv_free(srv *s)
{
    srv_jobs_close(s->jobs);
    fid_library_close(s->lib);
    srv_attr_free(s);
    pthread_mutex_destroy(&s->lib_mu);
    srv_pool_close(&s->pool);
    for (int k = 0; k < s->n_roots; k++)
        free(s->roots[k]);
    free(s->roots);
    for (int k = 0; k < s->n_gal; k++) {
        free(s->gal[k].path);
        fid_search_free(s->gal[k].index);
        pthread_mutex_destroy(&s->gal[k].mu);
    }
    pthread_mutex_destroy(&s->job_mu);
    pthread_cond_destroy(&s->job_cv);
    free(s);
}

static int cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static int server_run(const fid_server_options *opt, char *err, size_t errn)
{
    srv *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errn, "out of memory");
        return FID_STATUS_NOMEM;
    }
    s->o = *opt;
    pthread_mutex_init(&s->job_mu, NULL);
    pthread_cond_init(&s->job_cv, NULL);
    pthread_mutex_init(&s->lib_mu, NULL);
    int rc = FID_STATUS_INVALID_ARG;
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    if (parse_listen(s->o.listen, &ss, &sl, err, errn) < 0)
        goto fail;
    if (s->o.token_file && read_token(s, s->o.token_file, err, errn) < 0)
        goto fail;
    if (!(s->o.max_upload_mb > 0) || s->o.max_upload_mb > 4096 || s->o.queue < 1 ||
        s->o.workers < 0 || s->o.io_timeout < 1 || !(s->o.request_timeout > 0)) {
        snprintf(err, errn, "bad limits (--max-upload 0..4096 MB, --queue >= 1, timeouts > 0)");
        goto fail;
    }
    s->max_body = (size_t)(s->o.max_upload_mb * 1024 * 1024);
    /* a database job store before the models: a wrong URL or a database that is down fails
     * at once (a state directory is created only once the models have loaded) */
    if (fid_pg_is_url(s->o.state_dir) && (rc = open_jobs(s, err, errn)) < 0)
        goto fail;
    rc = FID_STATUS_INVALID_ARG;
    s->roots = calloc(FID_SERVER_MAX_LIST, sizeof *s->roots);
    for (int k = 0; s->roots && k < s->o.n_media_roots; k++) {
        char real[PATH_MAX];
        struct stat sb;
        if (!realpath(s->o.media_roots[k], real) || stat(real, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
            snprintf(err, errn, "--media-root %s: not a directory", s->o.media_roots[k]);
            goto fail;
        }
        s->roots[s->n_roots++] = strdup(real);
    }
    /* workers x kernel threads <= cores unless both are given */
    int cores = cpu_count();
    int threads = s->o.po.n_threads, workers = s->o.workers;
    if (workers <= 0)
        workers = threads > 0 ? (cores / threads > 0 ? cores / threads : 1) : cores;
    if (threads <= 0)
        threads = cores / workers > 0 ? cores / workers : 1;
    s->o.workers = workers;
    s->o.po.n_threads = threads;
    /* pipelines detect down to the floor; each request filters at its own threshold */
    float det_default = s->o.po.det_thresh;
    s->o.po.det_thresh = det_default < SRV_DET_FLOOR ? det_default : SRV_DET_FLOOR;
    s->o.po.max_faces = 0;
    rc = srv_pool_open(&s->pool, workers, &s->o.po, s->o.queue, err, errn);
    s->o.po.det_thresh = det_default;
    if (rc < 0)
        goto fail;
    if (srv_attr_init(s) < 0) {
        snprintf(err, errn, "out of memory");
        rc = FID_STATUS_NOMEM;
        goto fail;
    }
    s->dim = fid_embed_dim(s->pool.p[0]);
    s->det_model = fid_pipeline_model_id(s->pool.p[0], FID_ROLE_DETECTOR);
    s->rec_model = s->dim ? fid_pipeline_model_id(s->pool.p[0], FID_ROLE_RECOGNIZER) : NULL;
    rc = FID_STATUS_INVALID_ARG;
    if (s->o.n_galleries && !s->dim) {
        snprintf(err, errn, "--gallery needs a recogniser");
        goto fail;
    }
    if (open_galleries(s, err, errn) < 0)
        goto fail;
    if (s->o.library && (rc = open_library(s, err, errn)) < 0)
        goto fail;
    if (!s->jobs && (rc = open_jobs(s, err, errn)) < 0)
        goto fail;
    rc = FID_STATUS_IO;
    if (pipe(sig_pipe) < 0) {
        snprintf(err, errn, "pipe: %s", strerror(errno));
        goto fail;
    }
    fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
    struct sigaction sa = {0}, old_term, old_int, old_pipe;
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);
    struct sigaction ign = {0};
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old_pipe);

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
            (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
        0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)SRV_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->o.io_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (!d) {
        snprintf(err, errn, "cannot listen on %s (in use or not permitted)", s->o.listen);
        goto restore;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int port = di ? di->port : 0;
    if (s->o.port_file) {
        FILE *pf = fopen(s->o.port_file, "w");
        if (pf) {
            fprintf(pf, "%d\n", port);
            fclose(pf);
        }
    }
    /* job threads: as many as workers, so each can keep one worker busy */
    if (srv_runners_start(s, workers) < 0) {
        snprintf(err, errn, "cannot start job threads");
        s->stopping = 1;
        MHD_stop_daemon(d);
        srv_runners_stop(s);
        goto restore;
    }
    log_line l;
    if (!s->o.quiet && log_begin(&l) == 0) {
        fid_json *js = &l.js;
        fid_json_str(js, "event", "listening");
        fid_json_str(js, "listen", s->o.listen);
        fid_json_int(js, "port", port);
        fid_json_int(js, "workers", workers);
        fid_json_int(js, "threads_per_worker", threads);
        fid_json_int(js, "queued_jobs", srv_jobs_count(s->jobs, "queued"));
        fid_json_str(js, "state", srv_jobs_backend(s->jobs));
        if (srv_jobs_node(s->jobs))
            fid_json_str(js, "node", srv_jobs_node(s->jobs));
        fid_json_str(js, "model", s->rec_model);
        if (s->o.library)
            fid_json_str(js, "library", s->library_shown);
        fid_json_arr(js, "attributes");
        for (int b = 1; b <= FID_ATTR_LANDMARKS68; b <<= 1)
            if (s->attr_avail & b)
                fid_json_str(js, NULL, fid_attribute_name(b));
        fid_json_arr_end(js);
        log_end(&l);
    }
    unsigned char b = 0;
    while (read(sig_pipe[0], &b, 1) < 0 && errno == EINTR)
        ;
    /* graceful stop: refuse new connections, let requests in flight answer, put running
     * jobs back in the queue (they resume at the next start) */
    MHD_quiesce_daemon(d);
    s->stopping = 1;
    srv_wake_runners(s);
    MHD_stop_daemon(d);
    srv_runners_stop(s);
    if (!s->o.quiet && log_begin(&l) == 0) {
        fid_json *js = &l.js;
        fid_json_str(js, "event", "stopped");
        fid_json_int(js, "signal", b);
        fid_json_int(js, "queued_jobs", srv_jobs_count(s->jobs, "queued"));
        log_end(&l);
    }
    rc = 0;
restore:
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
fail:
    srv_free(s);
    return rc;
}

int fid_server_run(const fid_server_options *opt)
{
    char err[1024] = "";
    int rc = server_run(opt, err, sizeof err);
    if (rc < 0)
        fid_fail(rc, "%s", err[0] ? err : "the server failed to start");
    return rc;
}
