/* Declarations from ESP-IDF v6.0.1 components/esp_event/include/esp_event_base.h. */
#pragma once
#include <stdint.h>

#define ESP_EVENT_DECLARE_BASE(id) extern esp_event_base_t const id

typedef const char*  esp_event_base_t;
typedef void*        esp_event_loop_handle_t;
typedef void         (*esp_event_handler_t)(void* event_handler_arg,
                                            esp_event_base_t event_base,
                                            int32_t event_id,
                                            void* event_data);
typedef void*        esp_event_handler_instance_t;

#define ESP_EVENT_ANY_BASE     NULL
#define ESP_EVENT_ANY_ID       -1
