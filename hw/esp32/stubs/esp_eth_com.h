/* Declarations from ESP-IDF v6.0.1 components/esp_eth/include/esp_eth_com.h (subset). */
#pragma once
#include <stdint.h>
#include "esp_err.h"
#include "esp_event_base.h"
#include "hal/eth_types.h"

#define ETH_CMD_CUSTOM_MAC_CMDS_OFFSET      0x0FFF
#define ETH_CMD_CUSTOM_PHY_CMDS_OFFSET      0x1FFF

typedef struct esp_eth_mediator_s esp_eth_mediator_t;

typedef enum {
    ETHERNET_EVENT_START,
    ETHERNET_EVENT_STOP,
    ETHERNET_EVENT_CONNECTED,
    ETHERNET_EVENT_DISCONNECTED,
} eth_event_t;

ESP_EVENT_DECLARE_BASE(ETH_EVENT);
