/*
 * The ESP-IDF side of the two interfaces: bring-up, teardown and transmit (XS task), and the receive
 * callbacks that feed the interface's ring (ESP-IDF tasks). No XS calls in here.
 */
#ifndef XSTCP_DRIVERS_H
#define XSTCP_DRIVERS_H

#include <stdint.h>

#include "esp_err.h"
#include "xstcp_if.h"

#ifdef __cplusplus
extern "C" {
#endif

/** RMII reference clock: XSTCP_ETH_CLOCK_IN = a 50 MHz oscillator drives clockGpio (must be GPIO0 on the
    ESP32); XSTCP_ETH_CLOCK_OUT = the ESP32 outputs it on clockGpio (GPIO16 or GPIO17). */
#define XSTCP_ETH_CLOCK_IN 0
#define XSTCP_ETH_CLOCK_OUT 1

typedef struct {
	int phyAddress;   /* 0..31, or -1 to probe */
	int phyReset;     /* GPIO pulsed by the generic PHY driver's hardware reset, or -1 */
	int mdc;          /* SMI clock GPIO */
	int mdio;         /* SMI data GPIO */
	int clockMode;    /* XSTCP_ETH_CLOCK_IN or XSTCP_ETH_CLOCK_OUT */
	int clockGpio;
} xstcp_eth_config;

/**
 * Install the internal EMAC with the generic PHY, without the esp_netif glue: set our MAC (eFuse,
 * ESP_MAC_ETH), route received frames into `nif`'s ring (esp_eth_update_input_path), follow link
 * events, start. `nif` must be open. On failure everything done so far is undone.
 */
esp_err_t xstcp_eth_start(xstcp_if *nif, const xstcp_eth_config *config);
/** Stop and uninstall the EMAC driver; idempotent. */
void xstcp_eth_stop(xstcp_if *nif);
/** Send one frame (copied before return). Returns XSTCP_TX_*. */
int xstcp_eth_transmit(xstcp_if *nif, uint8_t *frame, uint32_t length);

/**
 * Start the Wi-Fi station on `ssid`/`password` (NUL-terminated, at most 32/63 bytes) without any
 * esp_netif: our receive callback is registered on every WIFI_EVENT_STA_START and STA_CONNECTED
 * (esp_wifi_internal_reg_rxcb), the link follows CONNECTED/DISCONNECTED, and the station reconnects
 * after every disconnect. MAC from eFuse (ESP_MAC_WIFI_STA).
 */
esp_err_t xstcp_wifi_start(xstcp_if *nif, const char *ssid, const char *password);
/** Unregister the callback, disconnect, stop (and deinit, if we initialized Wi-Fi); idempotent. */
void xstcp_wifi_stop(xstcp_if *nif);
/** Send one frame (copied before return). Returns XSTCP_TX_*. */
int xstcp_wifi_transmit(xstcp_if *nif, uint8_t *frame, uint32_t length);

#ifdef __cplusplus
}
#endif

#endif
