/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: gallery JSONL import into a fresh in-memory gallery, then the readers
 * over whatever was imported (list, export, search index). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "faceid.h"
#include "fuzz_common.h"

static int count_row(void *ctx, const fid_gallery_row *r)
{
    (*(int *)ctx)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    char path[64];
    int fd = fuzz_memfile(data, n, path, sizeof path);
    if (fd < 0)
        return 0;
    fid_gallery *g = NULL;
    if (fid_gallery_open(&g, ":memory:", "fuzz:0123456789abcdef", 4, 1) == 0) {
        int added = 0, rows = 0;
        fid_gallery_import_jsonl(g, path, &added);
        fid_gallery_info info;
        fid_gallery_get_info(g, &info);
        fid_gallery_identity *ids = NULL;
        int nid = 0;
        if (fid_gallery_list(g, &ids, &nid) == 0)
            fid_gallery_identities_free(ids, nid);
        fid_gallery_foreach(g, count_row, &rows);
        fid_search *s = NULL;
        if (fid_search_from_gallery(&s, g, 1) == 0) {
            float q[4] = {0.5f, 0.5f, 0.5f, 0.5f};
            fid_search_hit hits[3];
            fid_search_query(s, q, 3, hits);
        }
        fid_search_free(s);
        fid_gallery_export_jsonl(g, "/dev/null");
    }
    fid_gallery_close(g);
    close(fd);
    return 0;
}
