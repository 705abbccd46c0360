/* SPDX-License-Identifier: MIT */
/* faceid CLI entry point: the command table and top-level help. Each command is a cli_cmd row
 * (name, summary, usage, flags, arity, groups, models) defined beside its code in cmd_*.c;
 * `faceid help`, `faceid CMD --help` and the prologue all read it. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* One entry per command, in the order `faceid help` lists them. */
static const cli_cmd *const commands[] = {
    &cli_cmd_detect, &cli_cmd_embed, &cli_cmd_verify, &cli_cmd_enroll, &cli_cmd_gallery,
    &cli_cmd_identify, &cli_cmd_cluster, &cli_cmd_calibrate, &cli_cmd_video, &cli_cmd_extract, &cli_cmd_serve,
    &cli_cmd_index, &cli_cmd_find, &cli_cmd_people, &cli_cmd_models,
    &cli_cmd_doctor, &cli_cmd_infer, &cli_cmd_inspect, &cli_cmd_check, &cli_cmd_pack,
    &cli_cmd_version,
};
#define N_COMMANDS (sizeof commands / sizeof *commands)

static const cli_cmd *find(const char *name)
{
    for (size_t k = 0; k < N_COMMANDS; k++)
        if (!strcmp(name, commands[k]->name) ||
            (commands[k]->alias && !strcmp(name, commands[k]->alias)))
            return commands[k];
    return NULL;
}

static int usage(FILE *f)
{
    fprintf(f, "usage: faceid <command> [options] [inputs]\n"
               "       faceid <command> --help\n"
               "       faceid help --man | --completion   (manual page, bash completion)\n"
               "commands:\n");
    for (size_t k = 0; k < N_COMMANDS; k++) {
        fprintf(f, "  %-10s %s\n", commands[k]->name, commands[k]->summary);
        if (commands[k]->alias)
            fprintf(f, "  %-10s alias of %s\n", commands[k]->alias, commands[k]->name);
    }
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
    if (!strcmp(c, "help") && argc == 3 && !strcmp(argv[2], "--man")) {
        cli_print_man(commands, N_COMMANDS, stdout);
        return CLI_OK;
    }
    if (!strcmp(c, "help") && argc == 3 && !strcmp(argv[2], "--completion")) {
        cli_print_completion(commands, N_COMMANDS, stdout);
        return CLI_OK;
    }
    if (!strcmp(c, "help") || !strcmp(c, "--help") || !strcmp(c, "-h")) {
        const cli_cmd *cmd = argc > 2 ? find(argv[2]) : NULL; /* help CMD == CMD --help */
        if (cmd) {
            cli_print_help(cmd, stdout);
            return CLI_OK;
        }
        return usage(stdout);
    }
    if (!strcmp(c, "--version"))
        c = "version";
    const cli_cmd *cmd = find(c);
    if (cmd)
        return cli_main(cmd, argc - 2, argv + 2);
    fprintf(stderr, "faceid: unknown command '%s'\n", c);
    return usage(stderr);
}
