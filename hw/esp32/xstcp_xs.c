/*
 * XS host classes for the two interfaces (hw/esp32/native.ts declares them):
 *
 *   class EthernetNative extends Native("xs_xstcp_destructor")   constructor: xs_xstcp_ethernet
 *   class WiFiNative     extends Native("xs_xstcp_destructor")   constructor: xs_xstcp_wifi
 *   shared methods: receive(into), transmit(frame, length), readMac(into), linkUp(), stats(into), close()
 *   function fillRandom(into)                                      xs_xstcp_random
 *
 * Host data is the interface's static record (xstcp_if). The onWake function and the instance are
 * remembered (xsRemember) while open, so the instance cannot be collected while ESP-IDF can still
 * call into it; close() forgets them. The destructor (garbage collection after close, or machine
 * teardown) only stops ESP-IDF and frees the ring: it never touches XS.
 *
 * Wake-up: the ring posts modMessagePostToMachineFromISR(the, deliver, token) (never blocks). deliver()
 * runs in the XS task from modMessageService: it drops stale tokens, acknowledges the ring (so frames
 * arriving from now on post again) and calls onWake() with `this` = the instance, inside xsTry so an
 * exception cannot abort the machine.
 *
 * Buffers: receive/transmit/readMac/stats/fillRandom take the caller's ArrayBuffer or view and use its
 * bytes only during the call (xsmcGetBufferWritable/Readable), with no XS allocation in between, so a
 * garbage collection cannot move them under us.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xsmc.h"
#include "xsHost.h"

#include "esp_err.h"
#include "esp_random.h"

#include "xstcp_drivers.h"
#include "xstcp_if.h"

void xs_xstcp_destructor(void *data);

static xsSlot gWake[XSTCP_IF_COUNT];
static xsSlot gInstance[XSTCP_IF_COUNT];
static bool gRemembered[XSTCP_IF_COUNT];

static void deliver(void *the_, void *refcon, uint8_t *message, uint16_t messageLength)
{
	xsMachine *machine = (xsMachine *)the_;
	xstcp_if *nif = xstcp_if_from_token(refcon);
	(void)message;
	(void)messageLength;
	if (!nif || !gRemembered[nif->kind])
		return;   /* closed (or closed and reopened) since the message was posted */
	xstcp_ring_acknowledge(&nif->ring);
	xsBeginHost(machine);
	{
		xsTry {
			xsCallFunction0(gWake[nif->kind], gInstance[nif->kind]);
		}
		xsCatch {
		}
	}
	xsEndHost(machine);
}

static void remember(xsMachine *the, xstcp_if *nif)
{
	gWake[nif->kind] = xsArg(0);
	gInstance[nif->kind] = xsThis;
	xsRemember(gWake[nif->kind]);
	xsRemember(gInstance[nif->kind]);
	gRemembered[nif->kind] = true;
}

static void forget(xsMachine *the, xstcp_if *nif)
{
	if (!gRemembered[nif->kind])
		return;
	xsForget(gWake[nif->kind]);
	xsForget(gInstance[nif->kind]);
	gRemembered[nif->kind] = false;
}

static void shutdown(xstcp_if *nif)
{
	if (nif->kind == XSTCP_IF_ETH)
		xstcp_eth_stop(nif);
	else
		xstcp_wifi_stop(nif);
	xstcp_if_close(nif);
}

void xs_xstcp_destructor(void *data)
{
	if (data)
		shutdown((xstcp_if *)data);
}

static xstcp_if *openInterface(xsMachine *the, uint32_t kind, int argc, const char *name)
{
	xstcp_if *nif = xstcp_if_get(kind);
	xsIntegerValue slots;

	if (xsmcArgc < argc)
		xsTypeError("%s: expected %d arguments", name, argc);
	if (!xsmcIsInstanceOf(xsArg(0), xsFunctionPrototype))
		xsTypeError("%s: onWake must be a function", name);
	slots = xsmcToInteger(xsArg(1));
	if ((slots < 1) || !xstcp_ring_valid_count((uint32_t)slots))
		xsRangeError("%s: slots must be a power of two in 1..%d", name, XSTCP_SLOTS_MAX);
	if (nif->isOpen || gRemembered[kind])
		xsUnknownError("%s: already open", name);
	if (!xstcp_if_open(nif, the, (uint32_t)slots, deliver))
		xsUnknownError("%s: no memory for %d receive slots", name, (int)slots);
	return nif;
}

static void failed(xsMachine *the, xstcp_if *nif, const char *name, esp_err_t err)
{
	xstcp_if_close(nif);
	xsUnknownError("%s: ESP-IDF error %s (0x%x)", name, esp_err_to_name(err), (unsigned)err);
}

/* new EthernetNative(onWake, slots, phyAddress, phyReset, mdc, mdio, clockMode, clockGpio) */
void xs_xstcp_ethernet(xsMachine *the)
{
	xstcp_eth_config config;
	xstcp_if *nif = openInterface(the, XSTCP_IF_ETH, 8, "Ethernet");
	esp_err_t err;

	config.phyAddress = xsmcToInteger(xsArg(2));
	config.phyReset = xsmcToInteger(xsArg(3));
	config.mdc = xsmcToInteger(xsArg(4));
	config.mdio = xsmcToInteger(xsArg(5));
	config.clockMode = xsmcToInteger(xsArg(6));
	config.clockGpio = xsmcToInteger(xsArg(7));
	err = xstcp_eth_start(nif, &config);
	if (err != ESP_OK)
		failed(the, nif, "Ethernet", err);
	remember(the, nif);
	xsmcSetHostData(xsThis, nif);
}

/* new WiFiNative(onWake, slots, ssid, password) */
void xs_xstcp_wifi(xsMachine *the)
{
	char ssid[33] = "", password[64] = "";
	xstcp_if *nif;
	esp_err_t err;

	if (xsmcArgc >= 4) {
		xsmcToStringBuffer(xsArg(2), ssid, sizeof(ssid));
		xsmcToStringBuffer(xsArg(3), password, sizeof(password));
	}
	nif = openInterface(the, XSTCP_IF_WIFI, 4, "Wi-Fi");
	err = xstcp_wifi_start(nif, ssid, password);
	if (err != ESP_OK)
		failed(the, nif, "Wi-Fi", err);
	remember(the, nif);
	xsmcSetHostData(xsThis, nif);
}

static xstcp_if *getOpen(xsMachine *the)
{
	xstcp_if *nif = (xstcp_if *)xsmcGetHostDataValidate(xsThis, (void *)xs_xstcp_destructor);
	if (!nif)
		xsUnknownError("closed");
	return nif;
}

/* receive(into): length of the frame copied into `into`; 0 when none; -1 when `into` was too small. */
void xs_xstcp_receive(xsMachine *the)
{
	xstcp_if *nif = getOpen(the);
	void *data;
	xsUnsignedValue count;
	xsmcGetBufferWritable(xsArg(0), &data, &count);
	xsmcSetInteger(xsResult, xstcp_ring_pop(&nif->ring, data, count));
}

/* transmit(frame, length): XSTCP_TX_* */
void xs_xstcp_transmit(xsMachine *the)
{
	xstcp_if *nif = getOpen(the);
	void *data;
	xsUnsignedValue count;
	xsIntegerValue length = xsmcToInteger(xsArg(1));
	int result;
	xsmcGetBufferReadable(xsArg(0), &data, &count);
	if ((length < 0) || ((xsUnsignedValue)length > count))
		result = xstcp_if_count_tx(nif, XSTCP_TX_ERROR);
	else if (nif->kind == XSTCP_IF_ETH)
		result = xstcp_eth_transmit(nif, (uint8_t *)data, (uint32_t)length);
	else
		result = xstcp_wifi_transmit(nif, (uint8_t *)data, (uint32_t)length);
	xsmcSetInteger(xsResult, result);
}

/* readMac(into): the 6-byte MAC address (from eFuse) */
void xs_xstcp_mac(xsMachine *the)
{
	xstcp_if *nif = getOpen(the);
	void *data;
	xsUnsignedValue count;
	xsmcGetBufferWritable(xsArg(0), &data, &count);
	if (count < 6)
		xsRangeError("readMac: need 6 bytes");
	memcpy(data, nif->mac, 6);
}

/* linkUp(): boolean */
void xs_xstcp_link(xsMachine *the)
{
	xstcp_if *nif = getOpen(the);
	xsmcSetBoolean(xsResult, atomic_load(&nif->link) != 0);
}

/* stats(into): XSTCP_STAT_COUNT uint32 counters into a Uint32Array (or its buffer) */
void xs_xstcp_stats(xsMachine *the)
{
	xstcp_if *nif = getOpen(the);
	uint32_t values[XSTCP_STAT_COUNT];
	void *data;
	xsUnsignedValue count;
	xstcp_if_get_stats(nif, values);
	xsmcGetBufferWritable(xsArg(0), &data, &count);
	if (count < sizeof(values))
		xsRangeError("stats: need %d bytes", (int)sizeof(values));
	memcpy(data, values, sizeof(values));
}

/* close(): unregister the ESP-IDF callbacks, stop the interface, free the ring. Idempotent. */
void xs_xstcp_close(xsMachine *the)
{
	xstcp_if *nif = (xstcp_if *)xsmcGetHostDataValidate(xsThis, (void *)xs_xstcp_destructor);
	if (!nif)
		return;
	xsmcSetHostData(xsThis, NULL);
	shutdown(nif);
	forget(the, nif);
}

/* fillRandom(into): esp_fill_random (hardware RNG) */
void xs_xstcp_random(xsMachine *the)
{
	void *data;
	xsUnsignedValue count;
	xsmcGetBufferWritable(xsArg(0), &data, &count);
	esp_fill_random(data, count);
}
