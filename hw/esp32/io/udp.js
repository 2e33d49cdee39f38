// embedded:io/socket/udp on the ESP32: this stack's UDP (src/socket/udp.ts).
// A re-export: see tcp.js beside this file.
export { UDP as default } from "xs-tcpip/src/socket/udp";
