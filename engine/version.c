/* SPDX-License-Identifier: MIT */
#include "faceid.h"

const char *faceid_version(void)
{
    return FACEID_VERSION;
}
