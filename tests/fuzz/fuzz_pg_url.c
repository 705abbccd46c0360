/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the PostgreSQL URL masking used in every store message
 * (fid_pg_redact): any string, any output size; the output is a NUL-terminated prefix-sized
 * string and a URL's password (user:PASSWORD@ or password=) never survives. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n < 1)
        return 0;
    size_t cap = data[0]; /* first byte: output size */
    char *s = malloc(n);
    if (!s)
        return 0;
    memcpy(s, data + 1, n - 1);
    s[n - 1] = 0;
    char *out = malloc(cap + 1);
    if (!out) {
        free(s);
        return 0;
    }
    out[cap] = 0x5a;
    fid_pg_redact(s, out, cap);
    if (out[cap] != 0x5a || (cap && strlen(out) >= cap))
        __builtin_trap();
    char big[4096];
    fid_pg_redact(s, big, sizeof big);
    if (fid_pg_is_url(big)) { /* the masked userinfo holds no password but "***" */
        const char *auth = strstr(big, "://") + 3, *end = auth + strcspn(auth, "/?");
        const char *at = memchr(auth, '@', (size_t)(end - auth));
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon && (at - colon != 4 || memcmp(colon + 1, "***", 3)))
            __builtin_trap();
    }
    free(out);
    free(s);
    return 0;
}
