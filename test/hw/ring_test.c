/*
 * Host test of hw/esp32/xstcp_ring.c and xstcp_if.c: the receive ring, its wake-up rule and the
 * wake-up message path, with the ESP32's tasks played by threads.
 *
 * The Moddable message API is replaced by a host implementation of modMessagePostToMachineFromISR: a
 * bounded queue (capacity 10, like MODDEF_TASK_QUEUELENGTH) that fails instead of blocking when full,
 * drained by the "XS task" thread, which calls the deliver function as modMessageService would.
 *
 * Built and run by test/hw/native.test.ts (plain -O2, then -fsanitize=thread). Prints one line per
 * check; exits non-zero on the first failure.
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xsmc.h"
#include "xsHost.h"
#include "xstcp_if.h"
#include "xstcp_ring.h"

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); exit(1); } } while (0)

/* ------------------------------------------------------------------ host message queue */

#define QUEUE_LENGTH 10
typedef struct { modMessageDeliver deliver; void *refcon; } message;
static message gQueue[QUEUE_LENGTH];
static int gQueueHead, gQueueCount, gQueueMax;
static long gPosted, gRefused;
static pthread_mutex_t gQueueLock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gQueueCond = PTHREAD_COND_INITIALIZER;
static _Atomic int gRefuseAll;   /* simulate a queue kept full by other modules */

int modMessagePostToMachineFromISR(xsMachine *the, modMessageDeliver callback, void *refcon)
{
	int result = -1;
	(void)the;
	pthread_mutex_lock(&gQueueLock);
	if (!atomic_load(&gRefuseAll) && (gQueueCount < QUEUE_LENGTH)) {
		gQueue[(gQueueHead + gQueueCount) % QUEUE_LENGTH] = (message){ callback, refcon };
		gQueueCount++;
		if (gQueueCount > gQueueMax)
			gQueueMax = gQueueCount;
		gPosted++;
		result = 0;
		pthread_cond_signal(&gQueueCond);
	}
	else
		gRefused++;
	pthread_mutex_unlock(&gQueueLock);
	return result;
}

int modMessagePostToMachine(xsMachine *the, uint8_t *msg, uint16_t length, modMessageDeliver callback, void *refcon)
{
	(void)msg;
	(void)length;
	return modMessagePostToMachineFromISR(the, callback, refcon);
}

/* Take one message (waiting up to `ms`) and run it. Returns 1 if one ran. */
static int serviceOne(int ms)
{
	message m;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)ms * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&gQueueLock);
	while (gQueueCount == 0) {
		if (pthread_cond_timedwait(&gQueueCond, &gQueueLock, &until) != 0) {
			pthread_mutex_unlock(&gQueueLock);
			return 0;
		}
	}
	m = gQueue[gQueueHead];
	gQueueHead = (gQueueHead + 1) % QUEUE_LENGTH;
	gQueueCount--;
	pthread_mutex_unlock(&gQueueLock);
	m.deliver(NULL, m.refcon, NULL, 0);
	return 1;
}

static int queueCount(void)
{
	int n;
	pthread_mutex_lock(&gQueueLock);
	n = gQueueCount;
	pthread_mutex_unlock(&gQueueLock);
	return n;
}

static void resetQueue(void)
{
	pthread_mutex_lock(&gQueueLock);
	gQueueHead = gQueueCount = gQueueMax = 0;
	gPosted = gRefused = 0;
	pthread_mutex_unlock(&gQueueLock);
	atomic_store(&gRefuseAll, 0);
}

void xstcp_yield(void)
{
	sched_yield();
}

/* ------------------------------------------------------------------ frames */

/* Frame `seq` of producer `id`: length 14..1514 from the sequence, bytes derived from (id, seq, index). */
static uint32_t frameLength(uint32_t id, uint32_t seq)
{
	uint32_t x = (seq * 2654435761u) ^ (id * 40503u);
	return XSTCP_FRAME_MIN + (x % (XSTCP_FRAME_MAX - XSTCP_FRAME_MIN + 1));
}

static void makeFrame(uint8_t *b, uint32_t id, uint32_t seq, uint32_t length)
{
	b[0] = (uint8_t)id;
	memcpy(b + 1, &seq, 4);
	for (uint32_t i = 5; i < length; i++)
		b[i] = (uint8_t)(seq * 31u + i * 7u + id);
}

/* Returns 0 if `b` is intact; fills id and seq. */
static int checkFrame(const uint8_t *b, uint32_t length, uint32_t *id, uint32_t *seq)
{
	*id = b[0];
	memcpy(seq, b + 1, 4);
	if (length != frameLength(*id, *seq))
		return 1;
	for (uint32_t i = 5; i < length; i++)
		if (b[i] != (uint8_t)(*seq * 31u + i * 7u + *id))
			return 2;
	return 0;
}

/* ------------------------------------------------------------------ single-threaded checks */

static int gNotifyCount;
static int gNotifyResult = 1;
static bool countingNotify(void *refcon)
{
	(void)refcon;
	gNotifyCount++;
	return gNotifyResult != 0;
}

static void testBasics(void)
{
	static uint8_t storage[16 * XSTCP_SLOT_BYTES + 64];
	uint8_t frame[XSTCP_FRAME_MAX + 10], out[XSTCP_FRAME_MAX];
	xstcp_ring r;
	xstcp_ring_stats s;
	uint32_t id, seq;

	memset(&r, 0, sizeof(r));
	CHECK(xstcp_ring_valid_count(1) && xstcp_ring_valid_count(2) && xstcp_ring_valid_count(256), "valid counts");
	CHECK(!xstcp_ring_valid_count(0) && !xstcp_ring_valid_count(3) && !xstcp_ring_valid_count(512), "invalid counts");
	CHECK(xstcp_ring_storage_bytes(16) <= sizeof(storage), "storage size");

	xstcp_ring_open(&r, storage, 4, countingNotify, NULL);
	gNotifyCount = 0;
	CHECK(xstcp_ring_pop(&r, out, sizeof(out)) == 0, "empty ring pops 0");
	for (uint32_t k = 0; k < 3; k++) {
		makeFrame(frame, 1, k, frameLength(1, k));
		CHECK(xstcp_ring_push(&r, frame, frameLength(1, k)) == XSTCP_PUSH_OK, "push %u", k);
	}
	CHECK(gNotifyCount == 1, "three pushes into an empty ring post one wake-up, got %d", gNotifyCount);
	CHECK(xstcp_ring_pending(&r) == 3, "3 pending");
	/* full: a fourth fits, the fifth is dropped and counted, still no second wake-up */
	makeFrame(frame, 1, 3, frameLength(1, 3));
	CHECK(xstcp_ring_push(&r, frame, frameLength(1, 3)) == XSTCP_PUSH_OK, "fourth push");
	CHECK(xstcp_ring_push(&r, frame, frameLength(1, 3)) == XSTCP_PUSH_FULL, "fifth push is refused");
	CHECK(gNotifyCount == 1, "no wake-up while one is outstanding, got %d", gNotifyCount);
	/* sizes */
	CHECK(xstcp_ring_push(&r, frame, 13) == XSTCP_PUSH_SIZE, "13 bytes refused");
	CHECK(xstcp_ring_push(&r, frame, XSTCP_FRAME_MAX + 1) == XSTCP_PUSH_SIZE, "1515 bytes refused");
	CHECK(xstcp_ring_push(&r, NULL, 60) == XSTCP_PUSH_SIZE, "NULL refused");
	/* consumer: acknowledge, then drain in order */
	xstcp_ring_acknowledge(&r);
	for (uint32_t k = 0; k < 4; k++) {
		int n = xstcp_ring_pop(&r, out, sizeof(out));
		CHECK(n == (int)frameLength(1, k), "pop %u length %d", k, n);
		CHECK(checkFrame(out, (uint32_t)n, &id, &seq) == 0 && seq == k && id == 1, "pop %u content", k);
	}
	CHECK(xstcp_ring_pop(&r, out, sizeof(out)) == 0, "drained");
	/* the next frame wakes again */
	makeFrame(frame, 1, 4, frameLength(1, 4));
	xstcp_ring_push(&r, frame, frameLength(1, 4));
	CHECK(gNotifyCount == 2, "first frame after acknowledge posts again, got %d", gNotifyCount);
	/* too-small pop buffer drops that frame */
	CHECK(xstcp_ring_pop(&r, out, 10) == XSTCP_POP_TOO_SMALL, "too small");
	CHECK(xstcp_ring_pop(&r, out, sizeof(out)) == 0, "the frame is gone");
	/* acknowledge with frames still pending (consumer stopped early): a refused push still wakes */
	xstcp_ring_acknowledge(&r);
	for (uint32_t k = 0; k < 4; k++)
		xstcp_ring_push(&r, frame, 60);
	xstcp_ring_acknowledge(&r);
	CHECK(xstcp_ring_push(&r, frame, 60) == XSTCP_PUSH_FULL, "full");
	CHECK(gNotifyCount == 4, "a full ring still wakes a consumer that acknowledged, got %d", gNotifyCount);
	while (xstcp_ring_pop(&r, out, sizeof(out)) > 0)
		;
	/* notify failure: counted, flag cleared, next push retries */
	xstcp_ring_acknowledge(&r);
	gNotifyResult = 0;
	xstcp_ring_push(&r, frame, 60);
	gNotifyResult = 1;
	xstcp_ring_push(&r, frame, 60);
	CHECK(gNotifyCount == 6, "failed wake-up is retried by the next frame, got %d", gNotifyCount);
	/* kick (link event) wakes only when nothing is outstanding */
	xstcp_ring_kick(&r);
	CHECK(gNotifyCount == 6, "kick while outstanding does nothing");
	xstcp_ring_acknowledge(&r);
	xstcp_ring_kick(&r);
	CHECK(gNotifyCount == 7, "kick after acknowledge wakes");

	xstcp_ring_get_stats(&r, &s);
	CHECK(s.accepted == 11, "accepted %u", s.accepted);
	CHECK(s.dropFull == 2 && s.dropSize == 3 && s.dropTooSmall == 1 && s.dropBusy == 0, "drops %u %u %u", s.dropFull, s.dropSize, s.dropTooSmall);
	CHECK(s.wakes == 7 && s.wakeFailures == 1, "wakes %u failures %u", s.wakes, s.wakeFailures);
	CHECK(s.pending == 2, "pending %u", s.pending);
	/* close */
	CHECK(xstcp_ring_close(&r, NULL, 0), "close");
	CHECK(xstcp_ring_push(&r, frame, 60) == XSTCP_PUSH_CLOSED, "closed ring refuses");
	xstcp_ring_get_stats(&r, &s);
	CHECK(s.dropClosed == 1, "dropClosed");
	printf("ok basics: order, full, sizes, too-small, edge wake-ups, notify failure, kick, close\n");
}

static void testWrap(void)
{
	static uint8_t storage[4 * XSTCP_SLOT_BYTES + 64];
	uint8_t frame[XSTCP_FRAME_MAX], out[XSTCP_FRAME_MAX];
	xstcp_ring r;
	uint32_t id, seq, expect = 0;

	memset(&r, 0, sizeof(r));
	xstcp_ring_open(&r, storage, 4, countingNotify, NULL);
	atomic_store(&r.head, 0xFFFFFFF0u);
	atomic_store(&r.tail, 0xFFFFFFF0u);
	for (uint32_t k = 0; k < 64; k++) {
		makeFrame(frame, 2, k, frameLength(2, k));
		CHECK(xstcp_ring_push(&r, frame, frameLength(2, k)) == XSTCP_PUSH_OK, "wrap push %u", k);
		if (k % 3 == 2 || k == 63) {
			int n;
			while ((n = xstcp_ring_pop(&r, out, sizeof(out))) > 0) {
				CHECK(checkFrame(out, (uint32_t)n, &id, &seq) == 0 && seq == expect, "wrap pop %u", expect);
				expect++;
			}
		}
	}
	CHECK(expect == 64, "wrap: all 64 frames through head/tail wrapping at 2^32");
	printf("ok wrap: head and tail wrap around 2^32\n");
}

/* ------------------------------------------------------------------ threads through xstcp_if */

typedef struct {
	xstcp_if *nif;
	uint32_t id;
	uint32_t frames;
	uint32_t yieldEvery;
	int retryWhenFull;   /* back-pressure: push the same frame again until it is accepted */
	_Atomic int *stop;
	_Atomic int finished;
	uint32_t sent, accepted, dropFull, dropBusy, dropClosed;
} producer;

static void *produce(void *arg)
{
	producer *p = (producer *)arg;
	static _Thread_local uint8_t frame[XSTCP_FRAME_MAX];
	for (uint32_t seq = 0; (seq < p->frames) || (p->stop && !atomic_load(p->stop)); seq++) {
		uint32_t length = frameLength(p->id, seq);
		makeFrame(frame, p->id, seq, length);
		int r = xstcp_ring_push(&p->nif->ring, frame, length);
		p->sent++;
		if (r == XSTCP_PUSH_OK) p->accepted++;
		else if (r == XSTCP_PUSH_FULL) {
			p->dropFull++;
			if (p->retryWhenFull) {
				seq--;
				sched_yield();
				continue;
			}
		}
		else if (r == XSTCP_PUSH_BUSY) p->dropBusy++;
		else if (r == XSTCP_PUSH_CLOSED) p->dropClosed++;
		else CHECK(0, "unexpected push result %d", r);
		if (p->yieldEvery && (seq % p->yieldEvery) == 0)
			sched_yield();
	}
	atomic_store(&p->finished, 1);
	return NULL;
}

/* The "XS task": what deliver() in xstcp_xs.c does, minus XS. */
static xstcp_if *gConsumerIf;
static uint8_t gConsumerBuffer[XSTCP_FRAME_MAX];
static uint32_t gNextSeq[4];
static uint64_t gReceived, gDelivered, gStale;
static int gSlowEvery;
static int gStrict;   /* every frame must arrive: sequence numbers exactly consecutive */

static void consumerDeliver(void *the, void *refcon, uint8_t *msg, uint16_t length)
{
	xstcp_if *nif = xstcp_if_from_token(refcon);
	uint32_t id, seq;
	int n;
	(void)the;
	(void)msg;
	(void)length;
	if (!nif) {
		gStale++;
		return;
	}
	gDelivered++;
	xstcp_ring_acknowledge(&nif->ring);
	while ((n = xstcp_ring_pop(&nif->ring, gConsumerBuffer, sizeof(gConsumerBuffer))) > 0) {
		int bad = checkFrame(gConsumerBuffer, (uint32_t)n, &id, &seq);
		CHECK(bad == 0, "corrupted frame (id %u seq %u len %d): %d", id, seq, n, bad);
		CHECK(id < 4, "bad producer id %u", id);
		CHECK(seq >= gNextSeq[id], "duplicate or reordered frame: producer %u seq %u, expected >= %u", id, seq, gNextSeq[id]);
		CHECK(!gStrict || seq == gNextSeq[id], "lost frame: producer %u seq %u, expected %u", id, seq, gNextSeq[id]);
		gNextSeq[id] = seq + 1;
		gReceived++;
		if (gSlowEvery && (gReceived % (uint64_t)gSlowEvery) == 0)
			usleep(50);   /* a slow consumer: the ring fills and frames are dropped (counted) */
	}
}

static void runThreads(int producers, uint32_t frames, uint32_t slots, int slowEvery, int retryWhenFull, const char *label)
{
	pthread_t threads[4];
	producer p[4];
	xstcp_if *nif = xstcp_if_get(XSTCP_IF_ETH);
	xstcp_ring_stats s;
	uint64_t sent = 0, accepted = 0, full = 0, busy = 0;
	int running;

	resetQueue();
	memset(gNextSeq, 0, sizeof(gNextSeq));
	gReceived = gDelivered = gStale = 0;
	gSlowEvery = slowEvery;
	gStrict = retryWhenFull;
	CHECK(xstcp_if_open(nif, NULL, slots, consumerDeliver), "open");
	gConsumerIf = nif;
	for (int i = 0; i < producers; i++) {
		p[i] = (producer){ .nif = nif, .id = (uint32_t)i, .frames = frames, .yieldEvery = 64, .retryWhenFull = retryWhenFull };
		pthread_create(&threads[i], NULL, produce, &p[i]);
	}
	/* consumer loop on this thread until the producers are done and the ring is drained */
	/* Runs until the producers are done, the ring is empty and no wake-up is queued. A frame left in the
	   ring with no wake-up would loop here forever: the mocha test's timeout reports it. */
	for (running = producers; running > 0 || xstcp_ring_pending(&nif->ring) || queueCount(); ) {
		serviceOne(2);
		running = 0;
		for (int i = 0; i < producers; i++)
			if (!atomic_load(&p[i].finished))
				running++;
	}
	for (int i = 0; i < producers; i++) {
		pthread_join(threads[i], NULL);
		sent += p[i].sent;
		accepted += p[i].accepted;
		full += p[i].dropFull;
		busy += p[i].dropBusy;
	}
	while (serviceOne(0))
		;
	xstcp_ring_get_stats(&nif->ring, &s);
	CHECK(accepted + full + busy == sent, "%s: every push accepted or counted as dropped", label);
	CHECK(retryWhenFull ? (accepted == (uint64_t)producers * frames) : (sent == (uint64_t)producers * frames), "%s: sent", label);
	for (int i = 0; retryWhenFull && i < producers; i++)
		CHECK(gNextSeq[i] == frames, "%s: producer %d: %u of %u frames arrived", label, i, gNextSeq[i], frames);
	CHECK(gReceived == accepted, "%s: received %llu == accepted %llu (no loss, no duplicate)", label,
		(unsigned long long)gReceived, (unsigned long long)accepted);
	CHECK(s.accepted == accepted && s.dropFull == full && s.dropBusy == busy, "%s: ring counters match", label);
	CHECK(gQueueMax <= 1, "%s: at most one wake-up outstanding, saw %d", label, gQueueMax);
	CHECK(s.wakes == (uint32_t)gPosted + s.wakeFailures && gRefused == (long)s.wakeFailures, "%s: wake-ups posted %ld refused %ld", label, gPosted, gRefused);
	CHECK(gDelivered == (uint64_t)gPosted, "%s: every posted wake-up delivered", label);
	xstcp_if_close(nif);
	printf("ok %s: %d producer(s), %u frames each, %u slots: accepted %llu, dropped full %llu busy %llu, "
		"wake-ups %u (%.3f per frame), max queued 1\n", label, producers, frames, slots,
		(unsigned long long)accepted, (unsigned long long)full, (unsigned long long)busy, s.wakes,
		accepted ? (double)s.wakes / (double)accepted : 0.0);
}

static void drainingDeliver(void *the, void *refcon, uint8_t *msg, uint16_t length)
{
	xstcp_if *nif = xstcp_if_from_token(refcon);
	(void)the;
	(void)msg;
	(void)length;
	if (!nif)
		return;
	xstcp_ring_acknowledge(&nif->ring);
	while (xstcp_ring_pop(&nif->ring, gConsumerBuffer, sizeof(gConsumerBuffer)) > 0)
		gReceived++;
}

static void testRefusedQueue(void)
{
	/* The XS queue is full (other modules' messages): posting fails, nothing blocks, frames stay in the
	   ring and the next frame after the queue frees up posts again. */
	xstcp_if *nif = xstcp_if_get(XSTCP_IF_ETH);
	uint8_t frame[100];
	xstcp_ring_stats s;
	resetQueue();
	memset(gNextSeq, 0, sizeof(gNextSeq));
	gReceived = gDelivered = gStale = 0;
	gSlowEvery = 0;
	CHECK(xstcp_if_open(nif, NULL, 8, drainingDeliver), "open");
	atomic_store(&gRefuseAll, 1);
	memset(frame, 0x55, sizeof(frame));
	for (uint32_t k = 0; k < 3; k++)
		xstcp_ring_push(&nif->ring, frame, 60);
	xstcp_ring_get_stats(&nif->ring, &s);
	CHECK(s.wakeFailures == 3 && s.accepted == 3 && queueCount() == 0, "refused posts counted: %u", s.wakeFailures);
	atomic_store(&gRefuseAll, 0);
	xstcp_ring_push(&nif->ring, frame, 60);
	CHECK(queueCount() == 1, "next frame posts once the queue has room");
	CHECK(serviceOne(0) == 1 && gReceived == 4, "the wake-up drains all 4 frames");
	xstcp_if_close(nif);
	printf("ok refused queue: posting never blocks, failures counted, next frame retries\n");
}

static void testStaleToken(void)
{
	/* A wake-up still queued when the interface closes (and even reopens) is ignored. */
	xstcp_if *nif = xstcp_if_get(XSTCP_IF_WIFI);
	uint8_t frame[60];
	memset(frame, 0xAB, sizeof(frame));
	resetQueue();
	gStale = gDelivered = 0;
	CHECK(xstcp_if_open(nif, NULL, 2, consumerDeliver), "open");
	CHECK(!xstcp_if_open(nif, NULL, 2, consumerDeliver), "second open refused");
	xstcp_ring_push(&nif->ring, frame, sizeof(frame));
	CHECK(queueCount() == 1, "posted");
	xstcp_if_close(nif);
	xstcp_if_close(nif);   /* idempotent */
	CHECK(xstcp_if_open(nif, NULL, 2, consumerDeliver), "reopen");
	CHECK(serviceOne(0) == 1 && gStale == 1 && gDelivered == 0, "the old session's wake-up is stale");
	xstcp_if_close(nif);
	CHECK(!xstcp_if_open(nif, NULL, 3, consumerDeliver), "3 slots refused");
	printf("ok stale wake-up: ignored after close and reopen; double close is harmless\n");
}

static void testCloseUnderLoad(void)
{
	/* Producers keep pushing while the XS task closes: close() waits for the one inside push(), then
	   every later push finds the ring closed (the storage is freed by then: ASan/TSan would see a
	   use after free). */
	xstcp_if *nif = xstcp_if_get(XSTCP_IF_ETH);
	pthread_t t[2];
	producer p[2];
	_Atomic int stop = 0;
	resetQueue();
	CHECK(xstcp_if_open(nif, NULL, 4, consumerDeliver), "open");
	for (int i = 0; i < 2; i++) {
		p[i] = (producer){ .nif = nif, .id = (uint32_t)i, .frames = 0, .yieldEvery = 0, .stop = &stop };
		pthread_create(&t[i], NULL, produce, &p[i]);
	}
	usleep(20000);
	xstcp_if_close(nif);
	CHECK(nif->storage == NULL && nif->ring.slots == NULL, "storage freed after close");
	usleep(5000);
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK(p[0].dropClosed + p[1].dropClosed > 0, "pushes after close were refused");
	while (serviceOne(0))
		;
	printf("ok close under load: %u + %u pushes refused after close, no access to freed storage\n",
		p[0].dropClosed, p[1].dropClosed);
}

int main(int argc, char **argv)
{
	uint32_t frames = (argc > 1) ? (uint32_t)strtoul(argv[1], NULL, 10) : 200000;
	testBasics();
	testWrap();
	testRefusedQueue();
	testStaleToken();
	runThreads(1, frames, 8, 0, 1, "spsc lossless (producer retries when full)");
	runThreads(1, frames, 8, 0, 0, "spsc fast consumer");
	runThreads(1, frames, 4, 7, 0, "spsc slow consumer");
	runThreads(2, frames / 2, 16, 5, 0, "two producers");
	testCloseUnderLoad();
	printf("all ring checks passed\n");
	return 0;
}
