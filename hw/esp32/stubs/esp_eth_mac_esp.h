/* Declarations from ESP-IDF v6.0.1 components/esp_eth/include/esp_eth_mac_esp.h, ESP32 branch only
   (no MII/RMII data-pin or PTP members: those exist only on chips with SOC_EMAC_USE_MULTI_IO_MUX,
   SOC_EMAC_MII_USE_GPIO_MATRIX or SOC_EMAC_IEEE1588V2_SUPPORTED, which the ESP32 has not). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "sdkconfig.h"
#include "esp_eth_com.h"
#include "esp_eth_mac.h"

#if CONFIG_ETH_USE_ESP32_EMAC

typedef enum {
    EMAC_CLK_EXT_IN,
    EMAC_CLK_OUT
} emac_rmii_clock_mode_t;

typedef union {
    struct {
        int reserved_mii; /* stand-in: the real MII member is an empty struct */
    } mii;
    struct {
        emac_rmii_clock_mode_t clock_mode;
        int                    clock_gpio;
    } rmii;
} eth_mac_clock_config_t;

typedef struct {
    int mdc_num;
    int mdio_num;
} emac_esp_smi_gpio_config_t;

typedef struct {
    emac_esp_smi_gpio_config_t smi_gpio;
    eth_data_interface_t interface;
    eth_mac_clock_config_t clock_config;
    eth_mac_dma_burst_len_t dma_burst_len;
    int intr_priority;
    int32_t mdc_freq_hz;
} eth_esp32_emac_config_t;

#define ETH_ESP32_EMAC_DEFAULT_CONFIG()                                       \
    {                                                                         \
        .smi_gpio =                                                           \
        {                                                                     \
            .mdc_num = 23,                                                    \
            .mdio_num = 18                                                    \
        },                                                                    \
        .interface = EMAC_DATA_INTERFACE_RMII,                                \
        .clock_config =                                                       \
        {                                                                     \
            .rmii =                                                           \
            {                                                                 \
                .clock_mode = EMAC_CLK_EXT_IN,                                \
                .clock_gpio = 0                                               \
            }                                                                 \
        },                                                                    \
        .dma_burst_len = ETH_DMA_BURST_LEN_32,                                \
        .intr_priority = 0,                                                   \
        .mdc_freq_hz = 0,                                                     \
    }

esp_eth_mac_t *esp_eth_mac_new_esp32(const eth_esp32_emac_config_t *esp32_config, const eth_mac_config_t *config);

#endif
