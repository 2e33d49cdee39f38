/** The ECMA-419 socket classes (embedded:io/socket/*) and the platform's default-stack registry. */
export { TCP, type TCPOptions, type TCPWriteOptions, type TCPFormat } from "./tcp.js";
export { Listener, type ListenerOptions } from "./listener.js";
export { setDefaultStack, clearDefaultStack, defaultStack, defaultClock, type Clock } from "./default-stack.js";
export { UDP, type UDPOptions, type UDPPacket } from "./udp.js";
