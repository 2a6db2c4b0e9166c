/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The libFuzzer entry point every fuzz-<target>.c defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
