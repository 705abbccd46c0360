/* SPDX-License-Identifier: MIT */
/* http(s) URLs into memory with libcurl (make URL=1): only http and https, also after
 * redirects; connect and total timeouts; the body is capped while it arrives (a server that
 * lies about or omits Content-Length cannot make us buffer more than max_bytes). */
#include "media/media.h"
#include "fid.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int fid_is_url(const char *s)
{
    return s && (!strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8));
}

fid_fetch_limits fid_fetch_limits_default(void)
{
    fid_fetch_limits l = {(size_t)256 << 20, 10, 120, 5};
    return l;
}

#ifndef FID_NO_URL
#include <curl/curl.h>
#include <pthread.h>

typedef struct body {
    unsigned char *data;
    size_t n, cap, max;
    int too_big;
} body;

static size_t on_data(char *p, size_t size, size_t nmemb, void *ctx)
{
    body *b = ctx;
    size_t len = size * nmemb;
    if (len > b->max - b->n) {
        b->too_big = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + len)
            cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (!d)
            return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->n, p, len);
    b->n += len;
    return len;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

int fid_fetch(const char *url, const fid_fetch_limits *lim, void **buf, size_t *n, char *err,
              size_t errlen)
{
    *buf = NULL;
    *n = 0;
    fid_fetch_limits dl = fid_fetch_limits_default();
    if (!lim)
        lim = &dl;
    if (!fid_is_url(url))
        return fid_errbuf(err, errlen, FID_ERR_INVALID_ARG, "not an http(s) URL: %s", url);
    pthread_once(&curl_once, curl_init);
    CURL *c = curl_easy_init();
    if (!c)
        return fid_errbuf(err, errlen, FID_ERR_NOMEM, "cannot start a transfer");
    body b = {NULL, 0, 0, lim->max_bytes, 0};
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)lim->max_redirects);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)lim->connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)lim->timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)lim->max_bytes);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "faceid");
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    int rc = FID_OK;
    if (b.too_big || cc == CURLE_FILESIZE_EXCEEDED)
        rc = fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED, "%s: larger than the %zu-byte limit",
                        url, lim->max_bytes);
    else if (cc == CURLE_OPERATION_TIMEDOUT)
        rc = fid_errbuf(err, errlen, FID_ERR_IO, "%s: timed out (%s)", url, cerr);
    else if (cc != CURLE_OK)
        rc = fid_errbuf(err, errlen, FID_ERR_IO, "%s: %s", url,
                        cerr[0] ? cerr : curl_easy_strerror(cc));
    else if (status >= 400)
        rc = fid_errbuf(err, errlen, FID_ERR_IO, "%s: HTTP %ld", url, status);
    else if (b.n == 0)
        rc = fid_errbuf(err, errlen, FID_ERR_FORMAT, "%s: empty response", url);
    if (rc < 0) {
        free(b.data);
        return rc;
    }
    *buf = b.data;
    *n = b.n;
    return FID_OK;
}

#else /* FID_NO_URL */

int fid_fetch(const char *url, const fid_fetch_limits *lim, void **buf, size_t *n, char *err,
              size_t errlen)
{
    *buf = NULL;
    *n = 0;
    return fid_errbuf(err, errlen, FID_ERR_UNSUPPORTED,
                      "URL input not built in (build with URL=1 and libcurl)");
}

#endif
