/* SPDX-License-Identifier: MIT */
/* Prometheus text metrics: requests by route and status, a latency histogram, queue depth,
 * busy workers, jobs by state, faces processed. Process-wide (one server per process). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

#define MAX_SERIES 128
static const double bucket_le[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define NB (sizeof bucket_le / sizeof *bucket_le)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    const char *route;
    int status;
    long count;
} series[MAX_SERIES];
static int n_series;
static long buckets[NB + 1], lat_count;
static double lat_sum;
static long faces_total;

void srv_metrics_request(const char *route, int status, double seconds)
{
    pthread_mutex_lock(&mu);
    int k = 0;
    while (k < n_series && !(series[k].status == status && !strcmp(series[k].route, route)))
        k++;
    if (k == n_series && n_series < MAX_SERIES) {
        series[n_series].route = route;
        series[n_series].status = status;
        series[n_series++].count = 0;
    }
    if (k < n_series)
        series[k].count++;
    size_t b = 0;
    while (b < NB && seconds > bucket_le[b])
        b++;
    buckets[b]++;
    lat_count++;
    lat_sum += seconds;
    pthread_mutex_unlock(&mu);
}

void srv_metrics_faces(long n)
{
    __atomic_add_fetch(&faces_total, n, __ATOMIC_RELAXED);
}

char *srv_metrics_text(int queue_waiting, int busy_workers, int n_workers, srv_jobs *jobs,
                       size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    pthread_mutex_lock(&mu);
    fputs("# HELP faceid_http_requests_total HTTP requests by route and status.\n"
          "# TYPE faceid_http_requests_total counter\n", f);
    for (int k = 0; k < n_series; k++)
        fprintf(f, "faceid_http_requests_total{route=\"%s\",status=\"%d\"} %ld\n",
                series[k].route, series[k].status, series[k].count);
    fputs("# HELP faceid_http_request_duration_seconds Request latency.\n"
          "# TYPE faceid_http_request_duration_seconds histogram\n", f);
    long cum = 0;
    for (size_t b = 0; b < NB; b++) {
        cum += buckets[b];
        fprintf(f, "faceid_http_request_duration_seconds_bucket{le=\"%g\"} %ld\n", bucket_le[b],
                cum);
    }
    fprintf(f, "faceid_http_request_duration_seconds_bucket{le=\"+Inf\"} %ld\n", lat_count);
    fprintf(f, "faceid_http_request_duration_seconds_sum %.6f\n", lat_sum);
    fprintf(f, "faceid_http_request_duration_seconds_count %ld\n", lat_count);
    pthread_mutex_unlock(&mu);
    fprintf(f, "# HELP faceid_queue_depth Requests waiting for a worker plus queued jobs.\n"
               "# TYPE faceid_queue_depth gauge\nfaceid_queue_depth %d\n",
            queue_waiting + (jobs ? srv_jobs_count(jobs, "queued") : 0));
    fprintf(f, "# HELP faceid_workers_busy Worker pipelines in use.\n"
               "# TYPE faceid_workers_busy gauge\nfaceid_workers_busy %d\n"
               "# HELP faceid_workers Worker pipelines.\n# TYPE faceid_workers gauge\n"
               "faceid_workers %d\n", busy_workers, n_workers);
    fputs("# HELP faceid_jobs Jobs by state.\n# TYPE faceid_jobs gauge\n", f);
    static const char *states[] = {"queued", "processing", "completed", "failed"};
    for (int k = 0; k < 4; k++)
        fprintf(f, "faceid_jobs{state=\"%s\"} %d\n", states[k],
                jobs ? srv_jobs_count(jobs, states[k]) : 0);
    fprintf(f, "# HELP faceid_faces_processed_total Faces detected by requests and jobs.\n"
               "# TYPE faceid_faces_processed_total counter\nfaceid_faces_processed_total %ld\n",
            __atomic_load_n(&faces_total, __ATOMIC_RELAXED));
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
