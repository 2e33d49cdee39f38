/* Declarations from ESP-IDF v6.0.1 components/esp_wifi/include/esp_private/wifi.h (subset).
   Private API: it may change between ESP-IDF releases (research/esp-idf.md "Wi-Fi station raw frames"). */
#pragma once
#include <stdint.h>
#include "esp_err.h"
#include "esp_wifi.h"

typedef esp_err_t (*wifi_rxcb_t)(void *buffer, uint16_t len, void *eb);

void esp_wifi_internal_free_rx_buffer(void* buffer);
int esp_wifi_internal_tx(wifi_interface_t wifi_if, void *buffer, uint16_t len);
esp_err_t esp_wifi_internal_reg_rxcb(wifi_interface_t ifx, wifi_rxcb_t fn);
