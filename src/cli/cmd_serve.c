/* SPDX-License-Identifier: MIT */
/* `faceid serve`: parse the options and hand over to the HTTP server (src/server via
 * fid_server_run in faceid.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib_util.h"

#define SERVE_ABOUT \
    "  HTTP API on one loaded model set: the Faces Service job API, a synchronous face API,\n"\
    "  galleries and Prometheus metrics. Runs until SIGTERM/SIGINT: then it stops accepting,\n"\
    "  answers the requests in flight, puts running jobs back in the queue and exits 0.\n"\
    "  Routes (JSON; errors are {\"error\",\"detail\",\"status\"}):\n"\
    "    GET    /faces/health                 no token needed\n"\
    "    POST   /faces/analyze                {video_path|image_path, source_id?, job_id?,\n"\
    "                                          parameters{min_confidence, max_faces,\n"\
    "                                          sampling_interval, enable_deduplication,\n"\
    "                                          embedding_similarity_threshold,\n"\
    "                                          scene_boundaries, cache_duration}} -> 202;\n"\
    "                                          or an image as the body / multipart \"file\"\n"\
    "                                          scene_boundaries [{start_timestamp,\n"\
    "                                          end_timestamp}]: up to 3 frames per scene (as\n"\
    "                                          faceid video --scene-boundaries), else every\n"\
    "                                          sampling_interval seconds\n"\
    "    GET    /faces/jobs/{id}/status       queued|processing|completed|failed, progress\n"\
    "    GET    /faces/jobs/{id}/results      faces[{face_id, embedding, demographics{age,\n"\
    "                                          gender M|F, emotion} (when the attribute models\n"\
    "                                          are installed), detections,\n"\
    "                                          representative_detection}], metadata (409 until\n"\
    "                                          completed)\n"\
    "    DELETE /faces/jobs/{id}              cancel a queued/running job; delete a finished one\n"\
    "    POST   /jobs/                        DeepVA job: {sources:[paths|http(s) URLs],\n"\
    "                                          modules:{face_recognition:{model, models,\n"\
    "                                          max_distance, cluster_unknowns, index_unknowns,\n"\
    "                                          face_detection_scale, enable_top_k, top_k,\n"\
    "                                          sampling_fps}}, tag} -> 201 + the job\n"\
    "    GET    /jobs/{id}/                   waiting|running|completed|failed, progress,\n"\
    "                                          result{detailed_link, summary} when completed\n"\
    "    GET    /jobs/{id}/detailed-results/  ?limit=&offset=: segments (frames, times,\n"\
    "                                          timecodes, boxes, thumbnail, closest persons,\n"\
    "                                          indexed_identity), next/prev links\n"\
    "    DELETE /jobs/{id}/                   cancel / delete (DeepVA paths: also without the\n"\
    "                                          trailing slash and under /api/v1)\n"\
    "    POST   /v1/detect, /v1/embed         image (raw body, multipart, or JSON\n"\
    "                                          {\"image_path\"}) -> {result:[face records],\n"\
    "                                          skipped, image} as `faceid detect/embed` write\n"\
    "                                          ?attributes=age,gender,... (the --attributes\n"\
    "                                          names, or JSON \"attributes\"): per-face\n"\
    "                                          \"attributes\" (501 if a model is missing)\n"\
    "    POST   /v1/extract                   Mixpeek feature_extractor object\n"\
    "                                          (face_identity_extractor v1: input_mappings\n"\
    "                                          image|video|video_frame, field_passthrough,\n"\
    "                                          parameters, payload) -> {documents:[..],\n"\
    "                                          document_count} synchronously, videos too (at\n"\
    "                                          most max_video_length s); as `faceid extract`\n"\
    "    POST   /v1/verify                    two images (multipart, or JSON {\"a\",\"b\"})\n"\
    "    POST   /v1/identify?gallery=G        faces with identity, identity_score, candidates\n"\
    "    GET    /v1/galleries                 configured galleries\n"\
    "    GET    /v1/galleries/{g}/identities  identities of gallery g\n"\
    "    POST   /v1/galleries/{g}/identities/{name}   enroll the largest face of an image\n"\
    "    DELETE /v1/galleries/{g}/identities/{name}   remove an identity\n"\
    "    GET    /metrics                      Prometheus text\n"\
    "  With --library LIB (the archive index of `faceid index/find/people`, same records):\n"\
    "    GET    /v1/library                   counts: media, appearances, people, model\n"\
    "    POST   /v1/library/index             {\"paths\":[files or dirs under a --media-root],\n"\
    "                                          fps|every|keyframes, best-k, min-quality,\n"\
    "                                          det-thresh, threshold, found-quality, force,\n"\
    "                                          prune, gallery (a --gallery name),\n"\
    "                                          gallery-threshold, job_id} -> 202 job; status\n"\
    "                                          and results: /faces/jobs/{id}/status|results\n"\
    "                                          (results: the `faceid index` records + summary)\n"\
    "    POST   /v1/library/find              a face image (raw, multipart, {\"image_path\"}) or\n"\
    "                                          {\"person\": ID|NAME} / {\"cooccur\": ID|NAME};\n"\
    "                                          top, min-sim, exact -> {result:[hit records]}\n"\
    "    GET    /v1/people                    {people:[person records]}\n"\
    "    GET    /v1/people/{id}               {person, appearances} (`people show`)\n"\
    "    PATCH  /v1/people/{id}               {\"name\"}: name or rename (409: taken)\n"\
    "    POST   /v1/people/{id}/merge         {\"into\": ID|NAME}: {id} joins into\n"\
    "    POST   /v1/people/recluster          {\"threshold\"}\n"\
    "    POST   /v1/appearances/{id}/split    wrong appearance -> a new person (pinned)\n"\
    "    POST   /v1/appearances/{id}/remove   wrong appearance -> no person (pinned)\n"\
    "  {id}: 17, person:17 or a name. The server is the library's one writer while it runs\n"\
    "  (`faceid index`/people edits on LIB say busy; `faceid find`/`people` still read it):\n"\
    "  each indexed media is one transaction under one lock that finds and edits also take,\n"\
    "  so they always see whole media.\n"\
    "  Query parameters of /v1 use the CLI option names: det-thresh, min-face, max-faces,\n"\
    "  min-quality, threshold, top-k; /v1/detect and /v1/embed also schema=faceid|mixpeek,\n"\
    "  output-mode=per_face|per_image, include-crops=0|1 (as `faceid detect --schema ..`).\n"\
    "  Jobs live in STATE/jobs.db (SQLite): a restart resumes queued jobs; a job that was\n"\
    "  running when the server stopped or died is queued again once, and fails with a reason\n"\
    "  if the server stops a second time while running it. With --state postgresql://...\n"\
    "  several servers share one queue: any of them answers any job, a job whose server died\n"\
    "  is re-queued after --lease seconds (README \"Scale-out\"). The same file (path, size,\n"\
    "  mtime) with the same parameters returns the earlier job within cache_duration seconds.\n"\
    "  The common options set the models, the threads per worker and the default detection\n"\
    "  threshold (det-thresh of /v1 requests, min_confidence of jobs).\n"

typedef struct sopts {
    fid_server_options so;
    const char *library;
    char recbuf[128];
    int workers, queue, io_timeout, results_ttl;
    float max_upload, timeout, threshold;
} sopts;

static void init(void *p)
{
    sopts *s = p;
#ifndef FID_NO_SERVER
    fid_server_options_default(&s->so);
#endif
    s->queue = 64;
    s->io_timeout = 30;
    s->results_ttl = 86400;
    s->max_upload = 20;
    s->timeout = 30;
    s->threshold = 0.40f;
}

static int add_list(const char **list, int *n, const char *flag, const char *v)
{
    if (*n >= FID_SERVER_MAX_LIST) {
        cli_err("%s: at most %d", flag, FID_SERVER_MAX_LIST);
        return -1;
    }
    list[(*n)++] = v;
    return 0;
}

static int add_gallery(void *p, const char *v)
{
    sopts *s = p;
    return add_list(s->so.galleries, &s->so.n_galleries, "--gallery", v);
}

static int add_root(void *p, const char *v)
{
    sopts *s = p;
    return add_list(s->so.media_roots, &s->so.n_media_roots, "--media-root", v);
}

#define SO(f) offsetof(sopts, so.f)
static const cli_flag flags[] = {
    CLI_FLAG("--listen", NULL, "HOST:PORT", "address to bind (default 127.0.0.1:5003; port 0 = a\n"
             "free port)", CLI_STR, SO(listen)),
    CLI_FLAG("--gallery", NULL, "[NAME=]DB", "a gallery served as NAME (default: the file name\n"
             "without extension); repeatable, up to 16; created if missing", CLI_CALL, 0,
             .call = add_gallery),
    CLI_FLAG("--media-root", NULL, "DIR", "paths in requests must resolve (symlinks followed)\n"
             "inside one of these directories, else 403; repeatable. Without it,\n"
             "requests can only upload images", CLI_CALL, 0, .call = add_root),
    CLI_FLAG("--token-file", NULL, "F", "require \"Authorization: Bearer <first line of F>\"\n"
             "(>= 16 chars) on every route but /faces/health (401 otherwise)", CLI_STR,
             SO(token_file)),
    CLI_FLAG("--workers", NULL, "N", "worker pipelines (default: cores / --threads)", CLI_INT,
             offsetof(sopts, workers), .lo = 1, .hi = 256),
    CLI_FLAG("--queue", NULL, "N", "requests waiting for a worker, and queued jobs, before\n"
             "503 + Retry-After (default 64)", CLI_INT, offsetof(sopts, queue), .lo = 1,
             .hi = 100000),
    CLI_FLAG("--max-upload", NULL, "MB", "request body limit, 413 above it (default 20)",
             CLI_FLOAT, offsetof(sopts, max_upload), .lo = 0.001f, .hi = 4096),
    CLI_FLAG("--timeout", NULL, "S", "how long a request may wait for a worker (default 30)",
             CLI_FLOAT, offsetof(sopts, timeout), .lo = 0.01f, .hi = 3600),
    CLI_FLAG("--io-timeout", NULL, "S", "drop a connection idle this long (slow clients;\n"
             "default 30)", CLI_INT, offsetof(sopts, io_timeout), .lo = 1, .hi = 3600),
    CLI_FLAG("--results-ttl", NULL, "S", "keep finished jobs this long (default 86400)", CLI_INT,
             offsetof(sopts, results_ttl), .lo = 0, .hi = 100000000),
    CLI_FLAG("--state", NULL, "DIR|URL", "job database directory (default ./faceid-state), or a\n"
             "postgresql:// URL: one job queue shared by every server on it", CLI_STR,
             SO(state_dir)),
    CLI_FLAG("--lease", NULL, "S", "PostgreSQL state: a running job whose server stopped\n"
             "renewing it for S seconds is re-queued (default 30)", CLI_DOUBLE, SO(lease_s),
             .lo = 0.1f, .hi = 86400),
    CLI_FLAG("--port-file", NULL, "F", "write the bound port to F once listening", CLI_STR,
             SO(port_file)),
    CLI_FLAG("--threshold", NULL, "T", "verify/identify cosine threshold (default 0.40)",
             CLI_FLOAT, offsetof(sopts, threshold), .lo = -1, .hi = 1),
    CLI_FLAG("--library", NULL, "LIB", "serve this archive library (/v1/library, /v1/people;\n"
             "created if missing; its recogniser is the default --recognizer)", CLI_STR,
             offsetof(sopts, library)),
    {NULL},
};

static int check(cli_run *r)
{
    sopts *s = r->opts;
    if (s->library)
        lib_default_recognizer(s->library, &r->o, s->recbuf, sizeof s->recbuf);
    r->need = 0; /* the server opens its own pipelines, one per worker */
    return CLI_OK;
}

static int run(cli_run *r)
{
#ifdef FID_NO_SERVER
    cli_err("serve: this faceid was built without the server (make SERVER=1)");
    return CLI_USAGE;
#else
    sopts *s = r->opts;
    fid_server_options so = s->so;
    so.po = r->o.po;
    so.quiet = r->o.quiet;
    so.workers = s->workers;
    so.queue = s->queue;
    so.io_timeout = s->io_timeout;
    so.results_ttl = s->results_ttl;
    so.max_upload_mb = s->max_upload;
    so.request_timeout = s->timeout;
    so.verify_threshold = s->threshold;
    so.library = s->library;
    if (fid_server_run(&so) < 0) {
        const char *err = fid_last_error();
        cli_err("serve: %s", err);
        return strstr(err, "listen") || strstr(err, "PostgreSQL") ? CLI_IO
               : strstr(err, "model") || strstr(err, ".fidw") ? CLI_MODEL : CLI_USAGE;
    }
    return CLI_OK;
#endif
}

const cli_cmd cli_cmd_serve = {
    .name = "serve",
    .summary = "HTTP API: Faces Service jobs, sync detect/embed/verify/identify, archive",
    .usage = "faceid serve [options]",
    .about = SERVE_ABOUT,
    .flags = flags,
    .common = CLI_G_MODELS | CLI_G_ENGINE | CLI_G_PIPELINE,
    .min_pos = 0, .max_pos = 0,
    .want = "no argument",
    .opts_size = sizeof(sopts),
    .init = init,
    .check = check,
    .run = run,
};
