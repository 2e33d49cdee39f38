/*
 * xstcp_if: one network interface of the ESP32 as the XS side sees it: the receive ring, the link
 * state, the MAC address, transmit counters, and the wake-up message to the XS machine.
 *
 * The ESP32 has one EMAC and one Wi-Fi station, so there are two static records (XSTCP_IF_ETH,
 * XSTCP_IF_WIFI). They are never freed: a callback that fires late (after close) still finds valid
 * memory, sees a closed ring and drops the frame. Only the ring's slot storage is malloc'd at open and
 * freed at close.
 *
 * Wake-up messages carry a token (kind + generation), not a pointer. The generation changes at every
 * open and close, so a message still queued when the interface closes is recognized as stale and ignored.
 *
 * Contexts: open/close/transmit/deliver run in the XS task. xstcp_if_set_link runs in the ESP-IDF
 * event task (sys_evt). The ring is pushed from the rx task (see xstcp_ring.h).
 */
#ifndef XSTCP_IF_H
#define XSTCP_IF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "xstcp_ring.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XSTCP_IF_ETH 0
#define XSTCP_IF_WIFI 1
#define XSTCP_IF_COUNT 2

/** transmit() results, shared with JS (hw/esp32/driver.ts). */
#define XSTCP_TX_OK 0
#define XSTCP_TX_NO_ROOM 1   /* ESP_ERR_NO_MEM: no free DMA descriptor / Wi-Fi TX buffer now; retry later */
#define XSTCP_TX_DOWN 2      /* link down / not associated / driver stopped */
#define XSTCP_TX_ERROR 3     /* any other error, or a bad length */

/** Indexes of the counters `stats()` reports (hw/esp32/driver.ts STAT_*). */
#define XSTCP_STAT_RX_ACCEPTED 0
#define XSTCP_STAT_RX_DROP_FULL 1
#define XSTCP_STAT_RX_DROP_SIZE 2
#define XSTCP_STAT_RX_DROP_BUSY 3
#define XSTCP_STAT_RX_DROP_CLOSED 4
#define XSTCP_STAT_RX_DROP_TOO_SMALL 5
#define XSTCP_STAT_WAKES 6
#define XSTCP_STAT_WAKE_FAILURES 7
#define XSTCP_STAT_RX_PENDING 8
#define XSTCP_STAT_TX_FRAMES 9
#define XSTCP_STAT_TX_NO_ROOM 10
#define XSTCP_STAT_TX_DOWN 11
#define XSTCP_STAT_TX_ERRORS 12
#define XSTCP_STAT_LINK_CHANGES 13
#define XSTCP_STAT_LAST_REASON 14   /* Wi-Fi: last disconnect reason; Ethernet: 0 */
#define XSTCP_STAT_COUNT 15

/** How long close() waits for an rx callback to leave push(): this many 1-tick yields. */
#define XSTCP_CLOSE_MAX_YIELDS 1000

/** Runs in the XS task with the token given to modMessagePostToMachineFromISR (Moddable's modMessageDeliver). */
typedef void (*xstcp_deliver_fn)(void *the, void *refcon, uint8_t *message, uint16_t messageLength);

typedef struct xstcp_if {
	xstcp_ring ring;
	void *storage;                 /* the ring's slots while open */
	void *machine;                 /* xsMachine * to wake */
	xstcp_deliver_fn deliver;
	uint8_t kind;
	uint8_t isOpen;                /* XS task only */
	uint8_t mac[6];
	_Atomic uint32_t generation;   /* written by the XS task, read by rx/event tasks */
	_Atomic int32_t link;          /* 1 up, 0 down; written by the event task */
	_Atomic uint32_t linkChanges;
	_Atomic uint32_t lastReason;
	uint32_t txFrames, txNoRoom, txDown, txErrors;   /* XS task only */
} xstcp_if;

/** The static record of `kind` (XSTCP_IF_ETH or XSTCP_IF_WIFI), or NULL. */
xstcp_if *xstcp_if_get(uint32_t kind);
/**
 * Allocate `slots` ring slots and open the ring; wake-ups go to `machine` through `deliver`.
 * Returns false when `slots` is not a power of two in 1..256, the interface is already open, or
 * there is no memory.
 */
bool xstcp_if_open(xstcp_if *nif, void *machine, uint32_t slots, xstcp_deliver_fn deliver);
/** Close the ring, wait for rx callbacks to leave it, free the slots. Idempotent. */
void xstcp_if_close(xstcp_if *nif);
/** The refcon for a wake-up message of `nif`'s current session. */
void *xstcp_if_token(xstcp_if *nif);
/** The open interface a wake-up token belongs to, or NULL when it is stale (closed or reopened since). */
xstcp_if *xstcp_if_from_token(void *token);
/** Event task: record the link state and wake the XS side if it changed. */
void xstcp_if_set_link(xstcp_if *nif, bool up);
/** Record a transmit result in the counters; returns it. */
int xstcp_if_count_tx(xstcp_if *nif, int result);
/** Fill `out[XSTCP_STAT_COUNT]`. */
void xstcp_if_get_stats(xstcp_if *nif, uint32_t *out);

/* Supplied by the platform: let other tasks run for a moment (vTaskDelay(1) on the ESP32). */
void xstcp_yield(void);

#ifdef __cplusplus
}
#endif

#endif
