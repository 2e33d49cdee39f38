/*
 * xstcp_ring: the fixed ring of frame slots between an ESP-IDF receive callback and the XS task
 * (DESIGN.md §3, research/esp-idf.md "What this means for our design" 1).
 *
 * Producer: the rx callback, in the emac_rx task (Ethernet, priority 15) or the Wi-Fi task (priority 23).
 * It copies the frame into a free slot and returns at once: no malloc, no lock wait, no blocking call.
 * The caller frees the ESP-IDF buffer right after, whatever push() returned.
 * Consumer: the XS task. It calls acknowledge() when a wake-up arrives, then pop() until the ring is empty.
 *
 * Wake-up rule: a push (accepted, or refused because the ring is full) posts a wake-up when none is
 * outstanding, i.e. on the edge from "the XS side has seen everything" to "there is something new".
 * The `signalled` flag is set by the producer that posts and cleared by acknowledge(), so at most one
 * wake-up per ring is ever waiting in the XS message queue (Moddable's queue holds 10; a full queue
 * must never block an rx task). If posting fails, the flag is cleared again (and the failure counted),
 * so the next frame retries; the platform loop's periodic poll also drains the ring.
 *
 * Producers are serialized by a try-lock: a second producer arriving while one is copying drops its
 * frame (counted as dropBusy) instead of spinning. On the ESP32 each ring has one producer task, so this
 * never happens; it keeps the ring correct if that ever changes.
 *
 * Close: close() stops new pushes and waits (yielding) until no producer is inside push(); only then
 * may the caller free the storage. The ring header itself lives in static memory, so a callback that
 * arrives late still finds a valid (closed) ring.
 *
 * Slots: a power of two (1..256), each XSTCP_SLOT_BYTES; one Ethernet II frame without FCS each
 * (14..1514 bytes). head and tail count frames modulo 2^32 and index slots with (count - 1) masks.
 */
#ifndef XSTCP_RING_H
#define XSTCP_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Smallest frame accepted: an Ethernet II header. */
#define XSTCP_FRAME_MIN 14
/** Largest frame accepted: 14-byte header + 1500-byte payload, no FCS, no VLAN tag. */
#define XSTCP_FRAME_MAX 1514
/** Bytes per slot (XSTCP_FRAME_MAX rounded up to 4). */
#define XSTCP_SLOT_BYTES 1516
/** Largest number of slots. */
#define XSTCP_SLOTS_MAX 256

/** push() results. */
#define XSTCP_PUSH_OK 0
#define XSTCP_PUSH_FULL 1
#define XSTCP_PUSH_SIZE 2
#define XSTCP_PUSH_BUSY 3
#define XSTCP_PUSH_CLOSED 4

/** pop() result when the frame does not fit the caller's buffer (the frame is dropped). */
#define XSTCP_POP_TOO_SMALL (-1)

/** Post one wake-up to the consumer; false when it could not be posted. Never blocks. */
typedef bool (*xstcp_notify_fn)(void *refcon);
/** Let other tasks run for a moment (close() waits with it). */
typedef void (*xstcp_yield_fn)(void);

/** Counters, all monotonic since open(). */
typedef struct {
	uint32_t accepted;      /* frames copied into a slot */
	uint32_t dropFull;      /* no free slot */
	uint32_t dropSize;      /* shorter than 14 or longer than 1514 bytes */
	uint32_t dropBusy;      /* another producer was inside push() */
	uint32_t dropClosed;    /* arrived while the ring was closed */
	uint32_t dropTooSmall;  /* pop() buffer smaller than the frame */
	uint32_t wakes;         /* wake-ups posted */
	uint32_t wakeFailures;  /* wake-ups that could not be posted */
	uint32_t pending;       /* frames waiting now */
} xstcp_ring_stats;

typedef struct xstcp_ring {
	uint8_t *slots;              /* count * XSTCP_SLOT_BYTES */
	uint16_t *lengths;           /* count entries */
	uint32_t count;              /* power of two */
	_Atomic uint32_t head;       /* frames published (producer) */
	_Atomic uint32_t tail;       /* frames consumed (consumer) */
	_Atomic uint32_t signalled;  /* 1: a wake-up is outstanding */
	_Atomic uint32_t open;       /* 1: pushes are accepted */
	_Atomic uint32_t inflight;   /* producers inside push() */
	_Atomic uint32_t lock;       /* producer try-lock */
	xstcp_notify_fn notify;
	void *refcon;
	_Atomic uint32_t accepted, dropFull, dropSize, dropBusy, dropClosed, wakes, wakeFailures;
	uint32_t dropTooSmall;       /* consumer only */
} xstcp_ring;

/** True when `count` is a valid number of slots (a power of two, 1..XSTCP_SLOTS_MAX). */
bool xstcp_ring_valid_count(uint32_t count);
/** Bytes of storage open() needs for `count` slots (frames and lengths, 4-byte aligned). */
size_t xstcp_ring_storage_bytes(uint32_t count);
/** Start accepting frames into `storage` (xstcp_ring_storage_bytes(count) bytes). Counters restart. */
void xstcp_ring_open(xstcp_ring *r, void *storage, uint32_t count, xstcp_notify_fn notify, void *refcon);
/**
 * Stop accepting frames, then wait until no producer is inside push(), calling `yield` between checks,
 * at most `maxYields` times. Returns false on time-out (the storage must then not be freed).
 */
bool xstcp_ring_close(xstcp_ring *r, xstcp_yield_fn yield, uint32_t maxYields);
/** Producer: copy one frame in. Never blocks. The caller keeps (and frees) `frame`. */
int xstcp_ring_push(xstcp_ring *r, const void *frame, size_t length);
/** Producer side, no frame (link events): post a wake-up if none is outstanding. */
void xstcp_ring_kick(xstcp_ring *r);
/** Consumer: a wake-up arrived. Call before draining, so frames pushed from now on wake again. */
void xstcp_ring_acknowledge(xstcp_ring *r);
/**
 * Consumer: copy the oldest frame into `into` and free its slot. Returns its length, 0 when the ring is
 * empty, XSTCP_POP_TOO_SMALL when `capacity` is too small (the frame is dropped and counted).
 */
int xstcp_ring_pop(xstcp_ring *r, void *into, size_t capacity);
/** Frames waiting now. */
uint32_t xstcp_ring_pending(xstcp_ring *r);
/** A snapshot of the counters. */
void xstcp_ring_get_stats(xstcp_ring *r, xstcp_ring_stats *out);

#ifdef __cplusplus
}
#endif

#endif
