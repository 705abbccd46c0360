/* SPDX-License-Identifier: MIT */
/* `faceid detect` (and the shared loop of `faceid embed`): every input image → one record per
 * face, one per image, or an error record; output order = input order. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char *detect_usage =
    "usage: faceid detect [options] IMG|DIR... [--files-from FILE|-]\n"
    "  Detect faces (SCRFD), align them and score their quality. JSONL records on stdout:\n"
    "    {\"type\":\"face\",\"file\",\"face\",\"bbox\":[x0,y0,x1,y1],\"score\",\"landmarks\":[[x,y]x5],\n"
    "     \"quality\":{size,pose,sharpness,occlusion|null,composite,yaw,pitch,roll,pose_class,\n"
    "     laplacian_var},\"det_model\"[,\"crop\"]}\n"
    "    {\"type\":\"skipped\",\"file\",\"face\",\"bbox\",\"score\",\"quality\",\"reason\"}  (--min-quality)\n"
    "    {\"type\":\"image\",\"file\",\"width\",\"height\",\"faces\",\"skipped\",\"ms\"}  after its faces\n"
    "    {\"type\":\"error\",\"file\",\"error\"}  an input that could not be read; the batch goes on\n"
    "  --format csv: one row per kept face with a header; errors go to stderr only.\n"
    "  --crops DIR           write aligned 112x112 crops as DIR/<input#>_<name>_<face>.png\n";

static const char *embed_usage =
    "usage: faceid embed [options] IMG|DIR... [--files-from FILE|-]\n"
    "  Like `faceid detect`, and each face record also carries \"model\" (recognizer id\n"
    "  <name>:<hash>) and \"embedding\" (L2-normalised floats). --format csv adds columns\n"
    "  model,e0..e{dim-1}. --flip averages with the mirrored crop.\n"
    "  --crops DIR           write aligned 112x112 crops as DIR/<input#>_<name>_<face>.png\n";

static int crops_flag(void *ctx, int argc, char **argv, int *i)
{
    if (strcmp(argv[*i], "--crops"))
        return 0;
    const char *v = cli_value(argc, argv, i);
    if (!v)
        return -1;
    *(const char **)ctx = v;
    return 1;
}

int cli_face_command(int argc, char **argv, int embed)
{
    cli_opts o;
    const char *crops = NULL;
    int rc = cli_parse(argc, argv, &o, crops_flag, &crops);
    if (rc == CLI_OK && o.help) {
        fputs(embed ? embed_usage : detect_usage, stdout);
        cli_common_help(stdout);
        cli_opts_free(&o);
        return CLI_OK;
    }
    if (rc == CLI_OK && o.n_pos == 0 && !o.files_from) {
        cli_err("%s: no inputs (see --help)", embed ? "embed" : "detect");
        rc = CLI_USAGE;
    }
    if (rc != CLI_OK) {
        cli_opts_free(&o);
        return rc;
    }
    if (!embed)
        o.po.need_models = FID_ROLE_BIT(FID_ROLE_DETECTOR); /* detector only */
    if (crops && mkdir(crops, 0777) < 0 && errno != EEXIST) {
        cli_err("--crops %s: %s", crops, strerror(errno));
        cli_opts_free(&o);
        return CLI_IO;
    }
    fid_pipeline *p = NULL;
    cli_inputs in = {0};
    cli_face_job job = {0};
    rc = cli_open_pipeline(&o, &p);
    if (rc == CLI_OK)
        rc = cli_collect_inputs(&o, &in);
    if (rc == CLI_OK && cli_face_job_init(&job, &o, p, embed) < 0)
        rc = CLI_IO;
    int failed = 0;
    if (rc == CLI_OK) {
        job.crops = crops;
        if (o.csv)
            cli_face_csv_header(&job, stdout);
        for (int k = 0; k < in.n; k++) {
            job.index = k;
            int r = cli_face_process(&job, in.path[k], stdout);
            if (r == -2) {
                rc = CLI_IO;
                break;
            }
            failed += r < 0;
            cli_progress(k + 1, in.n);
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
            cli_err("error writing the output");
            rc = CLI_IO;
        }
        if (rc == CLI_OK && failed) {
            cli_info("%d of %d inputs failed", failed, in.n);
            rc = CLI_PARTIAL;
        }
    }
    cli_face_job_free(&job);
    cli_inputs_free(&in);
    fid_pipeline_close(p);
    cli_opts_free(&o);
    return rc;
}

int cmd_detect(int argc, char **argv)
{
    return cli_face_command(argc, argv, 0);
}
