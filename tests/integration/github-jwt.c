/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * github-jwt KEYFILE APP_ID [NOW]: prints the JWT supervisor/credentials/jwt.c makes for a
 * GitHub App, so that test-issuer-github.sh can check it against the test server's own
 * verifier (python3-cryptography), an implementation independent of ours. On a refused key
 * prints jwt.c's one line and exits 1.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "jwt.h"

int main(int argc, char **argv)
{
	_cleanup_free_ char *pem = NULL, *jwt = NULL, *err = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct jwt_key *k = NULL;
	ssize_t n;
	int r;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: github-jwt KEYFILE APP_ID [NOW]\n");
		return 2;
	}
	pem = malloc(JWT_KEY_MAX + 1);
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (!pem || fd < 0) {
		perror(argv[1]);
		return 1;
	}
	n = read(fd, pem, JWT_KEY_MAX + 1);
	if (n < 0) {
		perror(argv[1]);
		return 1;
	}
	r = jwt_key_parse(pem, (size_t)n, &k, &err);
	if (r < 0) {
		fprintf(stderr, "github-jwt: %s\n", err ? err : "cannot parse the key");
		return 1;
	}
	r = jwt_github_app(k, argv[2], argc == 4 ? (time_t)atoll(argv[3]) : time(NULL), &jwt);
	jwt_key_free(k);
	if (r < 0) {
		fprintf(stderr, "github-jwt: cannot sign for app id '%s'\n", argv[2]);
		return 1;
	}
	puts(jwt);
	return 0;
}
