/* SPDX-License-Identifier: MIT */
/*
 * clock.c — wall-clock time in milliseconds.  Lease deadlines and send
 * times are UTC milliseconds since the epoch, so hosts sharing a spool
 * compare them directly (within the queue's clock-skew bound).
 */
#include <time.h>

#include "wq_priv.h"

int64_t
wq_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
wq_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
