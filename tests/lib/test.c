/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Intentionally small: test.h carries the harness; this keeps a library to link. */
#include "test.h"
