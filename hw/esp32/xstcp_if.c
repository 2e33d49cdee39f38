/*
 * xstcp_if: the two static interface records, their sessions and wake-up messages (see xstcp_if.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xsmc.h"
#include "xsHost.h"

#include "xstcp_if.h"

#ifndef XSTCP_HOST_TEST
	#include "freertos/FreeRTOS.h"
	#include "freertos/task.h"

void xstcp_yield(void)
{
	vTaskDelay(1);
}
#endif

static xstcp_if gInterfaces[XSTCP_IF_COUNT] = {
	{ .kind = XSTCP_IF_ETH },
	{ .kind = XSTCP_IF_WIFI },
};

xstcp_if *xstcp_if_get(uint32_t kind)
{
	return (kind < XSTCP_IF_COUNT) ? &gInterfaces[kind] : NULL;
}

/* Rx task / event task: post one message to the XS task. The ISR-safe call never blocks: when the
   queue is full it fails at once (Moddable's modMessagePostToMachine waits forever in release builds). */
static bool notify(void *refcon)
{
	xstcp_if *nif = (xstcp_if *)refcon;
	return 0 == modMessagePostToMachineFromISR((xsMachine *)nif->machine, (modMessageDeliver)nif->deliver,
		xstcp_if_token(nif));
}

bool xstcp_if_open(xstcp_if *nif, void *machine, uint32_t slots, xstcp_deliver_fn deliver)
{
	void *storage;

	if (nif->isOpen || !xstcp_ring_valid_count(slots))
		return false;
	storage = malloc(xstcp_ring_storage_bytes(slots));
	if (!storage)
		return false;
	memset(storage, 0, xstcp_ring_storage_bytes(slots));
	nif->storage = storage;
	nif->machine = machine;
	nif->deliver = deliver;
	atomic_store(&nif->generation, (atomic_load(&nif->generation) + 1) & 0x0FFFFFFF);
	nif->txFrames = nif->txNoRoom = nif->txDown = nif->txErrors = 0;
	atomic_store(&nif->link, 0);
	atomic_store(&nif->linkChanges, 0);
	atomic_store(&nif->lastReason, 0);
	nif->isOpen = 1;
	xstcp_ring_open(&nif->ring, storage, slots, notify, nif);
	return true;
}

void xstcp_if_close(xstcp_if *nif)
{
	if (!nif->isOpen)
		return;
	nif->isOpen = 0;
	atomic_store(&nif->generation, (atomic_load(&nif->generation) + 1) & 0x0FFFFFFF);   /* queued wake-ups are now stale */
	atomic_store(&nif->link, 0);
	if (xstcp_ring_close(&nif->ring, xstcp_yield, XSTCP_CLOSE_MAX_YIELDS)) {
		nif->ring.slots = NULL;
		nif->ring.lengths = NULL;
		free(nif->storage);
	}
	/* else: an rx callback never left push() (its task was deleted inside it?): leak the slots
	   rather than free memory that may still be written. */
	nif->storage = NULL;
}

void *xstcp_if_token(xstcp_if *nif)
{
	return (void *)(uintptr_t)((atomic_load(&nif->generation) << 4) | nif->kind);
}

xstcp_if *xstcp_if_from_token(void *token)
{
	uintptr_t t = (uintptr_t)token;
	xstcp_if *nif = xstcp_if_get((uint32_t)(t & 0x0F));
	if (!nif || !nif->isOpen || (atomic_load(&nif->generation) != (uint32_t)(t >> 4)))
		return NULL;
	return nif;
}

void xstcp_if_set_link(xstcp_if *nif, bool up)
{
	int32_t value = up ? 1 : 0;
	if (atomic_exchange(&nif->link, value) != value) {
		atomic_fetch_add(&nif->linkChanges, 1);
		xstcp_ring_kick(&nif->ring);
	}
}

int xstcp_if_count_tx(xstcp_if *nif, int result)
{
	switch (result) {
	case XSTCP_TX_OK: nif->txFrames++; break;
	case XSTCP_TX_NO_ROOM: nif->txNoRoom++; break;
	case XSTCP_TX_DOWN: nif->txDown++; break;
	default: nif->txErrors++; break;
	}
	return result;
}

void xstcp_if_get_stats(xstcp_if *nif, uint32_t *out)
{
	xstcp_ring_stats s;
	xstcp_ring_get_stats(&nif->ring, &s);
	out[XSTCP_STAT_RX_ACCEPTED] = s.accepted;
	out[XSTCP_STAT_RX_DROP_FULL] = s.dropFull;
	out[XSTCP_STAT_RX_DROP_SIZE] = s.dropSize;
	out[XSTCP_STAT_RX_DROP_BUSY] = s.dropBusy;
	out[XSTCP_STAT_RX_DROP_CLOSED] = s.dropClosed;
	out[XSTCP_STAT_RX_DROP_TOO_SMALL] = s.dropTooSmall;
	out[XSTCP_STAT_WAKES] = s.wakes;
	out[XSTCP_STAT_WAKE_FAILURES] = s.wakeFailures;
	out[XSTCP_STAT_RX_PENDING] = s.pending;
	out[XSTCP_STAT_TX_FRAMES] = nif->txFrames;
	out[XSTCP_STAT_TX_NO_ROOM] = nif->txNoRoom;
	out[XSTCP_STAT_TX_DOWN] = nif->txDown;
	out[XSTCP_STAT_TX_ERRORS] = nif->txErrors;
	out[XSTCP_STAT_LINK_CHANGES] = atomic_load(&nif->linkChanges);
	out[XSTCP_STAT_LAST_REASON] = atomic_load(&nif->lastReason);
}
