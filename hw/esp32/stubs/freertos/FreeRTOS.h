/* Declarations from ESP-IDF v6.0.1 FreeRTOS (subset): TickType_t and pdMS_TO_TICKS. */
#pragma once
#include <stdint.h>

typedef uint32_t TickType_t;
#define configTICK_RATE_HZ 1000
#define pdMS_TO_TICKS(xTimeInMs) ((TickType_t)(((uint64_t)(xTimeInMs) * (uint64_t)configTICK_RATE_HZ) / (uint64_t)1000U))
