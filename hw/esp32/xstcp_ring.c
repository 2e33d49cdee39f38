/*
 * xstcp_ring: see xstcp_ring.h for the contract. Plain C11 atomics, nothing from ESP-IDF or XS, so the
 * same file is unit-tested on the host with threads (test/hw/ring_test.c).
 *
 * Memory ordering:
 * - A frame is written into its slot, then published by the release store of `head`; the consumer's
 *   acquire load of `head` sees the bytes. The consumer frees a slot with a release store of `tail`;
 *   the producer's acquire load of `tail` guarantees the slot is no longer being read.
 * - Lost wake-ups: the producer publishes `head` then exchanges `signalled` to 1; the consumer
 *   exchanges `signalled` to 0 then reads `head`. Both exchanges are read-modify-writes of the same
 *   variable, so one comes first: if the consumer's comes first, the producer reads 0 and posts; if
 *   the producer's comes first, the consumer's exchange reads the producer's 1 (acquire/release pair),
 *   so its later load of `head` sees the new frame. Either way the frame is not stranded.
 * - Close: `open` and `inflight` use sequentially consistent operations (a Dekker pair): a producer
 *   either sees `open == 0`, or close() sees its `inflight` increment and waits for it.
 */
#include "xstcp_ring.h"

#include <string.h>

bool xstcp_ring_valid_count(uint32_t count)
{
	return (count >= 1) && (count <= XSTCP_SLOTS_MAX) && ((count & (count - 1)) == 0);
}

size_t xstcp_ring_storage_bytes(uint32_t count)
{
	size_t lengths = ((size_t)count * sizeof(uint16_t) + 3) & ~(size_t)3;
	return (size_t)count * XSTCP_SLOT_BYTES + lengths;
}

void xstcp_ring_open(xstcp_ring *r, void *storage, uint32_t count, xstcp_notify_fn notify, void *refcon)
{
	r->slots = (uint8_t *)storage;
	r->lengths = (uint16_t *)(void *)((uint8_t *)storage + (size_t)count * XSTCP_SLOT_BYTES);
	r->count = count;
	r->notify = notify;
	r->refcon = refcon;
	atomic_store(&r->head, 0);
	atomic_store(&r->tail, 0);
	atomic_store(&r->signalled, 0);
	atomic_store(&r->lock, 0);
	atomic_store(&r->accepted, 0);
	atomic_store(&r->dropFull, 0);
	atomic_store(&r->dropSize, 0);
	atomic_store(&r->dropBusy, 0);
	atomic_store(&r->dropClosed, 0);
	atomic_store(&r->wakes, 0);
	atomic_store(&r->wakeFailures, 0);
	r->dropTooSmall = 0;
	/* A producer stuck in push() from an earlier session (its task deleted) is forgotten. */
	atomic_store(&r->inflight, 0);
	atomic_store(&r->open, 1);
}

bool xstcp_ring_close(xstcp_ring *r, xstcp_yield_fn yield, uint32_t maxYields)
{
	uint32_t n = 0;
	atomic_store(&r->open, 0);
	while (atomic_load(&r->inflight) != 0) {
		if (n++ >= maxYields)
			return false;
		if (yield)
			yield();
	}
	return true;
}

static void wake(xstcp_ring *r)
{
	if (atomic_exchange(&r->signalled, 1) != 0)
		return;   /* one is outstanding: the consumer will see this frame when it drains */
	atomic_fetch_add_explicit(&r->wakes, 1, memory_order_relaxed);
	if (!r->notify || !r->notify(r->refcon)) {
		atomic_fetch_add_explicit(&r->wakeFailures, 1, memory_order_relaxed);
		atomic_store(&r->signalled, 0);   /* let the next frame try again */
	}
}

int xstcp_ring_push(xstcp_ring *r, const void *frame, size_t length)
{
	int result;
	uint32_t head, tail, index;

	atomic_fetch_add(&r->inflight, 1);
	if (!atomic_load(&r->open)) {
		atomic_fetch_add_explicit(&r->dropClosed, 1, memory_order_relaxed);
		result = XSTCP_PUSH_CLOSED;
		goto done;
	}
	if (!frame || (length < XSTCP_FRAME_MIN) || (length > XSTCP_FRAME_MAX)) {
		atomic_fetch_add_explicit(&r->dropSize, 1, memory_order_relaxed);
		result = XSTCP_PUSH_SIZE;
		goto done;
	}
	if (atomic_exchange_explicit(&r->lock, 1, memory_order_acquire) != 0) {
		atomic_fetch_add_explicit(&r->dropBusy, 1, memory_order_relaxed);
		result = XSTCP_PUSH_BUSY;
		goto done;
	}
	head = atomic_load_explicit(&r->head, memory_order_relaxed);
	tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	if ((uint32_t)(head - tail) >= r->count) {
		atomic_store_explicit(&r->lock, 0, memory_order_release);
		atomic_fetch_add_explicit(&r->dropFull, 1, memory_order_relaxed);
		wake(r);   /* the consumer may have stopped early: make sure it comes back */
		result = XSTCP_PUSH_FULL;
		goto done;
	}
	index = head & (r->count - 1);
	memcpy(r->slots + (size_t)index * XSTCP_SLOT_BYTES, frame, length);
	r->lengths[index] = (uint16_t)length;
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	atomic_store_explicit(&r->lock, 0, memory_order_release);
	atomic_fetch_add_explicit(&r->accepted, 1, memory_order_relaxed);
	wake(r);
	result = XSTCP_PUSH_OK;
done:
	atomic_fetch_sub(&r->inflight, 1);
	return result;
}

void xstcp_ring_kick(xstcp_ring *r)
{
	atomic_fetch_add(&r->inflight, 1);
	if (atomic_load(&r->open))
		wake(r);
	atomic_fetch_sub(&r->inflight, 1);
}

void xstcp_ring_acknowledge(xstcp_ring *r)
{
	(void)atomic_exchange(&r->signalled, 0);
}

int xstcp_ring_pop(xstcp_ring *r, void *into, size_t capacity)
{
	uint32_t tail, head, index, length;
	int result;

	if (!r->slots)
		return 0;
	tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	head = atomic_load_explicit(&r->head, memory_order_acquire);
	if (head == tail)
		return 0;
	index = tail & (r->count - 1);
	length = r->lengths[index];
	if (length > capacity) {
		r->dropTooSmall++;
		result = XSTCP_POP_TOO_SMALL;
	}
	else {
		memcpy(into, r->slots + (size_t)index * XSTCP_SLOT_BYTES, length);
		result = (int)length;
	}
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return result;
}

uint32_t xstcp_ring_pending(xstcp_ring *r)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	return head - tail;
}

void xstcp_ring_get_stats(xstcp_ring *r, xstcp_ring_stats *out)
{
	out->accepted = atomic_load_explicit(&r->accepted, memory_order_relaxed);
	out->dropFull = atomic_load_explicit(&r->dropFull, memory_order_relaxed);
	out->dropSize = atomic_load_explicit(&r->dropSize, memory_order_relaxed);
	out->dropBusy = atomic_load_explicit(&r->dropBusy, memory_order_relaxed);
	out->dropClosed = atomic_load_explicit(&r->dropClosed, memory_order_relaxed);
	out->dropTooSmall = r->dropTooSmall;
	out->wakes = atomic_load_explicit(&r->wakes, memory_order_relaxed);
	out->wakeFailures = atomic_load_explicit(&r->wakeFailures, memory_order_relaxed);
	out->pending = r->slots ? xstcp_ring_pending(r) : 0;
}
