/* Stand-in for the generated sdkconfig.h of an ESP32 build (declarations only). Values are those of
   Moddable's esp32 sdkconfig.defaults plus ESP-IDF v6.0.1 defaults for the Ethernet options. */
#pragma once
/* -DXSTCP_STUB_NO_EMAC: a chip without the internal EMAC (ESP32-S3, -C3...), for the compile check. */
#ifndef XSTCP_STUB_NO_EMAC
#define CONFIG_IDF_TARGET_ESP32 1
#define CONFIG_SOC_EMAC_SUPPORTED 1
#define CONFIG_ETH_ENABLED 1
#define CONFIG_ETH_USE_ESP32_EMAC 1
#endif
#define CONFIG_ETH_DMA_BUFFER_SIZE 512
#define CONFIG_ETH_DMA_RX_BUFFER_NUM 10
#define CONFIG_ETH_DMA_TX_BUFFER_NUM 10
