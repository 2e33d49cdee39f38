/* Declarations from ESP-IDF v6.0.1 components/esp_eth/include/esp_eth_mac.h (subset).
   esp_eth_mac_t: abbreviated; only `del` is used, and only through the pointer ESP-IDF returns. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "sdkconfig.h"
#include "esp_eth_com.h"

typedef struct esp_eth_mac_s esp_eth_mac_t;

struct esp_eth_mac_s {
    esp_err_t (*set_addr)(esp_eth_mac_t *mac, uint8_t *addr);
    esp_err_t (*get_addr)(esp_eth_mac_t *mac, uint8_t *addr);
    esp_err_t (*del)(esp_eth_mac_t *mac);
};

typedef struct {
    uint32_t sw_reset_timeout_ms;
    uint32_t rx_task_stack_size;
    uint32_t rx_task_prio;
    uint32_t flags;
} eth_mac_config_t;

#define ETH_MAC_FLAG_WORK_WITH_CACHE_DISABLE (1 << 0)
#define ETH_MAC_FLAG_PIN_TO_CORE (1 << 1)

#define ETH_MAC_DEFAULT_CONFIG()                          \
    {                                                     \
        .sw_reset_timeout_ms = 100,                       \
        .rx_task_stack_size = 4096,                       \
        .rx_task_prio = 15,                               \
        .flags = 0,                                       \
    }
