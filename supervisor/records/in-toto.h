/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * `airlock records export ID --format in-toto`: an in-toto Statement v1 about run id's
 * outputs (captured logs, event log, exported artifacts, each with its SHA-256), whose
 * predicate is the run record, in a DSSE envelope signed with the node key
 * (docs/run-record.md, "Export").
 */

#include <stdio.h>

#define EXPORT_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define EXPORT_STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define EXPORT_PREDICATE_TYPE "urn:airlock:predicate:run-record:v1"

/* Writes the envelope of run id to out. Logs its failure. Returns 0 or -errno. */
int export_in_toto(const char *state_dir, const char *id, FILE *out);
