/** The device side of serial-console debugging (DESIGN.md §9). */
export { Console, TRACE_DRAIN, TRACE_KEEP, TRACE_OFF, TRACE_STREAM, type ConsoleOptions } from "./console.js";
export { Crc32 } from "./crc32.js";
export * from "./framing.js";
export { TraceFilter } from "./filter.js";
export { LineWriter } from "./line.js";
export { TraceRing } from "./trace.js";
