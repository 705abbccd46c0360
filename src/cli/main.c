/* SPDX-License-Identifier: MIT */
/* faceid CLI entry point: the subcommand table and top-level help. Each subcommand lives in
 * its own cmd_*.c and uses only the public API (faceid.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct cli_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} cli_cmd;

/* One line per command; keep alphabetical within each group. */
static const cli_cmd cmds[] = {
    {"detect", cmd_detect, "detect faces, landmarks and quality in images (JSONL/CSV)"},
    {"embed", cmd_embed, "detect faces and compute their embeddings"},
    {"verify", cmd_verify, "1:1 face verification of two images or a pairs file"},
    {"enroll", cmd_enroll, "add faces to a gallery (SQLite) under an identity"},
    {"gallery", cmd_gallery, "list|info|rm|rename|merge|export|import a gallery"},
    {"identify", cmd_identify, "1:N search of faces in a gallery (top-k, unknown)"},
    {"search", cmd_identify, "alias of identify"},
    {"cluster", cmd_cluster, "group faces by identity without knowing how many"},
    {"calibrate", cmd_calibrate, "EER and FAR thresholds from labelled faces or pairs"},
    {"video", cmd_video, "faces in videos: tracks, unique faces, time ranges (JSONL)"},
    {"models", cmd_models, "list installed models, or `models info NAME`"},
    {"doctor", cmd_doctor, "check CPU, libraries and models; exit 1 if something is missing"},
    {"infer", cmd_infer, "run a converted model on raw float32 NCHW input"},
    {"inspect", cmd_inspect, "ops, parameters, FLOPs, input/output shapes of a model"},
    {"check", cmd_check, "validate a model file incl. every tensor CRC"},
    {"version", cmd_version, "version, CPU features and library versions"},
};

static int usage(FILE *f)
{
    fprintf(f, "usage: faceid <command> [options] [inputs]\n"
               "       faceid <command> --help\n"
               "commands:\n");
    for (size_t k = 0; k < sizeof cmds / sizeof *cmds; k++)
        fprintf(f, "  %-10s %s\n", cmds[k].name, cmds[k].help);
    fprintf(f, "output: JSON lines on stdout (--format csv where supported); messages on stderr\n"
               "exit codes: 0 ok, 1 negative result (no match / check failed), 2 usage,\n"
               "            3 model error, 4 input/output error that stops the command,\n"
               "            5 finished but one or more inputs failed (error records written)\n"
               "environment: FACEID_MODELS models directory; FID_ISA=ref|avx2|avx512|neon caps\n"
               "             the kernels used\n");
    return f == stderr ? CLI_USAGE : CLI_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    const char *c = argv[1];
    if (!strcmp(c, "help") || !strcmp(c, "--help") || !strcmp(c, "-h")) {
        if (argc > 2) { /* faceid help CMD == faceid CMD --help */
            for (size_t k = 0; k < sizeof cmds / sizeof *cmds; k++)
                if (!strcmp(argv[2], cmds[k].name)) {
                    char *hv[] = {(char *)"--help", NULL};
                    return cmds[k].fn(1, hv);
                }
        }
        return usage(stdout);
    }
    if (!strcmp(c, "--version"))
        c = "version";
    for (size_t k = 0; k < sizeof cmds / sizeof *cmds; k++)
        if (!strcmp(c, cmds[k].name))
            return cmds[k].fn(argc - 2, argv + 2);
    fprintf(stderr, "faceid: unknown command '%s'\n", c);
    return usage(stderr);
}
