/* Declarations from Moddable @48ee02d xs/platforms/esp/xsHost.h (subset): the message API that carries
   a wake-up from another FreeRTOS task to the XS task. Include after xsmc.h (needs xsMachine). */
#pragma once
#include <stdint.h>

typedef void (*modMessageDeliver)(void *the, void *refcon, uint8_t *message, uint16_t messageLength);

#if defined(__XS__)
	int modMessagePostToMachine(xsMachine *the, uint8_t *message, uint16_t messageLength, modMessageDeliver callback, void *refcon);
	int modMessagePostToMachineFromISR(xsMachine *the, modMessageDeliver callback, void *refcon);
#endif
