/* Declarations from ESP-IDF v6.0.1 components/hal/include/hal/eth_types.h (subset). */
#pragma once

typedef enum {
    EMAC_DATA_INTERFACE_RMII,
    EMAC_DATA_INTERFACE_MII,
} eth_data_interface_t;

typedef enum {
    ETH_LINK_UP,
    ETH_LINK_DOWN
} eth_link_t;

typedef enum {
    ETH_SPEED_10M,
    ETH_SPEED_100M,
    ETH_SPEED_MAX
} eth_speed_t;

typedef enum {
    ETH_DUPLEX_HALF,
    ETH_DUPLEX_FULL,
} eth_duplex_t;

typedef enum {
    ETH_DMA_BURST_LEN_32,
    ETH_DMA_BURST_LEN_16,
    ETH_DMA_BURST_LEN_8,
    ETH_DMA_BURST_LEN_4,
    ETH_DMA_BURST_LEN_2,
    ETH_DMA_BURST_LEN_1,
} eth_mac_dma_burst_len_t;
