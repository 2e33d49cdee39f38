/*
 * Wi-Fi station raw frames for our stack instead of lwIP (research/esp-idf.md "Wi-Fi station raw
 * frames"). Private ESP-IDF API (esp_private/wifi.h): checked against v6.0.1; it may change.
 *
 * - We own the station interface: no esp_netif is created for it, so no DHCP/ARP from lwIP. Frames in
 *   both directions are Ethernet II frames (DA, SA, EtherType).
 * - The trap: esp_wifi_internal_reg_rxcb() holds ONE callback per interface, and ESP-IDF's default
 *   handlers (only present when someone called esp_netif_create_default_wifi_sta) re-register lwIP's
 *   callback on WIFI_EVENT_STA_START and STA_CONNECTED. So we register ours on both events, every time.
 * - wifi_input() runs in the Wi-Fi task (priority 23, core 0). It copies the frame into the ring (or
 *   drops it, counted) and frees `eb` with esp_wifi_internal_free_rx_buffer() on every path: `eb`, not
 *   `buffer`, and never free(). Holding eb would starve the driver's dynamic RX buffers.
 * - esp_wifi_internal_tx() copies the frame. ESP_ERR_NO_MEM = all TX buffers in use now (retry later);
 *   it is also returned while disconnected, so the link state is checked first.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "esp_err.h"
#include "esp_event.h"
#include "esp_mac.h"
#include "esp_wifi.h"
#include "esp_private/wifi.h"

#include "xstcp_drivers.h"

static _Atomic uint32_t gStopping;
static bool gInitialized;      /* we called esp_wifi_init (so we deinit) */
static bool gEventRegistered;
static bool gStarted;

/* Wi-Fi task. Always frees `eb`. */
static esp_err_t wifi_input(void *buffer, uint16_t length, void *eb)
{
	if (buffer)
		xstcp_ring_push(&xstcp_if_get(XSTCP_IF_WIFI)->ring, buffer, length);
	if (eb)
		esp_wifi_internal_free_rx_buffer(eb);
	return ESP_OK;
}

/* Default event loop task. */
static void wifi_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
	xstcp_if *nif = (xstcp_if *)arg;
	(void)base;
	switch (id) {
	case WIFI_EVENT_STA_START:
		esp_wifi_internal_reg_rxcb(WIFI_IF_STA, wifi_input);
		if (!atomic_load(&gStopping))
			esp_wifi_connect();
		break;
	case WIFI_EVENT_STA_CONNECTED:
		esp_wifi_internal_reg_rxcb(WIFI_IF_STA, wifi_input);
		xstcp_if_set_link(nif, true);
		break;
	case WIFI_EVENT_STA_DISCONNECTED:
		if (data)
			atomic_store(&nif->lastReason, ((wifi_event_sta_disconnected_t *)data)->reason);
		xstcp_if_set_link(nif, false);
		if (!atomic_load(&gStopping))
			esp_wifi_connect();   /* keep trying; each attempt scans first, so this is not a busy loop */
		break;
	case WIFI_EVENT_STA_STOP:
		xstcp_if_set_link(nif, false);
		break;
	default:
		break;
	}
}

esp_err_t xstcp_wifi_start(xstcp_if *nif, const char *ssid, const char *password)
{
	wifi_init_config_t init = WIFI_INIT_CONFIG_DEFAULT();
	wifi_config_t config;
	size_t ssidLength = strlen(ssid), passwordLength = strlen(password);
	esp_err_t err;

	if (gStarted || gEventRegistered)
		return ESP_ERR_INVALID_STATE;
	if ((ssidLength < 1) || (ssidLength > sizeof(config.sta.ssid)) || (passwordLength >= sizeof(config.sta.password)))
		return ESP_ERR_INVALID_ARG;

	err = esp_event_loop_create_default();
	if ((err != ESP_OK) && (err != ESP_ERR_INVALID_STATE))   /* INVALID_STATE: it exists already */
		return err;

	err = esp_read_mac(nif->mac, ESP_MAC_WIFI_STA);
	if (err != ESP_OK)
		return err;

	err = esp_wifi_init(&init);
	if (err == ESP_OK)
		gInitialized = true;
	else if (err != ESP_ERR_INVALID_STATE)   /* INVALID_STATE: already initialized by other code */
		return err;

	atomic_store(&gStopping, 0);
	err = esp_wifi_set_storage(WIFI_STORAGE_RAM);
	if (err != ESP_OK)
		goto fail;
	err = esp_wifi_set_mode(WIFI_MODE_STA);
	if (err != ESP_OK)
		goto fail;
	memset(&config, 0, sizeof(config));
	memcpy(config.sta.ssid, ssid, ssidLength);
	memcpy(config.sta.password, password, passwordLength);
	err = esp_wifi_set_config(WIFI_IF_STA, &config);
	if (err != ESP_OK)
		goto fail;
	err = esp_event_handler_register(WIFI_EVENT, ESP_EVENT_ANY_ID, wifi_event, nif);
	if (err != ESP_OK)
		goto fail;
	gEventRegistered = true;
	err = esp_wifi_start();   /* -> WIFI_EVENT_STA_START -> register rx callback, connect */
	if (err != ESP_OK)
		goto fail;
	gStarted = true;
	esp_wifi_set_ps(WIFI_PS_NONE);   /* a server wants low latency more than low power */
	return ESP_OK;

fail:
	xstcp_wifi_stop(nif);
	return err;
}

void xstcp_wifi_stop(xstcp_if *nif)
{
	atomic_store(&gStopping, 1);
	if (gEventRegistered) {
		esp_event_handler_unregister(WIFI_EVENT, ESP_EVENT_ANY_ID, wifi_event);
		gEventRegistered = false;
	}
	if (gStarted || gInitialized)
		esp_wifi_internal_reg_rxcb(WIFI_IF_STA, NULL);
	if (gStarted) {
		esp_wifi_disconnect();
		esp_wifi_stop();
		gStarted = false;
	}
	if (gInitialized) {
		esp_wifi_deinit();
		gInitialized = false;
	}
	xstcp_if_set_link(nif, false);
}

int xstcp_wifi_transmit(xstcp_if *nif, uint8_t *frame, uint32_t length)
{
	int err;

	if ((length < XSTCP_FRAME_MIN) || (length > XSTCP_FRAME_MAX))
		return xstcp_if_count_tx(nif, XSTCP_TX_ERROR);
	if (!gStarted || !atomic_load(&nif->link))
		return xstcp_if_count_tx(nif, XSTCP_TX_DOWN);
	err = esp_wifi_internal_tx(WIFI_IF_STA, frame, (uint16_t)length);
	if (err == ESP_OK)
		return xstcp_if_count_tx(nif, XSTCP_TX_OK);
	if (err == ESP_ERR_NO_MEM)
		return xstcp_if_count_tx(nif, XSTCP_TX_NO_ROOM);
	if ((err == ESP_ERR_WIFI_NOT_ASSOC) || (err == ESP_ERR_WIFI_CONN) || (err == ESP_ERR_WIFI_NOT_STARTED) ||
		(err == ESP_ERR_WIFI_STATE) || (err == ESP_ERR_WIFI_TX_DISALLOW) || (err == ESP_ERR_WIFI_NOT_CONNECT) ||
		(err == ESP_ERR_WIFI_STOP_STATE))
		return xstcp_if_count_tx(nif, XSTCP_TX_DOWN);
	return xstcp_if_count_tx(nif, XSTCP_TX_ERROR);
}
