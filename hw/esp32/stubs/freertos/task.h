/* Declarations from ESP-IDF v6.0.1 FreeRTOS task.h (subset). */
#pragma once
#include "freertos/FreeRTOS.h"

void vTaskDelay(const TickType_t xTicksToDelay);
