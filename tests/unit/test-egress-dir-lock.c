/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The slot directory's lock against the tidy of the run that ends last (egress_dir_lock(),
 * egress_nat_tidy()): two processes take the lock, remove the directory under it as the
 * last run does, and let go, over and over. Every take must succeed, whenever the other's
 * tidy removes the directory between this one's mkdir and its open of the lock file.
 * Without the retry on that, a take fails with ENOENT within a few hundred rounds.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host-nat.h"
#include "link.h"
#include "test.h"

#define ROUNDS 5000

/*
 * ROUNDS of lock, tidy, unlock, with a pause of up to 50 us between them (a run's life
 * between its two takes; without one, the faster process could take the lock again and
 * again before the other's retries get through); exits 0, or 1 with the first failure.
 */
static void hammer(const char *dir, unsigned seed)
{
	for (int i = 0; i < ROUNDS; i++) {
		int fd;

		usleep(rand_r(&seed) % 50);
		fd = egress_dir_lock(dir);

		if (fd < 0) {
			printf("#   round %d: egress_dir_lock: %d\n", i, fd);
			fflush(stdout);
			_exit(1);
		}
		egress_nat_tidy(dir);
		close(fd);
	}
	_exit(0);
}

TEST(lock_survives_the_last_runs_tidy)
{
	char base[] = "/tmp/airlock-test-dirlock.XXXXXX", dir[64];
	pid_t pid[2];
	int failed = 0;

	ASSERT_TRUE(mkdtemp(base) != NULL);
	snprintf(dir, sizeof(dir), "%s/net-1", base);
	fflush(stdout);
	for (int k = 0; k < 2; k++) {
		pid[k] = fork();
		ASSERT_TRUE(pid[k] >= 0);
		if (pid[k] == 0)
			hammer(dir, (unsigned)k + 1);
	}
	for (int k = 0; k < 2; k++) {
		int st;

		ASSERT_EQ(waitpid(pid[k], &st, 0), pid[k]);
		failed += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	}
	ASSERT_EQ(failed, 0);
	ASSERT_EQ(access(dir, F_OK), -1); /* the last tidy removed it */
	ASSERT_EQ(rmdir(base), 0);
}

TEST_MAIN()
