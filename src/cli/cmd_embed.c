/* SPDX-License-Identifier: MIT */
/* `faceid embed`: detect + align + embed every face; the loop is shared with detect. */
#include "cli.h"

int cmd_embed(int argc, char **argv)
{
    return cli_face_command(argc, argv, 1);
}
