/*
 * Ethernet through the ESP32's internal EMAC, for our stack instead of lwIP (research/esp-idf.md
 * "Ethernet (internal EMAC, ESP32)").
 *
 * - No esp_netif glue: esp_eth_new_netif_glue/esp_netif_attach are never called, so lwIP never sees
 *   this interface; esp_eth_update_input_path() routes every received frame to eth_input().
 * - eth_input() runs in the `emac_rx` task (priority 15). ESP-IDF malloc'd `buffer` for us and hands over
 *   ownership: we copy it into the ring (or drop it, counted) and free() it on every path, at once.
 *   Frames arrive without the FCS (at most 1514 bytes untagged).
 * - Link: ETHERNET_EVENT_CONNECTED / _DISCONNECTED / _STOP (default event loop task) set the link state
 *   and wake the XS side.
 * - Transmit: esp_eth_transmit() copies into the DMA descriptors before it returns. ESP_ERR_NO_MEM means
 *   no free TX descriptor now (retry later); ESP_ERR_INVALID_STATE means the link is down. Only the XS
 *   task transmits, so calls are serialized (CONFIG_ETH_TRANSMIT_MUTEX is not needed).
 * - PHY: esp_eth_phy_new_generic (ESP-IDF 6 removed the chip-specific constructors), address and
 *   reset pin from the manifest config; SMI pins and RMII clock too (ESP-IDF 6 has no Kconfig for them).
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "sdkconfig.h"
#include "esp_err.h"
#include "esp_event.h"
#include "esp_mac.h"
#include "esp_eth_driver.h"

#include "xstcp_drivers.h"

#if CONFIG_ETH_USE_ESP32_EMAC

#include "esp_eth_mac_esp.h"
#include "esp_eth_phy.h"

static _Atomic(esp_eth_handle_t) gHandle;
static esp_eth_mac_t *gMac;
static esp_eth_phy_t *gPhy;
static bool gEventRegistered;
static bool gStarted;

/* emac_rx task: we own `buffer` (ESP-IDF's esp_eth.c frees it only when no input path is set).
   `priv` is not used: esp_eth_update_input_path() stores priv and the function pointer without a lock,
   so the static record is the one pointer that is always valid. */
static esp_err_t eth_input(esp_eth_handle_t handle, uint8_t *buffer, uint32_t length, void *priv)
{
	(void)handle;
	(void)priv;
	xstcp_ring_push(&xstcp_if_get(XSTCP_IF_ETH)->ring, buffer, length);
	free(buffer);
	return ESP_OK;
}

/* Default event loop task. `data` points to the handle of the driver that posted the event. */
static void eth_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
	xstcp_if *nif = (xstcp_if *)arg;
	(void)base;
	if (!data || (*(esp_eth_handle_t *)data != atomic_load(&gHandle)))
		return;
	if (id == ETHERNET_EVENT_CONNECTED)
		xstcp_if_set_link(nif, true);
	else if ((id == ETHERNET_EVENT_DISCONNECTED) || (id == ETHERNET_EVENT_STOP))
		xstcp_if_set_link(nif, false);
}

esp_err_t xstcp_eth_start(xstcp_if *nif, const xstcp_eth_config *config)
{
	eth_mac_config_t macConfig = ETH_MAC_DEFAULT_CONFIG();
	eth_esp32_emac_config_t emacConfig = ETH_ESP32_EMAC_DEFAULT_CONFIG();
	eth_phy_config_t phyConfig = ETH_PHY_DEFAULT_CONFIG();
	esp_eth_handle_t handle = NULL;
	esp_err_t err;

	if (atomic_load(&gHandle) || gMac || gPhy)
		return ESP_ERR_INVALID_STATE;

	err = esp_event_loop_create_default();
	if ((err != ESP_OK) && (err != ESP_ERR_INVALID_STATE))   /* INVALID_STATE: it exists already */
		return err;

	emacConfig.smi_gpio.mdc_num = config->mdc;
	emacConfig.smi_gpio.mdio_num = config->mdio;
	emacConfig.interface = EMAC_DATA_INTERFACE_RMII;
	emacConfig.clock_config.rmii.clock_mode = (config->clockMode == XSTCP_ETH_CLOCK_OUT) ? EMAC_CLK_OUT : EMAC_CLK_EXT_IN;
	emacConfig.clock_config.rmii.clock_gpio = config->clockGpio;
	gMac = esp_eth_mac_new_esp32(&emacConfig, &macConfig);
	if (!gMac) {
		err = ESP_FAIL;
		goto fail;
	}

	phyConfig.phy_addr = config->phyAddress;
	phyConfig.reset_gpio_num = config->phyReset;
	gPhy = esp_eth_phy_new_generic(&phyConfig);
	if (!gPhy) {
		err = ESP_FAIL;
		goto fail;
	}

	{
		esp_eth_config_t ethConfig = ETH_DEFAULT_CONFIG(gMac, gPhy);
		err = esp_eth_driver_install(&ethConfig, &handle);
	}
	if (err != ESP_OK)
		goto fail;
	atomic_store(&gHandle, handle);

	err = esp_read_mac(nif->mac, ESP_MAC_ETH);
	if (err != ESP_OK)
		goto fail;
	err = esp_eth_ioctl(handle, ETH_CMD_S_MAC_ADDR, nif->mac);
	if (err != ESP_OK)
		goto fail;

	err = esp_eth_update_input_path(handle, eth_input, nif);
	if (err != ESP_OK)
		goto fail;

	err = esp_event_handler_register(ETH_EVENT, ESP_EVENT_ANY_ID, eth_event, nif);
	if (err != ESP_OK)
		goto fail;
	gEventRegistered = true;

	err = esp_eth_start(handle);
	if (err != ESP_OK)
		goto fail;
	gStarted = true;
	return ESP_OK;

fail:
	xstcp_eth_stop(nif);
	return err;
}

void xstcp_eth_stop(xstcp_if *nif)
{
	esp_eth_handle_t handle = atomic_load(&gHandle);
	bool uninstalled = true;

	if (gEventRegistered) {
		esp_event_handler_unregister(ETH_EVENT, ESP_EVENT_ANY_ID, eth_event);
		gEventRegistered = false;
	}
	if (handle) {
		/* eth_input() may still run until mac->del below: it then finds the ring closing or closed,
		   drops the frame and frees it. */
		if (gStarted)
			esp_eth_stop(handle);
		gStarted = false;
		uninstalled = (esp_eth_driver_uninstall(handle) == ESP_OK);
		if (uninstalled)
			atomic_store(&gHandle, NULL);
	}
	if (uninstalled) {
		/* mac->del also deletes the emac_rx task: no receive callback can run after this. */
		if (gPhy)
			gPhy->del(gPhy);
		if (gMac)
			gMac->del(gMac);
		gPhy = NULL;
		gMac = NULL;
	}
	xstcp_if_set_link(nif, false);
}

int xstcp_eth_transmit(xstcp_if *nif, uint8_t *frame, uint32_t length)
{
	esp_eth_handle_t handle = atomic_load(&gHandle);
	esp_err_t err;

	if ((length < XSTCP_FRAME_MIN) || (length > XSTCP_FRAME_MAX))
		return xstcp_if_count_tx(nif, XSTCP_TX_ERROR);
	if (!handle || !atomic_load(&nif->link))
		return xstcp_if_count_tx(nif, XSTCP_TX_DOWN);
	err = esp_eth_transmit(handle, frame, length);
	if (err == ESP_OK)
		return xstcp_if_count_tx(nif, XSTCP_TX_OK);
	if (err == ESP_ERR_NO_MEM)
		return xstcp_if_count_tx(nif, XSTCP_TX_NO_ROOM);
	if (err == ESP_ERR_INVALID_STATE)
		return xstcp_if_count_tx(nif, XSTCP_TX_DOWN);
	return xstcp_if_count_tx(nif, XSTCP_TX_ERROR);
}

#else /* no internal EMAC on this chip (ESP32-S2/S3/C3/C6/H2) */

esp_err_t xstcp_eth_start(xstcp_if *nif, const xstcp_eth_config *config)
{
	(void)nif;
	(void)config;
	return ESP_ERR_NOT_SUPPORTED;
}

void xstcp_eth_stop(xstcp_if *nif)
{
	(void)nif;
}

int xstcp_eth_transmit(xstcp_if *nif, uint8_t *frame, uint32_t length)
{
	(void)frame;
	(void)length;
	return xstcp_if_count_tx(nif, XSTCP_TX_DOWN);
}

#endif
