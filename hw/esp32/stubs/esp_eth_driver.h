/* Declarations from ESP-IDF v6.0.1 components/esp_eth/include/esp_eth_driver.h (subset).
   The driver without the esp_netif glue: esp_eth.h would also pull in esp_eth_netif_glue.h. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "esp_eth_com.h"
#include "esp_eth_mac.h"
#include "esp_eth_phy.h"

typedef void *esp_eth_handle_t;

typedef struct {
    esp_eth_mac_t *mac;
    esp_eth_phy_t *phy;
    uint32_t check_link_period_ms;
    esp_err_t (*stack_input)(esp_eth_handle_t eth_handle, uint8_t *buffer, uint32_t length, void *priv);
    esp_err_t (*stack_input_info)(esp_eth_handle_t eth_handle, uint8_t *buffer, uint32_t length, void *priv, void *info);
    esp_err_t (*on_lowlevel_init_done)(esp_eth_handle_t eth_handle);
    esp_err_t (*on_lowlevel_deinit_done)(esp_eth_handle_t eth_handle);
    esp_err_t (*read_phy_reg)(esp_eth_handle_t eth_handle, uint32_t phy_addr, uint32_t phy_reg, uint32_t *reg_value);
    esp_err_t (*write_phy_reg)(esp_eth_handle_t eth_handle, uint32_t phy_addr, uint32_t phy_reg, uint32_t reg_value);
} esp_eth_config_t;

typedef enum {
    ETH_CMD_G_MAC_ADDR,
    ETH_CMD_S_MAC_ADDR,
    ETH_CMD_G_PHY_ADDR,
    ETH_CMD_S_PHY_ADDR,
    ETH_CMD_G_AUTONEGO,
    ETH_CMD_S_AUTONEGO,
    ETH_CMD_G_SPEED,
    ETH_CMD_S_SPEED,
    ETH_CMD_S_PROMISCUOUS,
    ETH_CMD_S_FLOW_CTRL,
    ETH_CMD_G_DUPLEX_MODE,
    ETH_CMD_S_DUPLEX_MODE,
    ETH_CMD_S_PHY_LOOPBACK,
    ETH_CMD_READ_PHY_REG,
    ETH_CMD_WRITE_PHY_REG,
    ETH_CMD_S_ALL_MULTICAST,
    ETH_CMD_ADD_MAC_FILTER,
    ETH_CMD_DEL_MAC_FILTER,

    ETH_CMD_CUSTOM_MAC_CMDS = ETH_CMD_CUSTOM_MAC_CMDS_OFFSET,
    ETH_CMD_CUSTOM_PHY_CMDS = ETH_CMD_CUSTOM_PHY_CMDS_OFFSET,
} esp_eth_io_cmd_t;

#define ETH_DEFAULT_CONFIG(emac, ephy)   \
    {                                    \
        .mac = emac,                     \
        .phy = ephy,                     \
        .check_link_period_ms = 2000,    \
        .stack_input = NULL,             \
        .stack_input_info = NULL,        \
        .on_lowlevel_init_done = NULL,   \
        .on_lowlevel_deinit_done = NULL, \
        .read_phy_reg = NULL,            \
        .write_phy_reg = NULL,           \
    }

esp_err_t esp_eth_driver_install(const esp_eth_config_t *config, esp_eth_handle_t *out_hdl);
esp_err_t esp_eth_driver_uninstall(esp_eth_handle_t hdl);
esp_err_t esp_eth_start(esp_eth_handle_t hdl);
esp_err_t esp_eth_stop(esp_eth_handle_t hdl);
esp_err_t esp_eth_update_input_path(
    esp_eth_handle_t hdl,
    esp_err_t (*stack_input)(esp_eth_handle_t hdl, uint8_t *buffer, uint32_t length, void *priv),
    void *priv);
esp_err_t esp_eth_transmit(esp_eth_handle_t hdl, void *buf, size_t length);
esp_err_t esp_eth_ioctl(esp_eth_handle_t hdl, esp_eth_io_cmd_t cmd, void *data);
